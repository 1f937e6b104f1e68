# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The demo's summary of what the gate decided (no ROS)."""

from safety_gate.kit.scenarios.demo import decisions_by_reason, table
from safety_gate.kit.scenarios.recording import DecisionSample, Recording


def test_each_decision_counts_once_in_the_verdict_and_reasons_table():
    rec = Recording('x', decisions=[
        DecisionSample(0.0, 'FALLBACK', ['LOW_CONFIDENCE', 'OVER_SPEED'], 0.0, 0.0),
        DecisionSample(0.1, 'FALLBACK', ['LOW_CONFIDENCE'], 0.0, 0.0),
        DecisionSample(0.2, 'APPROVE', [], 0.5, 0.0)])
    counts = decisions_by_reason([rec, rec])
    assert counts == {('FALLBACK', 'LOW_CONFIDENCE + OVER_SPEED'): 2,
                      ('FALLBACK', 'LOW_CONFIDENCE'): 2, ('APPROVE', '-'): 2}
    lines = table(counts)
    assert sum(counts.values()) == 2 * len(rec.decisions)
    assert lines[-1].split() == ['total', '6']
