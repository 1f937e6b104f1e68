# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The shadow stage: a candidate judged by the same core, beside production, never in it."""

import json
import math

from harness import exports
from harness.core_driver import CONFIDENT, driving, Gate, reset
from harness.event_scripts import EXAMPLES, PROPERTY_SETTINGS, scenarios
from harness.plans import straight
from harness.shadow_play import (
    CANDIDATE_MODEL, candidate_templates, play_shadowed, without_shadow, write_trace)
from hypothesis import given, settings, strategies as st
import pytest

from safety_gate import (
    config, core, registry, replay, shadow, trace_format, trace_record, trace_schema)
from safety_gate.decision import Reason, Verdict
from safety_gate.events import (
    ConservativeRequest, Estop, Meta, ModelFilesHashed, Odom, Plan, Proposal, Reset, Tick)

MODEL = 'ab' * 32


def judge(gate, candidate, *events):
    """Step the candidate through ``events`` at the gate's time; return its decisions."""
    found = []
    for event in events:
        result = shadow.step(candidate[0], event, gate.now, gate.state, gate.cfg)
        candidate[0] = result.state
        found.extend(result.decisions)
    return found


def pair(gate, v, w=0.0, confidence=CONFIDENT, model=MODEL):
    return Meta(gate.now, confidence, model), Proposal(v, w, gate.now)


def test_an_extreme_candidate_is_refused_while_production_drives_on():
    gate = driving(0.5)
    gate.cycle(0.9)  # production's proposal 0.9 m/s, its output still ramping up to it
    before, output = gate.state, gate.output.v
    assert 0.5 < output < 0.9
    candidate = [shadow.initial_state(gate.cfg)]
    (found,) = judge(gate, candidate, *pair(gate, 40.0))
    assert found.decision.verdict is Verdict.FALLBACK
    assert Reason.OVER_SPEED in found.decision.reasons
    assert found.production_verdict is Verdict.APPROVE
    assert found.model_sha256 == MODEL
    assert found.disagreement.proposal_dv == pytest.approx(39.1)
    assert found.disagreement.proposal_dw == 0.0
    # The would-be output is a fallback ramp from zero: production's output away.
    assert found.disagreement.output_dv == pytest.approx(output)
    assert gate.state is before
    assert gate.cycle(0.9).verdict is Verdict.APPROVE


def test_a_non_finite_candidate_is_refused_and_traced_as_sent():
    gate = driving(0.5)
    candidate = [shadow.initial_state(gate.cfg)]
    (found,) = judge(gate, candidate, *pair(gate, math.nan, math.inf))
    assert Reason.NON_FINITE_COMMAND in found.decision.reasons
    record = trace_record.shadow_decision_to_dict(found)
    assert b'"v":"NaN","w":"Infinity"' in trace_format.encode_record(record)


def test_a_candidate_like_production_is_approved_with_small_disagreement():
    gate = driving(0.5, 0.2)
    candidate = [shadow.initial_state(gate.cfg)]
    # Authority starts fresh: the first clean proposals earn it as production's did.
    for _ in range(gate.cfg.confidence.recover_count + 1):
        gate.cycle(0.5, 0.2)
        (found,) = judge(gate, candidate, *pair(gate, 0.45, 0.15))
    assert found.decision.verdict is Verdict.APPROVE, found.decision.reasons
    assert found.disagreement.proposal_dv == pytest.approx(0.05)
    assert found.disagreement.proposal_dw == pytest.approx(0.05)
    output = found.decision.output
    assert output.v > 0.0 and output.w > 0.0
    assert found.disagreement.output_dv == pytest.approx(abs(output.v - gate.output.v))
    assert found.disagreement.output_dw == pytest.approx(abs(output.w - gate.output.w))


def test_the_candidate_shares_the_latch_and_the_reset():
    gate = driving(0.5)
    candidate = [shadow.initial_state(gate.cfg)]
    gate.decide(Estop(True))
    (found,) = judge(gate, candidate, *pair(gate, 0.3))
    assert found.decision.verdict is Verdict.ESTOP
    assert found.decision.reasons[0] is Reason.ESTOP
    reset(gate)
    before_reset = gate.now - 0.01
    gate.advance()
    (found,) = judge(gate, candidate, Meta(before_reset, CONFIDENT, MODEL),
                     Proposal(0.3, 0.0, before_reset))
    assert Reason.PROPOSAL_BEFORE_RESET in found.decision.reasons


