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
from safety_gate.events import Imu, Meta, Odom, Proposal, stamp_to_seconds
from safety_gate.meta import parse_meta

# CDR wraps a string in a 4-byte encapsulation header, a 4-byte length, the
# terminating NUL and up to 3 bytes of padding.
CDR_STRING_OVERHEAD = 12


def _stamp(header) -> float:
    return stamp_to_seconds(header.stamp.sec, header.stamp.nanosec)


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


def meta(raw: bytes, now: float, cfg: GateConfig, decode: Callable[[bytes], str]) -> Meta:
    """Convert a serialised std_msgs/String, refusing oversized ones before decoding."""
    conf = cfg.confidence
    if len(raw) > conf.max_meta_bytes + CDR_STRING_OVERHEAD:
        return Meta(None, None, error=f'oversized: more than {conf.max_meta_bytes} bytes')
    try:
        text = decode(raw)
    except Exception as exc:  # noqa: B902 - any decoding failure is malformed input
        return Meta(None, None, error=f'malformed: undecodable ({type(exc).__name__})')
    return parse_meta(text, conf.max_meta_bytes, conf.max_reasoning_chars)


def odom(msg, now: float, cfg: GateConfig) -> Odom:
    """Convert a nav_msgs/Odometry; the heading is the yaw of its pose quaternion."""
    twist, pose = msg.twist.twist, msg.pose.pose
    q = pose.orientation
    yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
    return Odom(twist.linear.x, twist.angular.z, pose.position.x, pose.position.y,
                _stamp(msg.header), yaw)


def imu(msg, now: float, cfg: GateConfig) -> Imu:
    """Convert a sensor_msgs/Imu (its yaw rate)."""
    return Imu(msg.angular_velocity.z, _stamp(msg.header))
