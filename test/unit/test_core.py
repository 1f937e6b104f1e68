# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The decision core through its public API: start, pairing, validity, authority, latch, clock.

``Gate`` (harness.core_driver) drives ``core.step`` with a clock only the test
moves. Times are multiples of 1/32 s on top of 100 s, so every sum is exact and
boundaries can be hit on the dot.
"""

import json
import math
import os
from pathlib import Path
import subprocess
import sys

from harness.core_driver import (
    CONFIDENT, driving, fail_once, Gate, make_config, PERIOD, reset, scripted_summaries, T0, TICK,
    TICKS_PER_PERIOD)
import pytest

from safety_gate import core, diagnostics, hysteresis, trace_record
from safety_gate.decision import Check, Clamp, Command, Decision, Reason, Verdict, ZERO
from safety_gate.events import (
    ClockStall, Estop, Imu, Meta, Odom, Proposal, Reset, Tick, TraceHealth)


def verdicts(decisions):
    return [d.verdict for d in decisions]


# ---------------------------------------------------------------- start


def test_latched_start_outputs_exact_zero_whatever_the_inputs():
    gate = Gate({'require_reset_on_start': True})
    gate.cycles(6, 0.5, 0.2)
    assert len(gate.decisions) == 6 * TICKS_PER_PERIOD
    for decision in gate.decisions:
        assert decision.verdict is Verdict.ESTOP
        assert decision.reasons[0] is Reason.LATCHED_ON_START
        assert decision.output == ZERO


def test_unlatched_start_waits_with_zero_output():
    gate = Gate(follow=False)
    first = gate.tick()
    assert first.verdict is Verdict.FALLBACK
    assert {Reason.NO_PROPOSAL, Reason.ODOM_MISSING} <= set(first.reasons)
    gate.odom(0.0)
    second = gate.tick(TICK)
    assert second.reasons == (Reason.NO_PROPOSAL,)
    assert first.output == second.output == ZERO


def test_first_clean_proposal_is_approved_at_once():
    gate = Gate()
    decision = gate.cycle(0.5)
    assert decision.verdict is Verdict.APPROVE
    assert decision.reasons == ()


def test_first_proposal_between_thresholds_does_not_get_authority():
    gate = Gate()
    decision = gate.cycle(0.5, confidence=0.55)
    assert decision.verdict is Verdict.FALLBACK
    assert decision.reasons == (Reason.HYSTERESIS,)


def test_first_proposal_with_fresh_odometry_is_approved_even_after_proposals_without_it():
    # The planner usually starts before odometry arrives; waiting for it must
    # not add the recovery hysteresis (there was no authority to lose).
    gate = Gate(follow=False)
    for _ in range(3):
        assert Reason.ODOM_MISSING in gate.propose(0.5).reasons
        gate.now += PERIOD
    gate.odom(0.0)
    decision = gate.propose(0.5)
    assert decision.reasons == ()
    assert decision.verdict is Verdict.APPROVE


# ---------------------------------------------------------------- pairing

WAIT = 2 * TICK
PAIRING = {'confidence.pairing_wait': WAIT}


def pending_gate(params=None) -> Gate:
    """Return a driving gate that has just received a stamped command with no meta."""
    gate = driving(params={**PAIRING, **(params or {})})
    gate.advance()
    assert gate.feed(Proposal(0.4, 0.0, gate.now)).decisions == ()
    return gate


def test_meta_before_command_is_decided_on_the_command():
    gate = driving()
    gate.advance()
    assert gate.feed(Meta(gate.now, CONFIDENT)).decisions == ()
    decision = gate.decide(Proposal(0.4, 0.0, gate.now))
    assert decision.trigger == 'proposal'
    assert decision.meta.confidence == CONFIDENT


def test_meta_after_command_within_pairing_wait_is_decided_on_the_meta():
    gate = pending_gate()
    stamp = gate.state.pending.proposal.stamp
    decision = gate.decide(Meta(stamp, CONFIDENT), dt=WAIT - TICK)
    assert decision.trigger == 'proposal'
    assert decision.verdict is Verdict.APPROVE
    assert decision.proposal.v == 0.4


def test_missing_meta_is_decided_on_the_first_tick_at_pairing_wait():
    gate = pending_gate()
    early = gate.tick(WAIT - TICK)
    assert early.trigger == 'tick'
    assert early.proposal.v == 0.5
    timed_out = gate.tick(TICK)
    assert timed_out.trigger == 'pairing_timeout'
    assert timed_out.proposal.v == 0.4
    assert timed_out.reasons == (Reason.CONFIDENCE_UNKNOWN,)


def test_meta_with_another_stamp_leaves_the_confidence_unknown():
    gate = pending_gate()
    stamp = gate.state.pending.proposal.stamp
    assert gate.feed(Meta(stamp - TICK, CONFIDENT)).decisions == ()
    decision = gate.tick(WAIT)
    assert decision.trigger == 'pairing_timeout'
    assert decision.reasons == (Reason.CONFIDENCE_UNKNOWN,)


def test_optional_confidence_approves_a_command_without_meta():
    gate = pending_gate({'confidence.required': False})
    decision = gate.tick(WAIT)
    assert decision.trigger == 'pairing_timeout'
    assert decision.verdict is Verdict.APPROVE


def test_zero_pairing_wait_decides_a_lone_command_at_once():
    gate = driving(params={'confidence.pairing_wait': 0.0})
    gate.advance()
    decision = gate.decide(Proposal(0.4, 0.0, gate.now))
    assert decision.reasons == (Reason.CONFIDENCE_UNKNOWN,)


@pytest.mark.parametrize('meta_age, known', [(0.25, True), (0.25 + TICK, False)])
def test_twist_mode_uses_the_latest_meta_within_its_max_age(meta_age, known):
    gate = driving(params={'confidence.meta_max_age': 0.25})
    gate.advance()
    gate.feed(Meta(None, CONFIDENT))
    gate.advance(meta_age)
    decision = gate.decide(Proposal(0.5, 0.0, gate.now, stamped=False))
    assert (Reason.CONFIDENCE_UNKNOWN not in decision.reasons) == known
    assert (decision.verdict is Verdict.APPROVE) == known


# ---------------------------------------------------------------- superseded proposals


def deciding(gate: Gate, proposal: Proposal):
    """Return the decisions that decided ``proposal`` (not the ticks that re-judged it)."""
    return [d for d in gate.decisions if d.proposal is proposal
            and d.trigger in ('proposal', 'pairing_timeout', 'superseded', 'shutdown')]


def test_an_older_proposal_waiting_for_its_meta_never_overrides_a_newer_one():
    # A is stamped first and waits for its meta; B (meta first) is decided;
    # A's meta then comes within pairing_wait. A must not become the command.
    gate = driving(0.5, params=PAIRING)
    gate.advance()
    a = Proposal(0.5, 0.0, gate.now)
    assert gate.feed(a).decisions == ()
    gate.advance()
    b = Proposal(0.0, 0.0, gate.now)
    gate.feed(Meta(b.stamp, CONFIDENT))
    superseded, approved = gate.feed(b).decisions
    assert superseded.proposal is a and superseded.trigger == 'superseded'
    assert superseded.verdict is Verdict.FALLBACK
    assert superseded.reasons == (Reason.SUPERSEDED,)
    assert (superseded.checks[0].value, superseded.checks[0].limit) == (a.stamp, b.stamp)
    assert superseded.output == Command(0.5, 0.0)
    # Decided when B arrived, and the held output needed no clamp.
    assert (superseded.t, superseded.clamps) == (gate.now, ())
    assert approved.proposal is b and approved.verdict is Verdict.APPROVE
    start = len(gate.decisions)
    assert gate.feed(Meta(a.stamp, CONFIDENT)).decisions == ()
    for _ in range(40):
        gate.advance()
        gate.tick()
    after = gate.decisions[start:]
    # B stays the command until it goes stale (after the output reached zero).
    assert all(d.proposal is b for d in after)
    assert verdicts(after[:8]) == [Verdict.APPROVE] * 8
    speeds = [d.output.v for d in gate.decisions[start - 1:]]
    assert speeds == sorted(speeds, reverse=True) and speeds[-1] == 0.0
    assert deciding(gate, a) == [superseded] and deciding(gate, b) == [approved]


def test_optional_confidence_never_approves_an_overtaken_proposal_at_its_pairing_timeout():
    gate = driving(0.5, params={**PAIRING, 'confidence.required': False})
    gate.advance()
    a = Proposal(0.5, 0.0, gate.now)
    gate.feed(a)
    gate.advance()
    b = Proposal(0.0, 0.0, gate.now)
    gate.feed(Meta(b.stamp, CONFIDENT))
    gate.feed(b)
    for _ in range(4):
        gate.advance()
        assert gate.tick().proposal is b
    assert [d.trigger for d in deciding(gate, a)] == ['superseded']
    assert gate.output.v < 0.5


def test_a_second_proposal_without_meta_supersedes_the_first_and_each_is_decided_once():
    gate = driving(params=PAIRING)
    gate.advance()
    a = Proposal(0.4, 0.0, gate.now)
    gate.feed(a)
    gate.advance()
    b = Proposal(0.3, 0.0, gate.now)
    (superseded,) = gate.feed(b).decisions
    assert superseded.proposal is a and superseded.reasons == (Reason.SUPERSEDED,)
    assert gate.state.pending.proposal is b
    decided = gate.decide(Meta(b.stamp, CONFIDENT), dt=TICK)
    assert decided.proposal is b and decided.verdict is Verdict.APPROVE
    assert deciding(gate, a) == [superseded] and deciding(gate, b) == [decided]


def test_a_superseded_proposal_counts_in_the_stamp_order():
    # A superseded proposal was decided, so a later arrival stamped before it
    # is out of order even though A never became the command.
    gate = driving(params=PAIRING)
    gate.advance()
    a = Proposal(0.4, 0.0, gate.now)
    gate.feed(a)
    gate.advance()
    older = Proposal(0.3, 0.0, a.stamp - TICK / 2)
    (superseded,) = gate.feed(older).decisions
    assert superseded.proposal is a
    decided = gate.decide(Meta(older.stamp, CONFIDENT))
    assert decided.proposal is older and Reason.STAMP_NOT_INCREASING in decided.reasons


def run_with_b(wait_first: bool) -> Gate:
    """Drive, optionally let a proposal wait for its meta, then decide a newer one."""
    gate = driving(0.5, params=PAIRING)
    gate.advance()
    if wait_first:
        gate.feed(Proposal(0.5, 0.2, gate.now - TICK / 2))
    gate.feed(Meta(gate.now, CONFIDENT))
    gate.feed(Proposal(0.2, 0.1, gate.now))
    gate.cycles(3, 0.2, 0.1)
    return gate


def test_a_superseded_proposal_changes_nothing_for_the_decisions_after_it():
    plain, overtaken = run_with_b(False), run_with_b(True)
    extra = [d for d in overtaken.decisions if d.trigger == 'superseded']
    assert len(extra) == 1 and extra[0].output == Command(0.5, 0.0)
    rest = [d for d in overtaken.decisions if d.trigger != 'superseded']
    assert [trace_record.decision_summary(d) for d in rest] == [
        trace_record.decision_summary(d) for d in plain.decisions]
    assert overtaken.state.authority == plain.state.authority


def test_a_superseded_proposal_while_latched_is_an_estop_with_zero_output():
    gate = latched(PAIRING)
    gate.advance()
    gate.feed(Proposal(0.4, 0.0, gate.now))
    gate.advance()
    superseded = gate.feed(Proposal(0.4, 0.0, gate.now)).decisions[0]
    assert superseded.verdict is Verdict.ESTOP and superseded.output == ZERO
    assert superseded.reasons == (Reason.ESTOP, Reason.SUPERSEDED)


def test_a_backwards_clock_refuses_a_waiting_proposal_then_reports_the_jump():
    gate = pending_gate()
    waiting = gate.state.pending.proposal
    superseded, jump = gate.feed(Tick(), dt=-1.0).decisions
    assert superseded.proposal is waiting and superseded.reasons == (Reason.SUPERSEDED,)
    assert superseded.checks[0].limit == 'the clock jumped back'
    assert Reason.CLOCK_JUMP_BACK in jump.reasons
    assert gate.state.pending is None


def test_a_proposal_waiting_across_a_reset_is_still_decided_and_refused():
    gate = latched(PAIRING)
    gate.feed(Estop(False))
    gate.advance()
    waiting = Proposal(0.4, 0.0, gate.now)
    gate.feed(waiting)
    assert gate.feed(Reset()).reply[0] is True
    decision = gate.decide(Meta(waiting.stamp, CONFIDENT), dt=TICK)
    assert decision.proposal is waiting
    assert decision.reasons == (Reason.PROPOSAL_BEFORE_RESET,)
    assert decision.output == ZERO


def test_shutdown_decides_a_waiting_proposal_and_leaves_the_state_at_zero():
    gate = pending_gate()
    waiting = gate.state.pending.proposal
    end = gate.now + TICK
    result = core.shutdown(gate.state, end)
    running = Check('running', False, 'shutting down', 'running', Reason.SHUTDOWN)
    assert result.decisions == (Decision(end, 'shutdown', Verdict.ESTOP, (Reason.SHUTDOWN,),
                                         (running,), waiting, None, ZERO),)
    state = result.state
    assert (state.output, state.output_t, state.verdict, state.pending) == (
        ZERO, end, Verdict.ESTOP, None)


# ---------------------------------------------------------------- validity


def _shifted(seconds):
    return lambda gate: gate.now + seconds


@pytest.mark.parametrize('v, w, stamp, reason', [
    (math.nan, 0.0, None, Reason.NON_FINITE_COMMAND),
    (0.5, math.inf, None, Reason.NON_FINITE_COMMAND),
    (-math.inf, 0.0, None, Reason.NON_FINITE_COMMAND),
    (0.5, 0.0, lambda gate: math.nan, Reason.NON_FINITE_COMMAND),
    (0.5, 0.0, _shifted(-0.3 - TICK), Reason.PROPOSAL_STALE),
    (0.5, 0.0, _shifted(0.05 + TICK), Reason.STAMP_IN_FUTURE),
    (0.5, 0.0, lambda gate: gate.decisions[-1].proposal.stamp, Reason.STAMP_NOT_INCREASING),
    (0.5, 0.0, lambda gate: gate.decisions[-1].proposal.stamp - TICK,
     Reason.STAMP_NOT_INCREASING),
])
def test_invalid_proposal_falls_back(v, w, stamp, reason):
    # No pairing wait: a NaN stamp pairs with no meta and would only be decided later.
    gate = driving(params={'confidence.pairing_wait': 0.0})
    gate.advance()
    decision = gate.propose(v, w, stamp=None if stamp is None else stamp(gate))
    assert decision.verdict is Verdict.FALLBACK
    assert reason in decision.reasons
    assert abs(decision.output.v) <= 0.5


@pytest.mark.parametrize('age', [0.25, -0.0625])
def test_stamp_age_at_its_limit_is_valid(age):
    gate = driving(params={'proposal_timeout': 0.25, 'future_tolerance': 0.0625})
    gate.advance(0.25 + TICK)
    assert gate.propose(0.5, stamp=gate.now - age).verdict is Verdict.APPROVE


def test_every_failing_check_is_reported():
    gate = driving()
    gate.advance()
    previous = gate.decisions[-1].proposal.stamp
    decision = gate.propose(math.nan, 0.0, confidence=0.1, stamp=previous - 1.0)
    assert {Reason.NON_FINITE_COMMAND, Reason.PROPOSAL_STALE, Reason.STAMP_NOT_INCREASING,
            Reason.LOW_CONFIDENCE} <= set(decision.reasons)


def test_a_rejected_future_stamp_does_not_block_later_proposals():
    # One stray stamp far ahead must cost one rejection, not every proposal
    # until the clock catches up with it (a reset does not clear it either).
    gate = driving(params={'confidence.min_dwell': 0.0, 'confidence.recover_count': 1})
    gate.advance()
    assert Reason.STAMP_IN_FUTURE in gate.propose(0.5, stamp=gate.now + 1e6).reasons
    decision = gate.cycle(0.5)
    assert Reason.STAMP_NOT_INCREASING not in decision.reasons
    assert decision.verdict is Verdict.APPROVE


@pytest.mark.parametrize('ahead, valid', [(2 * TICK, True), (3 * TICK, False)])
def test_a_stamp_on_the_future_tolerance_orders_the_next_proposals_and_one_beyond_does_not(
        ahead, valid):
    # On the tolerance a stamp is valid, so a later proposal must be stamped after it.
    gate = driving(params={'future_tolerance': 2 * TICK})
    gate.advance()
    before = gate.decisions[-1].proposal.stamp
    first = gate.propose(0.5, stamp=gate.now + ahead)
    assert (Reason.STAMP_IN_FUTURE in first.reasons) == (not valid)
    gate.advance()
    second = gate.propose(0.5)
    reference = first.proposal.stamp if valid else before
    assert Check('proposal.order', not valid, gate.now, reference,
                 Reason.STAMP_NOT_INCREASING) in second.checks


# ---------------------------------------------------------------- confidence and authority


def test_low_confidence_falls_back():
    gate = driving()
    decision = gate.cycle(0.5, confidence=0.49)
    assert decision.verdict is Verdict.FALLBACK
    assert decision.reasons == (Reason.LOW_CONFIDENCE,)


MALFORMED = 'malformed: reasoning is not a string'


@pytest.mark.parametrize('required', [True, False])
@pytest.mark.parametrize('confidence', [0.05, 0.9, None])
def test_a_malformed_meta_is_never_more_acceptable_than_the_same_meta_well_formed(
        required, confidence):
    # {"confidence": 0.05, "reasoning": 7} keeps its parsed confidence with an
    # error; {"confidence": "0.05"} has none. Neither may pass where 0.05 fails.
    params = {'confidence.required': required}
    well_formed = driving(params=params).cycle(0.5, confidence=0.05)
    gate = driving(params=params)
    gate.cycles(1, 0.5)
    gate.advance(PERIOD)
    gate.feed(Meta(gate.now, confidence, error=MALFORMED))
    malformed = gate.decide(Proposal(0.5, 0.0, gate.now))
    assert malformed.verdict is Verdict.FALLBACK
    assert Reason.CONFIDENCE_UNKNOWN in malformed.reasons
    assert set(well_formed.reasons) - {Reason.LOW_CONFIDENCE} <= set(malformed.reasons)
    assert (Reason.LOW_CONFIDENCE in malformed.reasons) == (confidence == 0.05)
    assert malformed.meta.confidence == confidence


def test_a_late_meta_fails_even_where_the_confidence_is_optional():
    gate = pending_gate({'confidence.required': False})
    stamp = gate.state.pending.proposal.stamp
    gate.now += WAIT + TICK / 2
    decision = gate.decide(Meta(stamp, CONFIDENT))
    assert decision.reasons == (Reason.CONFIDENCE_UNKNOWN,)
    assert decision.meta.error == 'late: arrived after confidence.pairing_wait'
    assert decision.meta.confidence == CONFIDENT


def test_a_late_malformed_meta_keeps_both_errors():
    gate = pending_gate()
    stamp = gate.state.pending.proposal.stamp
    gate.now += WAIT + TICK / 2
    decision = gate.decide(Meta(stamp, CONFIDENT, error='malformed: x'))
    assert decision.meta.error == 'late: arrived after confidence.pairing_wait; malformed: x'


@pytest.mark.parametrize('after, late', [(WAIT, False), (WAIT + TICK / 2, True)])
def test_a_meta_after_pairing_wait_is_late_and_one_at_it_is_on_time(after, late):
    gate = pending_gate()
    stamp = gate.state.pending.proposal.stamp
    gate.now += after
    decision = gate.decide(Meta(stamp, CONFIDENT))
    assert decision.verdict is (Verdict.FALLBACK if late else Verdict.APPROVE)
    assert (decision.reasons == (Reason.CONFIDENCE_UNKNOWN,)) == late
    assert (decision.meta.error or '').startswith('late') == late


def test_an_unknown_confidence_never_counts_toward_recovery():
    gate = driving(params={'confidence.required': False, 'confidence.min_dwell': 0.0})
    fail_once(gate)
    for _ in range(6):
        gate.advance(PERIOD)
        gate.feed(Meta(gate.now, CONFIDENT, error=MALFORMED))
        decision = gate.decide(Proposal(0.5, 0.0, gate.now))
        assert decision.verdict is Verdict.FALLBACK, decision
    assert verdicts(gate.cycles(3, 0.5)) == [Verdict.FALLBACK] * 2 + [Verdict.APPROVE]


def test_where_the_confidence_is_optional_proposals_without_meta_regain_authority():
    gate = driving(params={'confidence.required': False, 'confidence.min_dwell': 0.0,
                           'confidence.pairing_wait': 0.0})
    fail_once(gate)
    decisions = []
    for _ in range(3):
        gate.advance(PERIOD)
        decisions.append(gate.decide(Proposal(0.5, 0.0, gate.now)))
    assert verdicts(decisions) == [Verdict.FALLBACK] * 2 + [Verdict.APPROVE]


@pytest.mark.parametrize('required, meta, counts', [
    (False, None, True), (True, None, False),
    (False, Meta(T0, 0.9), True), (False, Meta(T0, 0.55), False),
    (False, Meta(T0, 0.9, error=MALFORMED), False), (False, Meta(T0, None, error='x'), False),
])
def test_which_clean_proposals_count_toward_recovery(required, meta, counts):
    cfg = make_config({'confidence.required': required}).confidence
    progress = hysteresis.Authority(False, T0, streak=1, needed=3)
    after = hysteresis.on_clean_proposal(progress, meta, T0 + 1.0, cfg)
    assert after.streak == (2 if counts else 0)


def test_confidence_at_the_threshold_keeps_authority():
    assert driving().cycle(0.5, confidence=0.5).verdict is Verdict.APPROVE


def dwell_at(k):
    """Return the time the k-th proposal after fail_once sees since the last failure.

    The ticks between re-judge the failed proposal, so the last failure is the
    tick just before the first clean proposal.
    """
    return k * PERIOD - (TICKS_PER_PERIOD - 1) * TICK


@pytest.mark.parametrize('count, dwell, first_approved', [
    (3, 0.0, 3), (3, dwell_at(4), 4), (3, dwell_at(4) + TICK, 5), (1, dwell_at(2), 2),
    (5, dwell_at(2), 5)])
def test_authority_returns_after_recover_count_and_min_dwell(count, dwell, first_approved):
    gate = driving(params={'confidence.recover_count': count, 'confidence.min_dwell': dwell})
    fail_once(gate)
    decisions = gate.cycles(first_approved, 0.5)
    failures = [d.t for d in gate.decisions if set(d.reasons) - {Reason.HYSTERESIS}]
    assert decisions[0].t - failures[-1] == dwell_at(1)
    expected = [Verdict.FALLBACK] * (first_approved - 1) + [Verdict.APPROVE]
    assert verdicts(decisions) == expected
    assert all(d.reasons == (Reason.HYSTERESIS,) for d in decisions[:-1])


def test_the_hysteresis_check_records_the_streak_and_dwell_against_their_targets():
    cfg = make_config({'confidence.recover_count': 3, 'confidence.min_dwell': 0.5}).confidence
    waiting = hysteresis.Authority(granted=False, last_failure=T0, streak=1, needed=3)
    check = hysteresis.check(waiting, T0 + 0.25, cfg)
    assert (check.name, check.ok, check.reason) == ('hysteresis', False, Reason.HYSTERESIS)
    assert check.value == {'streak': 1, 'dwell': 0.25}
    assert check.limit == {'streak': 3, 'dwell': 0.5}
    # Before any failure there is no dwell to measure.
    assert hysteresis.check(hysteresis.FRESH, T0, cfg).value == {'streak': 0, 'dwell': None}


def test_a_revoked_authority_is_plainly_not_granted_and_restarts_the_count():
    cfg = make_config({'confidence.recover_count': 4}).confidence
    assert hysteresis.revoke(T0, cfg) == hysteresis.Authority(
        granted=False, last_failure=T0, streak=0, needed=4)


def test_a_confidence_exactly_at_the_recover_threshold_counts_toward_authority():
    cfg = make_config({'confidence.recover_threshold': 0.75, 'confidence.min_dwell': 0.0,
                       'confidence.recover_count': 1}).confidence
    waiting = hysteresis.revoke(T0, cfg)
    assert hysteresis.on_clean_proposal(waiting, Meta(T0, 0.75), T0 + 0.5, cfg).granted
    assert not hysteresis.on_clean_proposal(waiting, Meta(T0, 0.7499), T0 + 0.5, cfg).granted


def test_confidence_between_thresholds_is_approved_while_granted():
    decision = driving().cycle(0.5, confidence=0.55)
    assert decision.verdict is Verdict.APPROVE


def test_confidence_between_thresholds_restarts_the_recovery():
    gate = driving(params={'confidence.min_dwell': 0.0})
    fail_once(gate)
    confidences = [0.9, 0.9, 0.55, 0.9, 0.9, 0.9]
    decisions = [gate.cycle(0.5, confidence=c) for c in confidences]
    assert verdicts(decisions) == [Verdict.FALLBACK] * 5 + [Verdict.APPROVE]


def test_confidence_flicker_around_the_threshold_never_regains_authority():
    gate = driving(v=0.8, params={'confidence.recover_threshold': 0.5})
    gate.cycle(0.8, confidence=0.45)
    start = len(gate.decisions) - 1
    for _ in range(20):
        gate.cycle(0.8, confidence=0.55)
        gate.cycle(0.8, confidence=0.45)
    after = gate.decisions[start:]
    assert Verdict.APPROVE not in verdicts(after)
    speeds = [abs(d.output.v) for d in after]
    assert speeds == sorted(speeds, reverse=True)
    assert speeds[-1] == 0.0


def test_ticks_never_count_toward_recovery():
    gate = driving(params={'confidence.min_dwell': 0.0})
    fail_once(gate)
    gate.cycles(2, 0.5)
    ticks = []
    for _ in range(2 * TICKS_PER_PERIOD):
        gate.advance()
        ticks.append(gate.tick())
    assert all(d.reasons == (Reason.HYSTERESIS,) for d in ticks)
    gate.advance()
    assert gate.propose(0.5).verdict is Verdict.APPROVE


def test_a_failing_tick_restarts_the_recovery():
    gate = driving(params={'confidence.min_dwell': 0.0})
    fail_once(gate)
    gate.cycles(2, 0.5)
    gate.advance(0.3 + TICK)
    assert Reason.PROPOSAL_STALE in gate.tick().reasons
    assert verdicts(gate.cycles(3, 0.5)) == [Verdict.FALLBACK] * 2 + [Verdict.APPROVE]


# ---------------------------------------------------------------- envelope and rate limits


@pytest.mark.parametrize('v, w, reason', [
    (1.0 + 1e-9, 0.0, Reason.OVER_SPEED),
    (-0.3 - 1e-9, 0.0, Reason.OVER_REVERSE_SPEED),
    (0.0, -1.5 - 1e-9, Reason.OVER_YAW_RATE),
    (0.8, 1.25 + 1e-9, Reason.OVER_LATERAL_ACCEL),
])
def test_envelope_veto_falls_back(v, w, reason):
    decision = driving().cycle(v, w)
    assert decision.verdict is Verdict.FALLBACK
    assert decision.reasons == (reason,)


@pytest.mark.parametrize('v, w', [(1.0, 0.0), (-0.3, 0.0), (0.0, 1.5), (0.8, -1.25)])
def test_envelope_boundary_is_approved(v, w):
    gate = driving(0.0)
    gate.drive(v, w)
    assert gate.decisions[-1].verdict is Verdict.APPROVE


def test_approved_output_ramps_within_the_rate_limits_then_equals_the_target():
    gate = driving(0.0)
    start = len(gate.decisions)
    gate.drive(1.0, 1.0)
    ramp = gate.decisions[start + TICKS_PER_PERIOD - 2:]
    assert ramp[1].proposal.v == 1.0 != ramp[0].proposal.v
    for before, after in zip(ramp, ramp[1:]):
        dt = after.t - before.t
        assert 0.0 <= after.output.v - before.output.v <= 1.0 * dt
        assert 0.0 <= after.output.w - before.output.w <= 3.0 * dt
    assert ramp[1].clamps == (Clamp.LINEAR_ACCEL, Clamp.ANGULAR_ACCEL)
    assert ramp[-1].output == Command(1.0, 1.0)
    assert gate.cycle(1.0, 1.0).clamps == ()


@pytest.mark.parametrize('params', [{}, {'rate_hz': 20.0, 'monitor.max_late': 0.2}])
def test_a_forward_clock_jump_does_not_let_an_approval_leap_the_rate_limits(params):
    gate = driving(0.0, params=params)
    gate.advance(10.0)
    decision = gate.propose(1.0, 1.0)
    assert decision.verdict is Verdict.APPROVE
    bound = 1.0 / gate.cfg.rate_hz + gate.cfg.monitor.max_late
    assert decision.output.v == pytest.approx(1.0 * bound)
    assert decision.output.w == pytest.approx(3.0 * bound)
    assert decision.clamps == (Clamp.LINEAR_ACCEL, Clamp.ANGULAR_ACCEL, Clamp.DT_BOUND)


def test_after_a_forward_clock_jump_the_fallback_brakes_over_the_whole_gap():
    gate = driving(0.5)
    gate.advance(10.0)
    assert gate.propose(0.5, confidence=0.1).output == ZERO


@pytest.mark.parametrize('gap, cut', [(3 * TICK, False), (4 * TICK, True)])
def test_an_approval_ramps_over_a_gap_of_exactly_one_period_and_max_late_uncut(gap, cut):
    # The bound is 3 ticks here; DT_BOUND says the gap was cut, and on the bound it is not.
    gate = driving(0.0, params={'rate_hz': 32.0, 'monitor.max_late': 2 * TICK})
    gate.advance(gap)
    decision = gate.propose(1.0, 1.0)
    assert decision.output == Command(1.0 * 3 * TICK, 3.0 * 3 * TICK)
    assert decision.clamps == (Clamp.LINEAR_ACCEL, Clamp.ANGULAR_ACCEL) + (
        (Clamp.DT_BOUND,) if cut else ())


def test_an_approval_as_the_very_first_decision_has_no_time_to_ramp_over():
    # dt is the time since the last output, and there was none: the output
    # stays at zero, and the ramp starts from the decision after it.
    gate = Gate()
    gate.odom(0.0)
    first = gate.propose(0.5, 0.2)
    assert gate.decisions == [first]
    assert (first.verdict, first.output, first.clamps) == (
        Verdict.APPROVE, ZERO, (Clamp.LINEAR_ACCEL, Clamp.ANGULAR_ACCEL))
    assert gate.tick(TICK).output == Command(1.0 * TICK, 3.0 * TICK)


# ---------------------------------------------------------------- e-stop and reset


def latched(params=None) -> Gate:
    """Return a gate driving at 0.5 m/s whose e-stop has just been pressed."""
    gate = driving(params=params)
    decision = gate.decide(Estop(True))
    assert decision.verdict is Verdict.ESTOP
    return gate


def test_estop_stops_at_once_and_latches():
    gate = latched()
    assert gate.decisions[-1].trigger == 'estop'
    assert gate.decisions[-1].reasons[0] is Reason.ESTOP
    gate.cycles(3, 0.5)
    assert {d.verdict for d in gate.decisions[-12:]} == {Verdict.ESTOP}
    assert all(d.output == ZERO for d in gate.decisions[-13:])


def test_releasing_the_estop_input_alone_does_not_unlatch():
    gate = latched()
    assert gate.feed(Estop(False)).decisions == ()
    assert gate.cycle(0.5).verdict is Verdict.ESTOP


def test_reset_is_refused_while_the_estop_input_is_engaged():
    gate = latched()
    result = gate.feed(Reset())
    assert result.reply[0] is False
    assert 'e-stop' in result.reply[1]
    assert gate.cycle(0.5).verdict is Verdict.ESTOP


@pytest.mark.parametrize('odom_age', [None, 0.25 + TICK])
def test_reset_is_refused_while_odometry_is_unhealthy(odom_age):
    gate = Gate({'require_reset_on_start': True}, follow=False)
    if odom_age is not None:
        gate.odom(0.0)
        gate.now += odom_age
    result = gate.feed(Reset())
    assert result.reply[0] is False
    assert 'ODOM_' in result.reply[1]
    assert gate.state.latched


def imu_gate(imu) -> Gate:
    """Return a latched gate at standstill with released e-stop and the IMU in state ``imu``."""
    gate = Gate({'require_reset_on_start': True, 'imu.enabled': True})
    gate.feed(Estop(False))
    gate.advance()
    if imu == 'stale':
        gate.feed(Imu(0.0, gate.now - gate.cfg.imu.timeout - TICK))
    elif imu == 'disagreeing':
        gate.imu_bias = gate.cfg.imu.yaw_rate_tolerance + TICK
        for _ in range(round(gate.cfg.imu.disagreement_timeout / TICK) + 2):
            gate.advance()
    elif imu == 'healthy':
        gate.imu_bias = 0.0
        gate.advance()
    return gate


@pytest.mark.parametrize('imu, reason', [
    ('missing', Reason.IMU_MISSING), ('stale', Reason.IMU_STALE),
    ('disagreeing', Reason.IMU_ODOM_DISAGREE)])
def test_reset_is_refused_while_the_imu_is_unhealthy(imu, reason):
    gate = imu_gate(imu)
    result = gate.feed(Reset())
    assert result.reply[0] is False
    assert reason.value in result.reply[1]
    assert gate.state.latched and result.decisions == ()


def test_reset_is_accepted_with_a_healthy_imu():
    gate = imu_gate('healthy')
    assert gate.feed(Reset()).reply[0] is True
    assert not gate.state.latched


def test_accepted_reset_waits_for_a_fresh_proposal_then_approves_it():
    gate = latched()
    decision = reset(gate)
    assert decision.verdict is Verdict.FALLBACK
    assert decision.reasons == (Reason.NO_PROPOSAL,)
    gate.advance()
    assert gate.tick().output == ZERO
    assert gate.cycle(0.5).verdict is Verdict.APPROVE


def test_proposal_stamped_before_the_reset_is_rejected_and_the_next_fresh_one_approved():
    gate = latched()
    reset_time = gate.now + TICK
    reset(gate)
    gate.advance()
    stale = gate.propose(0.5, stamp=reset_time)
    assert Reason.PROPOSAL_BEFORE_RESET in stale.reasons
    assert stale.output == ZERO
    gate.advance()
    assert gate.propose(0.5).verdict is Verdict.APPROVE


def test_reset_when_not_latched_and_nothing_held_changes_nothing():
    gate = driving()
    result = gate.feed(Reset())
    assert result.reply[0] is True
    assert result.decisions == ()
    assert gate.cycle(0.5).verdict is Verdict.APPROVE


# ---------------------------------------------------------------- a required e-stop input

HEARTBEAT = 8 * TICK


def test_a_required_estop_never_heard_of_holds_zero_until_a_message_says_released():
    gate = Gate({'estop.required': True})
    decision = gate.cycle(0.5)
    assert decision.verdict is Verdict.ESTOP and decision.output == ZERO
    assert Reason.ESTOP_UNKNOWN in decision.reasons
    result = gate.feed(Reset())
    assert result.reply[0] is False and 'unknown' in result.reply[1]
    gate.feed(Estop(False))
    # Not latched: require_reset_on_start is false, and the input is now known.
    assert gate.cycle(0.5).verdict is Verdict.APPROVE


def test_a_required_estop_keeps_the_start_latch_until_it_is_known():
    gate = Gate({'estop.required': True, 'require_reset_on_start': True})
    gate.advance()
    assert gate.feed(Reset()).reply[0] is False
    gate.feed(Estop(False))
    gate.advance()
    assert gate.feed(Reset()).reply[0] is True


def with_heartbeat(gate: Gate, cycles: int, v: float = 0.5):
    """Run planner cycles with an e-stop publisher that says 'released' once per cycle."""
    for _ in range(cycles):
        gate.feed(Estop(False))
        gate.cycle(v)


def test_a_silent_estop_heartbeat_latches_and_the_reset_waits_for_fresh_messages():
    gate = Gate({'estop.heartbeat_timeout': HEARTBEAT})
    with_heartbeat(gate, 12)
    assert gate.output == Command(0.5, 0.0)
    gate.feed(Estop(False))
    last_heard = gate.now
    gate.cycles(4, 0.5)
    late = [d for d in gate.decisions if d.t - last_heard > HEARTBEAT]
    assert late and all(d.verdict is Verdict.ESTOP and d.output == ZERO for d in late)
    # The latch names the silence as its reason (first), not the start it never had.
    assert all(d.reasons == (Reason.ESTOP_HEARTBEAT_LOST,) for d in late)
    # each decision records the silence it measured against the timeout
    assert all(Check('estop.heartbeat', d.t - last_heard <= HEARTBEAT, d.t - last_heard,
                     HEARTBEAT, Reason.ESTOP_HEARTBEAT_LOST) in d.checks
               for d in gate.decisions if d.t > last_heard)
    assert all(d.verdict is Verdict.APPROVE for d in gate.decisions[-16:]
               if last_heard < d.t <= last_heard + HEARTBEAT)
    assert gate.state.latched
    result = gate.feed(Reset())
    assert result.reply[0] is False and 'heartbeat' in result.reply[1]
    # Messages again: still latched until the operator resets.
    with_heartbeat(gate, 2)
    assert gate.decisions[-1].verdict is Verdict.ESTOP
    gate.feed(Estop(False))
    assert gate.feed(Reset()).reply[0] is True
    with_heartbeat(gate, 1)
    assert gate.decisions[-1].verdict is Verdict.APPROVE


def test_the_estop_heartbeat_restarts_from_a_backwards_clock_step():
    # Its last message cannot be dated on the new clock: the silence counts from the step.
    gate = Gate({'estop.heartbeat_timeout': HEARTBEAT})
    with_heartbeat(gate, 12)
    gate.feed(Estop(False))
    gate.decide(Tick(), dt=-1.0)
    jumped = gate.now
    late = [d for d in gate.cycles(4, 0.5) if d.t - jumped > HEARTBEAT]
    assert late and Reason.ESTOP_HEARTBEAT_LOST in late[0].reasons


def test_an_estop_pressed_while_unknown_latches():
    gate = Gate({'estop.required': True})
    gate.advance()
    assert gate.decide(Estop(True)).reasons[0] is Reason.ESTOP
    gate.feed(Estop(False))
    assert gate.cycle(0.5).verdict is Verdict.ESTOP


# ---------------------------------------------------------------- clock, trace, errors


def test_a_clock_stall_holds_zero_until_the_watchdog_fires_again():
    gate = driving()
    gate.advance()
    decision = gate.decide(ClockStall())
    assert decision.output == ZERO and Reason.CLOCK_STALLED in decision.reasons
    # The node clock runs on (a wall clock stepped back) but the watchdog does
    # not fire: proposals are no reason to trust it again.
    gate.advance()
    decision = gate.propose(0.5)
    assert decision.verdict is Verdict.FALLBACK and decision.output == ZERO
    assert Reason.CLOCK_STALLED in decision.reasons
    gate.advance()
    assert Reason.CLOCK_STALLED not in gate.tick().reasons


def test_a_clock_stall_gives_zero_at_once_not_a_ramp():
    # Fast enough that the fallback ramp would still be moving one tick later.
    gate = driving(v=1.0, w=1.0)
    gate.advance()
    decision = gate.decide(ClockStall())
    assert (decision.verdict, decision.output) == (Verdict.FALLBACK, ZERO)
    assert decision.trigger == 'clock_stall'


@pytest.mark.parametrize('late, overrun', [(4 * TICK, False), (5 * TICK, True)])
def test_a_watchdog_tick_later_than_max_late_is_a_gate_overrun(late, overrun):
    gate = driving(params={'monitor.max_late': 4 * TICK})
    gate.advance()
    decision = gate.decide(Tick(late))
    assert (Reason.GATE_OVERRUN in decision.reasons) == overrun
    assert decision.verdict is (Verdict.FALLBACK if overrun else Verdict.APPROVE)
    (check,) = [c for c in decision.checks if c.reason is Reason.GATE_OVERRUN]
    assert check == Check('watchdog.late', not overrun, late, 4 * TICK, Reason.GATE_OVERRUN)


@pytest.mark.parametrize('event', [
    Tick(), Odom(0.0, 0.0, 0.0, 0.0, T0), Imu(0.0, T0), Proposal(0.1, 0.0, T0),
    Meta(T0, CONFIDENT), Estop(False), Reset(), TraceHealth(True)],
    ids=lambda event: type(event).__name__)
def test_a_backwards_clock_is_reported_whatever_the_event(event):
    gate = driving()
    decision = gate.decide(event, dt=-1.0)
    assert Reason.CLOCK_JUMP_BACK in decision.reasons
    assert decision.verdict is Verdict.FALLBACK


def test_a_backwards_clock_revokes_authority_and_forgets_history():
    gate = driving()
    gate.decide(Tick(), dt=-1.0)
    assert gate.state.decided_stamp is None
    assert gate.state.sensors.odom is None
    decision = gate.cycle(0.5)
    assert decision.reasons == (Reason.HYSTERESIS,)


def test_after_a_backwards_clock_nothing_received_before_it_is_used():
    gate = driving(params=PAIRING)
    gate.advance()
    stamp = gate.now
    gate.feed(Meta(stamp, CONFIDENT))  # waiting for its command
    jump = gate.decide(Tick(), dt=-1.0)
    assert jump.proposal is None and jump.meta is None
    assert Reason.NO_PROPOSAL in jump.reasons
    assert diagnostics.age(gate.now, gate.state.latest_received) == 'never'
    # The meta no longer pairs: a command with its stamp waits for one.
    gate.advance()
    assert gate.feed(Proposal(0.4, 0.0, stamp)).decisions == ()


def test_the_decision_a_backwards_clock_gives_brakes_over_no_time_from_before_it():
    # The time since the last output cannot be measured across the jump: the
    # fallback it gives holds the output, and the ticks after it ramp down.
    gate = driving(0.8)
    before = gate.output
    for _ in range(8):  # time passes with no output: odometry only
        gate.advance()
    jump = gate.decide(Odom(0.8, 0.0, gate.x, 0.0, gate.now - 0.1), dt=-0.1)
    assert jump.verdict is Verdict.FALLBACK and jump.output == before
    assert gate.tick(TICK).output.v < before.v


def test_after_a_backwards_clock_authority_returns_no_sooner_than_min_dwell_after_it():
    gate = driving(params={'confidence.min_dwell': 8 * TICK, 'confidence.recover_count': 1})
    gate.decide(Tick(), dt=-1.0)
    jumped = gate.now
    approved = next(d for d in gate.cycles(6, 0.5) if d.verdict is Verdict.APPROVE)
    assert approved.t - jumped >= 8 * TICK


def test_a_backwards_clock_keeps_held_sensor_faults():
    gate = driving()
    gate.state = core.evolve(gate.state, sensors=core.evolve(
        gate.state.sensors, stuck_held=(0.0, 0.0, 0.0, 0.0, 0.0),
        tracking_held=(0.0, 0.0, 0.0, 0.0, 0.0)))
    gate.decide(Tick(), dt=-1.0)
    # They clear on a changed sample, not on time: still there for the operator to release.
    reply = gate.feed(Reset()).reply
    assert reply == (True, 'released the held ODOM_STUCK, TRACKING_ERROR: the checks are '
                           're-armed')


def test_a_refused_older_proposal_does_not_lower_the_order_reference():
    gate = driving()
    newest = gate.state.decided_stamp
    for stamp in (newest - 3 * TICK, newest - TICK):
        gate.feed(Meta(stamp, CONFIDENT))
        assert Reason.STAMP_NOT_INCREASING in gate.decide(Proposal(0.5, 0.0, stamp)).reasons


def test_a_backwards_clock_before_any_approval_still_makes_authority_wait():
    # The jump itself revokes, not only the failing decision after it (which
    # revokes only authority once granted): no stored time is comparable any more.
    gate = Gate()
    gate.tick(TICK)
    gate.decide(Tick(), dt=-1.0)
    assert gate.cycle(0.5).reasons == (Reason.HYSTERESIS,)
    assert Gate().cycle(0.5).verdict is Verdict.APPROVE


@pytest.mark.parametrize('required', [True, False])
def test_an_unhealthy_trace_forces_fallback_only_when_required(required):
    gate = driving(params={'trace.required': required})
    gate.feed(TraceHealth(False))
    decision = gate.cycle(0.5)
    assert (Reason.TRACE_UNAVAILABLE in decision.reasons) == required
    assert (decision.verdict is Verdict.APPROVE) == (not required)


def stalled() -> Decision:
    gate = driving()
    gate.advance()
    return gate.decide(ClockStall())


def traced(*health) -> Decision:
    """Return the next proposal's decision after the trace writer reported ``health``."""
    gate = driving(params={'trace.required': True})
    for ok in health:
        gate.feed(TraceHealth(ok))
    return gate.cycle(0.5)


