# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Planner process faults: killed, frozen and restarted, the gate falls back and recovers slowly.

The real scripted planner runs as its own process; the bench plays the
vehicle (odometry follows the gate's output) and watches cmd_vel. Each fault
must give a fallback output within proposal_timeout + 1/rate_hz of the
fault (plus slack), nothing but fallback while the planner is gone, and
authority back only after the hysteresis rules once it returns.
"""

import signal

from harness.faults import has_reason, output_of, Processes, start_campaign
import pytest
from safety_gate.config import GateConfig

CFG = GateConfig()
V = 0.5
FAULTS = ('SIGKILL', 'SIGSTOP', 'SIGKILL', 'SIGSTOP')
HOLD = 0.6  # s: how long each fault lasts before the planner comes back
PLANNER = 'planner killed (SIGKILL) or frozen (SIGSTOP), then back'


@pytest.mark.ros
@pytest.mark.slow
def test_planner_killed_frozen_and_restarted(bench, start_gate, tmp_path):
    gate, trace, campaign = start_campaign(bench, start_gate, tmp_path, CFG)
    with Processes(tmp_path) as processes:
        planner = [processes.planner(V)]
        assert bench.wait_for_output(), gate.output()
        assert bench.wait_for_cmd(V, timeout=20.0), (bench.cmd[-1:], gate.output())

        def restart():
            planner[0].wait()
            planner[0] = processes.planner(V)

        for fault in FAULTS:
            decision, _ = campaign.run(
                gate, PLANNER, fault, lambda: planner[0].signal(getattr(signal, fault)),
                restart if fault == 'SIGKILL' else lambda: planner[0].signal(signal.SIGCONT),
                has_reason('PROPOSAL_STALE'), CFG.proposal_timeout + 1.0 / CFG.rate_hz,
                hold=HOLD, speed=V)
            first = output_of(bench, decision, since=0.0)
            assert 0.0 < first.v < V, f'{fault}: a ramp, not a jump ({first})'
    lost, problems = campaign.finish(gate, [trace])
    assert lost == 0 and not problems, (lost, problems)
