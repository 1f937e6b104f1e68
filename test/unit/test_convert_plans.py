# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Trajectory mode's converters: nav_msgs/Path and autoware Trajectory to Plan, text to Reasoning.

Messages are stand-in objects of the right shape (the converters read fields
by attribute), so the Autoware types need not be built.
"""

import math
from types import SimpleNamespace as Msg

import pytest

from safety_gate import convert
from safety_gate.config import GateConfig

CFG = GateConfig()


def stamp(sec, nanosec=0):
    return Msg(sec=sec, nanosec=nanosec)


def pose(x, y, yaw):
    return Msg(position=Msg(x=x, y=y, z=0.0),
               orientation=Msg(x=0.0, y=0.0, z=math.sin(yaw / 2.0), w=math.cos(yaw / 2.0)))


def path(header_stamp, poses):
    """Return a Path of (stamp, x, y, yaw) poses."""
    return Msg(header=Msg(stamp=header_stamp, frame_id='base_link'),
               poses=[Msg(header=Msg(stamp=s, frame_id=''), pose=pose(x, y, yaw))
                      for s, x, y, yaw in poses])


def test_a_path_takes_each_poses_time_from_its_stamp_less_the_headers():
    # Exact to the nanosecond although the stamps are 1.8e9 s: integer arithmetic first.
    msg = path(stamp(1_800_000_000, 950_000_000),
               [(stamp(1_800_000_000, 950_000_000), 0.0, 0.0, 0.0),
                (stamp(1_800_000_001, 50_000_000), 0.05, 0.01, 0.2),
                (stamp(1_800_000_001, 200_000_001), 0.1, 0.02, -0.3)])
    plan = convert.path_plan(msg, 0.0, CFG)
    assert plan.source == 'path' and plan.frame_id == 'base_link'
    assert plan.stamp == 1_800_000_000.95
    assert [p[0] for p in plan.points] == [0.0, 0.1, 0.250000001]
    assert [p[1:3] for p in plan.points] == [(0.0, 0.0), (0.05, 0.01), (0.1, 0.02)]
    assert [round(p[3], 12) for p in plan.points] == [0.0, 0.2, -0.3]


def test_a_path_with_zero_pose_stamps_is_spaced_by_trajectory_dt():
    cfg = GateConfig(trajectory={'dt': 0.25})
    msg = path(stamp(100), [(stamp(0), 0.1 * i, 0.0, 0.0) for i in range(4)])
    assert [p[0] for p in convert.path_plan(msg, 0.0, cfg).points] == [0.0, 0.25, 0.5, 0.75]


@pytest.mark.parametrize('first', [stamp(0, 400_000_000), stamp(1)])
def test_a_path_with_a_pose_stamp_on_a_whole_second_or_near_zero_is_timed_by_its_stamps(first):
    # Only a pose stamp that is zero in both fields means "not timed".
    msg = path(stamp(0), [(first, 0.0, 0.0, 0.0), (stamp(2), 0.5, 0.0, 0.0)])
    times = [p[0] for p in convert.path_plan(msg, 0.0, CFG).points]
    assert times == [first.sec + first.nanosec * 1e-9, 2.0]


def test_a_trajectory_reads_time_from_start_and_pose_never_the_velocities():
    points = [Msg(time_from_start=stamp(0, 100_000_000 * (i + 1)), pose=pose(0.5 * i, 0.0, 0.1),
                  longitudinal_velocity_mps=99.0, acceleration_mps2=float('nan'))
              for i in range(3)]
    msg = Msg(header=Msg(stamp=stamp(7, 500), frame_id='base_link'), points=points)
    plan = convert.autoware_plan(msg, 0.0, CFG)
    assert plan.source == 'autoware_trajectory' and plan.stamp == 7 + 500e-9
    assert plan.frame_id == 'base_link'
    assert [p[0] for p in plan.points] == [0.1, 0.2, 0.30000000000000004]
    assert all(p[3] == 0.1 or math.isclose(p[3], 0.1) for p in plan.points)


def test_non_finite_poses_pass_through_for_the_checks_to_refuse():
    nan = float('nan')
    msg = path(stamp(1), [(stamp(0), 0.0, 0.0, 0.0), (stamp(0), nan, 0.0, 0.0)])
    bad = Msg(position=Msg(x=0.0, y=0.0, z=0.0), orientation=Msg(x=0.0, y=0.0, z=nan, w=1.0))
    msg.poses.append(Msg(header=Msg(stamp=stamp(0)), pose=bad))
    points = convert.path_plan(msg, 0.0, CFG).points
    assert math.isnan(points[1][1]) and math.isnan(points[2][3])


def test_reasoning_is_stamped_only_when_the_message_is():
    assert convert.reasoning(Msg(data='clear'), 5.0, CFG).stamp is None
    stamped = convert.reasoning(Msg(data='clear', stamp=stamp(3, 5)), 5.0, CFG)
    assert stamped.text == 'clear' and stamped.stamp == 3 + 5e-9
    cfg = GateConfig(confidence={'max_reasoning_chars': 4})
    assert convert.reasoning(Msg(data='truncated'), 5.0, cfg).text == 'trun'
