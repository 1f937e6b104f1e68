# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The null relay: the floor the gate is measured against.

A minimal rclpy node that republishes every planner message unchanged, with
the gate's QoS, spun by plain rclpy (``SingleThreadedExecutor``, as every
tool node here). Run it as ``python -m safety_gate.kit.bench.relay
[--reused-wait-set] [--message KIND] [--ros-args ...]``. ``--reused-wait-set``
spins it with the gate's executor instead, which separates what the gate's
own work costs from what its executor saves. ``--message`` picks what it
relays, as the gate's ``planner.input`` does: ``twist`` (the default,
``planner/cmd_vel`` to ``cmd_vel``), or ``path`` or ``autoware_trajectory``
(``planner/trajectory`` to ``trajectory``, the plan as it came).
"""

import functools
import sys
from typing import Any, Tuple

from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Path
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from safety_gate.executor import ReusedWaitSetExecutor
from safety_gate.kit.world.rosutil import COMMAND_QOS, run_node
from safety_gate.wrapper_types import load_wrapper_types

REUSED_WAIT_SET_FLAG = '--reused-wait-set'
MESSAGE_OPTION = '--message'
PLAN_IN, PLAN_OUT = 'planner/trajectory', 'trajectory'


def relayed(message: str) -> Tuple[Any, str, str]:
    """Return (message type, input topic, output topic) for a ``--message`` kind."""
    if message == 'twist':
        return TwistStamped, 'planner/cmd_vel', 'cmd_vel'
    if message == 'path':
        return Path, PLAN_IN, PLAN_OUT
    if message == 'autoware_trajectory':
        return load_wrapper_types().trajectory, PLAN_IN, PLAN_OUT
    raise ValueError(f'{MESSAGE_OPTION} {message!r} is not twist, path or autoware_trajectory')


class NullRelay(Node):
    """Republish each proposal as it is: no checks, no state, no trace."""

    def __init__(self, message: str = 'twist') -> None:
        super().__init__('null_relay')
        msg_type, topic_in, topic_out = relayed(message)
        publisher = self.create_publisher(msg_type, topic_out, COMMAND_QOS)
        self.create_subscription(msg_type, topic_in, publisher.publish, COMMAND_QOS)


def main(args=None) -> int:
    """Run the relay until SIGINT or SIGTERM."""
    argv = list(sys.argv if args is None else args)
    executor_class = (ReusedWaitSetExecutor if REUSED_WAIT_SET_FLAG in argv
                      else SingleThreadedExecutor)
    argv = [a for a in argv if a != REUSED_WAIT_SET_FLAG]
    message = 'twist'
    if MESSAGE_OPTION in argv:
        at = argv.index(MESSAGE_OPTION)
        message = argv[at + 1]
        del argv[at:at + 2]
    return run_node(functools.partial(NullRelay, message), argv, executor_class)


if __name__ == '__main__':
    sys.exit(main())
