# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Core tests of conservative mode: triggers, the reduced envelope, entry, exit, drift actions."""

import math

from harness.core_driver import driving, Gate, T0, TICK
from harness.plans import straight
from hypothesis import given, settings, strategies as st
import pytest

from safety_gate import config, conservative, core, limits, registry
from safety_gate.decision import Check, Command, evolve, Reason, Verdict
from safety_gate.events import (
    ConservativeRequest, Estop, Meta, ModelAnnouncement, ModelFilesHashed, Odom, Reset, Tick)

CONS = config.build({}).conservative
ENVELOPE = conservative.envelope(config.build({}))
ON = ConservativeRequest(True)
OFF = ConservativeRequest(False)
CANARY = 'b' * 64
# A canary at 0.4 of the full envelope: 0.4 m/s, inside conservative mode's 0.5.
CANARY_MODELS = registry.from_records([{
    'sha256': CANARY, 'name': 'm', 'version': '1', 'approved_by': 'x', 'evidence': 'x',
    'stage': 'canary', 'envelope_scale': 0.4}])


def inside(decision, env=ENVELOPE):
    return limits.inside_envelope(decision.output.v, decision.output.w, env, 1e-12)


def test_the_conservative_envelope_is_the_configured_one_inside_the_full_envelope():
    assert (ENVELOPE.max_linear_speed, ENVELOPE.max_reverse_speed, ENVELOPE.max_angular_speed,
            ENVELOPE.max_lateral_accel, ENVELOPE.max_linear_accel) == (
        CONS.max_linear_speed, CONS.max_reverse_speed, CONS.max_angular_speed,
        CONS.max_lateral_accel, CONS.max_linear_accel)
    no_reverse = conservative.envelope(config.build({'envelope.max_reverse_speed': 0.0}))
    assert no_reverse.max_reverse_speed == 0.0


def test_an_operator_request_limits_at_once_and_the_release_follows_the_hysteresis():
    g = Gate()
    g.drive(0.9, 0.0)
    entered = g.decide(ON)
    assert entered.verdict is Verdict.LIMIT and entered.trigger == 'conservative'
    assert entered.reasons == (Reason.CONSERVATIVE_OPERATOR,)
    assert entered.output == Command(CONS.max_linear_speed, 0.0) and inside(entered)
    steady = g.cycles(10, 0.9, 0.3)
    assert all(d.verdict is Verdict.LIMIT and inside(d) for d in steady)
    # The proposal itself is clamped into the reduced envelope: the output
    # reaches it without the final guard having to cut anything.
    assert steady[-1].output == Command(CONS.max_linear_speed, 0.3)
    assert steady[-1].clamps == ()
    g.feed(OFF)
    # The node logs an operator's message only when it differs from this.
    assert g.state.conservative_request is False
    released = g.now
    limited, streaks = [], []
    needed = {'streak': g.cfg.confidence.recover_count, 'dwell': g.cfg.confidence.min_dwell}
    while True:
        decision = g.cycle(0.9)
        if decision.verdict is Verdict.APPROVE:
            break
        limited.append(decision)
        assert decision.verdict is Verdict.LIMIT and inside(decision)
        assert decision.reasons == (Reason.CONSERVATIVE_OPERATOR,)
        # The trace shows the way out: clean proposals and dwell so far, against what it takes.
        (exit_check,) = [c for c in decision.checks if c.name == 'conservative.hysteresis']
        assert (exit_check.ok, exit_check.limit, exit_check.reason) == (
            False, needed, Reason.HYSTERESIS)
        streaks.append(exit_check.value['streak'])
    assert streaks == sorted(streaks) and streaks[-1] > 0
    assert len(limited) >= g.cfg.confidence.recover_count - 1
    assert g.now - released >= g.cfg.confidence.min_dwell
    g.drive(0.9, 0.0)


