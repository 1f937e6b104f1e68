# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A steady, confident proposal with healthy odometry passes through, rate-limited."""

import math

from harness.ros import MODEL_SHA256, UNLATCHED
import pytest
from safety_gate.config import EnvelopeConfig

ENVELOPE = EnvelopeConfig()
V, W = 0.5, 0.2


@pytest.mark.parametrize('bench', [True, False], ids=['TwistStamped', 'Twist'], indirect=True)
def test_steady_proposal_is_approved_within_rate_limits(bench, start_gate):
    gate = start_gate({**UNLATCHED, 'enable_stamped_cmd_vel': bench.stamped})
    bench.drive(V, W, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for_cmd(V, W), (bench.cmd[-1], gate.output())

    converged = bench.cmd[-1].t
    bench.spin_for(1.0)
    steady = bench.decisions_since(converged + 0.1)
    assert steady, 'no decision records'
    for record in steady:
        assert record['verdict'] == 'APPROVE', record
        assert record['reasons'] == []
        assert math.isclose(record['output']['v'], V) and math.isclose(record['output']['w'], W)
        proposal = record['proposal']
        assert proposal['confidence'] == 0.9 and proposal['model_sha256'] == MODEL_SHA256
        assert proposal['stamped'] is bench.stamped
    assert all(math.isfinite(c.v) and math.isfinite(c.w) for c in bench.cmd)

    # The ramp up obeyed the acceleration limits, measured on the gate's own clock.
    # A proposal refused as superseded (its meta still on the way when the next
    # proposal came) holds the output; the limits run from the last output
    # that moved, so the held record is checked for holding and then skipped.
    records = [r.data for r in bench.decisions]
    moving = []
    for rec in records:
        if 'SUPERSEDED' in rec['reasons']:
            assert moving and rec['output'] == moving[-1]['output'], (moving[-1:], rec)
        else:
            moving.append(rec)
    for before, after in zip(moving, moving[1:]):
        dt = after['t'] - before['t']
        assert dt >= 0.0
        assert (after['output']['v'] - before['output']['v']
                <= ENVELOPE.max_linear_accel * dt + 1e-9), (before, after)
        assert (abs(after['output']['w'] - before['output']['w'])
                <= ENVELOPE.max_angular_accel * dt + 1e-9), (before, after)
    assert [r['seq'] for r in records] == sorted({r['seq'] for r in records})

    assert bench.states and bench.states[-1].data['verdict'] == 'APPROVE'
    assert bench.wait_for(lambda: bench.diagnostics, timeout=3.0)
    names = [status.name for status in bench.diagnostics[-1].data.status]
    assert any(name.startswith('safety_gate') for name in names), names
