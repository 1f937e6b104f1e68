# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The operator and recorder of a closed-loop run, as one rclpy node.

A test tool, not part of the safety function. It records what crosses the
wire (proposals, the gate's output, odometry, decision records) with receipt
times on the monotonic clock, and plays scripted actions: e-stop, reset and
vehicle faults.
"""

import json
import time
from typing import Callable, Optional, Sequence

from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from safety_gate.tools.rosutil import COMMAND_QOS, SENSOR_QOS
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger

_STATE_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                        durability=DurabilityPolicy.TRANSIENT_LOCAL)
_DECISION_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
# Odometry counts as flowing if a sample arrived within this long.
_ODOM_FRESH_S = 0.5


class Operator:
    """Records a run into ``result`` (a closed_loop.Run) and plays actions."""

    def __init__(self, result) -> None:
        self.result = result
        self.gate_state: Optional[str] = None
        self._context = rclpy.Context()
        self._context.init()
        self.node = rclpy.create_node('closed_loop_operator', context=self._context)
        self._executor = SingleThreadedExecutor(context=self._context)
        self._executor.add_node(self.node)
        node = self.node
        node.create_subscription(TwistStamped, 'planner/cmd_vel', self._on_proposal, COMMAND_QOS)
        node.create_subscription(TwistStamped, 'cmd_vel', self._on_output, COMMAND_QOS)
        node.create_subscription(Odometry, 'odom', self._on_odom, SENSOR_QOS)
        node.create_subscription(String, 'safety_gate/decision', self._on_decision,
                                 _DECISION_QOS)
        node.create_subscription(String, 'safety_gate/state', self._on_state, _STATE_QOS)
        self._estop = node.create_publisher(Bool, 'safety_gate/estop', COMMAND_QOS)
        self._fault = node.create_publisher(String, 'sim_vehicle/fault', COMMAND_QOS)
        self._reset = node.create_client(Trigger, 'safety_gate/reset')

    # ------------------------------------------------------------ recording

    def _on_proposal(self, msg: TwistStamped) -> None:
        self.result.proposals.append((time.monotonic(), msg.twist.linear.x, msg.twist.angular.z))

    def _on_output(self, msg: TwistStamped) -> None:
        self.result.outputs.append((time.monotonic(), msg.twist.linear.x, msg.twist.angular.z))

    def _on_odom(self, msg: Odometry) -> None:
        twist = msg.twist.twist
        self.result.odom.append((time.monotonic(), twist.linear.x, twist.angular.z))

    def _on_decision(self, msg: String) -> None:
        record = json.loads(msg.data)
        record['received'] = time.monotonic()
        self.result.decisions.append(record)

    def _on_state(self, msg: String) -> None:
        self.gate_state = json.loads(msg.data)['mode']

    def odom_flowing(self) -> bool:
        """Return True if odometry arrived recently."""
        odom = self.result.odom
        return bool(odom) and time.monotonic() - odom[-1][0] < _ODOM_FRESH_S

    # ------------------------------------------------------------ acting

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Spin until ``condition`` holds; raise TimeoutError naming ``what``."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f'closed loop: timed out waiting for {what}')
            self._executor.spin_once(timeout_sec=0.02)

    def drain(self, seconds: float) -> None:
        """Keep recording for ``seconds`` (late decision records)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._executor.spin_once(timeout_sec=0.02)

    def reset(self, timeout: float = 5.0) -> bool:
        """Call ``safety_gate/reset`` and return whether it was accepted."""
        if not self._reset.wait_for_service(timeout_sec=timeout):
            return False
        future = self._reset.call_async(Trigger.Request())
        self.wait_until(future.done, timeout, 'the reset reply')
        accepted = future.result().success
        self.result.actions.append((time.monotonic(), 'reset', future.result().message))
        return accepted

    def reset_until_accepted(self, timeout: float) -> None:
        """Reset the latched gate, retrying while its inputs settle."""
        deadline = time.monotonic() + timeout
        while not self.reset():
            if time.monotonic() > deadline:
                raise TimeoutError('closed loop: the gate refused every reset')
            self.drain(0.2)

    def act(self, kind: str, value) -> None:
        """Perform one action now."""
        if kind == 'estop':
            self._estop.publish(Bool(data=bool(value)))
            self.result.actions.append((time.monotonic(), kind, bool(value)))
        elif kind == 'reset':
            self.reset()
        elif kind == 'vehicle_fault':
            self._fault.publish(String(data=json.dumps(value)))
            self.result.actions.append((time.monotonic(), kind, value))
        else:
            raise ValueError(f'unknown action {kind!r}')

    def play(self, actions: Sequence, t0: float, duration: float,
             progress: Optional[Callable[[float], None]] = None) -> None:
        """Record until ``t0 + duration``, performing each action at ``t0 + action.t``."""
        queue = list(actions)
        next_report = 0.0
        while True:
            elapsed = time.monotonic() - t0
            if elapsed >= duration:
                return
            while queue and queue[0].t <= elapsed:
                action = queue.pop(0)
                self.act(action.kind, action.value)
            if progress is not None and elapsed >= next_report:
                progress(elapsed)
                next_report += 1.0
            self._executor.spin_once(timeout_sec=0.01)

    def close(self) -> None:
        """Destroy the node and its context."""
        self._executor.shutdown()
        self.node.destroy_node()
        self._context.try_shutdown()
