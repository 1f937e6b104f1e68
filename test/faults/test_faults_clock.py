# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Clock faults: /clock jumps forward, jumps back, and stops; a stalled watchdog on wall time.

The gate runs on use_sim_time with the bench driving /clock. A jump forward
makes every stored input stale at once (PROPOSAL_STALE); a jump back is a
simulation reset (CLOCK_JUMP_BACK); a /clock that stops would stop every
node-clock timer, so the steady-clock backstop must output zero
(CLOCK_STALLED) within 2/rate_hz + monitor.max_late and keep doing so while
it stays stopped. Each time authority returns only under the hysteresis
rules once the clock runs normally again.

Without sim time the node clock is the wall clock: after a step backwards
by D (NTP, by hand) rclpy does not fire the watchdog timer for D. Stepping
the host's clock would disturb everything else on it, so the test makes the
real gate's watchdog callback do nothing instead, which is what the gate
sees of such a step, and expects the same backstop.
"""

import time

from harness.faults import has_reason, INJECT_DIR_ENV, Processes, SLACK, start_campaign
from harness.ros import UNLATCHED
import pytest
from safety_gate.config import GateConfig

CFG = GateConfig()
V = 0.5
TICK = 1.0 / CFG.rate_hz
# The longest cmd_vel may be silent while the node clock misbehaves.
SILENCE = 2 * TICK + CFG.monitor.max_late
CLOCK = 'sim /clock jumps forward, jumps back, stops'


@pytest.mark.ros
@pytest.mark.slow
def test_clock_jumps_and_stops(bench, start_gate, tmp_path):
    bench.start_clock(1000.0)
    gate, trace, campaign = start_campaign(bench, start_gate, tmp_path, CFG,
                                           {'use_sim_time': True})
    bench.drive(V)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for_cmd(V, timeout=20.0), (bench.cmd[-1:], gate.output())

    campaign.run(gate, CLOCK, 'jump forward 5 s', lambda: bench.jump_clock(5.0), lambda: None,
                 has_reason('PROPOSAL_STALE', 'ODOM_STALE'), 2 * TICK, speed=V)
    campaign.run(gate, CLOCK, 'jump back 5 s', lambda: bench.jump_clock(-5.0), lambda: None,
                 has_reason('CLOCK_JUMP_BACK'), 2 * TICK, speed=V)

    def restart_clock():
        stopped = bench.cmd_since(time.monotonic() - 0.5)
        assert len(stopped) >= 0.5 * CFG.rate_hz * 0.5, 'silent while /clock is stopped'
        assert all(c.is_zero for c in stopped), stopped[-3:]
        bench.start_clock()

    campaign.run(gate, CLOCK, '/clock stops', bench.stop_clock, restart_clock,
                 has_reason('CLOCK_STALLED'), SILENCE,
                 hold=1.0, speed=V)
    lost, problems = campaign.finish(gate, [trace])
    assert lost == 0 and not problems, (lost, problems)


@pytest.mark.ros
def test_a_watchdog_that_stops_firing_on_wall_time_is_backed_up(bench, tmp_path):
    flags = tmp_path / 'inject'
    flags.mkdir()
    flag = flags / 'safety_gate.node.SafetyGateNode._on_tick.skip'
    with Processes(tmp_path) as processes:
        gate = processes.program('injected_gate_main',
                                 {**UNLATCHED, 'trace.path': str(tmp_path / 'trace.jsonl')},
                                 env={INJECT_DIR_ENV: str(flags)})
        bench.drive(V)
        assert bench.wait_for_cmd(V, timeout=20.0), (bench.cmd[-1:], gate.output())
        # In normal operation the backstop never fires.
        normal = time.monotonic()
        bench.spin_for(1.0)
        assert not [r for r in bench.decisions_since(normal) if r['trigger'] == 'clock_stall']

        flag.touch()
        injected = time.monotonic()
        stall = bench.wait_for_decision(has_reason('CLOCK_STALLED'), injected)
        assert stall is not None, gate.output()
        assert stall.t - injected < SILENCE + 1.0
        # Proposals go on arriving: they are no reason to trust the clock again.
        bench.spin_for(1.0)
        bench.stop_proposals()
        quiet = time.monotonic()
        bench.spin_for(1.0)
        after = bench.cmd_since(stall.t)
        assert after and all(c.is_zero for c in after), after[-3:]
        gaps = [b.t - a.t for a, b in zip(after, after[1:])]
        assert max(gaps) <= SILENCE + SLACK, max(gaps)
        assert len(bench.cmd_since(quiet)) >= 0.5 * CFG.rate_hz
        during = [r for r in bench.decisions_since(stall.t) if r['trigger'] == 'proposal']
        assert during and all('CLOCK_STALLED' in r['reasons'] for r in during), during[-1:]

        flag.unlink()
        bench.drive(V)
        assert bench.wait_for_cmd(V, timeout=20.0), (bench.cmd[-1:], gate.output())
        assert gate.returncode is None, gate.output()
