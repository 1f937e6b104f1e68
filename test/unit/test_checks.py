# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The stateless proposal checks: validity, confidence and the envelope veto."""

import math

import pytest

from safety_gate import checks, config
from safety_gate.decision import Reason
from safety_gate.events import Meta, Proposal

CFG = config.GateConfig()
NOW = 100.0


def failing(found):
    return {c.reason for c in found if not c.ok}


def validity(v=0.5, w=0.0, stamp=NOW, received=NOW, previous=None, reset=None):
    return failing(checks.validity(Proposal(v, w, stamp), received, NOW, CFG, previous, reset))


def confidence(meta, **params):
    cfg = config.build(params).confidence if params else CFG.confidence
    return failing(checks.confidence(meta, cfg))


def envelope(v, w):
    return failing(checks.envelope(Proposal(v, w, NOW), CFG.envelope))


def test_a_fresh_finite_proposal_is_valid():
    assert validity(previous=NOW - 0.1, reset=NOW - 1.0) == set()


@pytest.mark.parametrize('field', ['v', 'w', 'stamp'])
@pytest.mark.parametrize('value', [math.nan, math.inf, -math.inf])
def test_a_non_finite_value_is_invalid(field, value):
    assert Reason.NON_FINITE_COMMAND in validity(**{field: value})


@pytest.mark.parametrize('stamp, received, valid', [
    (NOW - 0.3, NOW, True), (NOW - 0.30001, NOW, False),
    (NOW, NOW - 0.3, True), (NOW, NOW - 0.30001, False)])
def test_a_proposal_is_stale_by_stamp_or_by_arrival(stamp, received, valid):
    assert (Reason.PROPOSAL_STALE not in validity(stamp=stamp, received=received)) == valid


@pytest.mark.parametrize('ahead, valid', [(0.05, True), (0.05001, False)])
def test_a_stamp_too_far_ahead_is_invalid(ahead, valid):
    assert (Reason.STAMP_IN_FUTURE not in validity(stamp=NOW + ahead)) == valid


@pytest.mark.parametrize('previous, valid', [
    (NOW - 1e-9, True), (NOW, False), (NOW + 0.01, False)])
def test_a_stamp_must_increase(previous, valid):
    assert (Reason.STAMP_NOT_INCREASING not in validity(previous=previous)) == valid


@pytest.mark.parametrize('reset, valid', [(NOW - 1e-9, True), (NOW, False)])
def test_a_stamp_at_or_before_the_reset_is_invalid(reset, valid):
    assert (Reason.PROPOSAL_BEFORE_RESET not in validity(reset=reset)) == valid


def test_every_failing_validity_check_is_reported():
    found = validity(v=math.nan, stamp=NOW - 1.0, previous=NOW - 0.5, reset=NOW - 0.1)
    assert found == {Reason.NON_FINITE_COMMAND, Reason.PROPOSAL_STALE,
                     Reason.STAMP_NOT_INCREASING, Reason.PROPOSAL_BEFORE_RESET}


@pytest.mark.parametrize('value, passes', [
    (0.5, True), (0.4999, False), (1.0, True), (0.0, False)])
def test_confidence_must_reach_the_threshold(value, passes):
    assert (confidence(Meta(NOW, value)) == set()) == passes
    assert confidence(Meta(NOW, value)) <= {Reason.LOW_CONFIDENCE}


@pytest.mark.parametrize('required', [True, False])
def test_a_missing_meta_fails_only_when_required(required):
    expected = {Reason.CONFIDENCE_UNKNOWN} if required else set()
    assert confidence(None, **{'confidence.required': required}) == expected


@pytest.mark.parametrize('meta, expected', [
    (Meta(NOW, None, error='malformed: x'), {Reason.CONFIDENCE_UNKNOWN}),
    (Meta(NOW, None), {Reason.CONFIDENCE_UNKNOWN}),
    (Meta(NOW, 0.9, error='malformed: reasoning is not a string'),
     {Reason.CONFIDENCE_UNKNOWN}),
    (Meta(NOW, 0.05, error='malformed: reasoning is not a string'),
     {Reason.CONFIDENCE_UNKNOWN, Reason.LOW_CONFIDENCE}),
    (Meta(NOW, 0.9, error='late: arrived after confidence.pairing_wait'),
     {Reason.CONFIDENCE_UNKNOWN}),
])
@pytest.mark.parametrize('required', [True, False])
def test_a_faulty_meta_fails_whether_or_not_the_confidence_is_required(meta, expected,
                                                                       required):
    assert confidence(meta, **{'confidence.required': required}) == expected


