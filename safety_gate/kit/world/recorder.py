# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The one recorder of the gate's outputs: an rclpy node on an executor of its own.

The tests' bench, the scenario operator and the benchmark rig all watch a
gate from a node of their own. :class:`GateRecorder` is what they share: the
node, its executor and context, spinning until a condition holds, and the
subscriptions to what the gate publishes (cmd_vel, decision records, state,
diagnostics) with the QoS that loses nothing, decoded once. Each user keeps
what it needs, in its own form and on its own clock, by overriding the
``on_*`` hooks of the topics it records (:meth:`GateRecorder.record`).
"""

import json
import time
from typing import Any, Callable, Optional

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import TwistStamped
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from safety_gate.kit.world.rosutil import LATCHED_QOS, RECORD_QOS, spin_until
from safety_gate.trace_record import is_config, is_spi
from std_msgs.msg import String

# What a recorder can subscribe to.
COMMAND, DECISION, STATE, DIAGNOSTICS = 'cmd_vel', 'decision', 'state', 'diagnostics'
GATE_OUTPUTS = (COMMAND, DECISION, STATE, DIAGNOSTICS)


class GateRecorder:
    """A node that subscribes to the gate's outputs it is told to :meth:`record`.

    The decision topic carries decision records, SPI records and, when a gate
    starts, its config record: they arrive decoded at :meth:`on_decision`,
    :meth:`on_spi` and :meth:`on_config`; a state message at :meth:`on_state`, decoded; a command
    (of ``twist_type``) at :meth:`on_command` and a diagnostics array at
    :meth:`on_diagnostics` as they are. The hooks keep nothing here.
    """

    def __init__(self, name: str, *, context: Optional[Context] = None,
                 domain_id: Optional[int] = None, namespace: str = '',
                 twist_type: type = TwistStamped) -> None:
        """Create the node in ``context``, or in a context of its own on ``domain_id``.

        A context of its own installs no signal handlers, and :meth:`destroy`
        shuts it down.
        """
        self._own_context = context is None
        if context is None:
            context = Context()
            context.init(domain_id=domain_id)
        self.context = context
        self.node = Node(name, namespace=namespace, context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self._topics = {
            COMMAND: (twist_type, 'cmd_vel', self.on_command, RECORD_QOS),
            DECISION: (String, 'safety_gate/decision', self._on_decision_message, RECORD_QOS),
            STATE: (String, 'safety_gate/state', self._on_state_message, LATCHED_QOS),
            DIAGNOSTICS: (DiagnosticArray, '/diagnostics', self.on_diagnostics, RECORD_QOS),
        }

    def record(self, *topics: str) -> None:
        """Subscribe to ``topics`` (of :data:`GATE_OUTPUTS`), handing what comes to the hooks.

        The executor serves ready subscriptions in the order they were made,
        so a user that times messages by another of its topics (a clock)
        subscribes to that one first.
        """
        for topic in topics:
            self.node.create_subscription(*self._topics[topic])

    # ------------------------------------------------------------ hooks

    def on_command(self, msg: Any) -> None:
        """Take one cmd_vel message of the gate."""

    def on_decision(self, record: dict) -> None:
        """Take one decision record of the gate."""

    def on_config(self, record: dict) -> None:
        """Take the config record a gate publishes when it starts."""

    def on_spi(self, record: dict) -> None:
        """Take one SPI record (the gate writes one a second to its trace and topic)."""

    def on_state(self, state: dict) -> None:
        """Take one state message of the gate."""

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        """Take one diagnostics array (of any node)."""

    def _on_decision_message(self, msg: String) -> None:
        record = json.loads(msg.data)
        if is_config(record):
            self.on_config(record)
        elif is_spi(record):
            self.on_spi(record)
        else:
            self.on_decision(record)

    def _on_state_message(self, msg: String) -> None:
        self.on_state(json.loads(msg.data))

    # ------------------------------------------------------------ spinning

    def spin_once(self, timeout_sec: float = 0.01) -> None:
        """Process what has arrived, waiting at most ``timeout_sec``."""
        self.executor.spin_once(timeout_sec=timeout_sec)

    def spin_until(self, condition: Callable[[], Any], deadline: float) -> bool:
        """Spin until ``condition()`` holds or time.monotonic() passes ``deadline``."""
        return spin_until(self.executor, condition, deadline)

    def wait_for(self, condition: Callable[[], Any], timeout: float) -> bool:
        """Spin until ``condition()`` holds or ``timeout`` passes; return whether it holds."""
        return self.spin_until(condition, time.monotonic() + timeout)

    def spin_for(self, seconds: float) -> None:
        """Keep spinning (publishing and recording) for ``seconds``."""
        self.wait_for(lambda: False, seconds)

    def destroy(self) -> None:
        """Destroy the node and its executor, and the context if it is the recorder's own."""
        self.executor.remove_node(self.node)
        self.executor.shutdown()
        self.node.destroy_node()
        if self._own_context:
            self.context.try_shutdown()