def test_a_confidence_between_threshold_and_confidence_below_limits_and_below_falls_back():
    g = Gate({'conservative.confidence_below': 0.7})
    g.drive(0.9, 0.0)
    limited = g.cycle(0.9, confidence=0.6)
    assert limited.verdict is Verdict.LIMIT
    assert limited.reasons == (Reason.CONSERVATIVE_CONFIDENCE,)
    check = next(c for c in limited.checks if c.name == 'conservative.confidence')
    assert (check.value, check.limit) == (0.6, 0.7)
    # From the threshold itself, which the confidence check passes.
    fresh = driving(0.9, 0.0, {'conservative.confidence_below': 0.7})
    on_threshold = fresh.cycle(0.9, confidence=fresh.cfg.confidence.threshold)
    assert on_threshold.reasons == (Reason.CONSERVATIVE_CONFIDENCE,)
    # The fallback still wins when a check fails.
    assert g.cycle(0.9, confidence=0.4).verdict is Verdict.FALLBACK
    # Off by default: confidence_below equals the threshold.
    plain = Gate()
    plain.drive(0.9, 0.0)
    assert plain.cycle(0.9, confidence=0.55).verdict is Verdict.APPROVE


def test_each_trigger_is_traced_as_a_failing_check_with_what_fired_and_its_limit():
    cfg = config.build({'conservative.confidence_below': 0.7,
                        'conservative.max_position_variance': 0.25})
    odom = Odom(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3)
    assert conservative.triggers(Meta(0.0, 0.6), odom, True, 'conservative', cfg) == [
        Check('conservative.confidence', False, 0.6, 0.7, Reason.CONSERVATIVE_CONFIDENCE),
        Check('conservative.localization', False, 0.3, 0.25, Reason.CONSERVATIVE_LOCALIZATION),
        Check('conservative.operator', False, 'requested', 'not requested',
              Reason.CONSERVATIVE_OPERATOR),
        Check('conservative.drift', False, 'conservative', 'no drift alarm',
              Reason.CONSERVATIVE_DRIFT)]
    calm = Odom(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25)
    for drift in ('none', 'warn', 'withdraw'):
        assert conservative.triggers(Meta(0.0, 0.7), calm, False, drift, cfg) == []
    assert conservative.withdrawn('withdraw') == [Check(
        'drift', False, 'withdraw', 'no withdrawal (until an accepted reset)',
        Reason.DRIFT_WITHDRAWN)]
    assert all(conservative.withdrawn(drift) == [] for drift in ('none', 'warn', 'conservative'))


def test_the_fallback_wins_over_conservative_mode():
    g = Gate()
    g.drive(0.5, 0.0)
    g.feed(ON)
    over = g.cycle(1.5)
    assert over.verdict is Verdict.FALLBACK and over.reasons == (Reason.OVER_SPEED,)


def localised(variance, limit=0.25):
    g = Gate({'conservative.max_position_variance': limit}, follow=False)
    for _ in range(8):
        g.now += TICK
        g.feed(Odom(g.output.v, 0.0, g.x, 0.0, g.now, 0.0, variance))
        g.x += g.output.v * TICK
        decision = g.propose(0.9) if _ % 4 == 3 else g.tick()
    return decision


@pytest.mark.parametrize('variance, limit, verdict', [
    (0.0, 0.25, Verdict.APPROVE),  # not filled
    (0.2, 0.25, Verdict.APPROVE), (0.25, 0.25, Verdict.APPROVE),
    (0.3, 0.25, Verdict.LIMIT), (math.nan, 0.25, Verdict.LIMIT),
    (5.0, 0.0, Verdict.APPROVE),  # off
])
def test_a_localisation_variance_above_the_limit_limits(variance, limit, verdict):
    decision = localised(variance, limit)
    assert decision.verdict is verdict
    if verdict is Verdict.LIMIT:
        assert decision.reasons == (Reason.CONSERVATIVE_LOCALIZATION,)


