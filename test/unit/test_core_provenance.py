# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Core tests of provenance and stages: registry matching, model swap, files, canary, shadow."""

from harness.core_driver import Gate, reset, TICK
import pytest

from safety_gate import explain, limits, registry, trace_record
from safety_gate.decision import Check, Command, Model, Reason, Verdict
from safety_gate.events import Estop, ModelAnnouncement, ModelFilesHashed

PROD, CANARY, SHADOW, OTHER = 'a' * 64, 'b' * 64, 'c' * 64, 'd' * 64
MODELS = registry.from_records([
    {'sha256': PROD, 'name': 'alpamayo-r1', 'version': '1.0', 'approved_by': 'board',
     'evidence': 'note', 'stage': 'production'},
    {'sha256': CANARY, 'name': 'alpamayo-r1', 'version': '1.1', 'approved_by': 'board',
     'evidence': 'note', 'stage': 'canary', 'envelope_scale': 0.5,
     'confidence_threshold': 0.8},
    {'sha256': SHADOW, 'name': 'alpamayo-r2', 'version': '0.3', 'approved_by': 'board',
     'evidence': 'note', 'stage': 'shadow'},
], 'f' * 64)
REQUIRED = {'provenance.required': True}


def gate(params=None):
    return Gate({**REQUIRED, **(params or {})}, models=MODELS)


def drive(g, v, model, cycles=40):
    for _ in range(cycles):
        decision = g.cycle(v, model=model)
    return decision


@pytest.mark.parametrize('model', ['', OTHER])
def test_a_missing_or_unregistered_model_never_moves_the_robot(model):
    g = gate()
    for decision in g.cycles(20, 0.5, model=model):
        assert decision.verdict is Verdict.FALLBACK
        assert Reason.MODEL_NOT_APPROVED in decision.reasons
        assert decision.output == Command(0.0, 0.0)


def test_without_provenance_required_an_unregistered_model_is_approved_as_before():
    g = Gate(models=MODELS)
    assert g.cycle(0.5, model=OTHER).verdict is Verdict.APPROVE


def test_a_registered_model_is_approved_and_named_in_the_decision_and_its_record():
    decision = drive(gate(), 0.5, PROD, cycles=3)
    assert decision.verdict is Verdict.APPROVE
    assert (decision.model.name, decision.model.version, decision.model.stage,
            decision.model.source) == ('alpamayo-r1', '1.0', 'production', 'meta')
    record = trace_record.decision_to_dict(decision, 0, [], 0.0, 1.0, 'c' * 64)
    assert record['model'] == {'sha256': PROD, 'source': 'meta', 'name': 'alpamayo-r1',
                               'version': '1.0', 'stage': 'production'}


def test_the_announcement_names_the_model_when_the_meta_does_not():
    g = gate()
    assert Reason.MODEL_NOT_APPROVED in g.cycle(0.5).reasons
    g.feed(ModelAnnouncement(PROD, 'alpamayo-r1', '1.0'))
    decision = g.cycle(0.5)
    assert decision.verdict is Verdict.APPROVE and decision.model.source == 'announcement'
    # A candidate's announcement is the shadow planner's: it names no production model.
    g.feed(ModelAnnouncement(OTHER, source='candidate'))
    assert g.cycle(0.5).verdict is Verdict.APPROVE
    # A malformed announcement leaves the model unknown.
    g.feed(ModelAnnouncement('', error='malformed: no sha256'))
    assert Reason.MODEL_NOT_APPROVED in g.cycle(0.5).reasons


def test_a_model_swap_mid_run_revokes_authority_and_restarts_the_hysteresis():
    g = gate()
    drive(g, 0.5, PROD)
    assert g.output == Command(0.5, 0.0)
    g.feed(ModelAnnouncement(PROD))
    swapped = g.cycle(0.5, model=CANARY)
    assert swapped.verdict is Verdict.FALLBACK
    assert swapped.reasons == (Reason.MODEL_CHANGED,)
    # The new model is approved, but authority comes back only through the hysteresis.
    held = g.cycle(0.5, model=CANARY)
    assert held.verdict is Verdict.FALLBACK and held.reasons == (Reason.HYSTERESIS,)
    back = next(i for i in range(20) if g.cycle(0.5, model=CANARY).verdict.approves)
    assert back + 2 >= g.cfg.confidence.recover_count


