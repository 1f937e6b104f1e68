# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Scenario metrics and pass criteria on synthetic recordings (no ROS)."""

import math

from harness.synthetic_recordings import (
    APPROVE, chattering, correct_gate, ESTOP, ESTOP_ACTIONS, ESTOP_FAULT, estop_gate, FALLBACK,
    LOW_CONFIDENCE, record, scenario, STEP, T0)
import pytest
from safety_gate.config import build, defaults, GateConfig
from safety_gate.kit.scenarios import metrics
from safety_gate.kit.scenarios.recording import Action, Output, Proposal, Recording

CFG = GateConfig()


def judged(sc, rec, cfg=CFG):
    found = metrics.measure(sc, rec, cfg)
    return found, {c.name: c for c in metrics.judge(sc, found, cfg)}


def test_a_correct_gate_passes_with_the_expected_metrics():
    sc = scenario([LOW_CONFIDENCE])
    found, criteria = judged(sc, record(correct_gate))
    window = found.windows[0]
    assert window.start == pytest.approx(T0 + 2.0) and window.end == pytest.approx(T0 + 3.5)
    assert window.reaction_s == pytest.approx(0.02, abs=1e-6)
    assert window.reasons == ('HYSTERESIS', 'LOW_CONFIDENCE')
    # Output at or below 0.02 m/s from 2.60 s, the vehicle LAG later.
    assert window.standstill_s == pytest.approx(0.70, abs=STEP + 1e-6)
    assert window.hold_pct == pytest.approx(100.0)
    assert window.chatter == 0
    assert window.resume_s == pytest.approx(0.5, abs=1e-6)
    assert found.unsafe == () and found.false_interventions == 0
    assert found.false_intervention_pct == 0.0
    assert found.max_speed == pytest.approx(0.6)
    assert all(c.ok for c in criteria.values()), [c for c in criteria.values() if not c.ok]


def test_a_late_reaction_fails_its_criterion():
    def slow(s):
        return (APPROVE, [], 0.6, 0.0) if 0.0 <= s < 2.5 else correct_gate(s)
    found, criteria = judged(scenario([LOW_CONFIDENCE]), record(slow))
    assert found.windows[0].reaction_s == pytest.approx(0.5, abs=1e-6)
    assert not criteria['low_confidence @2s: reaction'].ok


def test_chatter_inside_a_fault_window_is_counted_and_fails():
    found, criteria = judged(scenario([LOW_CONFIDENCE]), record(chattering))
    window = found.windows[0]
    assert window.chatter == 1
    assert window.hold_pct == pytest.approx(100.0 * (1.48 - 0.2) / 1.48, abs=0.5)
    assert not criteria['low_confidence @2s: chatter'].ok
    assert not criteria['low_confidence @2s: hold-stop'].ok


def test_a_missing_reason_fails():
    def wrong_reason(s):
        verdict, reasons, v, w = correct_gate(s)
        return verdict, ['ODOM_STALE'] if reasons == ['LOW_CONFIDENCE'] else reasons, v, w
    _, criteria = judged(scenario([LOW_CONFIDENCE]), record(wrong_reason))
    assert not criteria['low_confidence @2s: reasons'].ok


def test_no_resume_fails_when_resume_is_required_and_passes_when_forbidden():
    def never_again(s):
        return correct_gate(min(s, 3.9))
    _, criteria = judged(scenario([LOW_CONFIDENCE]), record(never_again))
    assert not criteria['low_confidence @2s: resume'].ok
    forbidden = {**LOW_CONFIDENCE, 'expect': {**LOW_CONFIDENCE['expect'], 'resume': 'forbidden'}}
    _, criteria = judged(scenario([forbidden]), record(never_again))
    assert criteria['low_confidence @2s: resume'].ok
    _, criteria = judged(scenario([forbidden]), record(correct_gate))
    assert not criteria['low_confidence @2s: resume'].ok


def test_interventions_outside_fault_windows_are_false_ones():
    def nervous(s):
        if 1.0 <= s < 1.2 or 5.5 <= s < 5.6:  # outside the window and its recovery allowance
            return FALLBACK, ['TRACKING_ERROR'], 0.5, 0.0
        if 4.5 <= s < 4.6:  # within max_resume_s after the window: not counted
            return FALLBACK, ['TRACKING_ERROR'], 0.5, 0.0
        return correct_gate(s)
    found, criteria = judged(scenario([LOW_CONFIDENCE]), record(nervous))
    assert found.false_interventions == 2
    # Nominal time: [0.3, 2.0 - CLOCK_SKEW_S] and [5.0, 6.0] script seconds.
    nominal = 2.7 - metrics.CLOCK_SKEW_S
    assert found.nominal_s == pytest.approx(nominal)
    assert found.false_intervention_pct == pytest.approx(100.0 * 0.3 / nominal, abs=1.0)
    assert not criteria['false interventions'].ok


