# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The null relay: the floor the gate is measured against.

A minimal rclpy node that republishes every ``planner/cmd_vel`` message
unchanged on ``cmd_vel``, with the gate's message type and QoS, spun by plain
rclpy (``SingleThreadedExecutor``, as every tool node here). Run it as
``python -m safety_gate.kit.bench.relay [--reused-wait-set] [--ros-args ...]``;
``--reused-wait-set`` spins it with the gate's executor instead, which
separates what the gate's own work costs from what its executor saves.
"""

import sys

from geometry_msgs.msg import TwistStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from safety_gate.executor import ReusedWaitSetExecutor
from safety_gate.kit.world.rosutil import COMMAND_QOS, run_node

REUSED_WAIT_SET_FLAG = '--reused-wait-set'


class NullRelay(Node):
    """Republish each proposal as it is: no checks, no state, no trace."""

    def __init__(self) -> None:
        super().__init__('null_relay')
        publisher = self.create_publisher(TwistStamped, 'cmd_vel', COMMAND_QOS)
        self.create_subscription(TwistStamped, 'planner/cmd_vel', publisher.publish, COMMAND_QOS)


def main(args=None) -> int:
    """Run the relay until SIGINT or SIGTERM."""
    argv = sys.argv if args is None else args
    executor_class = (ReusedWaitSetExecutor if REUSED_WAIT_SET_FLAG in argv
                      else SingleThreadedExecutor)
    return run_node(NullRelay, [a for a in argv if a != REUSED_WAIT_SET_FLAG], executor_class)


if __name__ == '__main__':
    sys.exit(main())
