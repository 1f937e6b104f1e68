# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A silent planner gives a FALLBACK within the timeout, and the output never goes silent."""

from harness.ros import UNLATCHED
from safety_gate.config import GateConfig
from safety_gate.decision import Reason

CFG = GateConfig()
SLACK = 0.25  # s: scheduling and DDS latency on a loaded machine


def test_silent_planner_gives_fallback_at_rate(bench, start_gate):
    gate = start_gate(UNLATCHED)
    bench.drive(0.5, 0.0, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for_cmd(0.5), gate.output()

    bench.stop_proposals()
    last = bench.sent[-1]
    assert bench.wait_for(lambda: any(c.v < 0.5 - 1e-9 for c in bench.cmd_since(last.t)))
    first = next(c for c in bench.cmd_since(last.t) if c.v < 0.5 - 1e-9)
    bound = CFG.proposal_timeout + 1.0 / CFG.rate_hz + SLACK
    assert first.t - last.t <= bound, f'first fallback output {first.t - last.t:.3f} s late'
    assert 0.0 < first.v, 'the fallback is a ramp, not a hard stop'
    record = bench.wait_for_decision(lambda r: r['verdict'] == 'FALLBACK', last.t)
    assert record is not None and Reason.PROPOSAL_STALE in record.data['reasons'], record

    bench.spin_for(1.5)
    window = [c for c in bench.cmd if first.t <= c.t < first.t + 1.0]
    assert len(window) >= 0.8 * CFG.rate_hz, len(window)
    assert bench.cmd[-1].is_zero, bench.cmd[-1]
    tail = bench.cmd_since(bench.cmd[-1].t - 0.5)
    assert len(tail) >= 0.8 * CFG.rate_hz * 0.5, 'the output went silent at standstill'
    assert all(r['verdict'] == 'FALLBACK' for r in bench.decisions_after(record))