# A confidence mean below 0.8 over 10 proposals is a drift alarm (safety_gate.spi).
DRIFT = {'spi.min_samples': 10, 'spi.window': 30.0, 'spi.confidence_mean_limit': 0.8}


def drifting(action: str) -> Gate:
    """Return a gate driving whose SPIs have just raised ``action``.

    Its planner's confidence, 0.6, passes the gate's threshold on every proposal.
    """
    g = Gate({**DRIFT, 'spi.confidence_mean_action': action})
    g.drive(0.9, 0.0)
    for _ in range(40):
        g.cycle(0.9, confidence=0.6)
        if g.state.drift != 'none':
            break
    assert g.state.drift == action
    return g


def test_the_drift_hook_limits_or_withdraws_authority_until_an_accepted_reset():
    drifted = drifting('conservative').cycle(0.9, confidence=0.6)
    assert drifted.verdict is Verdict.LIMIT and drifted.reasons == (Reason.CONSERVATIVE_DRIFT,)
    g = drifting('withdraw')
    for decision in g.cycles(10, 0.3):
        assert decision.verdict is Verdict.FALLBACK
        assert Reason.DRIFT_WITHDRAWN in decision.reasons
    reply = g.feed(Reset()).reply
    assert reply == (True, 'cleared the drift withdrawal') and g.state.drift == 'none'
    assert any(g.cycle(0.3).verdict.approves for _ in range(20))
    # With nothing withdrawn a reset still has nothing to do.
    assert g.feed(Reset()).reply[1].endswith('nothing to reset')


def test_a_latched_reset_clears_the_drift_withdrawal_too():
    g = drifting('withdraw')
    g.feed(Estop(True))
    g.feed(Estop(False))
    g.advance()
    assert g.state.latched and g.feed(Reset()).reply[0] and g.state.drift == 'none'


def test_conservative_mode_and_a_canary_limit_to_the_envelope_inside_both():
    g = Gate(models=CANARY_MODELS)
    g.feed(ON)
    decisions = g.cycles(40, 0.6, 1.2, model=CANARY)
    assert decisions[-1].reasons == (Reason.MODEL_CANARY, Reason.CONSERVATIVE_OPERATOR)
    # The canary's 0.4 of 1 m/s and 1.5 rad/s are inside conservative mode's 0.5 and 0.75.
    assert (g.output.v, g.output.w) == (pytest.approx(0.4), pytest.approx(0.6))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(['propose', 'tick', 'on', 'off']),
                          st.floats(-0.4, 1.2), st.floats(-1.6, 1.6),
                          st.floats(0.4, 1.0)), min_size=5, max_size=80))
def test_every_limit_output_stays_inside_the_conservative_envelope(script):
    # The oracle is the operator's request as sent, not the gate's verdicts:
    # while it is on nothing is APPROVE, and every output that is not a
    # fallback's (which ramps down from where the vehicle is) stays inside.
    # Driving fast first, so entering must cut the output at once.
    g = driving(0.9, 0.0, {'conservative.confidence_below': 0.7})
    before = len(g.decisions)
    g.feed(ON)
    requested, judged = True, g.decisions[before:]
    for action, v, w, confidence in script:
        g.advance()
        before = len(g.decisions)
        if action == 'propose':
            g.propose(v, w, confidence)
        elif action == 'tick':
            g.tick()
        else:
            requested = action == 'on'
            g.feed(ON if requested else OFF)
        if requested:
            judged += g.decisions[before:]
    assert Verdict.APPROVE not in {d.verdict for d in judged}
    moving = [d for d in judged + g.decisions if d.verdict is Verdict.LIMIT]
    assert all(inside(d) for d in moving), [d.output for d in moving if not inside(d)]


# Trajectory mode, each plan decided the moment it arrives.
PLANS = {'require_reset_on_start': False, 'planner.input': 'path',
         'confidence.required': False, 'confidence.pairing_wait': 0.0}


