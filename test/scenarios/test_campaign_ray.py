# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A campaign through a Ray cluster: a local head and one worker node, loopback only.

The head, the worker and the campaign run in a network namespace of their
own that holds nothing but loopback (``unshare --net``), so no Ray or DDS
traffic can leave the machine whatever Ray binds to, and in a PID namespace
(``--pid``), so every Ray process ends with the namespace when the script
does: nothing is stopped by name. The head takes no tasks (``--num-cpus 0``):
every run goes to the worker node. The dashboard and usage stats are off.
"""

import json
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile

from harness.ros import skip_or_fail
import pytest
from safety_gate.kit.scenarios import campaign_report, model
from safety_gate.kit.scenarios.variations import RunId
import yaml

pytestmark = [pytest.mark.ros, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
RAY = Path(sys.executable).with_name('ray')
RUNS = 2
SCRIPT_TIMEOUT_S = 420.0
VARIATIONS = {
    'nominal_cruise': {'route.segments.1.1': {'uniform': [0.6, 0.9]}},
    'planner_freeze': {'faults.0.t_start': {'uniform': [1.5, 2.5]}},
}


def _missing():
    try:
        import ray  # noqa: F401
    except ImportError:
        return 'ray is not installed (pip install ray; `make venv` installs it)'
    try:
        subprocess.run(['unshare', '--net', '--pid', '--fork', '--mount-proc', 'true'],
                       check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return (f'cannot make a network namespace to keep Ray on loopback ({exc}); '
                'it needs unshare(1) and root or unprivileged user namespaces')
    return None


skip_or_fail(_missing())

SCRIPT = """
set -eu
ip link set lo up
export RAY_USAGE_STATS_ENABLED=0
ip -o addr > "$OUT/addresses.txt"
"$RAY" start --head --node-ip-address=127.0.0.1 --port=6379 --num-cpus=0 \\
    --include-dashboard=false --disable-usage-stats --temp-dir="$RAYTMP" > "$OUT/head.log" 2>&1
"$RAY" start --address=127.0.0.1:6379 --node-ip-address=127.0.0.1 --num-cpus=1 \\
    --disable-usage-stats > "$OUT/worker.log" 2>&1
ss -ltnH > "$OUT/listening.txt"
set +e
"$PYTHON" -m safety_gate.cli campaign --ray 127.0.0.1:6379 --library "$LIB" \\
    --runs {runs} --domains 101-160 -o "$OUT/campaign" > "$OUT/campaign.log" 2>&1
echo $? > "$OUT/exit_code"
"""


@pytest.fixture(scope='module')
def cluster_campaign(tmp_path_factory):
    """Run the campaign through the local cluster; return its output directory."""
    out = tmp_path_factory.mktemp('ray')
    lib = out / 'library'
    lib.mkdir()
    for scenario_id, variations in VARIATIONS.items():
        data = yaml.safe_load((REPO / 'scenarios' / f'{scenario_id}.yaml').read_text())
        (lib / f'{scenario_id}.yaml').write_text(yaml.safe_dump({**data,
                                                                 'variations': variations}))
    # Ray's socket paths must stay short: its temp dir is directly under /tmp.
    ray_tmp = tempfile.mkdtemp(prefix='sgray')
    env = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'HOME': str(out), 'OUT': str(out),
           'RAY': str(RAY), 'RAYTMP': ray_tmp, 'PYTHON': sys.executable, 'LIB': str(lib),
           'PYTHONPATH': str(REPO)}
    try:
        done = subprocess.run(
            ['unshare', '--net', '--pid', '--fork', '--mount-proc', 'sh', '-c',
             SCRIPT.format(runs=RUNS)], env=env, capture_output=True, text=True,
            timeout=SCRIPT_TIMEOUT_S)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    logs = {name: (out / name).read_text() if (out / name).exists() else '(none)'
            for name in ('head.log', 'worker.log', 'campaign.log')}
    assert (out / 'exit_code').exists(), (done.stdout, done.stderr, logs)
    return out, logs


def test_a_campaign_runs_through_a_ray_head_and_worker(cluster_campaign):
    out, logs = cluster_campaign
    assert (out / 'exit_code').read_text().strip() == '0', logs['campaign.log']
    _, rows = campaign_report.read_results(out / 'campaign')
    assert sorted(r['run_id'] for r in rows) == sorted(
        f'{s}.s1.r{i}' for s in VARIATIONS for i in range(RUNS))
    assert {r['status'] for r in rows} == {'PASS'}, json.dumps(rows, indent=1, default=str)
    for r in rows:
        # The worker drew what the run id says, and sent the recording back.
        scenario = model.load(out / 'library' / f'{r["scenario"]}.yaml')
        assert json.loads(r['values']) == scenario.varied(RunId.parse(r['run_id']))[1]
        recording = out / 'campaign' / 'runs' / r['run_id'] / 'loop' / 'recording.json'
        assert json.loads(recording.read_text())['decisions']
    assert 'Ray cluster 127.0.0.1:6379' in (out / 'campaign' / 'report.md').read_text()


def test_the_cluster_stayed_on_loopback(cluster_campaign):
    out, _ = cluster_campaign
    interfaces = {line.split()[1] for line in (out / 'addresses.txt').read_text().splitlines()}
    assert interfaces == {'lo'}
    listening = [line.split()[3] for line in (out / 'listening.txt').read_text().splitlines()]
    assert listening  # the GCS and the raylets
    assert all(addr.startswith(('127.', '[::ffff:127.', '[::1]')) for addr in listening), \
        listening