def test_an_intervention_begun_in_the_start_up_allowance_and_held_on_is_a_false_one():
    # Refusing the first proposal is forgiven; still refusing into nominal time is not.
    def stuck(s):
        return (FALLBACK, ['PLAN_SHIFT'], 0.0, 0.0) if 0.1 <= s < 1.5 else correct_gate(s)
    found, criteria = judged(scenario([LOW_CONFIDENCE]), record(stuck))
    assert found.false_interventions == 1
    assert not criteria['false interventions'].ok


def test_a_gate_whose_clock_reads_a_step_behind_reacts_in_the_window():
    def early(s):  # the gate's reading of /clock lags the planner's by one step
        return (FALLBACK, ['LOW_CONFIDENCE'], 0.6, 0.0) if 1.98 <= s < 2.02 else correct_gate(s)
    found = metrics.measure(scenario([LOW_CONFIDENCE]), record(early), CFG)
    assert found.windows[0].reaction_s == 0.0
    assert found.false_interventions == 0


@pytest.mark.parametrize('v, w, rule', [
    (math.nan, 0.0, 'non-finite or unused component set'),
    (0.0, math.inf, 'non-finite or unused component set'),
    (1.2, 0.0, 'outside the envelope'),
    (-0.4, 0.0, 'outside the envelope'),
    (0.3, 1.6, 'outside the envelope'),
    (0.9, 1.2, 'outside the envelope'),
])
def test_malformed_and_out_of_envelope_outputs_are_unsafe(v, w, rule):
    rec = record(correct_gate)
    rec.outputs.insert(100, Output(rec.outputs[100].t, v, w))
    found, criteria = judged(scenario([LOW_CONFIDENCE]), rec)
    assert [u.rule for u in found.unsafe] == [rule]
    assert not criteria['unsafe commands'].ok


def test_an_unused_component_set_is_unsafe():
    rec = record(correct_gate)
    rec.outputs[50] = rec.outputs[50]._replace(clean=False)
    assert len(metrics.unsafe_commands(scenario([LOW_CONFIDENCE]), rec, CFG)) == 1


def test_a_correct_estop_is_safe_and_its_window_ends_at_the_accepted_reset():
    sc = scenario([ESTOP_FAULT], resets=[2.5, 4.0])
    rec = record(estop_gate, actions=ESTOP_ACTIONS)
    window = metrics.windows(sc, rec)[0]
    # To the clock's resolution, as the gate may read /clock behind the operator.
    assert (window.start, window.end) == (T0 + 2.0, pytest.approx(T0 + 4.0 - metrics.CLOCK_SKEW_S))
    found, criteria = judged(sc, rec)
    assert found.unsafe == ()
    # Until the first proposal stamped after the reset, to the clock's resolution.
    assert metrics.latched_spans(sc, rec) == [
        (T0 + 2.0, pytest.approx(T0 + 4.0 - metrics.CLOCK_SKEW_S))]
    assert all(c.ok for c in criteria.values()), [c for c in criteria.values() if not c.ok]


def test_a_gate_whose_clock_reads_a_step_behind_takes_the_reset_at_its_end():
    # The operator timed the reset at 4.0 by its reading of /clock; the gate read 3.96.
    def behind(s):
        if 3.96 <= s < 3.98:
            return FALLBACK, ['NO_PROPOSAL'], 0.0, 0.0
        if s >= 3.98:
            return APPROVE, [], min(0.6, s - 3.98), 0.0
        return estop_gate(s)
    sc = scenario([ESTOP_FAULT], resets=[2.5, 4.0])
    found, criteria = judged(sc, record(behind, actions=ESTOP_ACTIONS))
    window = found.windows[0]
    assert (window.hold_pct, window.chatter) == (pytest.approx(100.0), 0)
    assert all(c.ok for c in criteria.values()), [c for c in criteria.values() if not c.ok]