@pytest.mark.parametrize('v, w, reason', [
    (1.0 + 1e-12, 0.0, Reason.OVER_SPEED),
    (-0.3 - 1e-12, 0.0, Reason.OVER_REVERSE_SPEED),
    (0.0, 1.5 + 1e-12, Reason.OVER_YAW_RATE),
    (0.0, -1.5 - 1e-12, Reason.OVER_YAW_RATE),
    (0.8, 1.25 + 1e-9, Reason.OVER_LATERAL_ACCEL),
    (-0.25, -4.0, Reason.OVER_YAW_RATE),
])
def test_the_envelope_vetoes_each_limit(v, w, reason):
    assert reason in envelope(v, w)


def test_every_violated_limit_is_reported():
    assert envelope(2.0, 1.6) == {Reason.OVER_SPEED, Reason.OVER_YAW_RATE,
                                  Reason.OVER_LATERAL_ACCEL}


@pytest.mark.parametrize('v, w', [
    (1.0, 0.0), (-0.3, 0.0), (0.0, 1.5), (0.0, -1.5), (1.0, 1.0), (-0.3, 1.5), (0.8, -1.25)])
def test_values_exactly_at_the_limits_pass(v, w):
    assert envelope(v, w) == set()


@pytest.mark.parametrize('v, w', [(math.nan, 0.0), (0.0, math.nan)])
def test_the_envelope_fails_closed_on_nan(v, w):
    assert envelope(v, w)


def records(found):
    return [(c.name, c.ok, c.value, c.limit, c.reason) for c in found]


def test_each_validity_check_records_its_name_measured_value_and_limit():
    # The trace and `explain` show these records: the name says which rule,
    # the value and the limit say by how much it failed.
    found = checks.validity(Proposal(math.nan, 0.25, NOW - 0.1), NOW - 0.2, NOW, CFG,
                            NOW - 0.05, NOW - 0.5)
    assert records(found)[0][0:2] == ('proposal.finite', False)
    assert math.isnan(found[0].value[0]) and found[0].value[1] == 0.25
    assert records(found)[1:] == [
        ('proposal.age', True, pytest.approx(0.2), CFG.proposal_timeout,
         Reason.PROPOSAL_STALE),
        ('proposal.future', True, pytest.approx(-0.1), CFG.future_tolerance,
         Reason.STAMP_IN_FUTURE),
        ('proposal.order', False, NOW - 0.1, NOW - 0.05, Reason.STAMP_NOT_INCREASING),
        ('proposal.after_reset', True, NOW - 0.1, NOW - 0.5, Reason.PROPOSAL_BEFORE_RESET)]
    assert records(checks.validity(Proposal(0.5, 0.0, NOW), NOW, NOW, CFG, None, None))[0] == (
        'proposal.finite', True, None, 'finite', Reason.NON_FINITE_COMMAND)


@pytest.mark.parametrize('required, limit', [(True, 'required'), (False, 'optional')])
def test_a_missing_meta_records_what_was_required(required, limit):
    cfg = config.build({'confidence.required': required}).confidence
    assert records(checks.confidence(None, cfg)) == [
        ('confidence.known', not required, 'missing', limit, Reason.CONFIDENCE_UNKNOWN)]


@pytest.mark.parametrize('meta, expected', [
    (Meta(NOW, None, error='late'), [('confidence.known', False, 'late',
                                      'a well-formed meta', Reason.CONFIDENCE_UNKNOWN)]),
    (Meta(NOW, None), [('confidence.known', False, 'no confidence', 'a well-formed meta',
                        Reason.CONFIDENCE_UNKNOWN)]),
    (Meta(NOW, 0.9), [('confidence', True, 0.9, CFG.confidence.threshold,
                       Reason.LOW_CONFIDENCE)])])
def test_a_present_meta_records_its_error_or_its_confidence(meta, expected):
    assert records(checks.confidence(meta, CFG.confidence)) == expected


def test_each_envelope_check_records_its_name_measured_value_and_limit():
    env = CFG.envelope
    assert records(checks.envelope(Proposal(-0.2, -0.5, NOW), env)) == [
        ('envelope.speed', True, -0.2, env.max_linear_speed, Reason.OVER_SPEED),
        ('envelope.reverse', True, 0.2, env.max_reverse_speed, Reason.OVER_REVERSE_SPEED),
        ('envelope.yaw_rate', True, 0.5, env.max_angular_speed, Reason.OVER_YAW_RATE),
        ('envelope.lateral_accel', True, pytest.approx(0.1), env.max_lateral_accel,
         Reason.OVER_LATERAL_ACCEL)]


@pytest.mark.parametrize('stamp', [math.nan, math.inf, -math.inf])
def test_a_proposal_whose_stamp_is_not_finite_has_an_unmeasurable_age(stamp):
    found = {c.name: c for c in checks.validity(Proposal(0.5, 0.0, stamp), NOW, NOW, CFG,
                                                None, None)}
    assert (found['proposal.age'].ok, found['proposal.age'].value) == (False, math.inf)
