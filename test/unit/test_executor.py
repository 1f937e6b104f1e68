# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""ReusedWaitSetExecutor against real rclpy entities over loopback DDS.

The served node runs on the executor under test; its peer (publishers, a
client) runs on rclpy's own SingleThreadedExecutor, spun in turn in the same
thread, so every message crosses the middleware.
"""

import asyncio
import time

import pytest
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from safety_gate.executor import ReusedWaitSetExecutor, UnsupportedWork
from std_msgs.msg import String
from std_srvs.srv import Trigger

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
BEST_EFFORT = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)


class Pair:
    """A served node on the executor under test and a peer node on rclpy's executor."""

    def __init__(self, context, name: str):
        self.node = Node(f'served_{name}', context=context)
        self.peer = Node(f'peer_{name}', context=context)
        self.executor = ReusedWaitSetExecutor(context=context)
        self.executor.add_node(self.node)
        self.peer_executor = SingleThreadedExecutor(context=context)
        self.peer_executor.add_node(self.peer)

    def spin_until(self, condition, timeout_s: float = 10.0, action=None) -> bool:
        """Spin both until ``condition()``, calling ``action()`` between spins; a safety net."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return True
            if action is not None:
                action()
            self.executor.spin_once(timeout_sec=0.01)
            self.peer_executor.spin_once(timeout_sec=0.001)
        return condition()

    def destroy(self):
        self.executor.shutdown()
        self.peer_executor.shutdown()
        self.node.destroy_node()
        self.peer.destroy_node()


@pytest.fixture
def pair(ros_context, request):
    made = Pair(ros_context, request.node.name.replace('[', '_').replace(']', ''))
    yield made
    made.destroy()


def _send(pair, topic: str, qos=RELIABLE):
    publisher = pair.peer.create_publisher(String, topic, qos)
    count = [0]

    def publish():
        count[0] += 1
        publisher.publish(String(data=f'{topic} {count[0]}'))
    return publish


def test_serves_subscriptions_of_every_kind_timers_and_services(pair):
    got = {'plain': [], 'info': [], 'raw': [], 'timer': 0, 'service': 0}
    node = pair.node
    node.create_subscription(String, 'plain', lambda m: got['plain'].append(m.data), RELIABLE)
    node.create_subscription(
        String, 'info', lambda m, info: got['info'].append(info['publication_sequence_number']),
        RELIABLE)
    node.create_subscription(String, 'raw', lambda raw: got['raw'].append(raw), RELIABLE,
                             raw=True)

    def on_timer():
        got['timer'] += 1
    node.create_timer(0.01, on_timer)

    def on_trigger(request, response):
        got['service'] += 1
        response.success, response.message = True, 'served'
        return response
    node.create_service(Trigger, 'trigger', on_trigger)

    senders = [_send(pair, topic) for topic in ('plain', 'info', 'raw')]
    assert pair.spin_until(lambda: all(got[k] for k in ('plain', 'info', 'raw')),
                           action=lambda: [send() for send in senders])
    assert got['plain'][0].startswith('plain ')
    assert all(isinstance(n, int) and n >= 1 for n in got['info'])
    assert deserialize_message(got['raw'][0], String).data.startswith('raw ')
    assert pair.spin_until(lambda: got['timer'] >= 5)

    client = pair.peer.create_client(Trigger, 'trigger')
    assert pair.spin_until(client.service_is_ready)
    future = client.call_async(Trigger.Request())
    assert pair.spin_until(future.done)
    assert (future.result().success, future.result().message) == (True, 'served')
    assert got['service'] == 1


def test_entities_created_and_destroyed_while_spinning(pair):
    first, later = [], []
    sub = pair.node.create_subscription(String, 'first', first.append, RELIABLE)
    send_first, send_later = _send(pair, 'first'), _send(pair, 'later')
    assert pair.spin_until(lambda: first, action=send_first)

    pair.node.create_subscription(String, 'later', later.append, RELIABLE)
    assert pair.spin_until(lambda: later, action=send_later)

    pair.node.destroy_subscription(sub)
    pair.spin_until(lambda: False, timeout_s=0.3)
    served_before = len(first)
    pair.spin_until(lambda: False, timeout_s=0.5, action=send_first)
    assert len(first) == served_before


def test_entities_destroyed_by_a_callback_leave_the_wait_set(pair):
    # A lifecycle deactivation destroys the timers and the subscriptions (with
    # their QoS event handlers) from a service callback: the next spin must not
    # touch their handles.
    fired = {'doomed': 0, 'after': 0}
    doomed = pair.node.create_subscription(
        String, 'doomed', lambda m: None, RELIABLE,
        event_callbacks=SubscriptionEventCallbacks(incompatible_qos=lambda event: None,
                                                   use_default_callbacks=False))

    def on_doomed():
        fired['doomed'] += 1
        pair.node.destroy_subscription(doomed)
        pair.node.destroy_timer(timer)
        pair.node.create_timer(0.01, lambda: fired.__setitem__('after', fired['after'] + 1))
    timer = pair.node.create_timer(0.01, on_doomed)
    assert pair.spin_until(lambda: fired['after'] >= 3)
    assert fired['doomed'] == 1


def test_runs_qos_event_handlers(pair):
    events = []
    pair.node.create_subscription(
        String, 'mismatch', lambda m: None, RELIABLE,
        event_callbacks=SubscriptionEventCallbacks(
            incompatible_qos=events.append, use_default_callbacks=False))
    pair.peer.create_publisher(String, 'mismatch', BEST_EFFORT)
    assert pair.spin_until(lambda: events)
    assert events[0].total_count >= 1


def test_coroutine_callbacks_run_unless_they_await(pair):
    got = []

    async def finishes(msg):
        got.append(msg.data)

    async def awaits(msg):
        await asyncio.sleep(0)

    pair.node.create_subscription(String, 'async', finishes, RELIABLE)
    assert pair.spin_until(lambda: got, action=_send(pair, 'async'))

    pair.node.create_subscription(String, 'awaits', awaits, RELIABLE)
    send = _send(pair, 'awaits')
    with pytest.raises(UnsupportedWork, match='awaits'):
        pair.spin_until(lambda: False, action=send)


def test_a_callback_exception_reaches_the_caller_and_spinning_goes_on(pair):
    got = []

    def fails_once(msg):
        got.append(msg.data)
        if len(got) == 1:
            raise RuntimeError('injected')

    pair.node.create_subscription(String, 'fails', fails_once, RELIABLE)
    send = _send(pair, 'fails')
    with pytest.raises(RuntimeError, match='injected'):
        pair.spin_until(lambda: False, action=send)
    assert pair.spin_until(lambda: len(got) >= 3, action=send)


def test_refuses_clients_and_tasks(pair):
    pair.node.create_client(Trigger, 'anything')
    with pytest.raises(UnsupportedWork, match='no clients'):
        pair.executor.spin_once(timeout_sec=0)
    with pytest.raises(UnsupportedWork, match='no tasks'):
        pair.executor.create_task(lambda: None)
