# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The pure plans in the alpamayo-autoware wrapper's format: variants, shapes and faults."""

import math

import pytest

from safety_gate.kit.world import alpamayo_plans as plans
from safety_gate.kit.world.alpamayo_plans import ALPAMAYO_1_5, ALPAMAYO_2_SUPER

SPEED = 5.0
BOTH = pytest.mark.parametrize('variant', [ALPAMAYO_1_5, ALPAMAYO_2_SUPER], ids=lambda v: v.name)


def xs(points):
    return [p.x for p in points]


def speeds(points):
    return [p.longitudinal_velocity_mps for p in points]


def segment_headings(points):
    return [math.atan2(b.y - a.y, b.x - a.x) for a, b in zip(points, points[1:])]


def test_the_1_5_node_publishes_20_points_from_time_0_stamped_now_every_0_1_s():
    assert ALPAMAYO_1_5.times_ns() == [idx * 100_000_000 for idx in range(20)]
    assert not ALPAMAYO_1_5.stamped_at_input
    assert ALPAMAYO_1_5.period == (0.1, 0.1)


def test_the_2_super_node_publishes_64_points_from_0_1_s_stamped_t0_every_2_to_3_35_s():
    assert ALPAMAYO_2_SUPER.times_ns() == [(idx + 1) * 100_000_000 for idx in range(64)]
    assert ALPAMAYO_2_SUPER.stamped_at_input
    assert ALPAMAYO_2_SUPER.period == (2.0, 3.35)


def test_variants_are_found_by_name():
    assert plans.VARIANTS == {'alpamayo_1_5': ALPAMAYO_1_5, 'alpamayo_2_super': ALPAMAYO_2_SUPER}


@BOTH
def test_a_straight_plan_is_ahead_at_the_speed_its_times_imply(variant):
    points = plans.plan(variant, plans.straight(SPEED))
    assert [p.time_from_start_ns for p in points] == variant.times_ns()
    assert xs(points) == pytest.approx([SPEED * t / 1e9 for t in variant.times_ns()])
    assert all(p.y == 0.0 and p.yaw == 0.0 for p in points)
    # The wrapper leaves the first velocity 0, even where the first point is not at 0 s.
    assert speeds(points) == pytest.approx([0.0] + [SPEED] * (variant.points - 1))


@BOTH
def test_an_arc_lies_on_its_circle_facing_along_it(variant):
    curvature = 0.1
    points = plans.plan(variant, plans.arc(SPEED, curvature))
    radius = 1.0 / curvature
    for point in points:
        assert math.hypot(point.x, point.y - radius) == pytest.approx(radius)
        assert point.yaw == pytest.approx(curvature * SPEED * point.time_from_start_ns / 1e9)
    # On a circle every chord points midway between the headings at its ends.
    mid_yaws = [(a.yaw + b.yaw) / 2.0 for a, b in zip(points, points[1:])]
    errors = [math.remainder(heading - yaw, math.tau)
              for heading, yaw in zip(segment_headings(points), mid_yaws)]
    assert errors == pytest.approx([0.0] * len(errors), abs=1e-9)
    chord = 2.0 * radius * math.sin(curvature * SPEED * plans.WAYPOINT_DT / 2.0)
    assert speeds(points)[1:] == pytest.approx([chord / plans.WAYPOINT_DT] * (variant.points - 1))


def test_an_arc_of_zero_curvature_is_straight():
    assert (plans.plan(ALPAMAYO_1_5, plans.arc(SPEED, 0.0))
            == plans.plan(ALPAMAYO_1_5, plans.straight(SPEED)))


def test_a_kink_turns_the_path_and_its_heading_at_once():
    angle = 0.8
    points = plans.plan(ALPAMAYO_2_SUPER, plans.kink(SPEED, at=1.0, angle=angle))
    headings = segment_headings(points)
    corner = next(idx for idx, p in enumerate(points) if p.time_from_start_ns > 1_000_000_000)
    assert headings[:corner - 1] == pytest.approx([0.0] * (corner - 1))
    assert headings[corner - 1:] == pytest.approx([angle] * (len(headings) - corner + 1))
    assert [p.yaw for p in points] == [0.0] * corner + [angle] * (len(points) - corner)
    assert speeds(points)[1:] == pytest.approx([SPEED] * (len(points) - 1))


@BOTH
def test_the_backward_sweep_starts_10_6_m_behind_and_sweeps_27_m_back(variant):
    points = plans.plan(variant, plans.backward_sweep())
    assert points[0].x == pytest.approx(-10.6)
    assert points[-1].x == pytest.approx(-10.6 - 27.0)
    assert all(b.x < a.x for a, b in zip(points, points[1:]))
    assert all(p.y == 0.0 and p.yaw == 0.0 for p in points)  # reversing, facing forward
    # The wrapper's velocities are distances: never negative, even in reverse.
    step = 27.0 / (variant.points - 1) / plans.WAYPOINT_DT
    assert speeds(points) == pytest.approx([0.0] + [step] * (variant.points - 1))


def test_velocities_come_from_distances_over_0_1_s_never_from_the_times():
    times_ns = [0, 200_000_000, 400_000_000]
    poses = [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (1.0, 2.0, 0.0)]
    assert speeds(plans.finite_differenced(times_ns, poses)) == pytest.approx([0.0, 10.0, 20.0])


def test_a_nan_pose_makes_both_its_velocities_nan_and_nothing_else():
    clean = plans.plan(ALPAMAYO_2_SUPER, plans.straight(SPEED))
    faulty = plans.with_nan_pose(clean, 10)
    assert math.isnan(faulty[10].x)
    assert [math.isnan(v) for v in speeds(faulty)] == [idx in (10, 11) for idx in range(64)]
    unchanged = [idx for idx in range(64) if idx not in (10, 11)]
    assert [faulty[idx] for idx in unchanged] == [clean[idx] for idx in unchanged]


def test_non_monotonic_time_swaps_two_times_and_keeps_poses_and_velocities():
    clean = plans.plan(ALPAMAYO_1_5, plans.straight(SPEED))
    faulty = plans.with_non_monotonic_time(clean, 5)
    times = [p.time_from_start_ns for p in faulty]
    assert times[5] > times[6]
    assert sorted(times) == [p.time_from_start_ns for p in clean]
    assert [(p.x, p.y, p.yaw, p.longitudinal_velocity_mps) for p in faulty] == [
        (p.x, p.y, p.yaw, p.longitudinal_velocity_mps) for p in clean]


@pytest.mark.parametrize('index', [-1, 19])
def test_non_monotonic_time_needs_a_next_point(index):
    with pytest.raises(ValueError, match='no next point'):
        plans.with_non_monotonic_time(plans.plan(ALPAMAYO_1_5, plans.straight(SPEED)), index)
