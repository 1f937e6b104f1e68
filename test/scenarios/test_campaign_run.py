# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A small campaign closed loop, two runs at once: reproducible, and a planted failure is found.

Two scenarios, three variations each, ``-j 2`` (each run a worker process
with its own leased ROS domain in 101-160 and its own scratch directory).
One variation of ``nominal_cruise`` is planted to fail: the planner asks for
3.5 m/s, above the gate's 3.0 m/s, so the gate intervenes outside any fault.
"""

import json
from pathlib import Path
import re
import shlex

import pytest
from safety_gate.kit.scenarios import campaign, campaign_report, model, report
from safety_gate.kit.scenarios.variations import RunId
import yaml

pytestmark = [pytest.mark.ros, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
RUNS = 3
PLANTED = 3.5  # m/s: above the gate's max_speed 3.0
DOMAINS = '101-160'
VARIATIONS = {
    'nominal_cruise': {'route.segments.1.1': {'choice': [0.6, 0.8, 0.7, PLANTED]},
                       'route.confidence': {'uniform': [0.85, 0.95]}},
    'planner_freeze': {'faults.0.t_start': {'uniform': [1.5, 2.5]},
                       'faults.0.duration': {'uniform': [1.0, 2.0]},
                       'route.segments.0.1': {'uniform': [0.5, 0.8]}},
}


def library(directory: Path) -> Path:
    directory.mkdir()
    for scenario_id, variations in VARIATIONS.items():
        data = yaml.safe_load((REPO / 'scenarios' / f'{scenario_id}.yaml').read_text())
        (directory / f'{scenario_id}.yaml').write_text(
            yaml.safe_dump({**data, 'variations': variations}))
    return directory


def planted(lib: Path, seed: int):
    cruise = model.load(lib / 'nominal_cruise.yaml')
    return [str(RunId('nominal_cruise', seed, i)) for i in range(RUNS)
            if cruise.varied(RunId('nominal_cruise', seed, i))[1]['route.segments.1.1']
            == PLANTED]


@pytest.fixture(scope='module')
def finished(tmp_path_factory):
    """Run the campaign once; return (library, seed, output dir, exit code, rows)."""
    base = tmp_path_factory.mktemp('campaign')
    lib = library(base / 'library')
    # The first seed whose three cruise runs hold exactly one planted variation.
    seed = next(s for s in range(1, 100) if len(planted(lib, s)) == 1)
    out = base / 'out'
    code = campaign.main(['--library', str(lib), '--runs', str(RUNS), '--seed', str(seed),
                          '-j', '2', '--domains', DOMAINS, '--require', 'S3=100,S0=100',
                          '-o', str(out)])
    return lib, seed, out, code, campaign_report.read_results(out)[1]


def test_the_planted_failure_is_found_and_fails_the_gate(finished):
    lib, seed, out, code, rows = finished
    (bad,) = planted(lib, seed)
    status = {r['run_id']: r['status'] for r in rows}
    assert len(rows) == 2 * RUNS
    assert status == {r['run_id']: 'FAIL' if r['run_id'] == bad else 'PASS' for r in rows}, \
        json.dumps([{k: r[k] for k in ('run_id', 'status', 'error', 'failed')} for r in rows],
                   indent=1)
    assert code == campaign.EXIT_FAILED  # S0 must pass 100 % in this campaign's gate
    assert campaign_report.worst_runs(rows)[0]['run_id'] == bad
    assert 'false interventions' in next(r for r in rows if r['run_id'] == bad)['failed']


def test_the_runs_are_reproducible_from_the_seed(finished):
    lib, seed, _, _, rows = finished
    for r in rows:
        scenario = model.load(lib / f'{r["scenario"]}.yaml')
        assert json.loads(r['values']) == scenario.varied(RunId.parse(r['run_id']))[1]
        assert r['seed'] == seed and r['requested_sim_rate'] == 2.0
    assert sorted(r['index'] for r in rows) == sorted(list(range(RUNS)) * 2)


def test_the_planted_run_reruns_alone_by_its_id(finished, tmp_path, capsys):
    lib, seed, out, _, _ = finished
    (bad,) = planted(lib, seed)
    # The command exactly as the report prints it, with the output moved to tmp_path.
    command = re.search(rf'`(safety-gate campaign --rerun {re.escape(bad)} [^`]*)`',
                        (out / 'report.md').read_text()).group(1)
    argv = shlex.split(command)[2:]
    argv[argv.index('-o') + 1] = str(tmp_path)
    assert campaign.main(argv + ['--domains', DOMAINS]) == campaign.EXIT_FAILED
    summary = report.load_summary(tmp_path)
    (scenario,) = summary['scenarios']
    assert scenario['status'] == 'FAIL'
    assert [c['name'] for c in scenario['criteria'] if not c['ok']] == ['false interventions']
    assert f"'route.segments.1.1': {PLANTED}" in capsys.readouterr().out
    assert (tmp_path / 'report.html').exists()