def test_motion_while_latched_is_unsafe_but_commands_in_flight_are_not():
    sc = scenario([ESTOP_FAULT], resets=[2.5, 4.0])
    rec = record(estop_gate, actions=ESTOP_ACTIONS)
    first_zero = next(i for i, o in enumerate(rec.outputs) if o.t > T0 + 2.0)
    # Sent before the gate saw the e-stop: before its first zero, within the grace.
    rec.outputs.insert(first_zero, Output(T0 + 2.01, 0.6, 0.0))
    rec.outputs.append(Output(T0 + 3.2, 0.1, 0.0))  # after the first zero: unsafe
    rec.outputs.append(Output(T0 + 4.02, 0.02, 0.0))  # reset, but no fresh proposal yet
    rec.outputs.sort(key=lambda o: o.t)
    rec.proposals = [p for p in rec.proposals if not T0 + 3.9 < p.t < T0 + 4.2]
    rec.proposals.append(Proposal(T0 + 4.01, 0.6, 0.0, T0 + 3.95))  # stamped before reset
    rec.proposals.append(Proposal(T0 + 4.1, 0.6, 0.0, T0 + 4.1))  # motion from 4.05 on
    rec.proposals.sort(key=lambda p: p.t)
    unsafe = metrics.unsafe_commands(sc, rec, CFG)
    assert [(round(u.t - T0, 2), u.rule) for u in unsafe] == [
        (3.2, 'motion while latched'), (4.02, 'motion while latched')]


def test_speeding_up_on_a_rejected_proposal_is_unsafe():
    overspeed = {'kind': 'overspeed', 't_start': 2.0, 't_end': 3.5, 'value': 2.0}

    def leaky(s):
        if 2.0 <= s < 2.5:
            return APPROVE, [], 0.6 + (s - 2.0) * 0.5, 0.0  # creeping toward 2.0 m/s
        return correct_gate(s)
    found = metrics.measure(scenario([overspeed]), record(leaky), CFG)
    # From REJECT_GRACE_S after onset until the gate stops approving.
    assert {u.rule for u in found.unsafe} == {'speeds up on a rejected proposal'}
    assert min(u.t for u in found.unsafe) >= T0 + 2.0 + metrics.REJECT_GRACE_S - 1e-9
    assert metrics.measure(scenario([overspeed]), record(correct_gate), CFG).unsafe == ()


@pytest.mark.parametrize('fault, rejected', [
    ({'kind': 'nan'}, True),
    ({'kind': 'inf'}, True),
    ({'kind': 'duplicate_stamp'}, True),
    ({'kind': 'no_meta'}, True),
    ({'kind': 'malformed_meta'}, True),
    ({'kind': 'stamp_mismatch'}, True),
    ({'kind': 'late_meta', 'value': 0.2}, True),
    ({'kind': 'late_meta', 'value': 0.01}, False),
    ({'kind': 'low_confidence', 'value': 0.3}, True),
    ({'kind': 'low_confidence', 'value': 0.55}, False),
    ({'kind': 'overspeed', 'value': 2.0}, True),
    ({'kind': 'overspeed', 'value': 0.9}, False),
    ({'kind': 'yaw_rate', 'value': 1.6}, True),
    ({'kind': 'yaw_rate', 'value': 1.4}, False),  # 0.6 m/s x 1.4 rad/s: inside both limits
    ({'kind': 'yaw_rate', 'value': 1.7}, True),
    ({'kind': 'backwards_stamp', 'value': 0.5}, True),
    ({'kind': 'backwards_stamp', 'value': 0.1}, False),
    ({'kind': 'freeze'}, False),
    ({'kind': 'burst'}, False),
    ({'kind': 'confidence_flicker'}, False),
    ({'kind': 'confidence_ramp', 'value': 0.45, 'alt_value': 0.3}, True),
    ({'kind': 'confidence_ramp', 'value': 0.3, 'alt_value': 0.55}, False),
])
def test_which_planner_faults_the_default_config_must_reject_entirely(fault, rejected):
    sc = scenario([{'t_start': 2.0, 't_end': 3.0, **fault}])
    assert metrics.rejects_every_proposal(sc.faults[0], sc, CFG) is rejected


def test_rejection_follows_the_configuration_under_test():
    sc = scenario([{'kind': 'low_confidence', 't_start': 2.0, 't_end': 3.0, 'value': 0.3}])
    permissive = build({**defaults(), 'confidence.threshold': 0.2,
                        'confidence.recover_threshold': 0.2})
    assert not metrics.rejects_every_proposal(sc.faults[0], sc, permissive)


