# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The checks of one plan: each at its limit and just beyond, and the wrapper's real output.

"At the limit" is the limit less a billionth, "beyond" the limit plus a
millionth: the measured values are recomputed from poses, which rounds in
the last bits.
"""

import math

from harness.plans import (
    ALPAMAYO_15, ALPAMAYO_2, DT, polyline, published_speeds, straight, wrapper_plan)
import numpy as np
import pytest
from safety_gate import config, plan_checks
from safety_gate.decision import Reason
from safety_gate.ego_motion import ORIGIN, Pose, pose_at, relative_pose, vehicle_in_plan_frame
from safety_gate.events import Plan
from safety_gate.plan_checks import Ego, Previous
from safety_gate.plan_profile import profile, segment_at

CFG = config.GateConfig()
AT, BEYOND = 1.0 - 1e-9, 1.0 + 1e-6
STAMP = 100.0
# Beyond an exact dyadic limit: a step every sum here keeps exact.
STEP = 2.0 ** -12


def cfg_with(**flat):
    """Return the defaults with ``{dotted name: value}`` overrides (dots spelt __)."""
    return config.build({name.replace('__', '.'): value for name, value in flat.items()})


def by_name(checks):
    return {check.name: check for check in checks}


def kinematic(plan, name, cfg=CFG):
    return by_name(plan_checks.kinematics(profile(plan, cfg.trajectory.min_segment_length),
                                          cfg))[name]


def judged(plan, now=STAMP, vehicle=Ego(ORIGIN, 0.0), previous=None, cfg=CFG):
    checks, prof = plan_checks.judge(plan, now, vehicle, previous, cfg)
    return by_name(checks), prof


def failing(checks):
    return {check.reason for check in checks.values() if not check.ok}


# ---------------------------------------------------------------- the wrapper's output

@pytest.mark.parametrize('variant', [ALPAMAYO_15, ALPAMAYO_2], ids=['1.5', '2-super'])
def test_the_wrappers_nominal_plans_pass_every_check(variant):
    plan = wrapper_plan(STAMP, lambda t: 0.5 + 0.2 * t / 6.4, lambda t: 0.2, variant)
    checks, prof = judged(plan, STAMP + 0.05, Ego(ORIGIN, 0.5))
    assert not failing(checks), [c for c in checks.values() if not c.ok]
    assert len(plan.points) == variant[0]
    assert plan.points[0][0] == pytest.approx(variant[1] * DT)
    assert checks['plan.points'].value == variant[0]


def test_speeds_are_recomputed_from_the_poses_as_the_wrapper_finite_differences_them():
    # The wrapper publishes distance / 0.1 s with 0 for the first point and zeroes
    # every other field; the event carries poses only, and the profile finds the
    # same speeds from them.
    plan = wrapper_plan(STAMP, lambda t: 0.3 + 0.1 * t, variant=ALPAMAYO_15)
    prof = profile(plan, CFG.trajectory.min_segment_length)
    assert prof.speed == pytest.approx(published_speeds(plan)[1:], abs=1e-12)
    assert published_speeds(plan)[0] == 0.0


def test_the_logged_backward_sweep_is_refused_on_every_count():
    # Logged: the rollout started 10.6 m behind the rear axle and swept 27 m back.
    lengths = [-27.0 / 63] * 63
    plan = polyline(lengths, [0.0] * 63, stamp=STAMP, first=DT, start=(-10.6, 0.0, 0.0))
    checks, _ = judged(plan, STAMP, Ego(ORIGIN, 0.0))
    assert {Reason.PLAN_START_FAR, Reason.PLAN_BEHIND_EGO, Reason.PLAN_BACKWARD_SWEEP,
            Reason.OVER_REVERSE_SPEED} <= failing(checks)
    assert checks['plan.behind'].value == pytest.approx(37.6)
    assert checks['plan.backward_sweep'].value == pytest.approx(27.0)


def test_overspeed_late_in_the_horizon_only_is_refused_now():
    speeds = [0.5] * 60 + [1.2] * 3
    plan = polyline([v * DT for v in speeds], [0.0] * 63, stamp=STAMP)
    checks, _ = judged(plan, STAMP, Ego(ORIGIN, 0.5))
    assert failing(checks) >= {Reason.OVER_SPEED}
    assert checks['plan.speed'].value == pytest.approx(1.2)
    assert checks['plan.start_speed'].ok


def test_lateral_acceleration_late_in_the_horizon_only_is_refused_now():
    turns = [0.0] * 55 + [0.3] * 8
    plan = polyline([0.08] * 63, turns, stamp=STAMP)
    checks, _ = judged(plan, STAMP, Ego(ORIGIN, 0.8))
    assert Reason.OVER_LATERAL_ACCEL in failing(checks)
    assert checks['plan.lateral_accel'].value == pytest.approx(0.8 * 3.0)


def test_nan_in_one_pose_stops_the_checks_after_the_structure():
    points = list(straight(0.5, stamp=STAMP).points)
    points[30] = (points[30][0], math.nan, points[30][2], points[30][3])
    checks, prof = judged(Plan(STAMP, 'base_link', tuple(points)))
    assert prof is None
    assert failing(checks) == {Reason.PLAN_NON_FINITE}
    assert checks['plan.finite'].value == [30]
    assert 'plan.speed' not in checks


def test_a_non_finite_stamp_is_named():
    checks, prof = judged(Plan(math.inf, 'base_link', straight(0.5).points))
    assert prof is None
    assert checks['plan.finite'].value == 'stamp'
    assert Reason.PLAN_STALE in failing(checks)


@pytest.mark.parametrize('times', [[0.0, 0.1, 0.3, 0.2], [0.0, 0.1, 0.1, 0.2]],
                         ids=['backwards', 'repeated'])
def test_time_from_start_must_increase_strictly(times):
    plan = Plan(STAMP, 'base_link', tuple((t, t, 0.0, 0.0) for t in times))
    checks, prof = judged(plan)
    assert prof is None
    assert not checks['plan.time_order'].ok
    assert checks['plan.time_order'].reason is Reason.PLAN_TIME_NOT_INCREASING


def test_a_plan_without_points_is_refused_for_its_size_only():
    checks, prof = judged(Plan(STAMP, 'base_link', ()))
    assert prof is None and failing(checks) == {Reason.PLAN_SIZE}


def test_each_check_records_what_it_measured_against_its_configured_limit():
    checks, _ = judged(straight(0.5, 64, stamp=STAMP, first=DT), STAMP + 0.25,
                       Ego(Pose(0.125, 0.0, 0.0), 0.5))
    traj, env = CFG.trajectory, CFG.envelope
    assert {name: check.limit for name, check in checks.items() if name != 'plan.horizon'} == {
        'plan.finite': 'finite', 'plan.points': [traj.min_points, traj.max_points],
        'plan.time_order': '> 0', 'plan.spacing': traj.dt_tolerance,
        'plan.first_time': [0.0, traj.dt + traj.dt_tolerance], 'plan.frame': traj.frame_id,
        'plan.age': traj.max_age, 'plan.future': CFG.future_tolerance,
        'plan.speed': env.max_linear_speed, 'plan.reverse_speed': env.max_reverse_speed,
        'plan.accel': env.max_linear_accel, 'plan.decel': env.max_linear_decel,
        'plan.jerk': traj.max_jerk, 'plan.yaw_rate': env.max_angular_speed,
        'plan.lateral_accel': env.max_lateral_accel, 'plan.curvature': traj.max_curvature,
        'plan.kink': traj.max_kink_angle, 'plan.interval': traj.max_interval,
        'plan.start': traj.start_tolerance, 'plan.heading': traj.heading_tolerance,
        'plan.start_speed': traj.speed_tolerance, 'plan.behind': traj.max_behind,
        'plan.backward_sweep': traj.max_behind}
    assert checks['plan.finite'].value is None
    measured = [checks[name].value for name in (
        'plan.points', 'plan.time_order', 'plan.first_time', 'plan.age', 'plan.future')]
    assert measured == pytest.approx([64, DT, DT, 0.25, -0.25])


def test_a_single_point_cannot_be_measured():
    checks, prof = judged(Plan(STAMP, 'base_link', ((0.0, 0.0, 0.0, 0.0),)))
    assert prof is None
    assert failing(checks) == {Reason.PLAN_SIZE}


def test_without_the_vehicle_in_the_plans_frame_the_plan_cannot_be_placed():
    checks, _ = judged(straight(0.5, stamp=STAMP), vehicle=None)
    assert failing(checks) == {Reason.PLAN_EGO_UNKNOWN}
    assert 'plan.horizon' not in checks


# ---------------------------------------------------------------- structure limits

def structure(plan, now=STAMP, cfg=CFG):
    return by_name(plan_checks.structure(plan, now, cfg))


@pytest.mark.parametrize('count, ok', [(19, False), (20, True), (64, True), (65, False)])
def test_point_count_bounds_are_inclusive(count, ok):
    cfg = cfg_with(trajectory__min_points=20, trajectory__max_points=64)
    assert structure(straight(0.5, count, stamp=STAMP), cfg=cfg)['plan.points'].ok is ok


# Dyadic spacing and tolerance: every interval and deviation is exact in binary.
SPACED = cfg_with(trajectory__dt=0.25, trajectory__dt_tolerance=0.125)


@pytest.mark.parametrize('interval, ok', [(0.375, True), (0.125, True),
                                          (0.375 + STEP, False), (0.125 - STEP, False)])
def test_spacing_tolerance_is_inclusive(interval, ok):
    times = [0.0, 0.25, 0.25 + interval, 0.5 + interval]
    plan = Plan(STAMP, 'base_link', tuple((t, 0.0, 0.0, 0.0) for t in times))
    assert structure(plan, cfg=SPACED)['plan.spacing'].ok is ok


@pytest.mark.parametrize('first, ok', [(0.0, True), (0.375, True), (0.375 + STEP, False),
                                       (-STEP, False)])
def test_the_first_point_starts_at_the_stamp_or_one_interval_after(first, ok):
    plan = Plan(STAMP, 'base_link', tuple((first + 0.25 * i, 0.0, 0.0, 0.0) for i in range(4)))
    check = structure(plan, cfg=SPACED)['plan.first_time']
    assert check.ok is ok and check.reason is Reason.PLAN_SPACING


def test_the_frame_must_be_the_configured_ego_frame():
    plan = Plan(STAMP, 'map', straight(0.5).points)
    check = structure(plan)['plan.frame']
    assert not check.ok and check.value == 'map' and check.limit == 'base_link'


@pytest.mark.parametrize('age, ok', [(1.0, True), (1.0 + STEP, False)])
def test_max_age_is_inclusive(age, ok):
    check = structure(straight(0.5, stamp=STAMP), now=STAMP + age)['plan.age']
    assert check.ok is ok and check.reason is Reason.PLAN_STALE


@pytest.mark.parametrize('ahead, ok', [(0.0625, True), (0.0625 + STEP, False)])
def test_a_stamp_in_the_future_is_refused_beyond_the_tolerance(ahead, ok):
    cfg = cfg_with(future_tolerance=0.0625)
    check = structure(straight(0.5, stamp=STAMP + ahead), now=STAMP, cfg=cfg)['plan.future']
    assert check.ok is ok and check.reason is Reason.STAMP_IN_FUTURE


# ---------------------------------------------------------------- kinematic limits

def at_and_beyond(limit):
    return [(limit * AT, True), (limit * BEYOND, False)]


def constant(length, turn, count=20):
    return polyline([length] * (count - 1), [turn] * (count - 1))


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.envelope.max_linear_speed))
def test_speed(value, ok):
    assert kinematic(constant(value * DT, 0.0), 'plan.speed').ok is ok


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.envelope.max_reverse_speed))
def test_reverse_speed(value, ok):
    check = kinematic(constant(-value * DT, 0.0), 'plan.reverse_speed')
    assert check.ok is ok and check.value == pytest.approx(value)


def speed_ramp(rate, v0=0.5, count=20):
    """Segment speeds v0 + rate * (segment midpoint time): the rate is exact."""
    return polyline([(v0 + rate * (i + 0.5) * DT) * DT for i in range(count - 1)],
                    [0.0] * (count - 1))


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.envelope.max_linear_accel))
def test_acceleration(value, ok):
    assert kinematic(speed_ramp(value), 'plan.accel').ok is ok


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.envelope.max_linear_decel))
def test_deceleration(value, ok):
    check = kinematic(speed_ramp(-value, v0=2.0, count=10), 'plan.decel')
    assert check.ok is ok and check.reason is Reason.PLAN_OVER_DECEL


def test_slowing_in_reverse_is_deceleration():
    plan = polyline([-(0.3 - 0.5 * (i + 0.5) * DT) * DT for i in range(5)], [0.0] * 5)
    assert kinematic(plan, 'plan.decel').value == pytest.approx(0.5)
    assert kinematic(plan, 'plan.accel').value == 0.0


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.max_jerk))
def test_jerk(value, ok):
    # Position value * t^3 / 6: every third difference is exactly value.
    times = [i * DT for i in range(12)]
    plan = Plan(STAMP, 'base_link', tuple((t, value * t ** 3 / 6.0, 0.0, 0.0)
                                          for t in times))
    check = kinematic(plan, 'plan.jerk', cfg_with(envelope__max_linear_accel=50.0))
    assert check.ok is ok and check.value == pytest.approx(value)


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.envelope.max_angular_speed))
def test_yaw_rate(value, ok):
    assert kinematic(constant(0.05, value * DT), 'plan.yaw_rate').ok is ok


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.envelope.max_lateral_accel))
def test_lateral_acceleration(value, ok):
    speed = 0.8
    check = kinematic(constant(speed * DT, value / speed * DT), 'plan.lateral_accel')
    assert check.ok is ok and check.reason is Reason.OVER_LATERAL_ACCEL


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.max_curvature))
def test_curvature_above_the_models_declared_bound(value, ok):
    check = kinematic(constant(0.05, value * 0.05), 'plan.curvature')
    assert check.ok is ok and check.value == pytest.approx(value)


def test_curvature_of_a_segment_without_direction_is_not_judged():
    # A plan standing still and turning: the turn is a yaw rate, not a curvature.
    plan = constant(0.001, 0.05)
    assert kinematic(plan, 'plan.curvature').value == 0.0
    assert kinematic(plan, 'plan.yaw_rate').value == pytest.approx(0.5)


def kinked(angle):
    """Straight along x, then straight at ``angle``; poses face where they go."""
    points = [(i * DT, 0.05 * i, 0.0, 0.0) for i in range(6)]
    x0 = points[-1][1]
    points += [((6 + i) * DT, x0 + 0.05 * (i + 1) * math.cos(angle),
                0.05 * (i + 1) * math.sin(angle), angle) for i in range(5)]
    return Plan(STAMP, 'base_link', tuple(points))


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.max_kink_angle))
def test_a_kink(value, ok):
    check = kinematic(kinked(value), 'plan.kink')
    assert check.ok is ok and check.value == pytest.approx(value)


def test_a_cusp_is_a_kink():
    lengths = [0.05] * 5 + [-0.05] * 5
    assert kinematic(polyline(lengths, [0.0] * 10), 'plan.kink').value == pytest.approx(
        math.pi)


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.max_interval))
def test_largest_interval(value, ok):
    plan = polyline([0.05, value, 0.05], [0.0] * 3)
    assert kinematic(plan, 'plan.interval').ok is ok


def test_every_kinematic_check_measures_the_whole_horizon():
    # The worst segment is the last one for each measure.
    plan = polyline([0.05] * 18 + [0.2], [0.0] * 18 + [0.1])
    checks = by_name(plan_checks.kinematics(profile(plan, 0.01), CFG))
    assert checks['plan.speed'].value == pytest.approx(2.0)
    assert checks['plan.yaw_rate'].value == pytest.approx(1.0)
    assert checks['plan.interval'].value == pytest.approx(0.2)


# ---------------------------------------------------------------- the vehicle

def ego(plan, vehicle, age=0.5, cfg=CFG):
    prof = profile(plan, cfg.trajectory.min_segment_length)
    return by_name(plan_checks.ego(prof, age, vehicle, cfg))


PLAN = straight(0.5, stamp=STAMP)   # the point for now (age 0.5) is (0.25, 0) facing +x at 0.5 m/s


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.start_tolerance))
def test_the_point_for_now_near_the_vehicle(value, ok):
    check = ego(PLAN, Ego(Pose(0.25, value, 0.0), 0.5))['plan.start']
    assert check.ok is ok and check.value == pytest.approx(value)


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.heading_tolerance))
def test_the_heading_of_the_point_for_now(value, ok):
    check = ego(PLAN, Ego(Pose(0.25, 0.0, -value), 0.5))['plan.heading']
    assert check.ok is ok and check.reason is Reason.PLAN_HEADING_DEVIATION


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.speed_tolerance))
def test_the_speed_of_the_point_for_now(value, ok):
    check = ego(PLAN, Ego(Pose(0.25, 0.0, 0.0), 0.5 + value))['plan.start_speed']
    assert check.ok is ok and check.reason is Reason.PLAN_SPEED_DEVIATION


def test_the_motion_since_the_stamp_is_compensated():
    # Odometry: at the stamp the vehicle was at (3, 1) facing +y; now it is 0.25 m
    # further along. In the plan's frame that is the plan's point for now.
    at_stamp, now = Pose(3.0, 1.0, math.pi / 2), Pose(3.0, 1.25, math.pi / 2)
    vehicle = Ego(relative_pose(at_stamp, now), 0.5)
    checks = ego(PLAN, vehicle)
    assert checks['plan.start'].value == pytest.approx(0.0, abs=1e-12)
    assert checks['plan.heading'].value == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.max_behind))
def test_nothing_still_to_come_far_behind_the_vehicle(value, ok):
    plan = polyline([-value / 10] * 10, [0.0] * 10)
    check = ego(plan, Ego(ORIGIN, 0.0), age=0.0)['plan.behind']
    assert check.ok is ok and check.value == pytest.approx(value)


def test_points_already_passed_are_not_behind():
    # Three seconds into a 1 m/s plan the first points lie 3 m behind: they are past.
    plan = straight(1.0)
    checks = ego(plan, Ego(Pose(3.0, 0.0, 0.0), 1.0), age=3.0)
    assert checks['plan.behind'].value == 0.0


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.backward_tolerance))
def test_no_backward_sweep_when_reversing_is_forbidden(value, ok):
    cfg = cfg_with(envelope__max_reverse_speed=0.0)
    plan = polyline([0.05] * 5 + [-value / 2] * 2, [0.0] * 7)
    check = ego(plan, Ego(ORIGIN, 0.0), age=0.0, cfg=cfg)['plan.backward_sweep']
    assert check.ok is ok and check.value == pytest.approx(value)


def test_with_reversing_allowed_a_sweep_is_bounded_by_max_behind():
    plan = polyline([-0.03] * 60, [0.0] * 60)
    check = ego(plan, Ego(ORIGIN, 0.0), age=0.0)['plan.backward_sweep']
    assert check.ok and check.limit == CFG.trajectory.max_behind
    assert check.value == pytest.approx(1.8)


# ---------------------------------------------------------------- the previous plan

def shift(new, previous, offset=ORIGIN, gap=0.0, age=0.5, cfg=CFG, stopping=False):
    prof = profile(new, cfg.trajectory.min_segment_length)
    before = Previous(profile(previous, cfg.trajectory.min_segment_length), STAMP - gap,
                      offset, stopping)
    return by_name(plan_checks.shift(prof, STAMP, age, before, cfg))


def moved(plan, dx=0.0, dy=0.0):
    return Plan(plan.stamp, plan.frame_id,
                tuple((t, x + dx, y + dy, yaw) for t, x, y, yaw in plan.points))


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.max_lateral_shift))
def test_lateral_shift_over_the_common_horizon(value, ok):
    check = shift(moved(PLAN, dy=value), PLAN)['plan.shift_lateral']
    assert check.ok is ok and check.value == pytest.approx(value)
    assert check.limit == CFG.trajectory.max_lateral_shift


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.max_forward_shift))
def test_forward_shift_of_the_point_for_now(value, ok):
    check = shift(moved(PLAN, dx=value), PLAN)['plan.shift_forward']
    assert check.ok is ok and check.value == pytest.approx(value)
    assert check.limit == CFG.trajectory.max_forward_shift


@pytest.mark.parametrize('value, ok', at_and_beyond(CFG.trajectory.max_backward_shift))
def test_backward_shift_of_the_point_for_now(value, ok):
    check = shift(moved(PLAN, dx=-value), PLAN)['plan.shift_backward']
    assert check.ok is ok and check.reason is Reason.PLAN_SHIFT
    assert check.limit == CFG.trajectory.max_backward_shift


def test_a_plan_flipping_to_another_route_loses_authority():
    left = polyline([0.08] * 63, [0.02] * 63)
    right = polyline([0.08] * 63, [-0.02] * 63)
    checks = shift(right, left)
    assert not checks['plan.shift_lateral'].ok
    assert checks['plan.shift_forward'].ok and checks['plan.shift_backward'].ok


def test_the_same_plan_from_a_later_frame_has_not_shifted():
    # 1 s later the vehicle is 0.5 m along; its new plan is the old one re-drawn
    # from there, so over the common 5.3 s nothing moved.
    later = polyline([0.05] * 63, [0.0] * 63, start=(0.0, 0.0, 0.0))
    checks = shift(later, PLAN, offset=Pose(0.5, 0.0, 0.0), gap=1.0, age=0.2)
    assert all(check.ok for check in checks.values())
    assert checks['plan.shift_lateral'].value == pytest.approx(0.0, abs=1e-12)
    assert checks['plan.shift_forward'].value == pytest.approx(0.0, abs=1e-12)
    assert checks['plan.shift_backward'].value == pytest.approx(0.0, abs=1e-12)


def test_points_beyond_either_end_of_the_previous_path_are_not_judged_laterally():
    # Over their common time a faster plan reaches past the previous path's end,
    # and a plan driving off runs away from a plan that stood still: neither
    # point has a place on the previous path to be beside.
    faster = shift(straight(0.9, 64), straight(0.5, 64), age=0.0)
    assert faster['plan.shift_lateral'].ok
    assert faster['plan.shift_lateral'].value == pytest.approx(0.0, abs=1e-12)
    driving_off = shift(straight(0.5, 64), straight(0.0, 64), age=0.0)
    assert driving_off['plan.shift_lateral'].value == pytest.approx(0.0, abs=1e-12)


# A previous path of two 1 m segments, (0, 0) -> (1, 0) -> (1, 1), a left turn
# on the spot, over 2 s.
CORNER = Plan(STAMP, 'base_link', ((0.0, 0.0, 0.0, 0.0), (1.0, 1.0, 0.0, 0.0),
                                   (2.0, 1.0, 1.0, math.pi / 2)))


def lateral_from_corner(x, y, t=0.5, on_path_t=1.5):
    """Return the lateral shift of a new plan: a point at (x, y) at time t, one on the path."""
    points = sorted([(t, x, y, 0.0), (on_path_t, 0.5, 0.0, 0.0)])
    return shift(Plan(STAMP, 'base_link', tuple(points)), CORNER, age=0.0)['plan.shift_lateral']


@pytest.mark.parametrize('x, y, distance', [
    (0.0, -0.3, 0.3),   # beside the start, on its perpendicular: not before it
    (0.5, -0.3, 0.3),   # beside the first segment
    (1.3, 1.0, 0.3),    # beside the end, on its perpendicular: not beyond it
    (1.3, 0.5, 0.3),    # beside the last segment
    (1.5, 0.3, 0.5),    # outside the turn: to the second segment, not the first one's extension
    (1.0, 1.5, 0.0),    # beyond the end, by half a segment: not beside the path
    (-0.5, 0.0, 0.0),   # before the start
], ids=['start', 'first', 'end', 'last', 'corner', 'beyond', 'before'])
def test_the_lateral_shift_is_the_distance_to_the_previous_path_from_its_start_to_its_end(
        x, y, distance):
    check = lateral_from_corner(x, y)
    assert check.value == pytest.approx(distance, abs=1e-12)


@pytest.mark.parametrize('t', [0.0, 2.0], ids=['first', 'last'])
def test_the_common_horizon_includes_both_ends_of_the_previous_plan(t):
    # A new point 0.3 m beside the path at the previous plan's first or last time.
    check = lateral_from_corner(0.5, -0.3, t=t, on_path_t=1.0)
    assert check.value == pytest.approx(0.3, abs=1e-12)


def test_while_stopping_only_the_lateral_shift_is_judged():
    # The gate stops along the previous plan, so the vehicle falls behind it;
    # a planner resuming from where the vehicle is must not be refused for that.
    behind = moved(PLAN, dx=-2.0)
    checks = shift(behind, PLAN, stopping=True)
    assert set(checks) == {'plan.shift_lateral'} and checks['plan.shift_lateral'].ok
    assert not shift(moved(PLAN, dy=1.0), PLAN, stopping=True)['plan.shift_lateral'].ok


def test_plans_without_a_common_horizon_are_not_compared():
    assert shift(PLAN, straight(0.5, 10), gap=5.0) == {}


def test_judge_compares_with_the_previous_plan_when_given():
    prof = profile(PLAN, 0.01)
    checks, _ = judged(moved(PLAN, dy=1.0), STAMP + 0.5, Ego(Pose(0.25, 0.0, 0.0), 0.5),
                       Previous(prof, STAMP, ORIGIN))
    assert failing(checks) == {Reason.PLAN_SHIFT}


# ---------------------------------------------------------------- the horizon

def test_a_plan_too_short_to_stop_on_is_refused():
    plan = straight(0.9, 20, stamp=STAMP)
    assert judged(plan, STAMP, Ego(ORIGIN, 0.9))[0]['plan.horizon'].ok
    late, _ = judged(plan, STAMP + 0.625, Ego(Pose(0.5625, 0.0, 0.0), 0.9))
    assert failing(late) == {Reason.PLAN_HORIZON_SHORT}


def test_vectorised_profile_matches_a_loop():
    plan = wrapper_plan(STAMP, lambda t: 0.5 + 0.1 * math.sin(t), lambda t: 0.1 * t)
    prof = profile(plan, 0.01)
    for i, ((t0, x0, y0, _), (t1, x1, y1, _)) in enumerate(zip(plan.points, plan.points[1:])):
        assert prof.speed[i] == pytest.approx(math.dist((x0, y0), (x1, y1)) / (t1 - t0))
    assert np.all(np.diff(prof.arc) >= 0.0)


# ---------------------------------------------------------------- every limit is inclusive

def _kinematic_at(plan, name):
    return lambda cfg: kinematic(plan, name, cfg)


def _ego_at(plan, vehicle, name, age=0.5):
    return lambda cfg: ego(plan, vehicle, age, cfg)[name]


def _shift_at(new, name):
    return lambda cfg: shift(new, PLAN, cfg=cfg)[name]


TURNING = polyline([0.06] * 20, [0.012] * 20)
FORBIDDEN = {'envelope.max_reverse_speed': 0.0}
LIMITED = {
    # check: (the parameter that is its limit, the check measured under a config[,
    # the other parameters it is measured with])
    'plan.backward_sweep': ('trajectory.backward_tolerance', lambda cfg: ego(
        polyline([0.05, -0.01, -0.02], [0.0] * 3), Ego(ORIGIN, 0.0), 0.0, cfg)[
            'plan.backward_sweep'], FORBIDDEN),
    'plan.speed': ('envelope.max_linear_speed', _kinematic_at(TURNING, 'plan.speed')),
    'plan.reverse_speed': ('envelope.max_reverse_speed',
                           _kinematic_at(constant(-0.02, 0.0), 'plan.reverse_speed')),
    'plan.accel': ('envelope.max_linear_accel', _kinematic_at(speed_ramp(0.7), 'plan.accel')),
    'plan.decel': ('envelope.max_linear_decel',
                   _kinematic_at(speed_ramp(-1.5, v0=2.0, count=10), 'plan.decel')),
    'plan.jerk': ('trajectory.max_jerk', _kinematic_at(
        Plan(STAMP, 'base_link', tuple((i * DT, 0.5 * (i * DT) ** 3, 0.0, 0.0)
                                       for i in range(8))), 'plan.jerk')),
    'plan.yaw_rate': ('envelope.max_angular_speed', _kinematic_at(TURNING, 'plan.yaw_rate')),
    'plan.lateral_accel': ('envelope.max_lateral_accel',
                           _kinematic_at(TURNING, 'plan.lateral_accel')),
    'plan.curvature': ('trajectory.max_curvature', _kinematic_at(TURNING, 'plan.curvature')),
    'plan.kink': ('trajectory.max_kink_angle', _kinematic_at(kinked(0.3), 'plan.kink')),
    'plan.interval': ('trajectory.max_interval', _kinematic_at(TURNING, 'plan.interval')),
    'plan.start': ('trajectory.start_tolerance',
                   _ego_at(PLAN, Ego(Pose(0.1, 0.7, 0.0), 0.5), 'plan.start')),
    'plan.heading': ('trajectory.heading_tolerance',
                     _ego_at(PLAN, Ego(Pose(0.25, 0.0, 0.3), 0.5), 'plan.heading')),
    'plan.start_speed': ('trajectory.speed_tolerance',
                         _ego_at(PLAN, Ego(Pose(0.25, 0.0, 0.0), 0.2), 'plan.start_speed')),
    'plan.behind': ('trajectory.max_behind', _ego_at(
        polyline([-0.07] * 10, [0.0] * 10), Ego(ORIGIN, 0.0), 'plan.behind', age=0.0)),
    'plan.shift_lateral': ('trajectory.max_lateral_shift',
                           _shift_at(moved(PLAN, dy=0.3), 'plan.shift_lateral')),
    'plan.shift_forward': ('trajectory.max_forward_shift',
                           _shift_at(moved(PLAN, dx=0.3), 'plan.shift_forward')),
    'plan.shift_backward': ('trajectory.max_backward_shift',
                            _shift_at(moved(PLAN, dx=-0.3), 'plan.shift_backward')),
    'plan.age': ('trajectory.max_age',
                 lambda cfg: structure(PLAN, STAMP + 0.3, cfg)['plan.age']),
    'plan.spacing': ('trajectory.dt_tolerance', lambda cfg: structure(
        Plan(STAMP, 'base_link', ((0.0, 0, 0, 0), (0.13, 0, 0, 0))), cfg=cfg)['plan.spacing']),
}


@pytest.mark.parametrize('name', sorted(LIMITED))
def test_a_value_exactly_on_its_limit_passes_and_the_next_float_below_fails(name):
    parameter, measure, *others = LIMITED[name]
    base = others[0] if others else {}
    value = measure(config.build(base)).value
    assert value > 0.0
    assert measure(config.build({**base, parameter: value})).ok
    assert not measure(config.build({**base, parameter: math.nextafter(value, 0.0)})).ok


def test_the_first_point_limit_is_reported():
    assert structure(straight(0.5, stamp=STAMP))['plan.first_time'].limit == [
        0.0, CFG.trajectory.dt + CFG.trajectory.dt_tolerance]


@pytest.mark.parametrize('sign', [1.0, -1.0])
def test_the_heading_deviation_counts_either_way(sign):
    value = CFG.trajectory.heading_tolerance * BEYOND
    turning = polyline([0.05] * 20, [0.02] * 20)
    yaw = plan_checks.sample(profile(turning, 0.01), 0.5).yaw
    check = ego(turning, Ego(Pose(0.25, 0.0, yaw + sign * value), 0.5))['plan.heading']
    assert not check.ok and check.value == pytest.approx(value)


def test_behind_is_measured_in_the_vehicles_own_frame():
    # The vehicle at (1, 2) facing 2 rad; the plan backs 2 m away from there.
    vehicle = Ego(Pose(1.0, 2.0, 2.0), 0.0)
    plan = polyline([-0.2] * 10, [0.0] * 10, start=(1.0, 2.0, 2.0))
    checks = ego(plan, vehicle, age=0.0)
    assert checks['plan.behind'].value == pytest.approx(2.0)
    assert checks['plan.start'].value == pytest.approx(0.0, abs=1e-12)


def test_a_two_point_plan_is_measured():
    checks, prof = judged(straight(0.5, 2, stamp=STAMP), vehicle=Ego(ORIGIN, 0.5))
    assert prof is not None and 'plan.speed' in checks


def redrawn(plan, origin):
    """Return ``plan`` drawn in the frame whose origin is ``origin`` (in ``plan``'s frame)."""
    points = []
    for t, x, y, yaw in plan.points:
        pose = relative_pose(origin, Pose(x, y, yaw))
        points.append((t, pose.x, pose.y, pose.yaw))
    return Plan(plan.stamp, plan.frame_id, tuple(points))


DIAGONAL = polyline([0.05] * 63, [0.0] * 63, stamp=STAMP, start=(0.0, 0.0, 0.5))


def test_the_shift_is_measured_after_the_frame_change():
    # The same diagonal path, re-drawn from a frame turned and moved since.
    offset = Pose(0.3, 0.2, 0.7)
    checks = shift(redrawn(DIAGONAL, offset), DIAGONAL, offset=offset)
    checks_before = shift(DIAGONAL, DIAGONAL)
    for name in ('plan.shift_lateral', 'plan.shift_forward', 'plan.shift_backward'):
        assert checks_before[name].value == pytest.approx(0.0, abs=1e-12)
    assert checks['plan.shift_lateral'].value == pytest.approx(0.0, abs=1e-9)


def test_a_lateral_shift_of_a_diagonal_path():
    # 0.4 m to the side and half a segment on, so each foot lies inside a segment.
    normal, along = (-math.sin(0.5), math.cos(0.5)), (math.cos(0.5), math.sin(0.5))
    new = moved(Plan(STAMP, 'base_link', DIAGONAL.points[:-1]),
                0.4 * normal[0] + 0.025 * along[0], 0.4 * normal[1] + 0.025 * along[1])
    checks = by_name(plan_checks.shift(profile(new, 0.01), STAMP, 0.5,
                                       Previous(profile(DIAGONAL, 0.01), STAMP, ORIGIN), CFG))
    assert checks['plan.shift_lateral'].value == pytest.approx(0.4)
    assert checks['plan.shift_forward'].value == pytest.approx(0.025)


def test_an_along_track_shift_of_a_diagonal_path():
    along = (math.cos(0.5), math.sin(0.5))
    new = moved(DIAGONAL, -0.4 * along[0], -0.4 * along[1])
    checks = by_name(plan_checks.shift(profile(new, 0.01), STAMP, 0.5,
                                       Previous(profile(DIAGONAL, 0.01), STAMP, ORIGIN), CFG))
    assert checks['plan.shift_backward'].value == pytest.approx(0.4)
    assert checks['plan.shift_forward'].value == 0.0


def test_only_the_common_horizon_is_compared():
    # The previous plan ends 0.9 s after its stamp; the new one, 0.5 s later,
    # turns away after that: what the previous plan never covered is free.
    previous = straight(0.5, 10)
    new = polyline([0.05] * 4 + [0.05] * 40, [0.0] * 4 + [0.05] * 40)
    checks = shift(new, previous, offset=Pose(0.25, 0.0, 0.0), gap=0.5, age=0.1)
    assert checks['plan.shift_lateral'].ok
    assert checks['plan.shift_lateral'].value == pytest.approx(0.0, abs=1e-9)


def test_the_time_between_the_stamps_aligns_the_plans():
    # 0.5 s later the vehicle is 0.25 m on and the planner continues the same
    # plan from there: its time 0 is the previous plan's 0.5 s.
    later = Plan(STAMP, 'base_link', tuple((t - 0.5, x - 0.25, y, yaw)
                                           for t, x, y, yaw in PLAN.points if t >= 0.45))
    checks = shift(later, PLAN, offset=Pose(0.25, 0.0, 0.0), gap=0.5, age=0.5)
    assert checks['plan.shift_forward'].value == pytest.approx(0.0, abs=1e-9)
    assert checks['plan.shift_backward'].value == pytest.approx(0.0, abs=1e-9)


def test_reversing_is_read_from_the_heading_of_the_poses():
    backing = polyline([-0.05] * 10, [0.0] * 10, start=(0.0, 0.0, 2.0))
    assert np.all(profile(backing, 0.01).speed == pytest.approx(-0.5))
    sharp = polyline([0.05], [2.5])
    assert profile(sharp, 0.01).speed[0] == pytest.approx(0.5)


def one_segment(heading, turn, off):
    """Return a plan of one 5 cm segment ``off`` rad from the heading halfway along it."""
    direction = heading + off
    return Plan(STAMP, 'base_link', (
        (0.0, 0.0, 0.0, heading - turn / 2.0),
        (DT, 0.05 * math.cos(direction), 0.05 * math.sin(direction), heading + turn / 2.0)))


@pytest.mark.parametrize('plan, forward', [
    (one_segment(math.pi / 3, 0.3, math.radians(88.0)), True),
    (one_segment(math.pi / 3, 0.3, math.radians(92.0)), False),
    # Straight across the heading, exactly: not against it.
    (Plan(STAMP, 'base_link', ((0.0, 0.0, 0.0, 0.0), (DT, 0.0, 0.05, 0.0))), True),
], ids=['88 deg', '92 deg', '90 deg'])
def test_a_segment_reverses_when_it_runs_against_the_heading_halfway_along_it(plan, forward):
    speed = profile(plan, 0.01).speed[0]
    assert speed == pytest.approx(0.5 if forward else -0.5)


def test_a_u_turn_drives_forward_all_the_way():
    # Each segment is judged against its own heading, not the first one.
    u_turn = polyline([0.05] * 63, [0.05] * 63)
    assert np.all(profile(u_turn, 0.01).speed == pytest.approx(0.5))


@pytest.mark.parametrize('length, directed', [(0.01, True), (math.nextafter(0.01, 0.0), False)])
def test_a_segment_has_a_direction_from_min_segment_length_on(length, directed):
    plan = Plan(STAMP, 'base_link', ((0.0, 0.0, 0.0, 0.0), (DT, length, 0.0, 0.02)))
    prof = profile(plan, 0.01)
    assert prof.directed[0] == directed
    assert prof.curvature[0] == (pytest.approx(0.02 / length) if directed else 0.0)


@pytest.mark.parametrize('value, segment', [
    (-1.0, 0), (0.0, 0), (0.5, 0), (1.0, 1), (2.5, 2), (3.0, 2), (9.0, 2)])
def test_a_knot_starts_its_segment_and_the_ends_hold_the_outer_segments(value, segment):
    assert segment_at(np.array([0.0, 1.0, 2.0, 3.0]), value) == segment


# ---------------------------------------------------------------- ego motion

def test_relative_pose_is_the_pose_seen_from_the_origin():
    seen = relative_pose(Pose(1.0, 2.0, math.pi / 2), Pose(1.0, 3.0, math.pi))
    assert (seen.x, seen.y, seen.yaw) == pytest.approx((1.0, 0.0, math.pi / 2))


def test_the_odometry_history_is_interpolated_and_never_extrapolated():
    history = [(10.0, Pose(0.0, 0.0, math.pi - 0.1)), (11.0, Pose(1.0, 2.0, -math.pi + 0.1))]
    middle = pose_at(history, 10.5)
    assert (middle.x, middle.y) == pytest.approx((0.5, 1.0))
    assert abs(middle.yaw) == pytest.approx(math.pi)
    assert pose_at(history, 10.25).yaw == pytest.approx(math.pi - 0.05)
    start = pose_at(history, 10.0)
    assert (start.x, start.y, start.yaw) == pytest.approx((0.0, 0.0, math.pi - 0.1))
    assert pose_at(history, 9.9) is None and pose_at(history, 11.1) is None
    assert pose_at([], 10.0) is None
    end = pose_at(history, 11.0)
    assert (end.x, end.y, end.yaw) == pytest.approx((1.0, 2.0, -math.pi + 0.1))


def test_a_long_history_is_interpolated_between_the_two_samples_around_the_time():
    # 512 samples, as the core keeps: each time lies between its own two neighbours.
    history = [(10.0 + k * 0.02, Pose(float(k), float(k * k), 0.0)) for k in range(512)]
    for k in range(511):
        exact = pose_at(history, 10.0 + k * 0.02)
        assert (exact.x, exact.y) == (float(k), float(k * k)), k
        between = pose_at(history, 10.0 + k * 0.02 + 0.005)
        assert between.x == pytest.approx(k + 0.25), k
        assert between.y == pytest.approx(k * k + 0.25 * (2 * k + 1)), k


def test_at_the_oldest_stamp_the_oldest_sample_is_given_even_when_its_stamp_repeats():
    # A driver that republishes sends two samples with one stamp; at the
    # window's start the answer is the oldest sample, never a division by zero.
    oldest, repeated = Pose(0.0, 0.0, 0.0), Pose(1.0, 2.0, 0.5)
    for history in ([(10.0, oldest), (10.0, repeated)],
                    [(10.0, oldest), (10.0, repeated), (11.0, Pose(3.0, 3.0, 1.0))]):
        start = pose_at(history, 10.0)
        assert (start.x, start.y, start.yaw) == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)


