# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for the alpamayo-autoware wrapper: its topics, types and format, no model.

A test tool, not part of the safety function. It publishes the plans of
:mod:`~safety_gate.kit.world.alpamayo_plans` exactly as the wrapper's 1.5 or 2
Super node would, with the wrapper's topic parameters and defaults:

- ``trajectory_topic`` (``/alpamayo/predicted_trajectory``):
  ``autoware_planning_msgs/Trajectory``, frame ``base_link``, stamped now() at
  publish (1.5) or with the input t0, ``input_latency`` s older (2 Super;
  0.1 s by default, one camera frame: the real node's t0 is older by its
  inference time too, seconds);
- ``cot_topic`` (``/alpamayo/reasoning``): ``std_msgs/String``, and
  ``cot_with_stamped_topic`` (``/alpamayo/reasoning_stamped``):
  ``autoware_internal_debug_msgs/StringStamped`` stamped like the trajectory;
  both after the trajectory and only when ``reasoning`` is not empty.

All with queue depth 10, reliable, volatile. Other parameters: ``variant``
(``alpamayo_1_5`` or ``alpamayo_2_super``), ``shape`` (``straight``, ``arc``,
``kink`` or ``backward_sweep``) with ``speed`` (m/s), ``curvature`` (1/m),
``kink_time`` (s) and ``kink_angle`` (rad); ``fault`` (empty, ``nan_pose`` or
``non_monotonic_time``) at point ``fault_index`` (-1: the middle one);
``period_min`` and ``period_max`` (s; the variant's by default: each period is
drawn uniformly between them, from ``seed``).