def test_in_trajectory_mode_plans_are_judged_against_the_conservative_envelope():
    cfg = config.build(PLANS)
    state = core.step(core.initial_state(cfg), ON, 100.0, cfg).state
    now = 100.0
    for plan_speed, verdict in ((0.4, Verdict.LIMIT), (0.8, Verdict.FALLBACK)):
        now += TICK
        state = core.step(state, Odom(0.0, 0.0, 0.0, 0.0, now, 0.0), now, cfg).state
        result = core.step(state, straight(plan_speed, stamp=now), now, cfg)
        state = result.state
        decision = result.decisions[-1]
        assert decision.verdict is verdict, decision.reasons
        if verdict is Verdict.FALLBACK:
            assert Reason.OVER_SPEED in decision.reasons
        state = core.step(state, Tick(), now + TICK, cfg).state


# How the plan's own decision comes to run under a reduced envelope: (params, what
# came before, the odometry's position variance, the plan's meta, the LIMIT's reason).
# Only the operator's request enters the mode before the plan (it decides at once);
# every other trigger fires first in the plan's decision.
REDUCED_BY = {
    'operator': ({}, [ON], 0.0, Meta(None, 0.9), Reason.CONSERVATIVE_OPERATOR),
    'confidence': ({'conservative.confidence_below': 0.7}, [], 0.0, Meta(None, 0.6),
                   Reason.CONSERVATIVE_CONFIDENCE),
    'localisation': ({'conservative.max_position_variance': 0.25}, [], 0.3, Meta(None, 0.9),
                     Reason.CONSERVATIVE_LOCALIZATION),
    # A plan above the full envelope is an intervention, and one is a rate of 1.
    'drift': ({'spi.min_samples': 1, 'spi.intervention_rate_limit': 0.5,
               'spi.intervention_rate_action': 'conservative'},
              [straight(1.5, stamp=T0)], 0.0, Meta(None, 0.9), Reason.CONSERVATIVE_DRIFT),
    'canary in the meta': ({}, [], 0.0, Meta(None, 0.9, model_sha256=CANARY),
                           Reason.MODEL_CANARY),
    'canary announced': ({}, [ModelAnnouncement(CANARY)], 0.0, Meta(None, 0.9),
                         Reason.MODEL_CANARY),
    'canary hashed': ({'provenance.model_files': 'weights.bin'}, [ModelFilesHashed(CANARY)],
                      0.0, Meta(None, 0.9), Reason.MODEL_CANARY),
}


@pytest.mark.parametrize('how', REDUCED_BY)
def test_a_plan_is_judged_against_the_reduced_envelope_its_own_decision_runs_under(how):
    params, before, variance, meta, reason = REDUCED_BY[how]
    cfg = config.build({**PLANS, **params})
    state = core.initial_state(cfg, CANARY_MODELS)
    for event in [Odom(0.0, 0.0, 0.0, 0.0, T0, 0.0)] + before:
        state = core.step(state, event, T0, cfg).state
    now = T0 + TICK
    state = core.step(state, Odom(0.0, 0.0, 0.0, 0.0, now, 0.0, variance), now, cfg).state
    state = core.step(state, evolve(meta, stamp=now), now, cfg).state
    # The canary's 0.4 m/s inside conservative mode's 0.5: 0.3 m/s passes either,
    # and 0.8 m/s, inside the full envelope, is refused, not clamped.
    slow = core.step(state, straight(0.3, stamp=now), now, cfg).decisions[-1]
    assert (slow.verdict, slow.reasons) == (Verdict.LIMIT, (reason,))
    fast = core.step(state, straight(0.8, stamp=now), now, cfg).decisions[-1]
    assert (fast.verdict, fast.reasons) == (Verdict.FALLBACK, (Reason.OVER_SPEED,))
    speed = next(c for c in fast.checks if c.name == 'plan.speed')
    assert speed.limit == pytest.approx(0.4 if reason is Reason.MODEL_CANARY else 0.5)


