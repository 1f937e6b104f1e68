# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The scenario operator's own timing, against a stand-in gate over real DDS."""

import os
import threading
import time

from builtin_interfaces.msg import Time
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rosgraph_msgs.msg import Clock
from safety_gate.kit.scenarios.scenario_operator import Operator
from safety_gate.kit.world.rosutil import CLOCK_QOS
from std_srvs.srv import Trigger

pytestmark = pytest.mark.ros

REQUESTED_AT_S = 10.0
REPLIED_AT_S = 20.0


def test_a_reset_is_timed_when_its_request_was_sent_not_when_its_slow_reply_came(
        ros_context):
    # On a loaded host the reply can come long after the gate acted on the reset and
    # approved a fresh proposal; a reset timed at the reply put those approvals inside
    # the latched window (motion while latched, chatter) in a correct run.
    gate = rclpy.create_node('slow_gate', context=ros_context)
    clock = gate.create_publisher(Clock, '/clock', CLOCK_QOS)

    def tick(seconds):
        clock.publish(Clock(clock=Time(sec=int(seconds))))

    def slow_reset(_, reply):
        tick(REPLIED_AT_S)
        time.sleep(0.5)  # the operator hears the clock move on before the reply
        reply.success, reply.message = True, 'latch cleared'
        return reply

    gate.create_service(Trigger, 'safety_gate/reset', slow_reset)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(gate)
    spinning = threading.Thread(target=executor.spin, daemon=True)
    spinning.start()
    operator = Operator('slow_reset', int(os.environ['ROS_DOMAIN_ID']))
    try:
        operator.wait_until(lambda: tick(REQUESTED_AT_S) or operator.raw == REQUESTED_AT_S,
                            10.0, 'the first clock')
        requested_at = operator.now
        assert operator.reset(10.0)
        assert operator.raw == REPLIED_AT_S
        reset = operator.rec.actions[-1]
        assert (reset.kind, reset.ok, reset.raw, reset.t) == (
            'reset', True, REQUESTED_AT_S, requested_at)
    finally:
        operator.destroy()
        executor.shutdown()
        spinning.join(5.0)
        gate.destroy_node()