def test_a_swap_to_an_unregistered_model_keeps_authority_withdrawn():
    g = gate()
    drive(g, 0.5, PROD)
    reasons = [g.cycle(0.5, model=OTHER).reasons for _ in range(10)]
    assert reasons[0] == (Reason.MODEL_NOT_APPROVED, Reason.MODEL_CHANGED)
    assert all(r == (Reason.MODEL_NOT_APPROVED,) for r in reasons[1:])


def test_a_shadow_stage_model_is_never_actuated_even_without_provenance_required():
    for g in (gate(), Gate(models=MODELS)):
        for decision in g.cycles(10, 0.5, model=SHADOW):
            assert decision.verdict is Verdict.FALLBACK
            assert Reason.MODEL_SHADOW_ONLY in decision.reasons
        assert g.output == Command(0.0, 0.0)


def test_a_canary_runs_limited_inside_its_scaled_envelope():
    g = gate()
    env = g.cfg.envelope
    scaled = env.copy(update={k: getattr(env, k) * 0.5 for k in (
        'max_linear_speed', 'max_reverse_speed', 'max_angular_speed', 'max_lateral_accel',
        'max_linear_accel', 'max_linear_decel')})
    decisions = g.cycles(60, 0.9, 1.0, model=CANARY)
    assert all(d.verdict is Verdict.LIMIT and d.reasons == (Reason.MODEL_CANARY,)
               for d in decisions)
    assert all(limits.inside_envelope(d.output.v, d.output.w, scaled, 1e-12)
               for d in g.decisions)
    # Clamped, not vetoed: it drives at the scaled speed and yaw-rate limits.
    assert g.output == Command(scaled.max_linear_speed, scaled.max_angular_speed)
    # Inside the full envelope but beyond it the proposal is vetoed, as for any model.
    assert g.cycle(1.2, model=CANARY).reasons == (Reason.OVER_SPEED,)


def test_the_decisions_after_a_reset_name_no_model_until_a_fresh_proposal():
    # The reset voids the planner's last meta with its last proposal: the rows
    # of `safety-gate models` right after a reset name no model (docs/tools.md).
    g = gate()
    drive(g, 0.5, PROD, cycles=10)
    g.decide(Estop(True))
    after = [reset(g)]
    for _ in range(3):
        g.advance()
        after.append(g.tick())
    assert all(d.model is None and d.meta is None for d in after)
    assert all(Reason.MODEL_NOT_APPROVED in d.reasons for d in after)
    assert g.cycle(0.5, model=PROD).model.sha256 == PROD


def test_a_canary_is_held_to_its_stricter_confidence_threshold():
    g = gate()
    assert g.cycle(0.3, confidence=0.85, model=CANARY).verdict is Verdict.LIMIT
    decision = g.cycle(0.3, confidence=0.75, model=CANARY)
    assert decision.reasons == (Reason.LOW_CONFIDENCE,)
    assert next(c for c in decision.checks if c.name == 'model.canary_confidence').limit == 0.8
    # at least the threshold, as confidence.threshold is: exactly on it is enough
    on_it = g.cycle(0.3, confidence=0.8, model=CANARY)
    assert Check('model.canary_confidence', True, 0.8, 0.8, Reason.LOW_CONFIDENCE) in (
        on_it.checks)
    assert Reason.LOW_CONFIDENCE not in on_it.reasons


def test_the_model_files_withhold_authority_until_their_hash_matches_and_a_mismatch_latches():
    params = {'provenance.model_files': '/weights/model.safetensors'}
    g = gate(params)
    assert Reason.MODEL_UNVERIFIED in g.cycle(0.5, model=PROD).reasons
    g.feed(ModelFilesHashed(PROD))
    assert g.cycle(0.5, model=PROD).verdict is Verdict.APPROVE
    # The files name the model when the planner does not.
    g2 = Gate(params, models=MODELS)
    g2.feed(ModelFilesHashed(PROD))
    assert g2.cycle(0.5).model.source == 'files'
    # A planner naming another model than the files is not verified.
    assert Reason.MODEL_UNVERIFIED in g.cycle(0.5, model=CANARY).reasons
    bad = gate(params)
    bad.feed(ModelFilesHashed(OTHER))
    bad.feed(ModelFilesHashed(PROD))  # a second result cannot undo the mismatch
    assert all(Reason.MODEL_UNVERIFIED in d.reasons for d in bad.cycles(10, 0.5, model=PROD))
    unreadable = gate(params)
    unreadable.feed(ModelFilesHashed('', error='/weights/model.safetensors: No such file'))
    assert Reason.MODEL_UNVERIFIED in unreadable.cycle(0.5, model=PROD).reasons