def test_after_an_accepted_reset_the_candidate_starts_afresh_as_production_does():
    gate = driving(0.5)
    candidate = [shadow.initial_state(gate.cfg)]
    (approved,) = judge(gate, candidate, *pair(gate, 0.3))
    gate.advance()
    (refused,) = judge(gate, candidate, *pair(gate, 0.3, confidence=0.1))
    assert approved.decision.verdict is Verdict.APPROVE
    assert refused.decision.reasons == (Reason.LOW_CONFIDENCE,)
    gate.decide(Estop(True))
    reset(gate)
    gate.advance()
    # Without the reset this would wait for the hysteresis (recover_count, min_dwell).
    (found,) = judge(gate, candidate, *pair(gate, 0.3))
    assert found.decision.verdict is Verdict.APPROVE, found.decision.reasons


def test_a_candidate_decision_names_its_metas_model_else_the_newest_one_named():
    gate = driving(0.5)
    candidate = [shadow.initial_state(gate.cfg)]
    older, stamp = 'e' * 64, gate.now
    judge(gate, candidate, Meta(stamp, CONFIDENT, older))
    gate.advance()
    judge(gate, candidate, Meta(gate.now, CONFIDENT, MODEL))
    (paired,) = judge(gate, candidate, Proposal(0.3, 0.0, stamp))
    assert paired.decision.meta.model_sha256 == older and paired.model_sha256 == older
    gate.advance()
    (unnamed,) = judge(gate, candidate, *pair(gate, 0.3, model=''))
    assert unnamed.model_sha256 == MODEL


def test_the_candidate_is_judged_on_production_odometry():
    gate = driving(0.5)
    candidate = [shadow.initial_state(gate.cfg)]
    gate.now += 2 * gate.cfg.odom.timeout  # production's odometry goes stale
    (found,) = judge(gate, candidate, *pair(gate, 0.3))
    assert Reason.ODOM_STALE in found.decision.reasons


def test_a_waiting_candidate_proposal_is_decided_by_a_due_tick():
    # Due the moment the pairing wait is over, as production's own tick decides it.
    gate = driving(0.5, params={'confidence.pairing_wait': 0.0625})
    candidate = [shadow.initial_state(gate.cfg)]
    assert judge(gate, candidate, Proposal(0.3, 0.0, gate.now)) == []
    gate.advance(0.03125)
    assert not shadow.due(candidate[0], gate.now, gate.cfg)
    gate.advance(0.03125)
    assert shadow.due(candidate[0], gate.now, gate.cfg)
    (found,) = judge(gate, candidate, Tick())
    assert found.decision.trigger == 'pairing_timeout'
    assert Reason.CONFIDENCE_UNKNOWN in found.decision.reasons


def test_only_candidate_events_enter_the_shadow():
    gate = Gate()
    with pytest.raises(TypeError, match='Odom is not a candidate event'):
        shadow.step(shadow.initial_state(gate.cfg), Odom(0.0, 0.0, 0.0, 0.0, gate.now),
                    gate.now, gate.state, gate.cfg)


def trajectory_gate(params=None, plan=True):
    """Return a trajectory-mode config, the time and a production state with odometry.

    With ``plan`` production has decided a straight 0.5 m/s plan stamped now.
    """
    cfg = config.build({'require_reset_on_start': False, 'planner.input': 'path',
                        'confidence.required': False, 'confidence.pairing_wait': 0.0,
                        **(params or {})})
    now, state = 10.0, core.initial_state(cfg)
    for k in range(5):
        odom = Odom(0.0, 0.0, 0.0, 0.0, now - 0.1 + 0.025 * k)
        state = core.step(state, odom, now, cfg).state
    if plan:
        state = core.step(state, Meta(now, CONFIDENT), now, cfg).state
        state = core.step(state, straight(0.5, stamp=now), now, cfg).state
    return cfg, now, state


def judge_plan(cfg, state, plan, now):
    """Return the one decision of a fresh candidate on ``plan`` beside ``state``."""
    (found,) = shadow.step(shadow.initial_state(cfg), plan, now, state, cfg).decisions
    return found


def test_a_plan_disagreement_is_lateral_and_longitudinal_distance():
    cfg, now, state = trajectory_gate()
    production = state.plans.latest
    shifted = Plan(now, production.frame_id,
                   tuple((t, x + 0.2, y + 0.5, yaw) for t, x, y, yaw in production.points))
    found = judge_plan(cfg, state, shifted, now)
    assert found.disagreement.lateral == pytest.approx(0.5)
    assert found.disagreement.longitudinal == pytest.approx(0.2)
    assert found.disagreement.proposal_dv is None
    # Longitudinal: the candidate's point for now, at the age of its plan.
    faster = judge_plan(cfg, state, straight(0.6, stamp=now), now + 0.25)
    assert faster.disagreement.lateral == pytest.approx(0.0, abs=1e-12)
    assert faster.disagreement.longitudinal == pytest.approx(0.1 * 0.25)