def test_a_fallback_after_a_limit_starts_from_the_measured_speed_as_after_an_approval():
    g = Gate()
    g.drive(0.4, 0.0)
    g.feed(ON)
    g.cycles(3, 0.4)
    # The vehicle lags: it measures 0.1 m/s while the limited output is 0.4 m/s.
    g.follow = False
    g.now += TICK
    g.odom(v=0.1)
    failed = g.propose(0.4, confidence=0.1)
    assert failed.verdict is Verdict.FALLBACK and failed.output.v <= 0.1 + 1e-9


def exit_streak(decision) -> int:
    """Return the clean proposals counted so far toward leaving conservative mode."""
    (check,) = [c for c in decision.checks if c.name == 'conservative.hysteresis']
    return check.value['streak']


def test_a_failing_proposal_on_the_way_out_of_conservative_mode_leaves_the_way_where_it_was():
    gate = driving(0.4, params={'confidence.min_dwell': 0.0})
    gate.feed(ON)
    gate.feed(OFF)
    assert exit_streak(gate.cycle(0.4)) == 1
    assert gate.cycle(1.5).reasons == (Reason.OVER_SPEED,)
    # Authority comes back through its own hysteresis, and meanwhile the way out
    # does not move: the proposals refused for HYSTERESIS do not count, and only
    # the decisions that approve go on toward leaving.
    count = gate.cfg.confidence.recover_count
    regained = gate.cycles(count, 0.4)
    assert [d.verdict for d in regained] == [Verdict.FALLBACK] * (count - 1) + [Verdict.LIMIT]
    assert exit_streak(regained[-1]) == 2
    # the decision that completes recover_count clean ones leaves the mode: 1 + 1 + the rest
    onward = [d.verdict for d in gate.cycles(count - 2, 0.4)]
    assert onward == [Verdict.LIMIT] * (count - 3) + [Verdict.APPROVE]


def test_a_canary_stays_in_its_own_envelope_from_the_decision_that_leaves_conservative_mode():
    gate = Gate({'confidence.min_dwell': 0.0}, models=CANARY_MODELS)
    gate.feed(ON)
    gate.cycles(20, 0.9, model=CANARY)
    gate.feed(OFF)
    count = gate.cfg.confidence.recover_count
    after = gate.cycles(count + 2, 0.9, model=CANARY)
    assert [d.reasons for d in after] == (
        [(Reason.MODEL_CANARY, Reason.CONSERVATIVE_OPERATOR)] * (count - 1)
        + [(Reason.MODEL_CANARY,)] * 3)
    assert all(d.verdict is Verdict.LIMIT and d.output == Command(0.4, 0.0) for d in after)


def test_a_reversing_plan_is_refused_once_conservative_mode_forbids_reversing():
    # The approved plan is judged again at every decision, under the envelope in
    # force: without reversing it may travel trajectory.backward_tolerance backwards.
    gate = Gate({'planner.input': 'path', 'confidence.required': False,
                 'confidence.pairing_wait': 0.0, 'conservative.max_reverse_speed': 0.0},
                follow=False)
    gate.feed(Odom(0.0, 0.0, 0.0, 0.0, T0, 0.0))
    # 0.63 m backwards at 0.1 m/s: within trajectory.max_behind, which reversing allows.
    assert gate.decide(straight(-0.1, stamp=T0)).verdict is Verdict.APPROVE
    assert gate.tick(TICK).verdict is Verdict.APPROVE
    entered = gate.decide(ON)
    assert (entered.verdict, entered.reasons) == (
        Verdict.FALLBACK, (Reason.PLAN_BACKWARD_SWEEP,))
    sweep = next(c for c in entered.checks if c.name == 'plan.backward_sweep')
    assert sweep.limit == gate.cfg.trajectory.backward_tolerance