def test_the_model_checks_are_judged_on_every_tick_too():
    g = gate()
    g.feed(ModelAnnouncement(PROD))
    drive(g, 0.5, '', cycles=10)
    g.feed(ModelAnnouncement(OTHER))
    assert g.tick(TICK).reasons == (Reason.MODEL_NOT_APPROVED, Reason.MODEL_CHANGED)


FILES = {'provenance.model_files': '/weights/model.safetensors'}


def files_checks(decision):
    return [c for c in decision.checks if c.name.startswith('model.files')]


def unverified(value):
    """Return the failing model.files check, as the trace records it, for ``value`` found."""
    return Check('model.files', False, value, 'an approved sha256', Reason.MODEL_UNVERIFIED)


def test_the_model_files_checks_record_what_the_gate_found_and_against_what():
    # The trace keeps every check's value and limit and the log line words
    # them: the operator must see whether the gate is still hashing, could
    # not read the files, or found other weights than the planner names.
    hashing = gate(FILES).cycle(0.5, model=PROD)
    assert files_checks(hashing) == [unverified('hashing')]
    unreadable = gate(FILES)
    unreadable.feed(ModelFilesHashed('', error='/weights/model.safetensors: No such file'))
    assert files_checks(unreadable.cycle(0.5, model=PROD)) == [
        unverified('/weights/model.safetensors: No such file')]
    unknown = gate(FILES)
    unknown.feed(ModelFilesHashed(OTHER))
    decision = unknown.cycle(0.5, model=OTHER)
    assert files_checks(decision) == [unverified(OTHER)]
    assert f'MODEL_UNVERIFIED (the weight files hash to {OTHER}, not an approved sha256)' in (
        explain.explain(decision))
    verified = gate(FILES)
    verified.feed(ModelFilesHashed(PROD))
    assert files_checks(verified.cycle(0.5, model=PROD)) == [
        Check('model.files', True, PROD, 'an approved sha256', Reason.MODEL_UNVERIFIED)]
    swapped = verified.cycle(0.5, model=CANARY)
    assert files_checks(swapped)[1] == Check('model.files_match', False, CANARY, PROD,
                                             Reason.MODEL_UNVERIFIED)
    assert (f'MODEL_UNVERIFIED (the planner names model {CANARY}, the weight files hash to '
            f'{PROD})') in explain.explain(swapped)


def model_checks(decision):
    return [c for c in decision.checks if c.name.startswith('model.')]


def test_the_approval_change_stage_and_canary_checks_record_what_they_judged():
    approved = Check('model.approved', True, PROD, 'a registry entry', Reason.MODEL_NOT_APPROVED)
    g = gate()
    assert model_checks(g.cycle(0.5)) == [
        Check('model.approved', False, 'unknown', 'a registry entry', Reason.MODEL_NOT_APPROVED)]
    assert model_checks(g.cycle(0.5, model=PROD)) == [approved]
    changed = g.cycle(0.5, model=OTHER)
    assert model_checks(changed) == [
        Check('model.approved', False, OTHER, 'a registry entry', Reason.MODEL_NOT_APPROVED),
        Check('model.unchanged', False, OTHER, PROD, Reason.MODEL_CHANGED)]
    # An unregistered model is still named, with where its hash came from.
    assert changed.model == Model(OTHER, 'meta')
    assert model_checks(gate().cycle(0.5, model=SHADOW)) == [
        Check('model.approved', True, SHADOW, 'a registry entry', Reason.MODEL_NOT_APPROVED),
        Check('model.stage', False, 'shadow', 'canary or production', Reason.MODEL_SHADOW_ONLY)]
    assert model_checks(gate().cycle(0.3, confidence=0.75, model=CANARY)) == [
        Check('model.approved', True, CANARY, 'a registry entry', Reason.MODEL_NOT_APPROVED),
        Check('model.canary_confidence', False, 0.75, 0.8, Reason.LOW_CONFIDENCE)]
