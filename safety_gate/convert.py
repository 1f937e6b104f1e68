# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Convert ROS messages into core events: pure functions, no rclpy import.

Each takes the received message, the node time and the config, and returns
one event of ``safety_gate.events``. They read message fields by attribute,
so they can be fuzzed with any object of the right shape. The node runs
them inside the same guard as the decision step: a converter that raises
becomes a FALLBACK with INTERNAL_ERROR, like a failing check.
"""

import math
from typing import Callable

from safety_gate.config import GateConfig
from safety_gate.events import (Imu, Meta, ModelAnnouncement, Odom, Plan, PlanPoint, Proposal,
                                Reasoning, stamp_to_seconds)
from safety_gate.meta import parse_meta, parse_model_announcement

# CDR wraps a string in a 4-byte encapsulation header, a 4-byte length, the
# terminating NUL and up to 3 bytes of padding.
CDR_STRING_OVERHEAD = 12


_NS_PER_S = 1_000_000_000


def _stamp(header) -> float:
    return stamp_to_seconds(header.stamp.sec, header.stamp.nanosec)


def _yaw(q) -> float:
    """Return the yaw of a quaternion (NaN in, NaN out: the checks refuse it)."""
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def proposal(msg, now: float, cfg: GateConfig) -> Proposal:
    """Convert a TwistStamped (stamp from its header) or a Twist (stamped on arrival)."""
    if hasattr(msg, 'header'):
        twist, stamp, stamped = msg.twist, _stamp(msg.header), True
    else:
        twist, stamp, stamped = msg, now, False
    # Only v and w pass the gate, but a NaN in any component means the message
    # is corrupt, so it must not be approved.
    parts = (twist.linear.x, twist.linear.y, twist.linear.z,
             twist.angular.x, twist.angular.y, twist.angular.z)
    v = twist.linear.x if all(math.isfinite(p) for p in parts) else math.nan
    return Proposal(v, twist.angular.z, stamp, stamped)


def _decoded(raw: bytes, limit: int, decode: Callable[[bytes], str]):
    """Return (the text of a serialised std_msgs/String, None) or (None, the error).

    An oversized message is refused before it is decoded.
    """
    if len(raw) > limit + CDR_STRING_OVERHEAD:
        return None, f'oversized: more than {limit} bytes'
    try:
        return decode(raw), None
    except Exception as exc:  # noqa: B902 - any decoding failure is malformed input
        return None, f'malformed: undecodable ({type(exc).__name__})'


def meta(raw: bytes, now: float, cfg: GateConfig, decode: Callable[[bytes], str]) -> Meta:
    """Convert a serialised std_msgs/String, refusing oversized ones before decoding."""
    conf = cfg.confidence
    text, error = _decoded(raw, conf.max_meta_bytes, decode)
    if text is None:
        return Meta(None, None, error=error)
    return parse_meta(text, conf.max_meta_bytes, conf.max_reasoning_chars)


def model_announcement(raw: bytes, now: float, cfg: GateConfig,
                       decode: Callable[[bytes], str]) -> ModelAnnouncement:
    """Convert a serialised std_msgs/String on ``planner/model``, capped like a meta."""
    limit = cfg.confidence.max_meta_bytes
    text, error = _decoded(raw, limit, decode)
    if text is None:
        return ModelAnnouncement('', error=error)
    return parse_model_announcement(text, limit)


def odom(msg, now: float, cfg: GateConfig) -> Odom:
    """Convert a nav_msgs/Odometry; the heading is the yaw of its pose quaternion.

    The position variance is the larger of the pose covariance's x and y
    variances (NaN if either is not finite); an all-zero covariance, what a
    publisher that does not fill it sends, gives 0.
    """
    twist, pose = msg.twist.twist, msg.pose.pose
    covariance = msg.pose.covariance
    variances = (covariance[0], covariance[7])
    variance = max(variances) if all(math.isfinite(x) for x in variances) else math.nan
    return Odom(twist.linear.x, twist.angular.z, pose.position.x, pose.position.y,
                _stamp(msg.header), _yaw(pose.orientation), variance)


def imu(msg, now: float, cfg: GateConfig) -> Imu:
    """Convert a sensor_msgs/Imu (its yaw rate)."""
    return Imu(msg.angular_velocity.z, _stamp(msg.header))


def _point(t: float, pose) -> PlanPoint:
    return (t, pose.position.x, pose.position.y, _yaw(pose.orientation))


def path_plan(msg, now: float, cfg: GateConfig) -> Plan:
    """Convert a nav_msgs/Path: each pose's time is its stamp less the header's.

    When every pose stamp is zero (a planner that does not time its poses),
    the poses are ``trajectory.dt`` apart from the header stamp on.
    """
    header = msg.header.stamp
    stamps = [pose.header.stamp for pose in msg.poses]
    if all(stamp.sec == 0 and stamp.nanosec == 0 for stamp in stamps):
        times = [index * cfg.trajectory.dt for index in range(len(stamps))]
    else:  # in integer nanoseconds first: float seconds since 1970 lose the microseconds
        times = [((stamp.sec - header.sec) * _NS_PER_S + stamp.nanosec - header.nanosec)
                 / _NS_PER_S for stamp in stamps]
    return Plan(_stamp(msg.header), msg.header.frame_id,
                tuple(_point(t, pose.pose) for t, pose in zip(times, msg.poses)), 'path')


def autoware_plan(msg, now: float, cfg: GateConfig) -> Plan:
    """Convert an autoware_planning_msgs/Trajectory: ``time_from_start`` and pose per point.

    The velocity, acceleration, heading-rate and wheel-angle fields are not
    read: the gate recomputes the motion from the poses and times.
    """
    return Plan(_stamp(msg.header), msg.header.frame_id, tuple(
        _point(stamp_to_seconds(point.time_from_start.sec, point.time_from_start.nanosec),
               point.pose) for point in msg.points), 'autoware_trajectory')


def reasoning(msg, now: float, cfg: GateConfig) -> Reasoning:
    """Convert a std_msgs/String (unstamped) or an autoware StringStamped (its stamp).

    The text is kept up to ``confidence.max_reasoning_chars``, like a meta's.
    """
    stamp = msg.stamp if hasattr(msg, 'stamp') else None
    text = msg.data[:cfg.confidence.max_reasoning_chars]
    return Reasoning(text, None if stamp is None else stamp_to_seconds(stamp.sec, stamp.nanosec))
