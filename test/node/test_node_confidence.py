# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Low confidence gives a controlled stop; authority returns slowly; flicker cannot chatter."""

import math

from harness.ros import UNLATCHED
import pytest
from safety_gate.config import ConfidenceConfig, EnvelopeConfig
from safety_gate.decision import Reason

CONF = ConfidenceConfig()
ENVELOPE = EnvelopeConfig()
V, W = 0.5, 0.2


def _proposal_confidence(record):
    return (record['proposal'] or {}).get('confidence')


@pytest.mark.slow
def test_low_confidence_recovery_and_flicker(bench, start_gate):
    gate = start_gate(UNLATCHED)
    bench.drive(V, W, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for_cmd(V, W), gate.output()

    # Low confidence: FALLBACK at once, a ramp to zero along the same curvature.
    low_since = bench.cmd[-1].t
    bench.drive(V, W, confidence=0.2)
    first = bench.wait_for_decision(lambda r: _proposal_confidence(r) == 0.2, low_since)
    assert first is not None, gate.output()
    assert first.data['verdict'] == 'FALLBACK'
    assert Reason.LOW_CONFIDENCE in first.data['reasons']
    assert bench.wait_for_cmd(0.0, 0.0), bench.cmd[-1]
    ramp = [c for c in bench.cmd_since(first.t) if c.v > 1e-3]
    # The first step lowers v to the lagging vehicle's speed and w no faster than
    # fallback.angular_decel allows, so the arc may tighten once; then it is kept.
    curvature = ramp[0].w / ramp[0].v
    assert W / V * (1 - 1e-6) <= curvature and ramp[0].w <= W, ramp[0]
    assert all(math.isclose(c.w / c.v, curvature, rel_tol=1e-6) for c in ramp), ramp
    _assert_non_increasing([c.v for c in bench.cmd_since(first.t)])
    fallback = [r.data for r in bench.decisions if r.data['seq'] >= first.data['seq']]
    for before, after in zip(fallback, fallback[1:]):
        # The faster of the two fallback decays sets the pace, inside the rate envelope.
        dv = before['output']['v'] - after['output']['v']
        assert dv <= ENVELOPE.max_linear_decel * (after['t'] - before['t']) + 1e-9, (
            before, after)
    assert all(r['verdict'] == 'FALLBACK' and Reason.LOW_CONFIDENCE in r['reasons']
               for r in fallback)

    # Recovery: recover_count clean proposals and min_dwell after the last failure.
    recover_since = bench.cmd[-1].t
    bench.drive(V, W, confidence=0.9)
    approved = bench.wait_for_decision(lambda r: r['verdict'] == 'APPROVE', recover_since)
    assert approved is not None, gate.output()
    clean = [r.data for r in bench.decisions
             if r.t >= recover_since and r.data['trigger'] == 'proposal'
             and _proposal_confidence(r.data) == 0.9 and r.data['t'] < approved.data['t']]
    assert len(clean) >= CONF.recover_count - 1
    assert all(r['reasons'] == [Reason.HYSTERESIS] for r in clean), clean
    last_failure = max(r.data['t'] for r in bench.decisions
                       if Reason.LOW_CONFIDENCE in r.data['reasons'])
    assert approved.data['t'] - last_failure >= CONF.min_dwell - 1e-6
    assert bench.wait_for_cmd(V, W), bench.cmd[-1]

    # Flicker around the threshold: one entry into FALLBACK, never back, no speed-up.
    flicker_since = bench.cmd[-1].t
    bench.drive(V, W, confidence=(0.45, 0.55))
    bench.spin_for(2.0)
    flicker = [r.data for r in bench.decisions
               if r.t >= flicker_since and r.data['trigger'] == 'proposal'
               and _proposal_confidence(r.data) in (0.45, 0.55)]
    assert len(flicker) >= 10, len(flicker)
    verdicts = [r['verdict'] for r in flicker]
    entries = sum(1 for a, b in zip(['APPROVE'] + verdicts, verdicts)
                  if a == 'APPROVE' and b == 'FALLBACK')
    assert entries <= 1 and 'APPROVE' not in verdicts[verdicts.index('FALLBACK'):], verdicts
    _assert_non_increasing([c.v for c in bench.cmd_since(flicker_since)])
    assert bench.cmd[-1].is_zero, bench.cmd[-1]


def _assert_non_increasing(speeds):
    rises = [(a, b) for a, b in zip(speeds, speeds[1:]) if b > a + 1e-12]
    assert not rises, rises