@pytest.mark.parametrize('kind, rejected', [('malformed_meta', True), ('no_meta', False)])
def test_optional_confidence_forgives_a_missing_meta_only(kind, rejected):
    sc = scenario([{'kind': kind, 't_start': 2.0, 't_end': 3.0}])
    optional = build({**defaults(), 'confidence.required': False})
    assert metrics.rejects_every_proposal(sc.faults[0], sc, optional) is rejected


def test_vehicle_fault_windows_come_from_the_recorded_actions():
    sc = scenario([{'kind': 'odom_stale', 't_start': 2.0, 't_end': 3.0}])
    actions = [Action(T0 + 2.02, T0 + 2.02, 'fault_start', 0),
               Action(T0 + 3.04, T0 + 3.04, 'fault_end', 0)]
    window = metrics.windows(sc, Recording('x', t0=T0, end=T0 + 6, actions=actions))[0]
    assert (window.start, window.end) == (T0 + 2.02, T0 + 3.04)


def test_a_latching_fault_without_an_accepted_reset_lasts_to_the_end():
    sc = scenario([{'kind': 'gate_restart', 't_start': 2.0,
                    'expect': {'resume': 'forbidden'}}])
    rec = Recording('x', t0=T0, end=T0 + 6, actions=[Action(T0 + 2.0, T0 + 2.0,
                                                            'fault_start', 0)])
    assert metrics.windows(sc, rec)[0].end == T0 + 6


def test_host_overload_is_recognised_after_the_start_only():
    sc = scenario([LOW_CONFIDENCE])

    def overrun(s):
        if -0.3 < s < -0.2:
            return FALLBACK, ['CLOCK_STALLED'], 0.0, 0.0
        if 5.0 <= s < 5.1:
            return FALLBACK, ['GATE_OVERRUN'], 0.6, 0.0
        return correct_gate(s)
    assert metrics.host_limited(sc, record(correct_gate)) == []
    assert metrics.host_limited(sc, record(overrun)) == ['GATE_OVERRUN']


def test_a_restarted_gate_waiting_for_its_clock_is_not_host_overload():
    sc = scenario([{'kind': 'gate_restart', 't_start': 2.0}], resets=[4.0])

    def restarted(s):
        if 2.5 <= s < 3.0:
            return ESTOP, ['LATCHED_ON_START', 'CLOCK_STALLED'], 0.0, 0.0
        if 3.0 <= s < 4.0:
            return ESTOP, ['LATCHED_ON_START'], 0.0, 0.0
        return correct_gate(s)
    rec = record(restarted, actions=[Action(T0 + 2.0, T0 + 2.0, 'fault_start', 0)])
    assert metrics.host_limited(sc, rec) == []


def test_stamps_map_onto_the_run_clock_across_a_clock_reset():
    # The clock ran from 5.0, then was reset to 1.0 when the run clock read 9.0.
    rec = Recording('x', offsets=[(5.0, 0.0), (9.02, 8.0)])
    assert rec.at(8.5, received=8.52) == 8.5
    assert rec.at(8.98, received=9.04) == 8.98  # sent before the reset, arrived after it
    assert rec.at(1.5, received=9.5) == 9.5  # sent after it
    assert rec.at(0.0, received=9.5) == 9.5  # a node whose sim clock has not started
    assert rec.at(11.0, received=9.5) == 11.0  # the recorder fell behind by 1.5 s


def test_recordings_round_trip_through_json(tmp_path):
    rec = record(correct_gate, actions=ESTOP_ACTIONS)
    rec.outputs.append(Output(T0 + 9.0, math.nan, math.inf, False))
    path = tmp_path / 'recording.json'
    rec.save(path)
    back = Recording.load(path)
    assert back.decisions == rec.decisions and back.actions == rec.actions
    assert back.proposals == rec.proposals and back.truth == rec.truth
    assert back.offsets == rec.offsets
    assert math.isnan(back.outputs[-1].v) and back.outputs[-1].w == math.inf
    assert back.outputs[:-1] == rec.outputs[:-1]


DRIFT_PARAMS = {'spi.window': 4.0, 'spi.min_samples': 20, 'spi.confidence_mean_limit': 0.75,
                'spi.confidence_mean_action': 'conservative'}
