# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""What the gate publishes on safety_gate/trajectory: the approved plan or the stop, as of now."""

import math
from types import SimpleNamespace as Msg

from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Path
import pytest
from safety_gate import plan_fallback, plan_output
from safety_gate.config import GateConfig
from safety_gate.ego_motion import Pose
from safety_gate.events import Plan
from safety_gate.plan_mode import PlanState
from safety_gate.plan_profile import profile

CFG = GateConfig()
V = 0.5
STAMP = 10.0
PLAN = Plan(STAMP, 'base_link', tuple((0.1 * i, V * 0.1 * i, 0.0, 0.0) for i in range(20)))
# The vehicle drove the plan for 0.5 s and is where the plan says.
DROVE = ((STAMP, Pose(3.0, 4.0, math.pi / 2)), (STAMP + 0.5, Pose(3.0, 4.25, math.pi / 2)))


def approved(poses=DROVE, **fields):
    return PlanState(poses=poses, approved=PLAN, approved_profile=profile(PLAN, 0.01), **fields)


def test_an_approval_publishes_the_plan_from_now_on_in_the_vehicles_frame_now():
    found = plan_output.points(approved(), True, STAMP + 0.5, CFG)
    assert len(found) == 15  # the point for now, then the plan's points after it
    assert found[0] == pytest.approx((0.0, 0.0, 0.0, 0.0, V))
    assert found[1] == pytest.approx((0.1, 0.05, 0.0, 0.0, V))
    assert found[-1] == pytest.approx((1.4, 0.7, 0.0, 0.0, V))


def test_without_odometry_at_the_stamp_the_vehicle_is_taken_at_the_point_for_now():
    found = plan_output.points(approved(poses=()), True, STAMP + 0.5, CFG)
    assert found[0] == pytest.approx((0.0, 0.0, 0.0, 0.0, V))


def test_a_fallback_publishes_the_stop_slowing_to_standstill_along_the_path():
    stop = plan_fallback.start(profile(PLAN, 0.01), 0.5, V, CFG)
    found = plan_output.points(approved(stop=stop), False, STAMP + 0.5, CFG)
    speeds = [point[4] for point in found]
    assert speeds[0] == V and speeds[-1] == 0.0 and speeds == sorted(speeds, reverse=True)
    assert found[0][1:4] == pytest.approx((0.0, 0.0, 0.0))
    assert all(point[2] == pytest.approx(0.0) for point in found)
    assert [point[0] for point in found] == pytest.approx([0.1 * k for k in range(len(found))])


@pytest.mark.parametrize('plans, verdict', [(PlanState(), True), (PlanState(), False),
                                            (approved(), False)],
                         ids=['nothing approved', 'refused first', 'estop, no stop'])
def test_without_a_plan_or_a_stop_along_it_the_output_is_a_standstill(plans, verdict):
    assert plan_output.points(plans, verdict, STAMP, CFG) == plan_output.STANDSTILL


FOUND = ((0.0, 0.0, 0.0, 0.0, 0.5), (0.1, 0.05, 0.0, math.pi / 2, 0.25))


def test_a_path_is_stamped_pose_by_pose():
    msg = plan_output.fill_path(PoseStamped, Path(), 5_999_999_999, 'base_link', FOUND)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (5, 999_999_999)
    second = msg.poses[1]
    assert (second.header.stamp.sec, second.header.stamp.nanosec) == (6, 99_999_999)
    assert second.header.frame_id == 'base_link' and second.pose.position.x == 0.05
    assert second.pose.orientation.z == pytest.approx(math.sqrt(0.5))


def test_a_trajectory_carries_time_from_start_and_speed():
    def point():
        return Msg(time_from_start=Msg(sec=0, nanosec=0), longitudinal_velocity_mps=0.0,
                   pose=Msg(position=Msg(x=0.0, y=0.0), orientation=Msg(z=0.0, w=1.0)))
    msg = Msg(header=Msg(stamp=Msg(sec=0, nanosec=0), frame_id=''), points=[])
    plan_output.fill_trajectory(point, msg, 7_000_000_000, 'base_link', FOUND)
    assert msg.header.stamp.sec == 7 and msg.header.frame_id == 'base_link'
    assert [p.time_from_start.nanosec for p in msg.points] == [0, 100_000_000]
    assert [p.longitudinal_velocity_mps for p in msg.points] == [0.5, 0.25]
    assert msg.points[1].pose.orientation.w == pytest.approx(math.sqrt(0.5))