# The checks the core itself adds, each in the situation that adds it, as the trace records them.
CORE_CHECKS = {
    'clock back': (lambda: driving().decide(Tick(), dt=-1.0),
                   Check('clock', False, 'backwards', 'monotonic', Reason.CLOCK_JUMP_BACK)),
    'clock stalled': (stalled, Check('clock.advancing', False, 'stalled', 'advancing',
                                     Reason.CLOCK_STALLED)),
    'trace lost': (lambda: traced(False),
                   Check('trace', False, False, True, Reason.TRACE_UNAVAILABLE)),
    'trace back': (lambda: traced(False, True),
                   Check('trace', True, True, True, Reason.TRACE_UNAVAILABLE)),
    'no proposal': (lambda: Gate().tick(),
                    Check('proposal.present', False, None, 'required', Reason.NO_PROPOSAL)),
    'estop never heard': (lambda: Gate({'estop.required': True}).tick(),
                          Check('estop.input', False, 'unknown',
                                'a message on safety_gate/estop', Reason.ESTOP_UNKNOWN)),
}


@pytest.mark.parametrize('case', CORE_CHECKS)
def test_a_core_check_records_what_it_measured_and_its_limit(case):
    make, expected = CORE_CHECKS[case]
    decision = make()
    record = json.loads(json.dumps(trace_record.decision_to_dict(decision, 1, (), 0.0, 0.0, '')))
    assert expected in trace_record.record_checks(record), record['checks']
    assert (expected.reason in decision.reasons) == (not expected.ok)