DRIFT_RAMP = {'kind': 'confidence_ramp', 't_start': 1.0, 't_end': 29.0, 'value': 0.95,
              'alt_value': 0.55, 'expect': {'reasons': ['CONSERVATIVE_DRIFT'],
                                            'max_reaction_s': None, 'resume': 'allowed'}}
DRIFT_CFG = build({**defaults(), **DRIFT_PARAMS})


def drifting(s):
    """Return the ramp's confidence: the mean over 4 s crosses 0.75 at 17 s."""
    return 0.95 - 0.4 * min(max(s - 1.0, 0.0), 28.0) / 28.0


def drift_gate(enter=17.0, limited_v=0.5, fallback_at=None):
    def behaviour(s):
        if fallback_at is not None and fallback_at <= s < fallback_at + 0.1:
            return FALLBACK, ['LOW_CONFIDENCE'], 0.0, 0.0
        if s >= enter:
            return 'LIMIT', ['CONSERVATIVE_DRIFT'], limited_v, 0.0
        return APPROVE, [], 0.0 if s < 0 else 0.6, 0.0
    return record(behaviour, duration=29.0, confidence=drifting)


def drift_judged(rec):
    sc = scenario([DRIFT_RAMP], duration=29.0, gate_params=DRIFT_PARAMS,
                  expect={'confidence_drift': {'max_lag_s': 0.5}})
    return judged(sc, rec, DRIFT_CFG)


DRIFT_AT = 'confidence drift: conservative mode (CONSERVATIVE_DRIFT) at the crossing'
DRIFT_BEFORE = 'confidence drift: every decision before it an APPROVE'
DRIFT_AFTER = 'confidence drift: outputs after it inside the conservative envelope'


def test_conservative_mode_at_the_crossing_of_the_confidence_mean_passes():
    found, criteria = drift_judged(drift_gate())
    # The exact 4 s mean of the ramp at t is its value at t - 2 s: 0.75 at 17 s.
    assert found.drift.crossing == pytest.approx(17.0, abs=0.1)
    assert found.drift.entered == pytest.approx(17.0, abs=STEP)
    assert found.drift.not_approved_before == 0 and found.drift.outside_after == 0
    assert all(c.ok for c in criteria.values()), [c for c in criteria.values() if not c.ok]


@pytest.mark.parametrize('gate, failing', [
    ({'enter': 18.0}, DRIFT_AT),  # a second after the crossing
    ({'enter': 15.0}, DRIFT_AT),  # before the mean crossed
    ({'enter': 40.0}, DRIFT_AT),  # never
    ({'fallback_at': 10.0}, DRIFT_BEFORE),
    ({'limited_v': 0.6}, DRIFT_AFTER),  # LIMIT, but above conservative.max_linear_speed
])
def test_a_gate_that_misses_the_drift_fails_its_criterion(gate, failing):
    _, criteria = drift_judged(drift_gate(**gate))
    assert [name for name, c in criteria.items() if not c.ok and name.startswith(
        'confidence drift')] == [failing]


def test_an_approved_output_stamped_at_the_instant_of_entering_is_not_after_it():
    # Seen in CI: on the sim clock a tick approved 0.6 m/s, then the proposal at
    # the same stamp entered conservative mode.
    rec = drift_gate()
    entering = next(i for i, d in enumerate(rec.decisions) if d.verdict == 'LIMIT')
    t = rec.decisions[entering].t
    rec.decisions.insert(entering, rec.decisions[entering - 1]._replace(t=t))
    rec.outputs.insert(entering, Output(t, 0.6, 0.0))
    found, criteria = drift_judged(rec)
    assert found.drift.outside_after == 0 and criteria[DRIFT_AFTER].ok
    # The entering decision's own output is still judged, whatever its stamp's neighbours.
    d = rec.decisions[entering + 1]
    rec.decisions[entering + 1] = d._replace(v=0.6)
    assert drift_judged(rec)[0].drift.outside_after == 1


def test_the_crossing_waits_for_min_samples_in_the_window():
    low = record(lambda s: (APPROVE, [], 0.6, 0.0), duration=5.0, confidence=lambda s: 0.6)
    # From -0.5 s every fifth decision is a proposal (10 a second): the 20th at 1.4 s.
    assert metrics.confidence_mean_crossing(low.decisions, -math.inf, DRIFT_CFG) == (
        pytest.approx(T0 + 1.4))
    assert metrics.confidence_mean_crossing(low.decisions, T0 + 3.0, DRIFT_CFG) == (
        pytest.approx(T0 + 4.9))
