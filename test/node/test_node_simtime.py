# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""With use_sim_time the gate runs on /clock, outputs zero while it stops, survives a jump."""

import math
import time

from harness.ros import FOLLOW, UNLATCHED
from safety_gate.config import GateConfig
from safety_gate.decision import Reason

CFG = GateConfig()
SIM_START = 1000.0  # s: far from the wall clock, so a wall-clock stamp would stand out
# The longest cmd_vel may be silent whatever the node clock does, and slack.
SILENCE = 2.0 / CFG.rate_hz + CFG.monitor.max_late
SLACK = 0.3


def test_runs_on_sim_time(bench, start_gate):
    gate = _driving_on_sim_time(bench, start_gate)
    record = bench.decisions[-1].data
    assert record['verdict'] == 'APPROVE'
    assert SIM_START <= record['t'] < SIM_START + 300.0, record['t']
    assert SIM_START <= bench.cmd[-1].stamp_ns / 1e9 < SIM_START + 300.0

    # Paused simulation: /clock stops and the sim-time timers with it, but the
    # steady-clock monitor keeps the output alive: zero, reason CLOCK_STALLED.
    bench.stop_proposals()
    bench.set_odom(None)
    stopped = time.monotonic()
    bench.stop_clock()
    stall = bench.wait_for_decision(lambda r: Reason.CLOCK_STALLED in r['reasons'], stopped)
    assert stall is not None, gate.output()
    assert stall.t - stopped < SILENCE + 1.0
    assert stall.data['output'] == {'v': 0.0, 'w': 0.0}
    counted = len(bench.cmd)
    bench.spin_for(1.0)
    during = bench.cmd[counted:]
    assert len(during) >= 25, 'silent while the clock was stopped'  # 50 Hz for 1 s
    assert all(c.v == 0.0 and c.w == 0.0 for c in during)

    resumed = time.monotonic()
    bench.start_clock()
    bench.set_odom(FOLLOW)
    bench.drive(0.5, 0.0, confidence=0.9)
    assert bench.wait_for_decision(lambda r: r['verdict'] == 'APPROVE', resumed), gate.output()

    jumped = time.monotonic()
    bench.jump_clock(-5.0)
    record = bench.wait_for_decision(lambda r: Reason.CLOCK_JUMP_BACK in r['reasons'], jumped)
    assert record is not None, gate.output()
    assert record.data['verdict'] == 'FALLBACK'
    assert bench.wait_for_decision(lambda r: r['verdict'] == 'APPROVE', record.t), gate.output()
    assert gate.returncode is None, gate.output()
    assert all(math.isfinite(c.v) and math.isfinite(c.w) for c in bench.cmd)


def test_a_clock_stepped_back_30_s_never_silences_the_output(bench, start_gate):
    gate = _driving_on_sim_time(bench, start_gate)

    # A quiet planner, then the clock steps back and runs on from there.
    bench.stop_proposals()
    stepped = time.monotonic()
    bench.jump_clock(-30.0)
    bench.spin_for(2.0)
    after = bench.cmd_since(stepped)
    assert after, gate.output()
    gaps = [b.t - a.t for a, b in zip(after, after[1:])]
    assert after[0].t - stepped <= SILENCE + SLACK and max(gaps) <= SILENCE + SLACK, max(gaps)
    # Never faster than before the step: a stop, ramped or at once, and held.
    assert all(abs(b.v) <= abs(a.v) + 1e-9 for a, b in zip(after, after[1:]))
    assert after[-1].is_zero, after[-1]
    reasons = {r for d in bench.decisions_since(stepped) for r in d['reasons']}
    assert Reason.CLOCK_JUMP_BACK in reasons, reasons
    assert gate.returncode is None, gate.output()


def _driving_on_sim_time(bench, start_gate):
    """Start the gate on the bench's /clock and drive it to 0.5 m/s; return the gate."""
    bench.start_clock(SIM_START)
    gate = start_gate({**UNLATCHED, 'use_sim_time': True})
    bench.drive(0.5, 0.0, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for_cmd(0.5), (bench.cmd[-1], gate.output())
    return gate
