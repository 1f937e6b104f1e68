# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""An example planner: each proposal is a JSON meta, then a TwistStamped with the same stamp.

It proposes a gentle curve at 10 Hz with confidence 0.9. Run it beside the gate
as README.md, "Connect your planner", shows.
"""

import json

from geometry_msgs.msg import TwistStamped
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from std_msgs.msg import String


class ExamplePlanner(Node):
    """Propose (v, w) = (0.3 m/s, 0.2 rad/s) at 10 Hz."""

    def __init__(self):
        super().__init__('example_planner')
        # Depth 10, reliable, volatile: what the gate subscribes with.
        self.meta_pub = self.create_publisher(String, 'planner/meta', 10)
        self.cmd_pub = self.create_publisher(TwistStamped, 'planner/cmd_vel', 10)
        self.create_timer(0.1, self.propose)

    def propose(self):
        """Publish the meta first, so the gate decides the moment the command arrives."""
        cmd = TwistStamped()
        cmd.header.stamp = self.get_clock().now().to_msg()
        cmd.header.frame_id = 'base_link'
        cmd.twist.linear.x, cmd.twist.angular.z = 0.3, 0.2
        stamp = {'sec': cmd.header.stamp.sec, 'nanosec': cmd.header.stamp.nanosec}
        meta = {'stamp': stamp, 'confidence': 0.9,  # the two required fields
                'model_sha256': 'example', 'reasoning': 'clear road, gentle left curve'}
        self.meta_pub.publish(String(data=json.dumps(meta)))
        self.cmd_pub.publish(cmd)


def main():
    """Spin the planner until Ctrl-C."""
    rclpy.init()
    try:
        rclpy.spin(ExamplePlanner())
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == '__main__':
    main()
