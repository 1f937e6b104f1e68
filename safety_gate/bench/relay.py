# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The null relay: the floor the gate is measured against.

A minimal rclpy node that republishes every ``planner/cmd_vel`` message
unchanged on ``cmd_vel``, with the gate's message type, QoS and executor
loop. Run it as ``python -m safety_gate.bench.relay [--ros-args ...]``.
"""

import sys

from geometry_msgs.msg import TwistStamped
from rclpy.node import Node
from safety_gate.tools.rosutil import COMMAND_QOS, run_node


class NullRelay(Node):
    """Republish each proposal as it is: no checks, no state, no trace."""

    def __init__(self) -> None:
        super().__init__('null_relay')
        publisher = self.create_publisher(TwistStamped, 'cmd_vel', COMMAND_QOS)
        self.create_subscription(TwistStamped, 'planner/cmd_vel', publisher.publish, COMMAND_QOS)


def main(args=None) -> int:
    """Run the relay until SIGINT or SIGTERM."""
    return run_node(NullRelay, args)


if __name__ == '__main__':
    sys.exit(main())
