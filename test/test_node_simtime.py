# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""With use_sim_time the gate runs on /clock: it pauses with it and survives a jump back."""

import math
import time

from rosharness import FOLLOW, UNLATCHED
from safety_gate.types import Reason

SIM_START = 1000.0  # s: far from the wall clock, so a wall-clock stamp would stand out


def test_runs_on_sim_time(bench, start_gate):
    bench.start_clock(SIM_START)
    gate = start_gate({**UNLATCHED, 'use_sim_time': True})
    bench.drive(0.5, 0.0, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for_cmd(0.5), (bench.cmd[-1], gate.output())
    record = bench.decisions[-1].data
    assert record['verdict'] == 'APPROVE'
    assert SIM_START <= record['t'] < SIM_START + 300.0, record['t']
    assert SIM_START <= bench.cmd[-1].stamp_ns / 1e9 < SIM_START + 300.0

    # Paused simulation: /clock stops, so do the gate's timers (documented).
    bench.stop_proposals()
    bench.set_odom(None)
    bench.stop_clock()
    bench.spin_for(0.5)  # messages already in flight
    paused = len(bench.cmd)
    bench.spin_for(1.0)
    assert len(bench.cmd) == paused, 'published while the clock was stopped'

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
