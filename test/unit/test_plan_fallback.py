# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The stop along the last approved path: jerk-limited, escalating, keeping the path's turn."""

import math

from harness.plans import DT, polyline, straight
import pytest
from safety_gate import config, plan_fallback
from safety_gate.events import Plan
from safety_gate.plan_profile import profile

CFG = config.GateConfig()
DECEL, JERK = CFG.fallback.decel, CFG.trajectory.stop_jerk
EMERGENCY = CFG.envelope.max_linear_decel
STEP = 0.02


def path_of(plan):
    return profile(plan, CFG.trajectory.min_segment_length)


def run(stop, dt=STEP, limit=2000):
    """Step the stop to standstill; return the states and the commands."""
    states, commands = [stop], []
    while stop.speed > 0.0 and len(commands) < limit:
        stop, command = plan_fallback.step(stop, dt, CFG)
        states.append(stop)
        commands.append(command)
    return states, commands


@pytest.mark.parametrize('speed', [0.01, 0.05, 0.3, 1.0, 3.0])
def test_the_stopping_distance_is_what_the_steps_drive(speed):
    path = path_of(straight(3.0, 200))
    states, _ = run(plan_fallback.start(path, 0.0, speed, CFG), dt=0.001, limit=10 ** 5)
    stop_time, distance = plan_fallback.stopping(speed, DECEL, JERK)
    assert states[-1].arc == pytest.approx(distance, rel=1e-3, abs=1e-6)
    assert (len(states) - 1) * 0.001 == pytest.approx(stop_time, abs=2e-3)


def test_without_a_jerk_limit_the_stop_is_the_textbook_one():
    assert plan_fallback.stopping(1.0, 1.0, 1e9) == pytest.approx((1.0, 0.5))


def test_braking_already_applied_shortens_the_stop():
    ramped = plan_fallback.stopping(1.0, DECEL, JERK, braking=DECEL)
    assert ramped == pytest.approx((1.0 / DECEL, 0.5 / DECEL))
    assert ramped[1] < plan_fallback.stopping(1.0, DECEL, JERK)[1]


def test_the_deceleration_ramps_at_the_stop_jerk_to_the_fallback_decel():
    states, commands = run(plan_fallback.start(path_of(straight(1.0, 64)), 0.0, 1.0, CFG))
    braking = [s.braking for s in states[1:-1]]
    assert braking[0] == pytest.approx(JERK * STEP)
    assert max(braking) == pytest.approx(DECEL)
    assert all(b - a <= JERK * STEP + 1e-12 for a, b in zip([0.0] + braking, braking))
    speeds = [c.v for c in commands]
    assert all(b <= a for a, b in zip(speeds, speeds[1:]))
    assert speeds[-1] == 0.0


@pytest.mark.parametrize('dt', [0.013, 0.02, 0.07, 0.1])
def test_each_step_loses_the_speed_the_ramp_loses_whatever_the_step(dt):
    # The ramp to the full deceleration ends inside a step; found by the trajectory
    # fuzzer: averaging the deceleration over that step stopped later than stopping() says.
    speed = 1.0
    states, _ = run(plan_fallback.start(path_of(straight(1.0, 64)), 0.0, speed, CFG), dt=dt)
    ramp = DECEL / JERK
    for k, state in enumerate(states):
        t = k * dt
        lost = JERK * t * t / 2.0 if t <= ramp else JERK * ramp * ramp / 2.0 + DECEL * (t - ramp)
        assert state.speed == pytest.approx(max(speed - lost, 0.0), abs=1e-12), k


def test_the_stop_escalates_to_the_envelope_when_the_path_is_too_short():
    # 0.3 m of path left at 1 m/s: a 1 m/s^2 stop needs about 0.55 m.
    path = path_of(straight(1.0, 5))
    stop = plan_fallback.start(path, 0.1, 1.0, CFG)
    assert stop.decel == EMERGENCY
    states, _ = run(stop)
    assert {s.decel for s in states} == {EMERGENCY}


def test_an_escalated_stop_stays_escalated():
    # Enough path at first, then the stop is pushed past it: it escalates and
    # does not switch back when what is left would suffice again.
    path = path_of(straight(1.0, 8))
    stop = plan_fallback.start(path, 0.0, 1.0, CFG)
    assert stop.decel == DECEL
    escalated, _ = plan_fallback.step(plan_fallback.Stop(path, 0.5, 1.0, 1.0, 0.0, DECEL),
                                      STEP, CFG)
    assert escalated.decel == EMERGENCY
    slower, _ = plan_fallback.step(plan_fallback.Stop(path, 0.5, 0.1, 1.0, 0.5, EMERGENCY),
                                   STEP, CFG)
    assert slower.decel == EMERGENCY


