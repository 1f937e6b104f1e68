# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Small ROS helpers shared by the kit (simulator, planner, recorder, bench) and the tests.

Not part of the safety function: the gate node defines its own interface and
never imports this module.
"""

import json
import math
import signal
import time
from typing import Any, Callable, List, Mapping, Optional, Sequence, Union

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Quaternion, Twist, TwistStamped
from nav_msgs.msg import Odometry
import rclpy
from rclpy.executors import Executor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import (DurabilityPolicy, HistoryPolicy, qos_profile_sensor_data, QoSProfile,
                       ReliabilityPolicy)
from rclpy.signals import SignalHandlerOptions

# The command and meta topics of the gate: reliable, volatile, depth 10.
COMMAND_QOS = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST,
                         reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.VOLATILE)
SENSOR_QOS = qos_profile_sensor_data
# Reliable so that both best-effort (rclpy, rclcpp) and reliable /clock readers match.
CLOCK_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
# Recording topics of the test tools and the test bench: reliable with deep
# queues, so a busy recorder loses nothing (a test must see every message).
RECORD_QOS = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
# The gate's state topic, and an e-stop button's state: reliable and latched, so
# a late joiner (a restarted gate, a recorder started later) gets the last one.
LATCHED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)

_NS_PER_S = 1_000_000_000


def stamp_from_ns(nanoseconds: int) -> Time:
    """Return a builtin_interfaces/Time for a time in integer nanoseconds."""
    sec, nanosec = divmod(int(nanoseconds), _NS_PER_S)
    return Time(sec=sec, nanosec=nanosec)


def stamp_to_ns(stamp: Time) -> int:
    """Return a builtin_interfaces/Time as integer nanoseconds."""
    return stamp.sec * _NS_PER_S + stamp.nanosec


def meta_json(stamp: Time, confidence: Union[float, None], model_sha256: str,
              reasoning: str, extra: Optional[Mapping[str, Any]] = None) -> str:
    """Return the planner/meta JSON payload for a command stamped ``stamp``.

    ``extra`` fields are added for the test tools; the gate ignores them.
    """
    return json.dumps({
        'stamp': {'sec': stamp.sec, 'nanosec': stamp.nanosec},
        'confidence': confidence,
        'model_sha256': model_sha256,
        'reasoning': reasoning,
        **(extra or {}),
    })


def make_twist(stamped: bool, v: float, w: float, stamp: Time,
               frame_id: str = 'base_link') -> Union[Twist, TwistStamped]:
    """Return a (v, w) command as TwistStamped, or as a bare Twist if not ``stamped``."""
    twist = Twist()
    twist.linear.x = float(v)
    twist.angular.z = float(w)
    if not stamped:
        return twist
    msg = TwistStamped()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.twist = twist
    return msg


def twist_of(msg: Union[Twist, TwistStamped]) -> Twist:
    """Return the Twist inside a Twist or TwistStamped message."""
    return msg.twist if isinstance(msg, TwistStamped) else msg


def yaw_quaternion(yaw: float) -> Quaternion:
    """Return the quaternion of a rotation by ``yaw`` about z."""
    return Quaternion(z=math.sin(yaw / 2.0), w=math.cos(yaw / 2.0))


def make_odom(stamp: Time, pose: Sequence[float], v: float, w: float) -> Odometry:
    """Return an odom -> base_link Odometry for pose (x, y, yaw) and body rates (v, w)."""
    x, y, yaw = pose
    msg = Odometry()
    msg.header.stamp = stamp
    msg.header.frame_id = 'odom'
    msg.child_frame_id = 'base_link'
    msg.pose.pose.position.x = float(x)
    msg.pose.pose.position.y = float(y)
    msg.pose.pose.orientation = yaw_quaternion(yaw)
    msg.twist.twist.linear.x = float(v)
    msg.twist.twist.angular.z = float(w)
    return msg


def advance_pose(pose: Sequence[float], v: float, w: float, dt: float) -> tuple:
    """Integrate unicycle kinematics over ``dt`` (midpoint heading) and return (x, y, yaw)."""
    x, y, yaw = pose
    heading = yaw + 0.5 * w * dt
    return (x + v * math.cos(heading) * dt, y + v * math.sin(heading) * dt,
            math.remainder(yaw + w * dt, math.tau))


class MonotonicTime:
    """A time in integer nanoseconds that never runs backwards, fed by a clock that may.

    It follows the clock exactly until the clock jumps backwards (a simulation
    reset); from then on it runs on from where it was, advancing by the last
    step seen at the jump, so time since an event stays meaningful.
    """

    def __init__(self) -> None:
        self._raw: Optional[int] = None
        self._step = 0
        self.offset = 0  # added to the raw clock: grows by each backwards jump
        self.jumps = 0

    def __call__(self, raw_ns: int) -> int:
        """Take a clock reading and return the monotonic time for it."""
        if self._raw is not None:
            if raw_ns < self._raw:
                self.offset += self._raw - raw_ns + self._step
                self.jumps += 1
            elif raw_ns > self._raw:
                self._step = raw_ns - self._raw
        self._raw = raw_ns
        return raw_ns + self.offset


def spin_until(executor: Executor, condition: Callable[[], Any], deadline: float) -> bool:
    """Spin ``executor`` until ``condition()`` holds or time.monotonic() passes ``deadline``.

    Return whether it holds; short spins, so the condition is checked often.
    """
    while not condition():
        if time.monotonic() >= deadline:
            return bool(condition())
        executor.spin_once(timeout_sec=0.005)
    return True


def run_node(make_node: Callable[[], Node], args: Optional[list] = None,
             executor_class: Callable[[], Executor] = SingleThreadedExecutor) -> int:
    """Run a tool node until SIGINT or SIGTERM, then clean up; return the exit code 0.

    The signal handlers only set a flag that the spin loop checks. rclpy's
    default handlers shut the context down at once instead, which can break a
    callback that is publishing at that moment (RCLError, exit code 1).
    """
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop: List[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.append(signum))
    node = None
    executor = executor_class()
    try:
        node = make_node()
        executor.add_node(node)
        while not stop and rclpy.ok():
            executor.spin_once(timeout_sec=0.05)
    finally:
        executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
