# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""What the gate publishes on ``safety_gate/trajectory``: the plan it follows, or its stop.

With every decision in trajectory mode the gate says what it is driving, for
a controller that follows trajectories instead of ``cmd_vel``:

- on APPROVE, the approved plan from its point for now on (sampled like the
  command, ``plan_tracking.sample``), with the plan's speed at each point;
- otherwise the stop along the approved path the fallback drives
  (``plan_fallback.stop_points``), its speed decelerating to zero; without an
  approved plan to stop along (and on ESTOP), one standstill point.

Every point is given as the gate knows it now: times from now (the message
is stamped with the decision's time) and poses in the vehicle's frame now,
moved there from the plan's frame with the odometry since the plan's stamp.
When odometry cannot place the vehicle in that frame, the vehicle is taken
to be at the first point (where the plan says it is now), which the ego
checks keep within ``trajectory.start_tolerance`` of where it is.

The message builders set fields by attribute (no rclpy import), like
``convert`` reads them; the node passes the message classes.
"""

import math
from typing import Callable, Sequence, Tuple

from safety_gate import plan_fallback
from safety_gate.config import GateConfig
from safety_gate.ego_motion import Pose, relative_pose, vehicle_in_plan_frame
from safety_gate.plan_mode import PlanState
from safety_gate.plan_tracking import sample

# (time from now s, x m, y m, yaw rad, speed m/s) in the vehicle's frame now.
OutPoint = plan_fallback.StopPoint
STANDSTILL: Tuple[OutPoint, ...] = ((0.0, 0.0, 0.0, 0.0, 0.0),)
_NS_PER_S = 1_000_000_000


def _ahead(plans: PlanState, age: float) -> Tuple[OutPoint, ...]:
    """Return the approved plan from its point ``age`` after its stamp on, timed from then."""
    prof = plans.approved_profile
    found = []
    for t in [age] + [float(t) for t in prof.t if t > age]:
        point = sample(prof, t)
        found.append((t - age, point.x, point.y, point.yaw, point.speed))
    return tuple(found)


def points(plans: PlanState, approved: bool, now: float,
           cfg: GateConfig) -> Tuple[OutPoint, ...]:
    """Return what to publish for a decision at ``now`` (``approved``: its verdict is APPROVE)."""
    plan = plans.approved
    if plan is None or (not approved and plans.stop is None):
        return STANDSTILL
    if approved:
        found = _ahead(plans, now - plan.stamp)
    else:
        found = plan_fallback.stop_points(plans.stop, cfg.trajectory.dt, cfg)
    return in_vehicle_frame_now(plans, plan.stamp, found, cfg)


def in_vehicle_frame_now(plans: PlanState, stamp: float, found: Sequence[OutPoint],
                         cfg: GateConfig) -> Tuple[OutPoint, ...]:
    """Move points given in the vehicle's frame at ``stamp`` into its frame now.

    Without odometry to place the vehicle, it is taken to be at the first point.
    """
    vehicle = None
    if plans.poses:
        vehicle = vehicle_in_plan_frame(plans.poses, stamp, plans.poses[-1][1],
                                        cfg.odom.timeout)
    if vehicle is None:
        vehicle = Pose(*found[0][1:4])
    moved = []
    for t, x, y, yaw, speed in found:
        pose = relative_pose(vehicle, Pose(x, y, yaw))
        moved.append((t, pose.x, pose.y, pose.yaw, speed))
    return tuple(moved)


def _set_time(stamp, ns: int) -> None:
    stamp.sec, stamp.nanosec = divmod(ns, _NS_PER_S)


def set_header(header, stamp_ns: int, frame_id: str) -> None:
    """Set a std_msgs/Header to ``stamp_ns`` (nanoseconds) and ``frame_id``."""
    _set_time(header.stamp, stamp_ns)
    header.frame_id = frame_id


def set_pose(pose, x: float, y: float, yaw: float) -> None:
    """Set a geometry_msgs/Pose to a planar pose (also the exported odometry's)."""
    pose.position.x, pose.position.y = float(x), float(y)
    pose.orientation.z, pose.orientation.w = math.sin(yaw / 2.0), math.cos(yaw / 2.0)


def fill_path(pose_type: Callable, msg, stamp_ns: int, frame_id: str,
              found: Sequence[OutPoint]):
    """Fill a nav_msgs/Path: each pose stamped at its time (speeds are implied by them)."""
    set_header(msg.header, stamp_ns, frame_id)
    poses = []
    for t, x, y, yaw, _ in found:
        pose = pose_type()
        set_header(pose.header, stamp_ns + round(t * _NS_PER_S), frame_id)
        set_pose(pose.pose, x, y, yaw)
        poses.append(pose)
    msg.poses = poses
    return msg


def _trajectory_point(point, t: float, x: float, y: float, yaw: float, speed: float):
    _set_time(point.time_from_start, round(t * _NS_PER_S))
    set_pose(point.pose, x, y, yaw)
    point.longitudinal_velocity_mps = float(speed)
    return point


def fill_trajectory(point_type: Callable, msg, stamp_ns: int, frame_id: str,
                    found: Sequence[OutPoint]):
    """Fill an autoware_planning_msgs/Trajectory: time_from_start, pose and speed per point."""
    set_header(msg.header, stamp_ns, frame_id)
    msg.points = [_trajectory_point(point_type(), *point) for point in found]
    return msg