def test_enough_path_keeps_the_comfortable_stop():
    states, _ = run(plan_fallback.start(path_of(straight(1.0, 64)), 0.0, 1.0, CFG))
    assert {s.decel for s in states} == {DECEL}


def test_the_curvature_follows_the_path_as_the_distance_progresses():
    # 0.1 m straight, then an arc of curvature 0.3 1/m.
    plan = polyline([0.05] * 2 + [0.05] * 40, [0.0] * 2 + [0.015] * 40)
    states, commands = run(plan_fallback.start(path_of(plan), 0.0, 0.6, CFG))
    for state, command in zip(states[1:], commands):
        expected = 0.0 if state.arc < 0.1 else 0.3
        if abs(state.arc - 0.1) > 1e-9:
            assert command.w == pytest.approx(command.v * expected)
    assert any(c.w > 0.0 for c in commands) and commands[0].w == 0.0


def test_past_the_end_the_last_curvature_is_held():
    plan = polyline([0.05] * 4, [0.01] * 4)
    states, commands = run(plan_fallback.start(path_of(plan), 0.0, 1.0, CFG))
    assert states[-1].arc > 0.2
    assert commands[-2].w == pytest.approx(commands[-2].v * 0.2)


def test_a_reversing_stop_keeps_its_gear_and_turn():
    plan = polyline([-0.03] * 40, [-0.006] * 40)
    states, commands = run(plan_fallback.start(path_of(plan), 0.0, -0.3, CFG))
    assert all(c.v <= 0.0 for c in commands)
    assert all(c.w == pytest.approx(c.v * 0.2) for c in commands)
    assert commands[-1].v == 0.0


def test_the_stop_trajectory_carries_the_decelerating_profile_on_the_path():
    stop = plan_fallback.start(path_of(straight(1.0, 64)), 0.5, 1.0, CFG)
    points = plan_fallback.stop_points(stop, DT, CFG)
    times = [p[0] for p in points]
    speeds = [p[4] for p in points]
    assert times == pytest.approx([i * DT for i in range(len(points))])
    assert points[0][1] == pytest.approx(0.5) and speeds[0] == 1.0
    assert speeds[-1] == 0.0
    assert all(b <= a for a, b in zip(speeds, speeds[1:]))
    assert all(p[2] == 0.0 and p[3] == 0.0 for p in points)
    assert points[-1][1] - 0.5 == pytest.approx(plan_fallback.stopping(1.0, DECEL, JERK)[1],
                                                rel=0.02)


def test_the_stop_trajectory_continues_on_the_last_arc_past_the_end():
    # An arc of radius 1 m, 0.2 m long, left at 1 m/s: even the escalated stop
    # runs on past its end, and stays on the unit circle.
    plan = polyline([0.05] * 4, [0.05] * 4)
    stop = plan_fallback.start(path_of(plan), 0.0, 1.0, CFG)
    points = plan_fallback.stop_points(stop, DT, CFG)
    for _, x, y, yaw, _ in points:
        assert math.hypot(x, y - 1.0) == pytest.approx(1.0, abs=2e-3)
        assert yaw == pytest.approx(math.atan2(x, 1.0 - y), abs=2e-3)
    assert points[-1][3] > 0.2 and points[-1][4] == 0.0


def test_a_stop_from_standstill_is_one_point():
    stop = plan_fallback.start(path_of(straight(0.5)), 1.0, 0.0, CFG)
    (point,) = plan_fallback.stop_points(stop, DT, CFG)
    assert point == pytest.approx((0.0, 0.5, 0.0, 0.0, 0.0))


def test_a_stop_already_braking_at_another_decel_drives_what_stopping_says():
    cfg = config.build({'fallback.decel': 1.5, 'envelope.max_linear_decel': 2.5})
    path = path_of(straight(3.0, 200))
    for speed, braking in ((2.0, 0.5), (0.04, 0.5)):
        stop = plan_fallback.Stop(path, 0.0, speed, 1.0, braking, 1.5)
        steps = 0
        while stop.speed > 0.0:
            stop, _ = plan_fallback.step(stop, 0.0005, cfg)
            steps += 1
        stop_time, distance = plan_fallback.stopping(speed, 1.5, cfg.trajectory.stop_jerk,
                                                     braking)
        assert stop.arc == pytest.approx(distance, rel=1e-3)
        assert steps * 0.0005 == pytest.approx(stop_time, abs=1e-3)