def test_a_candidate_plan_is_judged_on_the_production_vehicles_poses():
    # The same plan at the same time gets the same checks (plan.start, heading,
    # speed against where the vehicle was at its stamp) as production's did.
    cfg, now, state = trajectory_gate(plan=False)
    plan = straight(0.5, stamp=now)
    production = core.step(state, plan, now, cfg).decisions[-1]
    assert judge_plan(cfg, state, plan, now).decision.checks == production.checks
    # After an accepted reset too, which voids the candidate's plans but not the poses.
    later = now + 0.03125
    for event in (Estop(True), Estop(False), Odom(0.0, 0.0, 0.0, 0.0, later)):
        state = core.step(state, event, later, cfg).state
    result = core.step(state, Reset(), later, cfg)
    assert result.reply[0], result.reply
    later += 0.03125
    state = core.step(result.state, Odom(0.0, 0.0, 0.0, 0.0, later), later, cfg).state
    plan = straight(0.5, stamp=later)
    production = core.step(state, plan, later, cfg).decisions[-1]
    assert judge_plan(cfg, state, plan, later).decision.checks == production.checks


@pytest.mark.parametrize('plan, production', [
    (straight(0.5, stamp=10.0), False),  # production has no plan yet
    (straight(0.5, stamp=10.0, first=10.0), True),  # no time in common with production's
])
def test_without_a_production_plan_to_compare_with_there_is_no_plan_disagreement(
        plan, production):
    cfg, now, state = trajectory_gate(plan=production)
    found = judge_plan(cfg, state, plan, now)
    assert (found.disagreement.lateral, found.disagreement.longitudinal) == (None, None)


def test_a_superseded_candidate_plan_is_not_compared_with_production():
    # It was never judged: the candidate's latest judged plan is another one.
    cfg, now, state = trajectory_gate({'confidence.pairing_wait': 0.05})
    candidate = shadow.initial_state(cfg)
    found = []
    for event in (Meta(now, CONFIDENT), straight(0.5, stamp=now),
                  straight(0.6, stamp=now + 0.01), straight(0.7, stamp=now + 0.02)):
        result = shadow.step(candidate, event, event.stamp, state, cfg)
        candidate = result.state
        found.extend(result.decisions)
    assert [f.decision.trigger for f in found] == ['plan', 'superseded']
    assert found[0].disagreement.lateral is not None
    assert (found[1].disagreement.lateral, found[1].disagreement.longitudinal) == (None, None)


def test_a_candidate_event_whose_step_failed_is_traced_with_its_error_and_no_decisions():
    event = Proposal(0.3, 0.0, 10.0)
    failed = trace_record.shadow_entry_to_dict(2, 10.0, event, (), "ValueError('boom')")
    assert failed['error'] == "ValueError('boom')" and failed['decisions'] == []
    assert 'error' not in trace_record.shadow_entry_to_dict(2, 10.0, event, ())


# ---------------------------------------------------------------- production never changes

@st.composite
def shadowed_scenarios(draw):
    cfg, script = draw(scenarios(internal_errors=False, max_size=60))
    events = sum(1 for _ in script) * 4  # templates give one to a few dozen events
    candidates = draw(st.dictionaries(st.integers(0, events), st.lists(
        candidate_templates, min_size=1, max_size=3), max_size=events))
    return cfg, script, candidates


