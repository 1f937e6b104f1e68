# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Log lines say why in sentences, not dicts (no ROS)."""

import json

from safety_gate.decision import Check, Decision, Reason, Verdict, ZERO
from safety_gate.explain import explain, sentences
from safety_gate.trace_record import decision_to_dict, record_checks


def decision(*checks):
    return Decision(0.0, 'proposal', Verdict.FALLBACK, tuple(c.reason for c in checks),
                    checks, None, None, ZERO)


def test_hysteresis_and_limits_read_as_sentences():
    text = explain(decision(
        Check('hysteresis', False, {'streak': 4, 'dwell': 0.38123}, {'streak': 3, 'dwell': 0.5},
              Reason.HYSTERESIS),
        Check('proposal.age', False, 0.5213, 0.3, Reason.PROPOSAL_STALE)))
    assert text == ('HYSTERESIS (authority returns after 3 clean proposals and 0.5 s since the '
                    'last failure: 4 and 0.381 s so far); '
                    'PROPOSAL_STALE (the proposal is 0.521 s old, limit 0.3 s)')
    assert '{' not in text and "'" not in text


def test_a_check_without_a_sentence_still_gives_value_and_limit():
    text = explain(decision(Check('new.check', False, 1.23456, [1, 2], Reason.ODOM_STUCK)))
    assert text == 'ODOM_STUCK (new.check is 1.23, limit 1, 2)'


def test_a_latch_is_given_by_its_code():
    latched = Decision(0.0, 'tick', Verdict.ESTOP, (Reason.ESTOP,), (), None, None, ZERO)
    assert explain(latched) == 'ESTOP'


def test_a_held_check_says_what_releases_it():
    text = explain(decision(Check('odom.stuck', False, 'held', 'odometry changes',
                                  Reason.ODOM_STUCK)))
    assert text == 'ODOM_STUCK (held until odometry changes)'


def test_a_record_read_back_explains_as_its_decision():
    made = Decision(0.0, 'proposal', Verdict.FALLBACK, (Reason.LOW_CONFIDENCE,), (
        Check('proposal.age', True, 0.02, 0.3, Reason.PROPOSAL_STALE),
        Check('confidence', False, 0.3, 0.5, Reason.LOW_CONFIDENCE)), None, None, ZERO)
    record = json.loads(json.dumps(decision_to_dict(made, 7, [], 0.0, 1.0, 'ab')))
    checks = record_checks(record)
    assert checks == list(made.checks)
    assert sentences([Reason(r) for r in record['reasons']], checks) == [
        'LOW_CONFIDENCE (confidence 0.3 is below 0.5)']