def test_past_the_end_of_a_straight_path_the_stop_runs_straight_on():
    stop = plan_fallback.start(path_of(polyline([0.05] * 2, [0.0] * 2, start=(1.0, 1.0, 0.5))),
                               0.0, 1.0, CFG)
    points = plan_fallback.stop_points(stop, DT, CFG)
    end = points[-1]
    travelled = math.hypot(end[1] - 1.0, end[2] - 1.0)
    assert travelled > 0.1
    assert (end[1], end[2], end[3]) == pytest.approx(
        (1.0 + travelled * math.cos(0.5), 1.0 + travelled * math.sin(0.5), 0.5))


def test_past_the_end_the_heading_turns_with_the_distance_driven():
    plan = polyline([0.05] * 4, [0.05] * 4)
    stop = plan_fallback.start(path_of(plan), 0.0, 1.0, CFG)
    states, _ = run(stop, dt=DT)
    points = plan_fallback.stop_points(stop, DT, CFG)
    assert points[-1][3] == pytest.approx(states[-1].arc)


def test_past_the_end_of_a_right_hand_arc_the_stop_stays_on_it():
    plan = polyline([0.05] * 4, [-0.05] * 4)
    points = plan_fallback.stop_points(plan_fallback.start(path_of(plan), 0.0, 1.0, CFG), DT,
                                       CFG)
    assert points[-1][3] < -0.2
    for _, x, y, _, _ in points:
        assert math.hypot(x, y + 1.0) == pytest.approx(1.0, abs=2e-3)


def test_the_stop_trajectory_turns_smoothly_through_the_back_of_the_compass():
    # Driving west, where the heading wraps from +pi to -pi.
    plan = polyline([0.05] * 30, [0.004] * 30, start=(0.0, 0.0, math.pi - 0.05))
    points = plan_fallback.stop_points(plan_fallback.start(path_of(plan), 0.0, 1.0, CFG), DT,
                                       CFG)
    turns = [math.remainder(b[3] - a[3], 2.0 * math.pi) for a, b in zip(points, points[1:])]
    assert all(0.0 <= turn < 0.01 for turn in turns)


@pytest.mark.parametrize('speed', [0.3, 1.0, 3.0])
def test_the_stopping_distance_is_the_integral_of_the_jerk_limited_stop(speed):
    braking, decel, jerk, dt = 0.5, 2.0, 4.0, 1e-5
    v, t, distance = speed, 0.0, 0.0
    while v > 0.0:
        a = min(braking + jerk * t, decel)
        step = min(dt, v / a)
        distance += v * step - a * step * step / 2.0
        v, t = v - a * step, t + step
    found_t, found_distance = plan_fallback.stopping(speed, decel, jerk, braking)
    assert found_t == pytest.approx(t, abs=1e-4)
    assert found_distance == pytest.approx(distance, abs=1e-4)


@pytest.mark.parametrize('shorter, decel', [(False, DECEL), (True, EMERGENCY)])
def test_a_path_left_exactly_as_long_as_the_comfortable_stop_keeps_it(shorter, decel):
    # Already braking at 0.5 m/s^2, so the stop is shorter than one from no braking.
    path = path_of(straight(1.0, 10))
    end = float(path.arc[-1])
    _, distance = plan_fallback.stopping(0.8, DECEL, JERK, 0.5)
    arc = end - distance
    while end - arc != distance:
        arc = math.nextafter(arc, -math.inf if end - arc < distance else math.inf)
    if shorter:
        arc = math.nextafter(arc, math.inf)
    stop = plan_fallback.Stop(path, arc, 0.8, 1.0, 0.5, DECEL)
    assert plan_fallback.step(stop, 0.0, CFG)[0].decel == decel


def test_a_reversing_stop_starts_from_the_reversing_speed():
    stop = plan_fallback.start(path_of(polyline([-0.03] * 40, [0.0] * 40)), 0.0, -0.3, CFG)
    assert plan_fallback.stop_points(stop, DT, CFG)[0][4] == -0.3
    assert -0.3 <= plan_fallback.step(stop, STEP, CFG)[1].v < 0.0


def standing_end(count=6):
    """Return a straight plan at 0.5 m/s whose last point repeats the one before (at rest)."""
    points = straight(0.5, count).points
    last = points[-1]
    return Plan(0.0, 'base_link', points + ((last[0] + DT,) + last[1:],))


def test_a_stop_at_the_end_of_a_plan_that_ends_at_rest_is_its_last_point():
    plan = standing_end()
    stop = plan_fallback.start(path_of(plan), plan.points[-1][0], 0.0, CFG)
    (point,) = plan_fallback.stop_points(stop, DT, CFG)
    assert point[1:4] == pytest.approx(plan.points[-1][1:4])


