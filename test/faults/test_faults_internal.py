# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Internal faults: an exception inside any check gives FALLBACK with INTERNAL_ERROR.

The real gate runs with each check (and the other functions the decision
step calls) wrapped to raise RuntimeError while a flag file exists. For each
one in turn the test raises the flag while an honest planner drives: the gate
must decide FALLBACK (or ESTOP when latched) naming INTERNAL_ERROR, never
approve, keep publishing at rate and stay alive; once the flag is gone,
authority returns under the hysteresis rules. A gate that cannot publish at
all (an executor failing on every spin, every publish raising while other
callbacks succeed, a callback that never returns) must exit (code 1) after a
final zero rather than stay alive and silent.
"""

import time

from harness.faults import Campaign, INJECT_DIR_ENV, INJECTABLE, INJECTABLE_METHODS, Processes
from harness.ros import UNLATCHED
import pytest
from safety_gate.config import GateConfig

CFG = GateConfig()
V = 0.5
HOLD = 0.3  # s
INTERNAL = 'exception inside a check or decision function'
# Functions only called on the way to a fallback need a reason to fall back.
NEEDS_FALLBACK = {'safety_gate.fallback.step'}


@pytest.mark.ros
@pytest.mark.slow
def test_exceptions_inside_the_decision_fail_closed(bench, tmp_path):
    flags = tmp_path / 'inject'
    flags.mkdir()
    trace = tmp_path / 'trace.jsonl'
    campaign = Campaign(bench, CFG)
    with Processes(tmp_path) as processes:
        gate = processes.program('injected_gate_main', {**UNLATCHED, 'trace.path': str(trace)},
                                 env={INJECT_DIR_ENV: str(flags)})
        bench.drive(V)
        assert bench.wait_for_output(), gate.output()
        assert bench.wait_for_cmd(V), (bench.cmd[-1:], gate.output())

        failed = {}
        for module, name in INJECTABLE:
            target = f'{module}.{name}'
            try:
                _inject(bench, gate, flags / target, campaign)
            except AssertionError as exc:
                failed[target] = f'{target}: {(str(exc) or repr(exc)).splitlines()[0][:300]}'
                (flags / target).unlink(missing_ok=True)
                bench.drive(V)
                bench.wait_for_cmd(V)
        lost, problems = campaign.finish(gate, [trace])
    assert not failed, '\n'.join(failed.values())
    assert lost == 0 and not problems, (lost, problems)


def _inject(bench, gate, flag, campaign):
    def inject():
        flag.touch()
        bench.drive(V, confidence=0.2 if flag.name in NEEDS_FALLBACK else 0.9)

    def recover():
        flag.unlink()
        bench.drive(V)

    decision, seconds = campaign.run(
        gate, INTERNAL, flag.name, inject, recover,
        lambda r: 'INTERNAL_ERROR' in r['reasons'] and r['verdict'] != 'APPROVE',
        1.0 / CFG.rate_hz + 0.1, HOLD, V, timeout=3.0)
    assert decision.data['verdict'] == 'FALLBACK', decision.data
    # Counted on the gate's clock (the output stamps), so that a stall of this
    # test process, which receives them, cannot look like a silent gate.
    start_ns = round(decision.data['t'] * 1e9)
    held = [c for c in bench.cmd
            if c.stamp_ns is not None and start_ns <= c.stamp_ns <= start_ns + HOLD * 1e9]
    assert len(held) >= 0.5 * CFG.rate_hz * HOLD, f'{len(held)} outputs in {HOLD} s'


@pytest.mark.ros
@pytest.mark.parametrize('when', ['before', 'after'])
def test_an_executor_failing_on_every_spin(bench, tmp_path, when):
    """Raising before its callbacks, the executor lets nothing out: the gate must exit.

    It must exit with code 1 after a final zero. Raising after them, it still
    publishes: the gate must keep running.
    """
    limit = CFG.monitor.max_spin_failure
    with Processes(tmp_path) as processes:
        gate, injected = _drive_then_inject(
            processes, bench, tmp_path,
            '.'.join(INJECTABLE_METHODS[0]) + ('.after' if when == 'after' else ''))
        if when == 'after':
            bench.spin_for(4 * limit)
            assert gate.returncode is None, gate.output()
            assert 'injected fault after the call' in gate.output(), gate.output()
            outputs = bench.cmd_since(injected)
            assert len(outputs) >= CFG.rate_hz * limit, len(outputs)
            return
        _assert_exits_after_a_final_zero(bench, gate)


@pytest.mark.ros
@pytest.mark.parametrize('method, mode', [('_publish_command', ''), ('_on_tick', '.hang')],
                         ids=['every-publish-raises', 'tick-hangs'])
def test_a_gate_that_cannot_publish_exits(bench, tmp_path, method, mode):
    """Odometry callbacks still succeed, or the executor is stuck in one callback.

    Either way nothing reaches cmd_vel: the gate must exit with code 1 within
    monitor.max_spin_failure (a generous bound here) after a final zero.
    """
    with Processes(tmp_path) as processes:
        gate, injected = _drive_then_inject(
            processes, bench, tmp_path, f'safety_gate.node.SafetyGateNode.{method}{mode}')
        _assert_exits_after_a_final_zero(bench, gate)
        assert time.monotonic() - injected < CFG.monitor.max_spin_failure + 3.0 + 0.3


def _drive_then_inject(processes, bench, tmp_path, flag_name):
    """Start the injectable gate, drive it to V, then raise the flag; return (gate, when)."""
    flags = tmp_path / 'inject'
    flags.mkdir()
    gate = processes.program('injected_gate_main',
                             {**UNLATCHED, 'trace.path': str(tmp_path / 'trace.jsonl')},
                             env={INJECT_DIR_ENV: str(flags)})
    bench.drive(V)
    assert bench.wait_for_cmd(V), gate.output()
    (flags / flag_name).touch()
    return gate, time.monotonic()


def _assert_exits_after_a_final_zero(bench, gate):
    assert bench.wait_for(lambda: gate.returncode is not None, 10.0), gate.output()
    bench.spin_for(0.3)
    assert gate.returncode == 1, gate.output()
    assert 'monitor.max_spin_failure' in gate.output(), gate.output()
    assert bench.cmd[-1].is_zero, bench.cmd[-3:]