# A third of the invariants test's examples: each plays the scenario twice.
@settings(PROPERTY_SETTINGS, max_examples=max(20, EXAMPLES // 3))
@given(shadowed_scenarios())
def test_candidate_traffic_never_changes_a_production_decision(scenario):
    cfg, script, candidates = scenario
    alone = play_shadowed(cfg, script, {})
    beside = play_shadowed(cfg, script, candidates)
    assert [trace_format.encode_record(r) for r in without_shadow(beside.records)] == [
        trace_format.encode_record(r) for r in alone.records]
    assert all(found.model_sha256 in ('', CANDIDATE_MODEL) for found in beside.candidate)


# ---------------------------------------------------------------- replay

FIXED_CANDIDATES = {
    1: [('pair', 0.2, 0.0, 0.9)], 3: [('pair', 0.4, 0.1, 0.9)], 20: [('pair', 50.0, 0.0, 0.9)],
    40: [('bare', math.nan, 0.0)], 41: [('meta', 0.2)], 50: [('lone', 0.3, 0.0)],
    60: [('pair', 0.3, math.inf, 0.9)],
    80: [('pair', 0.3, 0.0, 0.9), ('pair', 0.3, 0.0, 0.9)],
}
FIXED_SHADOW_SCRIPT = [
    (0.0, ('rearm',)), (0.02, ('drive', 20, 0.5, 0.1, 0.9)), (0.0, ('estop', True)),
    (0.02, ('rearm',)), (0.02, ('drive', 10, 0.3, 0.0, 0.9)), (-1.0, ('tick',)),
    (0.02, ('drive', 5, 0.3, 0.0, 0.9)),
]


@pytest.mark.parametrize('pairing_wait', [0.0, 0.05])
def test_shadow_records_replay_exactly(tmp_path, pairing_wait):
    cfg = config.build({'require_reset_on_start': True,
                        'confidence.pairing_wait': pairing_wait})
    played = play_shadowed(cfg, FIXED_SHADOW_SCRIPT, FIXED_CANDIDATES)
    entries = sum(len(record.get('shadow', ())) for record in played.records)
    verdicts = {found.decision.verdict for found in played.candidate}
    assert entries >= 10 and {Verdict.APPROVE, Verdict.FALLBACK, Verdict.ESTOP} <= verdicts
    triggers = {found.decision.trigger for found in played.candidate}
    assert ('pairing_timeout' in triggers) == (pairing_wait > 0.0), triggers
    path = tmp_path / 'trace.jsonl'
    write_trace(path, cfg, played.records)
    report = replay.replay([path])
    assert report.ok and report.shadow_entries == entries, replay.format_report(report)
    if exports.MISSING is None:  # the records are what their schema says
        records = [json.loads(line) for line in path.read_text().splitlines()[1:]]
        schema = {**trace_schema.decision_schema(), 'title': 'records'}
        assert not exports.schema_errors({'type': 'array', 'items': schema}, records)


def test_a_changed_shadow_record_is_a_replay_difference(tmp_path):
    cfg = config.build({'require_reset_on_start': True})
    played = play_shadowed(cfg, FIXED_SHADOW_SCRIPT, FIXED_CANDIDATES)
    changed = next(record for record in played.records
                   if any(entry['decisions'] for entry in record.get('shadow', ())))
    decided = next(entry for entry in changed['shadow'] if entry['decisions'])
    decided['decisions'][0]['verdict'] = 'APPROVE' if (
        decided['decisions'][0]['verdict'] != 'APPROVE') else 'FALLBACK'
    path = tmp_path / 'trace.jsonl'
    write_trace(path, cfg, played.records)
    report = replay.replay([path])
    assert not report.ok and len(report.differences) == 1, replay.format_report(report)
    assert 'shadow' in report.differences[0].recorded


@pytest.mark.parametrize('files', ['', '/weights/model.safetensors'])
def test_a_candidate_is_judged_as_with_authority_whatever_the_registry_says(files):
    # Production runs under provenance.required with an approved model (and
    # with its weight files hashed to it); the candidate's model is unknown to
    # the registry (or registered for shadow only), and no files are hashed for
    # it: it is judged on its proposals, as it would be if promoted.
    approved, shadow_only = 'a' * 64, 'c' * 64
    models = registry.from_records([
        {'sha256': approved, 'name': 'r1', 'version': '1.0', 'approved_by': 'board',
         'evidence': 'note', 'stage': 'production'},
        {'sha256': shadow_only, 'name': 'r2', 'version': '0.3', 'approved_by': 'board',
         'evidence': 'note', 'stage': 'shadow'}], 'f' * 64)
    gate = Gate({'require_reset_on_start': False, 'provenance.required': True,
                 'provenance.model_files': files}, models=models)
    gate.feed(ModelFilesHashed(approved))
    for candidate_model in ('', 'e' * 64, shadow_only):
        candidate = [shadow.initial_state(gate.cfg)]
        for _ in range(gate.cfg.confidence.recover_count + 1):
            assert gate.cycle(0.3, model=approved).verdict is not Verdict.FALLBACK
            (found,) = judge(gate, candidate, *pair(gate, 0.3, model=candidate_model))
        assert found.decision.verdict is Verdict.APPROVE, (candidate_model,
                                                           found.decision.reasons)
        assert found.model_sha256 == candidate_model


def test_the_candidate_shares_the_operators_conservative_request():
    gate = driving(0.3)
    candidate = [shadow.initial_state(gate.cfg)]
    gate.feed(ConservativeRequest(True))
    for _ in range(gate.cfg.confidence.recover_count + 1):
        gate.cycle(0.3)
        (found,) = judge(gate, candidate, *pair(gate, 0.3))
    assert found.decision.verdict is Verdict.LIMIT
    assert Reason.CONSERVATIVE_OPERATOR in found.decision.reasons