The message packages are not on PyPI; they are imported when the node
starts, and without them it exits with code 2 and says how to get them.
"""

import random
import sys
from typing import Any, List, Optional, Sequence

from builtin_interfaces.msg import Duration
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Path
from rclpy.node import Node
from safety_gate.kit.world.alpamayo_plans import (ALPAMAYO_1_5, arc, backward_sweep,
                                                  FRAME_ID, kink, plan, PlanPoint, straight,
                                                  VARIANTS, with_nan_pose,
                                                  with_non_monotonic_time)
from safety_gate.kit.world.rosutil import COMMAND_QOS, run_node, stamp_from_ns, yaw_quaternion
from safety_gate.wrapper_types import InterfacesMissing, load_wrapper_types, WrapperTypes
from std_msgs.msg import String

FAULTS = {'': None, 'nan_pose': with_nan_pose, 'non_monotonic_time': with_non_monotonic_time}
MISSING_EXIT_CODE = 2


def trajectory_message(types: WrapperTypes, points: Sequence[PlanPoint], stamp_ns: int) -> Any:
    """Return the Trajectory the wrapper would publish for ``points`` stamped ``stamp_ns``."""
    msg = types.trajectory()
    msg.header.stamp = stamp_from_ns(stamp_ns)
    msg.header.frame_id = FRAME_ID
    for point in points:
        out = types.trajectory_point()
        sec, nanosec = divmod(point.time_from_start_ns, 1_000_000_000)
        out.time_from_start = Duration(sec=sec, nanosec=nanosec)
        out.pose.position.x = float(point.x)
        out.pose.position.y = float(point.y)
        out.pose.orientation = yaw_quaternion(point.yaw)
        out.longitudinal_velocity_mps = float(point.longitudinal_velocity_mps)
        msg.points.append(out)
    return msg


def path_message(points: Sequence[PlanPoint], stamp_ns: int) -> Path:
    """Return the same plan as a nav_msgs/Path: each pose stamped at its time."""
    msg = Path()
    msg.header.stamp = stamp_from_ns(stamp_ns)
    msg.header.frame_id = FRAME_ID
    for point in points:
        pose = PoseStamped()
        pose.header.stamp = stamp_from_ns(stamp_ns + point.time_from_start_ns)
        pose.header.frame_id = FRAME_ID
        pose.pose.position.x = float(point.x)
        pose.pose.position.y = float(point.y)
        pose.pose.orientation = yaw_quaternion(point.yaw)
        msg.poses.append(pose)
    return msg


class AlpamayoStandIn(Node):
    """The node: one plan (and its reasoning) per period, in the chosen variant's format."""

    def __init__(self, types: WrapperTypes) -> None:
        super().__init__('alpamayo_standin')
        self._types = types
        param = self.declare_parameter
        variant_name = param('variant', ALPAMAYO_1_5.name).value
        if variant_name not in VARIANTS:
            raise ValueError(f'variant {variant_name!r} is not one of {sorted(VARIANTS)}')
        self._variant = variant = VARIANTS[variant_name]
        self._points = self._plan_from_parameters()
        self._period = (param('period_min', variant.period[0]).value,
                        param('period_max', variant.period[1]).value)
        if not 0.0 < self._period[0] <= self._period[1]:
            raise ValueError(f'need 0 < period_min <= period_max, not {self._period}')
        self._latency_ns = int(param('input_latency', 0.1).value * 1e9)
        self._reasoning = param(
            'reasoning', 'Lane clear ahead with no lead vehicle; keeping the lane.').value
        self._random = random.Random(param('seed', 0).value)

        self._trajectory_pub = self.create_publisher(
            types.trajectory, param('trajectory_topic', '/alpamayo/predicted_trajectory').value,
            COMMAND_QOS)
        self._reasoning_pub = self.create_publisher(
            String, param('cot_topic', '/alpamayo/reasoning').value, COMMAND_QOS)
        stamped_topic = param('cot_with_stamped_topic', '/alpamayo/reasoning_stamped').value
        self._reasoning_stamped_pub = None
        if types.string_stamped is None:
            self.get_logger().warning(f'autoware_internal_debug_msgs is not usable: nothing '
                                      f'is published on {stamped_topic}')
        else:
            self._reasoning_stamped_pub = self.create_publisher(
                types.string_stamped, stamped_topic, COMMAND_QOS)
        self._timer = self.create_timer(self._next_period(), self._tick)

    def _plan_from_parameters(self) -> List[PlanPoint]:
        values = {name: self.declare_parameter(name, default).value for name, default in (
            ('shape', 'straight'), ('speed', 5.0), ('curvature', 0.05), ('kink_time', 1.0),
            ('kink_angle', 0.8), ('fault', ''), ('fault_index', -1))}
        speed = values['speed']
        shapes = {'straight': lambda: straight(speed),
                  'arc': lambda: arc(speed, values['curvature']),
                  'kink': lambda: kink(speed, values['kink_time'], values['kink_angle']),
                  'backward_sweep': backward_sweep}
        if values['shape'] not in shapes:
            raise ValueError(f'shape {values["shape"]!r} is not one of {sorted(shapes)}')
        if values['fault'] not in FAULTS:
            raise ValueError(f'fault {values["fault"]!r} is not one of {sorted(FAULTS)}')
        points = plan(self._variant, shapes[values['shape']]())
        fault = FAULTS[values['fault']]
        if fault is None:
            return points
        index = values['fault_index']
        return fault(points, len(points) // 2 if index < 0 else index)

    def _next_period(self) -> float:
        return self._random.uniform(*self._period)

    def _tick(self) -> None:
        now_ns = self.get_clock().now().nanoseconds
        stamp_ns = now_ns - self._latency_ns if self._variant.stamped_at_input else now_ns
        self._trajectory_pub.publish(trajectory_message(self._types, self._points, stamp_ns))
        if self._reasoning:
            self._reasoning_pub.publish(String(data=self._reasoning))
            if self._reasoning_stamped_pub is not None:
                self._reasoning_stamped_pub.publish(self._types.string_stamped(
                    stamp=stamp_from_ns(stamp_ns), data=self._reasoning))
        if self._period[0] != self._period[1]:
            # Counted from now: the wrapper publishes when an inference ends.
            self._timer.timer_period_ns = int(self._next_period() * 1e9)
            self._timer.reset()


def main(args: Optional[List[str]] = None) -> int:
    """Run the stand-in until SIGINT or SIGTERM; exit code 2 without the message packages."""
    try:
        types = load_wrapper_types()
    except InterfacesMissing as exc:
        print(f'alpamayo_standin: {exc}', file=sys.stderr)
        return MISSING_EXIT_CODE
    return run_node(lambda: AlpamayoStandIn(types), args)


if __name__ == '__main__':
    sys.exit(main())