def test_internal_error_falls_back_and_revokes_authority():
    gate = driving(0.8, 0.5)
    gate.advance()
    result = core.internal_error(gate.state, gate.now, gate.cfg, 'tick', 'boom')
    (decision,) = result.decisions
    assert decision.verdict is Verdict.FALLBACK and decision.trigger == 'tick'
    assert decision.reasons == (Reason.INTERNAL_ERROR,)
    assert decision.checks == (Check('internal', False, 'boom', 'no exception',
                                     Reason.INTERNAL_ERROR),)
    assert 0.0 <= decision.output.v < 0.8
    assert decision.output.w * 0.8 == pytest.approx(decision.output.v * 0.5)
    gate.state = result.state
    assert gate.cycle(0.8, 0.5).verdict is Verdict.FALLBACK


def test_internal_error_while_latched_is_an_estop_with_zero_output():
    gate = latched()
    (decision,) = core.internal_error(gate.state, gate.now + TICK, gate.cfg, 'tick',
                                      'boom').decisions
    assert decision.verdict is Verdict.ESTOP
    assert decision.output == ZERO


def test_shutdown_outputs_zero():
    gate = driving(0.8)
    decision = core.shutdown(gate.state, gate.now + TICK).decisions[0]
    assert decision.verdict is Verdict.ESTOP
    assert decision.reasons == (Reason.SHUTDOWN,)
    assert decision.output == ZERO


@pytest.mark.parametrize('hash_seed', ['0', '1', '2'])
def test_the_same_events_at_the_same_times_give_the_same_decisions_in_another_process(
        hash_seed):
    # Run twice in one process, a pure step repeats itself whatever it does;
    # another process, with another string-hash seed, shows a decision that
    # depends on set order, on module state or on the host's clocks.
    here = scripted_summaries()
    assert len(json.loads(here)) > 50
    there = subprocess.run(
        [sys.executable, '-c',
         'from harness.core_driver import scripted_summaries; print(scripted_summaries())'],
        cwd=Path(__file__).resolve().parents[1], env={**os.environ, 'PYTHONHASHSEED': hash_seed},
        capture_output=True, text=True, timeout=120, check=True).stdout
    assert json.loads(there) == json.loads(here)
