# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Sim clock faults: /clock jumps forward, jumps back, and stops.

The gate runs on use_sim_time with the bench driving /clock. A jump forward
makes every stored input stale at once (PROPOSAL_STALE); a jump back is a
simulation reset (CLOCK_JUMP_BACK); a /clock that stops would stop every
node-clock timer, so a steady-clock watchdog must output zero
(CLOCK_STALLED) within monitor.clock_stall_timeout and keep doing so while
it stays stopped. Each time authority returns only under the hysteresis
rules once the clock runs normally again.
"""

import time

from faultharness import has_reason, start_campaign
import pytest
from safety_gate.config import GateConfig

CFG = GateConfig()
V = 0.5
TICK = 1.0 / CFG.rate_hz
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
                 has_reason('CLOCK_STALLED'), CFG.monitor.clock_stall_timeout + TICK,
                 hold=1.0, speed=V)
    lost, problems = campaign.finish(gate, [trace])
    assert lost == 0 and not problems, (lost, problems)
