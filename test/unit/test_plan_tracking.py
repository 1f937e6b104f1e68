# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The tracking law (time-indexed speed and curvature, w = v * curvature) and the stop reserve."""

import math

from harness.plans import ALPAMAYO_15, DT, polyline, straight, wrapper_plan
from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from safety_gate import config, plan_tracking
from safety_gate.decision import Reason
from safety_gate.events import Plan
from safety_gate.plan_fallback import stopping
from safety_gate.plan_profile import profile, value_at

CFG = config.GateConfig()
DELAY = CFG.trajectory.actuation_delay


def prof_of(plan):
    return profile(plan, CFG.trajectory.min_segment_length)


def test_the_sample_interpolates_the_pose_between_points():
    prof = prof_of(straight(0.5))
    point = plan_tracking.sample(prof, 0.25)
    assert (point.x, point.y, point.yaw) == pytest.approx((0.125, 0.0, 0.0))
    assert point.speed == pytest.approx(0.5)


def test_the_sample_holds_the_ends_outside_the_plan():
    plan = straight(0.5, 10, first=DT)
    prof = prof_of(plan)
    assert plan_tracking.sample(prof, 0.0).x == pytest.approx(plan.points[0][1])
    assert plan_tracking.sample(prof, 99.0).x == pytest.approx(plan.points[-1][1])


def test_the_heading_is_interpolated_across_the_wrap():
    plan = polyline([0.05, 0.05], [0.2, 0.2], start=(0.0, 0.0, math.pi - 0.1))
    point = plan_tracking.sample(prof_of(plan), 1.5 * DT)
    assert point.yaw == pytest.approx(-math.pi + 0.2)


def test_the_command_is_the_plan_an_actuation_delay_ahead():
    # Speeds 0.5 + 0.5 t at the segment midpoints: the command at age a is 0.5 + 0.5 (a + delay).
    plan = polyline([(0.5 + 0.5 * (i + 0.5) * DT) * DT for i in range(40)], [0.0] * 40)
    for age in (0.0, 0.73, 2.0):
        cmd = plan_tracking.command(prof_of(plan), age, CFG)
        assert cmd.v == pytest.approx(0.5 + 0.5 * (age + DELAY))
        assert cmd.w == 0.0


def test_w_is_v_times_the_curvature_which_is_the_plans_yaw_rate():
    # The model's unicycle at 0.6 m/s on a 0.25 1/m arc: the plan turns at 0.15 rad/s.
    plan = wrapper_plan(0.0, lambda t: 0.6, lambda t: 0.25, ALPAMAYO_15)
    cmd = plan_tracking.command(prof_of(plan), 0.3, CFG)
    assert cmd.v == pytest.approx(0.6, rel=1e-3)
    assert cmd.w == pytest.approx(0.15, rel=1e-3)
    assert cmd.w == pytest.approx(cmd.v * plan_tracking.sample(prof_of(plan), 0.5).curvature)


def test_reversing_keeps_the_turn_of_the_path():
    # Backing along an arc: v < 0 and w = v * curvature is the plan's own yaw rate.
    plan = polyline([-0.03] * 20, [-0.006] * 20)
    cmd = plan_tracking.command(prof_of(plan), 0.5, CFG)
    assert cmd.v == pytest.approx(-0.3)
    assert cmd.w == pytest.approx(-0.06)


def test_a_segment_without_direction_is_followed_without_turning():
    plan = polyline([0.0005] * 20, [0.05] * 20)
    assert plan_tracking.command(prof_of(plan), 0.5, CFG).w == 0.0


# ---------------------------------------------------------------- the stop reserve

def reserve_for(speed):
    stop_time, stop_distance = stopping(speed, CFG.fallback.decel, CFG.trajectory.stop_jerk)
    margin = CFG.trajectory.horizon_margin
    return stop_time + margin, stop_distance + speed * margin


def test_the_reserve_is_the_fallback_stop_plus_the_margin():
    check = plan_tracking.remaining_stop_feasible(prof_of(straight(0.8)), 1.0, 0.8, CFG)
    assert check.ok and check.reason is Reason.PLAN_HORIZON_SHORT
    assert check.limit == pytest.approx(list(reserve_for(0.8)))
    assert check.value == pytest.approx([6.3 - 1.0 - DELAY, 0.8 * (6.3 - 1.0 - DELAY)])


def stopping_plan(speed, decel):
    """Return a 2 Super plan at ``speed`` at its first point (0.1 s), slowing to rest."""
    return prof_of(wrapper_plan(0.0, lambda t: max(0.0, speed - decel * (t - DT))))


@pytest.mark.parametrize('speed', [0.4, 0.3, 0.2, 0.1])
def test_a_plan_that_comes_to_rest_holds_a_gentler_stop_than_its_own(speed):
    # The planner stops gently (0.5 m/s^2) and the vehicle follows it: a
    # fallback at fallback.decel ends before the plan's own standstill, so the
    # margin beyond the stop is not asked of a plan that ends at rest.
    check = plan_tracking.remaining_stop_feasible(stopping_plan(speed, 0.5), DT - DELAY,
                                                  speed, CFG)
    assert check.ok, check


def test_a_plan_coming_to_rest_more_abruptly_than_the_fallback_is_still_judged():
    check = plan_tracking.remaining_stop_feasible(stopping_plan(0.8, 2.0), DT - DELAY, 0.8,
                                                  CFG)
    assert not check.ok


