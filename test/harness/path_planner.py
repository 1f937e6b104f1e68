# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A nav_msgs/Path planner for the node tests of trajectory mode (and of a shadow candidate)."""

import time

from geometry_msgs.msg import PoseStamped
from harness.ros import PLAN_PLANNER_TOPICS, Received, UNLATCHED
from nav_msgs.msg import Path
from safety_gate.kit.world.alpamayo_plans import ALPAMAYO_1_5, plan, straight
from safety_gate.kit.world.rosutil import COMMAND_QOS, stamp_from_ns, stamp_to_ns, yaw_quaternion
from std_msgs.msg import String

V = 0.5
PATH_MODE = {**UNLATCHED, 'planner.input': 'path',
             # A nav_msgs/Path planner sends no meta: nothing to require, nor to wait for.
             'confidence.required': False, 'confidence.pairing_wait': 0.0}
NOMINAL = plan(ALPAMAYO_1_5, straight(V))


class PathPlanner:
    """The test's planner: a Path at 10 Hz stamped now, its reasoning, and what the gate sends.

    ``namespace``: where it publishes (a shadow candidate's is not ``planner``).
    ``zero_pose_stamps`` leaves every pose stamp at zero (the gate then spaces
    the poses ``trajectory.dt`` apart).
    """

    def __init__(self, bench, namespace: str = 'planner') -> None:
        self.bench, node = bench, bench.node
        self.points, self.reasoning, self.zero_pose_stamps = None, '', False
        self.plan_pub = node.create_publisher(Path, f'{namespace}/trajectory', COMMAND_QOS)
        self.reasoning_pub = node.create_publisher(String, f'{namespace}/reasoning',
                                                   COMMAND_QOS)
        self.out = []  # Records of the Paths on safety_gate/trajectory
        node.create_subscription(Path, 'safety_gate/trajectory',
                                 lambda msg: self.out.append(Received(time.monotonic(), msg)),
                                 COMMAND_QOS)
        node.create_timer(0.1, self._tick)

    def _tick(self) -> None:
        if self.points is None:
            return
        stamp_ns = self.bench.now_ns()
        msg = Path()
        msg.header.stamp = stamp_from_ns(stamp_ns)
        msg.header.frame_id = 'base_link'
        for point in self.points:
            pose = PoseStamped()
            if not self.zero_pose_stamps:
                pose.header.stamp = stamp_from_ns(stamp_ns + point.time_from_start_ns)
            pose.pose.position.x, pose.pose.position.y = point.x, point.y
            pose.pose.orientation = yaw_quaternion(point.yaw)
            msg.poses.append(pose)
        self.plan_pub.publish(msg)
        if self.reasoning:
            self.reasoning_pub.publish(String(data=self.reasoning))

    def output_of(self, record: dict):
        """Wait for and return the Path the gate published with decision ``record``."""
        stamp_ns = round(record['t'] * 1e9)

        def match():
            return next((r.data for r in self.out
                         if stamp_to_ns(r.data.header.stamp) == stamp_ns), None)
        self.bench.wait_for(lambda: match() is not None)
        return match()


def drive_nominal(bench, planner, gate):
    """Send the straight plan until cmd_vel follows its speed; return the time it did."""
    planner.points = NOMINAL
    assert bench.wait_for_output(planner=PLAN_PLANNER_TOPICS), gate.output()
    assert bench.wait_for_cmd(V, 0.0, tolerance=1e-6), (bench.cmd[-1:], gate.output())
    return bench.cmd[-1].t
