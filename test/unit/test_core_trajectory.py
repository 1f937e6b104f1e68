# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The core in trajectory mode: plans judged on arrival, followed on ticks, left by a stop.

A simulated vehicle obeys the output exactly and reports odometry before
every tick, so the plan checks see a vehicle that drives what it is told.
"""

import json
import math

from harness.event_scripts import records_of, Step
from harness.plans import ALPAMAYO_15, ALPAMAYO_2, polyline, wrapper_plan
import pytest
from safety_gate import config, core, plan_mode, replay, trace_format, trace_record
from safety_gate.decision import Check, Reason, Verdict
from safety_gate.events import Meta, Odom, Plan, Proposal, Reasoning, Reset, Tick

TICK = 1 / 32
T0 = 100.0
# The wrapper's output as config/alpamayo_autoware.yaml takes it: no meta, so no wait for one.
MODE = {'require_reset_on_start': False, 'planner.input': 'autoware_trajectory',
        'confidence.required': False, 'confidence.pairing_wait': 0.0}
# A wrapper that adds a meta, published a moment after its plan.
WITH_META = {'confidence.pairing_wait': 0.05}


class Drive:
    """The core, a clock, and a vehicle that drives the output exactly."""

    def __init__(self, params=None, odometry=True):
        self.cfg = config.build({**MODE, **(params or {})})
        self.state = core.initial_state(self.cfg)
        self.now = T0
        self.x = self.y = self.yaw = 0.0
        self.odometry = odometry
        self.decisions = []
        self.steps = []
        self.report()

    def step(self, event):
        result = core.step(self.state, event, self.now, self.cfg)
        self.state = result.state
        self.decisions += result.decisions
        self.steps.append(Step(self.now, event, result.decisions, result.reply))
        return result.decisions

    def report(self):
        if self.odometry:
            out = self.state.output
            self.step(Odom(out.v, out.w, self.x, self.y, self.now, self.yaw))

    def tick(self):
        out = self.state.output
        self.x += out.v * TICK * math.cos(self.yaw + out.w * TICK / 2.0)
        self.y += out.v * TICK * math.sin(self.yaw + out.w * TICK / 2.0)
        self.yaw += out.w * TICK
        self.now += TICK
        self.report()
        return self.step(Tick())[-1]

    def run(self, seconds):
        return [self.tick() for _ in range(round(seconds / TICK))]


def curved(stamp, variant=ALPAMAYO_2):
    return wrapper_plan(stamp, lambda t: 0.5, lambda t: 0.2, variant)


def test_in_twist_mode_a_plan_is_recorded_and_decides_nothing():
    cfg = config.build({'require_reset_on_start': False})
    state = core.initial_state(cfg)
    result = core.step(state, curved(T0), T0, cfg)
    assert result.decisions == () and result.state.plans == state.plans


def test_reasoning_never_decides():
    drive = Drive()
    assert drive.step(Reasoning('turning left because the road bends', T0)) == ()


def test_a_nominal_plan_is_approved_and_followed_with_w_equal_v_times_curvature():
    drive = Drive()
    (first,) = drive.step(curved(drive.now))
    assert first.verdict is Verdict.APPROVE and first.trigger == 'plan'
    assert first.proposal is None
    outputs = [d.output for d in drive.run(1.5)]
    assert all(d.verdict is Verdict.APPROVE for d in drive.decisions[-len(outputs):])
    assert outputs[-1].v == pytest.approx(0.5, rel=1e-3)
    assert outputs[-1].w == pytest.approx(0.1, rel=1e-2)


def test_plans_every_two_seconds_with_a_long_horizon_drive_without_a_fallback():
    # Stamped at the camera time, 0.1 s before they arrive, as the Alpamayo 2 node does.
    drive = Drive()
    drive.run(0.25)
    start = len(drive.decisions)
    for _ in range(4):
        (decision,) = drive.step(curved(drive.now - 0.1))
        assert decision.verdict is Verdict.APPROVE, decision.reasons
        drive.run(2.0)
    assert {d.verdict for d in drive.decisions[start:]} == {Verdict.APPROVE}
    assert drive.state.output.v == pytest.approx(0.5, rel=1e-3)


UNPLACED = Check('plan.ego', False, 'unknown', 'odometry at the stamp and now',
                 Reason.PLAN_EGO_UNKNOWN)


def test_a_plan_stamped_before_the_first_odometry_cannot_be_placed():
    drive = Drive()
    (decision,) = drive.step(curved(drive.now - 0.1))
    assert decision.reasons == (Reason.PLAN_EGO_UNKNOWN,)
    assert UNPLACED in decision.checks


@pytest.mark.parametrize('rate_hz', [50, 200, 1000])
def test_a_plan_stamped_alpamayo_2s_latency_ago_is_placed_at_any_odometry_rate(rate_hz):
    # The wrapper stamps a plan with its input time, up to 3.35 s before it
    # arrives; the poses kept must reach back that far however fast odometry is.
    drive = Drive(odometry=False)
    for k in range(round(3.5 * rate_hz)):
        drive.step(Odom(0.0, 0.0, 0.0, 0.0, drive.now + k / rate_hz, 0.0))
    drive.now += 3.5
    (decision,) = drive.step(curved(drive.now - 3.35))
    assert UNPLACED not in decision.checks, decision.reasons


def test_the_poses_kept_span_ten_seconds_in_bounded_memory_with_the_newest_exact():
    state = plan_mode.PlanState()
    for k in range(12000):  # 12 s at 1 kHz
        state = plan_mode.on_odom(state, Odom(0.0, 0.0, k * 0.001, 0.0, T0 + k * 0.001, 0.0))
    stamps = [stamp for stamp, _ in state.poses]
    assert len(stamps) <= 1280
    assert stamps[-1] == T0 + 11999 * 0.001 and state.poses[-1][1].x == 11999 * 0.001
    assert stamps[-1] - stamps[0] >= 10.0
    assert min(b - a for a, b in zip(stamps[:-2], stamps[1:-1])) >= 0.008
    # Up to 100 Hz nothing is thinned.
    state = plan_mode.PlanState()
    for k in range(500):
        state = plan_mode.on_odom(state, Odom(0.0, 0.0, 0.0, 0.0, T0 + k * 0.01, 0.0))
    assert len(state.poses) == 500


def test_an_approved_plan_whose_stamp_left_the_odometry_kept_is_no_longer_followed():
    # Odometry at 1 kHz: 10.3 s of it pushes the plan's stamp out of the poses
    # kept, so the ticks can no longer place the vehicle against the plan.
    drive = Drive()
    (approved,) = drive.step(curved(drive.now))
    assert approved.verdict is Verdict.APPROVE
    for _ in range(10300):
        drive.now += 0.001
        out = drive.state.output
        drive.x += out.v * 0.001
        drive.step(Odom(out.v, out.w, drive.x, drive.y, drive.now, drive.yaw))
    decision = drive.step(Tick())[-1]
    assert decision.verdict is Verdict.FALLBACK
    assert Reason.PLAN_EGO_UNKNOWN in decision.reasons and UNPLACED in decision.checks


def test_odometry_that_was_never_finite_cannot_place_a_plan():
    drive = Drive(odometry=False)
    drive.step(Odom(math.nan, 0.0, 0.0, 0.0, drive.now, 0.0))
    (decision,) = drive.step(curved(drive.now))
    assert {Reason.PLAN_EGO_UNKNOWN, Reason.ODOM_NON_FINITE} <= set(decision.reasons)


def test_odometry_not_newer_than_the_last_pose_kept_is_not_kept():
    # A republished sample (same stamp, another pose) must not move the vehicle.
    kept = plan_mode.on_odom(plan_mode.PlanState(), Odom(0.5, 0.0, 1.0, 0.0, T0, 0.0))
    for stamp in (T0, T0 - 0.01):
        assert plan_mode.on_odom(kept, Odom(0.5, 0.0, 2.0, 0.0, stamp, 0.0)) == kept


def test_before_the_first_plan_a_tick_names_the_missing_plan():
    decision = Drive().tick()
    assert decision.verdict is Verdict.FALLBACK and Reason.NO_PROPOSAL in decision.reasons
    assert Check('plan.present', False, None, 'required', Reason.NO_PROPOSAL) in decision.checks


def test_a_short_plan_left_without_a_successor_ends_in_a_stop_along_its_path():
    drive = Drive()
    drive.step(curved(drive.now, ALPAMAYO_15))
    decisions = drive.run(4.0)
    fallback = [d for d in decisions if d.verdict is Verdict.FALLBACK]
    assert fallback and fallback[0].reasons == (Reason.PLAN_HORIZON_SHORT,)
    moving = [d.output for d in fallback if d.output.v > 1e-6]
    speeds = [out.v for out in moving]
    assert all(b <= a for a, b in zip(speeds, speeds[1:]))
    assert all(out.w == pytest.approx(out.v * 0.2, rel=1e-2) for out in moving)
    assert decisions[-1].output.v == 0.0


def test_the_logged_backward_sweep_is_refused_and_stays_refused():
    drive = Drive()
    sweep = polyline([-27.0 / 63] * 63, [0.0] * 63, stamp=drive.now, first=0.1,
                     start=(-10.6, 0.0, 0.0))
    (decision,) = drive.step(sweep)
    assert decision.verdict is Verdict.FALLBACK
    assert {Reason.PLAN_START_FAR, Reason.PLAN_BEHIND_EGO,
            Reason.PLAN_BACKWARD_SWEEP} <= set(decision.reasons)
    assert all(d.verdict is Verdict.FALLBACK for d in drive.run(0.5))
    assert drive.state.output.v == 0.0


def test_a_plan_with_nan_is_refused_before_anything_is_measured():
    drive = Drive()
    points = list(curved(drive.now).points)
    points[10] = (points[10][0], math.nan, 0.0, 0.0)
    (decision,) = drive.step(Plan(drive.now, 'base_link', tuple(points)))
    assert set(decision.reasons) == {Reason.PLAN_NON_FINITE}


def test_without_odometry_a_plan_cannot_be_placed():
    drive = Drive(odometry=False)
    (decision,) = drive.step(curved(drive.now))
    assert Reason.PLAN_EGO_UNKNOWN in decision.reasons
    assert Reason.ODOM_MISSING in decision.reasons


def test_an_older_plan_after_a_newer_one_is_refused():
    drive = Drive()
    drive.step(curved(drive.now))
    drive.run(0.25)
    (decision,) = drive.step(curved(T0 - 0.1))
    assert Reason.STAMP_NOT_INCREASING in decision.reasons
    assert Check('plan.order', False, T0 - 0.1, T0, Reason.STAMP_NOT_INCREASING) in (
        decision.checks)


def test_a_plan_flipping_to_another_route_loses_authority():
    drive = Drive()
    drive.step(curved(drive.now))
    drive.run(0.5)
    right = wrapper_plan(drive.now, lambda t: 0.5, lambda t: -0.2)
    (decision,) = drive.step(right)
    assert Reason.PLAN_SHIFT in decision.reasons


def test_plans_stamped_after_the_newest_odometry_are_still_compared():
    # Stamped on publishing, both plans are newer than any odometry the gate has;
    # each takes the newest pose (within odom.timeout), so the flip is still seen.
    drive = Drive()
    drive.step(curved(drive.now))
    drive.run(0.5)
    drive.now += 0.01
    (approved,) = drive.step(curved(drive.now))
    assert approved.verdict is Verdict.APPROVE
    drive.now += 0.01
    (decision,) = drive.step(wrapper_plan(drive.now, lambda t: 0.5, lambda t: -0.2))
    assert Reason.PLAN_SHIFT in decision.reasons


def test_while_the_gate_stops_along_the_path_a_plan_from_the_vehicle_is_not_refused_as_behind():
    # The stop leaves the vehicle behind the approved plan by design; a planner
    # resuming from where the vehicle stands is judged beside the path only.
    drive = Drive({'trajectory.max_backward_shift': 0.1})
    drive.step(curved(drive.now))
    drive.run(0.5)
    points = list(curved(drive.now).points)
    points[10] = (points[10][0], math.nan, 0.0, 0.0)
    (refused,) = drive.step(Plan(drive.now, 'base_link', tuple(points)))
    assert refused.verdict is Verdict.FALLBACK
    drive.run(1.0)
    assert drive.state.output.v == 0.0
    (decision,) = drive.step(wrapper_plan(drive.now, lambda t: 0.1 * t, lambda t: 0.2))
    assert Reason.PLAN_SHIFT not in decision.reasons
    judged = {check.name for check in decision.checks}
    assert 'plan.shift_lateral' in judged and 'plan.shift_backward' not in judged


def test_plan_events_survive_the_trace_round_trip():
    plan = Plan(T0, 'base_link', ((0.1, math.nan, 0.0, 0.0), (0.2, 0.1, math.inf, 0.5)),
                'autoware_trajectory')
    line = trace_format.encode_record(trace_record.event_to_dict(T0, plan))
    now, back = trace_record.event_from_dict(json.loads(line))
    assert now == T0 and back.stamp == plan.stamp and back.frame_id == plan.frame_id
    assert math.isnan(back.points[0][1]) and back.points[1][2] == math.inf
    assert back.points[1] == (0.2, 0.1, math.inf, 0.5)
    reasoning = Reasoning('NaN', None)
    assert trace_record.event_from_dict(
        json.loads(trace_format.encode_record(trace_record.event_to_dict(T0, reasoning))))[
            1] == reasoning


def test_the_command_is_the_plan_sampled_an_actuation_delay_after_now():
    drive = Drive({'envelope.max_linear_accel': 2.0})
    stamp = drive.now
    drive.step(wrapper_plan(stamp, lambda t: 0.3 + 0.1 * t))
    drive.run(1.0)
    age = drive.now - stamp
    expected = 0.3 + 0.1 * (age + drive.cfg.trajectory.actuation_delay)
    assert drive.state.output.v == pytest.approx(expected, rel=1e-3)


def test_the_stop_starts_where_the_vehicle_is_on_the_path():
    # Straight for 1.2 s, then curving: the stop begins on the straight part.
    drive = Drive()
    drive.step(wrapper_plan(drive.now, lambda t: 0.5, lambda t: 0.0 if t < 1.2 else 0.3,
                            ALPAMAYO_15))
    fallback = [d for d in drive.run(4.0) if d.verdict is Verdict.FALLBACK]
    assert fallback[0].output.w == 0.0 and fallback[0].output.v > 0.0
    assert any(d.output.w > 0.0 for d in fallback)


def test_a_plan_with_the_stamp_of_the_previous_one_is_refused():
    drive = Drive()
    drive.step(curved(drive.now))
    drive.run(0.25)
    (decision,) = drive.step(curved(T0))
    assert Reason.STAMP_NOT_INCREASING in decision.reasons


def test_the_approved_plan_delivered_again_is_judged_as_an_arrival_and_refused():
    # The same message again (a duplicate delivery, or a replayed event): it is not the
    # approved plan going on but a new arrival, whose stamp is not newer.
    drive = Drive()
    plan = curved(drive.now)
    (approved,) = drive.step(plan)
    assert approved.verdict is Verdict.APPROVE
    drive.run(0.25)
    (again,) = drive.step(plan)
    assert again.verdict is Verdict.FALLBACK
    assert Check('plan.order', False, plan.stamp, plan.stamp,
                 Reason.STAMP_NOT_INCREASING) in again.checks


def test_a_plan_stamped_at_the_reset_is_refused():
    drive = Drive({'require_reset_on_start': True})
    (reset,) = drive.step(Reset())
    assert reset.trigger == 'reset'
    (decision,) = drive.step(curved(drive.now))
    assert Reason.PROPOSAL_BEFORE_RESET in decision.reasons
    assert Check('plan.after_reset', False, drive.now, drive.now,
                 Reason.PROPOSAL_BEFORE_RESET) in decision.checks


def test_each_stop_starts_from_the_plan_approved_last():
    drive = Drive({'confidence.recover_count': 1, 'confidence.min_dwell': 0.0})
    for _ in range(2):
        drive.step(curved(drive.now, ALPAMAYO_15))
        decisions = drive.run(4.0)
        fallback = [d for d in decisions if d.verdict is Verdict.FALLBACK]
        assert fallback[0].output.v == pytest.approx(0.5, abs=0.05)
        assert decisions[-1].output.v == 0.0


def test_a_trajectory_mode_trace_replays_decision_by_decision():
    drive = Drive({'confidence.recover_count': 1, 'confidence.min_dwell': 0.0})
    drive.run(0.25)
    drive.step(curved(drive.now - 0.1, ALPAMAYO_15))
    drive.step(Reasoning('the road bends left', drive.now - 0.1))
    drive.run(3.0)
    drive.step(polyline([-0.4] * 63, [0.0] * 63, stamp=drive.now, first=0.1))
    drive.run(0.5)
    state, queued = core.initial_state(drive.cfg), ()
    records = [json.loads(trace_format.encode_record(rec)) for rec in records_of(drive.steps)]
    assert len(records) == len(drive.decisions)
    for record in records:
        state, decision, queued = replay._replay_record(state, queued, record, drive.cfg)
        assert trace_record.decision_summary(decision) == trace_record.record_summary(record)
    verdicts = {d.verdict for d in drive.decisions}
    assert verdicts == {Verdict.APPROVE, Verdict.FALLBACK}


def test_a_plan_judged_against_a_huge_measured_speed_is_refused_without_raising():
    # Found by the trajectory fuzzer: the stop from 1e308 m/s overflowed a float power.
    drive = Drive()
    drive.step(Odom(1e308, 0.0, 0.0, 0.0, drive.now, 0.0))
    (decision,) = drive.step(curved(drive.now))
    assert decision.verdict is Verdict.FALLBACK
    assert {Reason.PLAN_HORIZON_SHORT, Reason.ODOM_IMPLAUSIBLE} <= set(decision.reasons)


def test_in_trajectory_mode_a_velocity_command_decides_nothing():
    # Found by the trajectory fuzzer: a command counted as a fresh clean proposal,
    # so it handed authority back and approved a plan that hysteresis had refused.
    drive = Drive({'confidence.recover_count': 2, 'confidence.min_dwell': 0.0})
    drive.step(curved(drive.now))
    drive.tick()
    (refused,) = drive.step(Plan(drive.now, 'map', curved(drive.now).points))
    assert refused.reasons == (Reason.PLAN_FRAME,)
    drive.tick()
    (held,) = drive.step(curved(drive.now))
    assert held.reasons == (Reason.HYSTERESIS,)
    state = drive.state
    assert drive.step(Proposal(0.5, 0.0, drive.now, stamped=False)) == ()
    assert drive.state.plans == state.plans and drive.state.authority == state.authority
    assert drive.tick().reasons == (Reason.HYSTERESIS,)


def test_a_stop_along_the_path_resumes_from_the_output_after_an_internal_error():
    # Found by the trajectory fuzzer: the stop kept its own speed while an internal
    # error's ramp slowed the output, so the next fallback sped the output up again.
    drive = Drive()
    drive.step(curved(drive.now, ALPAMAYO_15))
    stopping = drive.tick()
    while stopping.verdict is not Verdict.FALLBACK:
        stopping = drive.tick()
    assert stopping.output.v > 0.3
    drive.now += TICK
    result = core.internal_error(drive.state, drive.now, drive.cfg, 'tick', 'injected')
    drive.state = result.state
    (failed,) = result.decisions
    assert 0.0 < failed.output.v < stopping.output.v
    assert drive.tick().output.v <= failed.output.v


def test_a_plan_waits_for_its_meta_and_a_low_confidence_refuses_it():
    drive = Drive(WITH_META)
    assert drive.step(curved(drive.now)) == ()
    stamp = drive.now
    drive.now += 0.02
    (decision,) = drive.step(Meta(stamp, 0.1))
    assert decision.trigger == 'plan' and decision.verdict is Verdict.FALLBACK
    assert Reason.LOW_CONFIDENCE in decision.reasons


def test_with_confidence_required_a_plan_is_approved_when_its_meta_follows_it():
    drive = Drive({**WITH_META, 'confidence.required': True})
    drive.step(curved(drive.now))
    stamp = drive.now
    drive.now += 0.02
    (decision,) = drive.step(Meta(stamp, 0.95))
    assert decision.verdict is Verdict.APPROVE, decision.reasons
    assert decision.meta.confidence == 0.95


def test_a_plan_whose_meta_never_comes_is_decided_by_the_tick_after_the_wait():
    drive = Drive(WITH_META)
    drive.step(curved(drive.now))
    first, second = drive.tick(), drive.tick()
    assert first.trigger == 'tick' and first.verdict is Verdict.FALLBACK
    assert second.trigger == 'pairing_timeout' and second.verdict is Verdict.APPROVE
    assert second.meta is None


def test_a_plan_waiting_for_its_meta_is_superseded_by_the_next_plan():
    drive = Drive(WITH_META)
    drive.step(curved(drive.now))
    stamp = drive.now
    drive.now += 0.01
    (refused,) = drive.step(curved(drive.now))
    assert refused.trigger == 'superseded' and refused.reasons == (Reason.SUPERSEDED,)
    assert refused.checks == (Check('proposal.superseded', False, stamp, drive.now,
                                    Reason.SUPERSEDED),)
    assert refused.proposal is None
    drive.now += 0.01
    assert drive.step(Meta(stamp, 0.9)) == ()
    (decision,) = drive.step(Meta(drive.now - 0.01, 0.9))
    assert decision.trigger == 'plan' and decision.verdict is Verdict.APPROVE


def test_a_plan_whose_meta_came_first_is_judged_with_it():
    drive = Drive(WITH_META)
    drive.step(Meta(drive.now, 0.1))
    (decision,) = drive.step(curved(drive.now))
    assert decision.trigger == 'plan' and Reason.LOW_CONFIDENCE in decision.reasons
    assert decision.meta.confidence == 0.1


def test_shutdown_names_no_proposal_for_a_waiting_plan():
    drive = Drive(WITH_META)
    drive.step(curved(drive.now))
    (decision,) = core.shutdown(drive.state, drive.now).decisions
    assert decision.proposal is None and decision.output.v == 0.0


def test_a_refused_older_plan_does_not_lower_the_order_reference():
    drive = Drive()
    newest = drive.now
    drive.step(curved(newest))
    drive.run(0.25)
    for stamp in (newest - 0.3, newest - 0.1):
        (decision,) = drive.step(curved(stamp))
        assert Reason.STAMP_NOT_INCREASING in decision.reasons


def test_after_a_backwards_clock_the_plan_from_before_is_not_followed():
    drive = Drive()
    drive.step(curved(drive.now))
    drive.run(0.5)
    drive.now -= 1.0
    (jump,) = drive.step(Tick())
    assert Reason.CLOCK_JUMP_BACK in jump.reasons and Reason.NO_PROPOSAL in jump.reasons


@pytest.mark.parametrize('stamps, kept', [
    # 1 kHz from the start: the second sample is thinned as soon as a third comes.
    ((0.0, 0.001, 0.002), (0.0, 0.002)),
    # Exactly one spacing apart is far enough to keep; closer is not.
    ((0.0, 0.008, 0.009), (0.0, 0.008, 0.009)),
    ((0.0, 0.007, 0.009), (0.0, 0.009)),
])
def test_odometry_poses_closer_than_the_spacing_are_kept_only_while_newest(stamps, kept):
    state = plan_mode.PlanState()
    for stamp in stamps:
        state = plan_mode.on_odom(state, Odom(0.0, 0.0, stamp, 0.0, stamp, 0.0))
    assert tuple(stamp for stamp, _ in state.poses) == kept