@pytest.mark.parametrize('plan', [
    polyline([0.05] * 5 + [0.0], [0.0] * 5 + [0.3]),
    polyline([0.05] * 30, [0.004] * 30, start=(0.0, 0.0, math.pi - 0.05)),
], ids=['turning on the spot', 'across the seam'])
def test_a_stop_from_the_end_of_a_plan_starts_at_its_last_pose_exactly(plan):
    # The plan's time has run out: the stop starts at the end of the path. Its first
    # point used to be the last segment's at its end, which for a segment without
    # length (a robot turning on the spot) is the heading before the turn, and the
    # points past the end then jumped to the heading after it.
    end_t, x, y, yaw = plan.points[-1]
    path = path_of(plan)
    (point,) = plan_fallback.stop_points(plan_fallback.start(path, end_t, 0.0, CFG), DT, CFG)
    assert point == (0.0, x, y, yaw, 0.0)
    points = plan_fallback.stop_points(plan_fallback.start(path, end_t, 0.5, CFG), DT, CFG)
    assert points[0] == (0.0, x, y, yaw, 0.5)
    turns = [b[3] - a[3] for a, b in zip(points, points[1:])]
    assert all(0.0 <= turn < 0.01 for turn in turns), turns


def test_a_stop_inside_a_segment_starts_between_its_points():
    # Segments exactly 1 m long, the stop from halfway along the first one.
    plan = polyline([1.0] * 5, [0.0] * 5)
    stop = plan_fallback.start(path_of(plan), 0.5 * DT, 0.0, CFG)
    (point,) = plan_fallback.stop_points(stop, DT, CFG)
    assert point[1:4] == pytest.approx((0.5, 0.0, 0.0))


def test_a_stop_that_overruns_a_plan_ending_at_rest_goes_on_forward():
    plan = standing_end()
    points = plan_fallback.stop_points(plan_fallback.start(path_of(plan), 0.3, 1.0, CFG),
                                       DT, CFG)
    xs = [p[1] for p in points]
    assert xs[-1] > plan.points[-1][1] and xs == sorted(xs)


def test_past_the_end_of_a_path_whose_last_segment_reverses_the_stop_goes_on_backward():
    # The end of a three-point turn: forward, then 5 cm back along the same line.
    points = straight(0.5, 6).points
    x, t = points[-1][1], points[-1][0]
    plan = Plan(0.0, 'base_link', points + ((t + DT, x - 0.05, 0.0, 0.0),))
    path = path_of(plan)
    stop = plan_fallback.Stop(path, float(path.arc[-1]) - 0.01, 1.0, -1.0, 0.0, EMERGENCY)
    states, _ = run(stop, dt=DT)
    end = plan_fallback.stop_points(stop, DT, CFG)[-1]
    assert end[1] == pytest.approx(x - 0.05 - (states[-1].arc - float(path.arc[-1])))


def test_past_the_end_the_stop_follows_the_last_segments_own_curvature():
    # Straight, then a last segment turning at 0.5 1/m: past the end, an arc of radius 2 m.
    plan = polyline([0.05] * 4 + [0.05], [0.0] * 4 + [0.025])
    path = path_of(plan)
    points = plan_fallback.stop_points(plan_fallback.start(path, 0.4, 1.0, CFG), DT, CFG)
    x, y, yaw = plan.points[-1][1:4]
    centre = (x - 2.0 * math.sin(yaw), y + 2.0 * math.cos(yaw))
    beyond = [p for p in points if p[3] > yaw + 1e-6]
    assert beyond
    for _, px, py, _, _ in beyond:
        assert math.hypot(px - centre[0], py - centre[1]) == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize('yaw0, yaw1, halfway', [
    (0.2, 0.7, 0.45),                              # a sharp turn within one segment
    (math.pi - 0.1, -math.pi + 0.1, math.pi),      # across the seam, as a planner wraps it
], ids=['sharp', 'seam'])
def test_halfway_along_a_segment_the_heading_is_halfway_through_its_turn(yaw0, yaw1, halfway):
    plan = Plan(0.0, 'base_link', ((0.0, 0.0, 0.0, yaw0), (DT, 0.05, 0.0, yaw1),
                                   (2 * DT, 0.1, 0.0, yaw1)))
    stop = plan_fallback.start(path_of(plan), DT / 2, 0.0, CFG)
    (point,) = plan_fallback.stop_points(stop, DT, CFG)
    assert math.remainder(point[3] - halfway, 2.0 * math.pi) == pytest.approx(0.0, abs=1e-12)
