# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Smoke-run the benchmark suite at its tiny size and check that the numbers are sane.

Not a performance test: only that the harness measures something real (no
drops at 50 Hz, positive latencies, a watchdog reaction after the timeout,
a trace that lost nothing) and writes its report.
"""

import json
import math
import os
import subprocess
import sys

from harness.interfaces import interfaces_env, require_interfaces
import pytest
from safety_gate.kit.bench import report
from safety_gate.kit.bench.__main__ import main, QUICK

pytestmark = [pytest.mark.ros, pytest.mark.slow]

PROPOSAL_TIMEOUT_MS = 300.0  # the default, which the bench parameters keep


@pytest.fixture(scope='module')
def quick(tmp_path_factory):
    """Run ``python -m safety_gate.kit.bench --quick`` once; return (results, markdown text)."""
    tmp = tmp_path_factory.mktemp('bench')
    markdown = tmp / 'BENCHMARKS.md'
    markdown.write_text(f'# hand-written head\n\n{report.BEGIN}\nstale\n{report.END}\n\ntail\n')
    saved = dict(os.environ)
    try:
        assert main(['--quick', '--markdown', str(markdown), '--json', str(tmp / 'b.json'),
                     '--workdir', str(tmp / 'work')]) == 0
    finally:
        # The bench sets its own ROS domain for this process; other tests keep theirs.
        os.environ.clear()
        os.environ.update(saved)
    return json.loads((tmp / 'b.json').read_text()), markdown.read_text()


def _sane_latency(summary, floor_us=1.0):
    return (summary['n'] > 0 and math.isfinite(summary['max'])
            and floor_us <= summary['min'] <= summary['p50'] <= summary['p99'] <= summary['max'])


def test_core(quick):
    core = quick[0]['core']
    assert core['decisions'] > 100
    assert core['decisions_per_s'] > 0
    assert _sane_latency(core['step_us'], floor_us=0.1)
    assert core['step_and_record_us']['p50'] > core['step_us']['p50']


def test_trace_writer(quick):
    writer = quick[0]['trace_writer']
    assert writer['written'] == QUICK.writer_records and writer['lost'] == 0
    assert writer['records_per_s'] > 0


def _check_cpu(arms):
    # The kernel counts a process's CPU time in 10 ms ticks, and a smoke block
    # lasts half a second: a relay at 1 % of a core can read 0. Each arm's
    # reading must be possible, and the arms together must have been seen working.
    for name, arm in arms.items():
        assert 0.0 <= arm['cpu_percent'] < 100.0 * os.cpu_count(), (name, arm)
    assert sum(arm['cpu_percent'] for arm in arms.values()) > 0.0, arms


def test_e2e(quick):
    e2e = quick[0]['e2e']
    assert set(e2e) == {f'{rate:g}' for rate in QUICK.rates}
    for name, arm in e2e['50'].items():
        assert arm['sent'] > 0 and arm['drops'] == 0, (name, arm)
        assert _sane_latency(arm['latency_us'], floor_us=10.0), (name, arm)
    _check_cpu(e2e['50'])
    for rate, arms in e2e.items():
        relay = arms['relay']['latency_us']['p50']
        assert math.isfinite(report.ratio(arms['gate']['latency_us']['p50'], relay)), rate


def test_core_plans(quick):
    core = quick[0]['core_plans']
    assert core['plan_points'] == 64
    assert core['plan_us']['n'] == QUICK.core_simulated_s * 10  # a plan every 0.1 s
    assert core['tick_us']['n'] > core['plan_us']['n']
    for kind in ('plan_us', 'tick_us', 'step_us'):
        assert _sane_latency(core[kind], floor_us=0.1), kind
    # A plan's arrival runs every check of 64 points; a tick only follows the plan.
    assert core['plan_us']['p50'] > core['tick_us']['p50']
    assert core['verdicts']['APPROVE'] > core['verdicts'].get('FALLBACK', 0)


def _check_plan_arms(results, messages):
    arms = results['plans'][f'{QUICK.plan_rate_hz:g}']
    assert set(arms) == {f'{kind}_{message}' for kind in ('relay', 'gate')
                         for message in messages} | {'gate'}
    for name, arm in arms.items():
        assert arm['sent'] > 0 and arm['drops'] == 0, (name, arm)
        assert _sane_latency(arm['latency_us'], floor_us=10.0), (name, arm)
    _check_cpu(arms)


def test_plans(quick):
    results, markdown = quick
    # This process cannot load autoware_planning_msgs (LD_LIBRARY_PATH is read at start):
    # the Path arms run, and the Trajectory arms are left out with the reason.
    assert 'autoware_trajectory' in results['plans_skipped']
    _check_plan_arms(results, ['path'])
    assert 'make interfaces' in markdown.split('### 7. Trajectory mode')[1]


def test_plans_with_the_interfaces(tmp_path):
    require_interfaces()
    command = [sys.executable, '-m', 'safety_gate.kit.bench', '--quick', '--only', 'plans',
               '--markdown', str(tmp_path / 'B.md'), '--json', str(tmp_path / 'b.json'),
               '--workdir', str(tmp_path / 'work')]
    run = subprocess.run(command, env={**os.environ, **interfaces_env()}, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads((tmp_path / 'b.json').read_text())
    assert results['plans_skipped'] == {}
    _check_plan_arms(results, ['path', 'autoware_trajectory'])
    targets = {t['name']: t for t in report.targets(results)}
    assert math.isfinite(targets['10 Hz Trajectory gate/relay latency p50']['value'])


def test_watchdog(quick):
    watchdog = quick[0]['watchdog']
    reaction = watchdog['reaction_ms']
    # A fallback before the timeout is another check's (an overloaded host), not the watchdog's.
    assert watchdog['failed'] == 0 and reaction['n'] >= 1
    assert reaction['n'] + watchdog['early'] == QUICK.watchdog_trials
    assert watchdog['budget_ms'] == pytest.approx(PROPOSAL_TIMEOUT_MS + 1e3 / 50.0)
    assert PROPOSAL_TIMEOUT_MS <= reaction['min'] <= reaction['max'] < (
        watchdog['budget_ms'] + 200.0)


def test_soak(quick):
    soak = quick[0]['soak']
    assert soak['exit_code'] == 0
    assert soak['sent'] > 0 and soak['proposal_decisions'] > 0.5 * soak['sent']
    assert soak['trace_lost'] == 0 and soak['trace_lost_reported'] == 0
    assert 10.0 < soak['rss_start_mb'] and 10.0 < soak['rss_end_mb']
    assert _sane_latency(soak['latency_us'], floor_us=10.0)


def test_report(quick):
    results, markdown = quick
    assert results['machine']['rmw'] == 'rmw_fastrtps_cpp'
    # The report shows this run's numbers: each target with its goal, and the writer's rate.
    for target in report.targets(results):
        assert f'| {target["name"]} | {target["goal"]} |' in markdown, target
    writer = results['trace_writer']['records_per_s']
    assert f'{writer:,.0f} records/s sustained' in markdown
    assert markdown.startswith('# hand-written head\n') and markdown.endswith('\ntail\n')
    assert 'stale' not in markdown and markdown.count(report.BEGIN) == 1
    for title in ('### Targets', '### 1. Decision core', '### 3. Watchdog reaction',
                  '### 6. Soak', "null relay spun by the gate's own executor",
                  '### 7. Trajectory mode', "`core.step` on a plan's arrival (64 points)",
                  '| `nav_msgs/Path` | gate |', 'Gate CPU in trajectory mode over twist mode'):
        assert title in markdown
