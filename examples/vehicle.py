# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""An example vehicle: drives the gate's cmd_vel as a unicycle and publishes nav_msgs/Odometry.

The speeds follow the command within an acceleration limit and the pose moves
with them: what the gate's plausibility, stuck and tracking checks look for.
"""

import math

from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data

DT = 0.02  # s: 50 Hz odometry, well inside the gate's odom.timeout
CMD_TIMEOUT = 0.5  # s: stop on a silent gate, as a real drive's command timeout does
# m/s^2, rad/s^2: a real base cannot stop in one sample, and odometry that does
# looks implausible to the gate (odom.max_accel).
MAX_ACCEL = 2.0


def approach(value, target):
    """Return ``value`` moved toward ``target`` by at most one step's acceleration."""
    return value + max(-MAX_ACCEL * DT, min(MAX_ACCEL * DT, target - value))


class ExampleVehicle(Node):
    """Integrate cmd_vel into a pose; publish it with the speeds on odom."""

    def __init__(self):
        super().__init__('example_vehicle')
        self.v = self.w = self.x = self.y = self.yaw = 0.0
        self.cmd = (0.0, 0.0)
        self.last_cmd = self.get_clock().now()
        self.create_subscription(TwistStamped, 'cmd_vel', self.on_cmd, 10)
        self.odom_pub = self.create_publisher(Odometry, 'odom', qos_profile_sensor_data)
        self.create_timer(DT, self.step)

    def on_cmd(self, msg):
        """Take the gate's output as the speeds to reach."""
        self.cmd = (msg.twist.linear.x, msg.twist.angular.z)
        self.last_cmd = self.get_clock().now()

    def step(self):
        """Advance the pose by one step and publish it, stamped with the node clock."""
        now = self.get_clock().now()
        if (now - self.last_cmd).nanoseconds > CMD_TIMEOUT * 1e9:
            self.cmd = (0.0, 0.0)
        self.v, self.w = approach(self.v, self.cmd[0]), approach(self.w, self.cmd[1])
        self.x += self.v * math.cos(self.yaw) * DT
        self.y += self.v * math.sin(self.yaw) * DT
        self.yaw += self.w * DT
        odom = Odometry()
        odom.header.stamp = now.to_msg()
        odom.header.frame_id, odom.child_frame_id = 'odom', 'base_link'
        odom.pose.pose.position.x, odom.pose.pose.position.y = self.x, self.y
        odom.pose.pose.orientation.z = math.sin(self.yaw / 2.0)
        odom.pose.pose.orientation.w = math.cos(self.yaw / 2.0)
        odom.twist.twist.linear.x, odom.twist.twist.angular.z = self.v, self.w
        self.odom_pub.publish(odom)
        self.get_logger().info(f'x={self.x:.2f} y={self.y:.2f} v={self.v:.2f}',
                               throttle_duration_sec=1.0)


def main():
    """Spin the vehicle until Ctrl-C."""
    rclpy.init()
    try:
        rclpy.spin(ExampleVehicle())
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == '__main__':
    main()