@pytest.mark.parametrize('beyond', [False, True])
def test_the_remaining_time_at_and_beyond_the_limit(beyond):
    prof = prof_of(straight(0.8))
    need_time, _ = reserve_for(0.8)
    age = 6.3 - DELAY - need_time + (1e-6 if beyond else -1e-9)
    assert plan_tracking.remaining_stop_feasible(prof, age, 0.8, CFG).ok is not beyond


@pytest.mark.parametrize('beyond', [False, True])
def test_the_remaining_distance_at_and_beyond_the_limit(beyond):
    # A plan much slower than the vehicle lasts long enough but is too short to stop on.
    slow = 0.05
    prof = prof_of(straight(slow, 300))
    _, need_distance = reserve_for(0.8)
    left = need_distance * (1.0 + 1e-6 if not beyond else 1.0 - 1e-6)
    age = prof.t[-1] - DELAY - left / slow
    check = plan_tracking.remaining_stop_feasible(prof, age, 0.8, CFG)
    assert check.value[0] > check.limit[0]
    assert check.ok is not beyond


def test_the_reserve_holds_for_reversing_speeds():
    prof = prof_of(straight(-0.3))
    forward = plan_tracking.remaining_stop_feasible(prof, 1.0, 0.3, CFG)
    backward = plan_tracking.remaining_stop_feasible(prof, 1.0, -0.3, CFG)
    assert forward == backward


def test_a_plan_sampled_past_its_end_has_nothing_left():
    check = plan_tracking.remaining_stop_feasible(prof_of(straight(0.5, 20)), 5.0, 0.0, CFG)
    assert not check.ok
    assert check.value[0] < 0.0 and check.value[1] == 0.0


def test_the_sample_interpolates_both_coordinates():
    plan = polyline([0.1] * 5, [0.0] * 5, start=(1.0, -1.0, math.pi / 4))
    point = plan_tracking.sample(prof_of(plan), 0.25)
    step = 0.25 * math.sqrt(0.5)
    assert (point.x, point.y) == pytest.approx((1.0 + step, -1.0 + step))


def margins_on_and_beyond(stop, left):
    """Return configs whose margin puts ``stop + margin`` exactly on ``left``, and just over."""
    margin = left - stop
    while stop + margin != left:
        margin = math.nextafter(margin, -math.inf if stop + margin > left else math.inf)
    more = math.nextafter(margin, math.inf)
    while stop + more == left:
        more = math.nextafter(more, math.inf)
    return (config.build({'trajectory.horizon_margin': margin}),
            config.build({'trajectory.horizon_margin': more}))


def test_the_time_left_exactly_on_the_reserve_passes():
    prof = prof_of(straight(0.8))
    stop_time, _ = stopping(0.8, CFG.fallback.decel, CFG.trajectory.stop_jerk)
    age = 2.0
    on_limit, beyond = margins_on_and_beyond(stop_time, prof.t[-1] - (age + DELAY))
    assert plan_tracking.remaining_stop_feasible(prof, age, 0.8, on_limit).ok
    assert not plan_tracking.remaining_stop_feasible(prof, age, 0.8, beyond).ok


def test_the_distance_left_exactly_on_the_reserve_passes():
    # At 1 m/s the margin adds its own length in metres, so the sum can land on the dot;
    # the slow plan has time to spare.
    prof = prof_of(straight(0.05, 300))
    _, stop_distance = stopping(1.0, CFG.fallback.decel, CFG.trajectory.stop_jerk)
    age = 15.0
    check = plan_tracking.remaining_stop_feasible(prof, age, 1.0, CFG)
    on_limit, beyond = margins_on_and_beyond(stop_distance, check.value[1])
    on = plan_tracking.remaining_stop_feasible(prof, age, 1.0, on_limit)
    assert on.ok and on.limit[1] == on.value[1] and on.value[0] > on.limit[0]
    assert not plan_tracking.remaining_stop_feasible(prof, age, 1.0, beyond).ok


@pytest.mark.parametrize('last, at_rest', [
    (plan_tracking.AT_REST, True), (math.nextafter(plan_tracking.AT_REST, 1.0), False)])
def test_a_plan_ends_at_rest_when_its_last_segment_is_at_most_a_millimetre(last, at_rest):
    plan = Plan(0.0, 'base_link', ((0.0, -0.06, 0.0, 0.0), (DT, -0.02, 0.0, 0.0),
                                   (2 * DT, 0.0, 0.0, 0.0), (3 * DT, last, 0.0, 0.0)))
    check = plan_tracking.remaining_stop_feasible(prof_of(plan), 0.0, 0.3, CFG)
    stop = stopping(0.3, CFG.fallback.decel, CFG.trajectory.stop_jerk)
    assert check.limit == (list(stop) if at_rest else pytest.approx(list(reserve_for(0.3))))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(1e-6, 10.0), min_size=1, max_size=64),
       st.lists(st.floats(-50.0, 50.0), min_size=64, max_size=64),
       st.floats(-0.1, 1.1), st.floats(-20.0, 20.0))
def test_value_at_is_numpys_interp_bit_for_bit(steps, values, where, origin):
    knots = origin + np.cumsum(steps)
    values = np.array(values[:len(knots)])
    for t in (float(knots[0] + where * (knots[-1] - knots[0])), *map(float, knots)):
        assert value_at(knots, values, t) == float(np.interp(t, knots, values))