def test_a_time_just_after_the_newest_odometry_holds_the_newest_pose():
    history = [(10.0, Pose(0.0, 0.0, 0.0)), (11.0, Pose(1.0, 2.0, 0.5))]
    held = pose_at(history, 11.2, hold=0.25)
    assert (held.x, held.y, held.yaw) == (1.0, 2.0, 0.5)
    assert pose_at(history, 11.3, hold=0.25) is None
    assert pose_at(history, 9.9, hold=0.25) is None  # never before the oldest
    placed = vehicle_in_plan_frame(history, 11.1, Pose(1.0, 2.0, 0.5), hold=0.25)
    assert (placed.x, placed.y, placed.yaw) == (0.0, 0.0, 0.0)
    # Without a hold nothing after the newest sample is placed.
    assert pose_at(history, 11.1) is None
    assert vehicle_in_plan_frame(history, 11.1, Pose(1.0, 2.0, 0.5)) is None


def test_the_vehicle_is_placed_in_the_plans_frame_from_odometry():
    history = [(10.0, Pose(5.0, 5.0, math.pi / 2)), (10.5, Pose(5.0, 5.5, math.pi / 2))]
    now = Pose(5.0, 6.0, math.pi / 2)
    placed = vehicle_in_plan_frame(history, 10.25, now)
    assert (placed.x, placed.y, placed.yaw) == pytest.approx((0.75, 0.0, 0.0))
    assert vehicle_in_plan_frame(history, 9.0, now) is None


def test_a_previous_plan_standing_still_still_measures_a_finite_shift():
    previous = polyline([0.05] * 10 + [0.0] * 10, [0.0] * 20, stamp=STAMP)
    new = moved(previous, dy=0.2)
    checks = shift(new, previous)
    assert checks['plan.shift_lateral'].value == pytest.approx(0.2)
