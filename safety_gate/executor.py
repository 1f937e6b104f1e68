# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A single-threaded rclpy executor that keeps its wait set between spins.

rclpy's ``SingleThreadedExecutor`` builds a new wait set, a timeout timer and a
``Task`` for every callback it runs, entering every entity's handle on the way.
The gate runs about three callbacks per proposal (meta, command, and a share
of odometry and watchdog ticks), so that bookkeeping was over half of its CPU
and one extra cycle of latency for the command that waits behind its meta
(BENCHMARKS.md). This executor builds the wait set once, rebuilds it only
when its guard condition says the set of entities changed (a node added or an
entity created or destroyed), and calls each ready callback directly, in
rclpy's order: waitables, timers, subscriptions, guard conditions, services.

It serves what the gate's node has: subscriptions (plain, raw, with or without
``MessageInfo``), timers, services, guard conditions and waitables such as QoS
event handlers. It refuses, by design and with ``UnsupportedWork``, what
would need rclpy's futures: clients, tasks, and coroutine callbacks that await
(one that runs to its end without awaiting is fine). The gate has none of
them, and refusing loudly beats leaving such work silently unrun.
Like rclpy's own executors it drives ``_rclpy.WaitSet`` and the entities'
handles directly; test/unit/test_executor.py pins that behaviour for each distro.
"""

from contextlib import ExitStack
from dataclasses import dataclass
import inspect
from typing import Any, Callable, Dict, List, Optional, Tuple

from rclpy.executors import Executor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.subscription import Subscription
from rclpy.timer import Timer
from rclpy.waitable import NumberOfEntities


class UnsupportedWork(TypeError):
    """A client, a task or an awaiting callback: outside this executor's scope."""


@dataclass(frozen=True)
class _Served:
    """The entities of one wait set, fixed until the guard condition fires."""

    wait_set: Any
    stack: ExitStack
    subscriptions: Dict[int, Tuple[Any, Subscription, bool]]
    timers: Dict[int, Tuple[Any, Timer]]
    services: Dict[int, Any]
    guards: Dict[int, Tuple[Any, Any]]
    waitables: List[Any]
    handles: Tuple[Tuple[Callable[[Any], Any], Any], ...]


class ReusedWaitSetExecutor(Executor):
    """Run callbacks in the calling thread from one wait set, reused between spins."""

    def __init__(self, *, context=None) -> None:
        super().__init__(context=context)
        self._served: Optional[_Served] = None
        # Set by wake(), which rclpy calls when a node creates or destroys an
        # entity: a served handle may be one whose destruction was requested.
        self._stale = False

    def wake(self) -> None:
        """Rebuild the wait set before the next wait, and end the current one."""
        self._stale = True
        super().wake()

    def create_task(self, callback, *args, **kwargs):
        """Refuse: tasks need the futures machinery this executor leaves out."""
        raise UnsupportedWork('ReusedWaitSetExecutor runs no tasks (no clients, no futures)')

    def spin_once(self, timeout_sec: Optional[float] = None) -> None:
        """Wait up to ``timeout_sec`` (forever if None or negative), then run what is ready."""
        if self._is_shutdown or not self._context.ok():
            return
        if self._stale:
            self._stale = False
            self._release()
        served = self._served or self._serve()
        wait_set = served.wait_set
        wait_set.clear_entities()
        for add, handle in served.handles:
            add(handle)
        for waitable in served.waitables:
            waitable.add_to_wait_set(wait_set)
        wait_set.wait(-1 if timeout_sec is None or timeout_sec < 0 else int(timeout_sec * 1e9))
        if self._is_shutdown or not self._context.ok():
            return
        self._dispatch(served)

    def shutdown(self, timeout_sec: Optional[float] = None) -> bool:
        """Release the served handles, then shut down as every executor does."""
        self._release()
        return super().shutdown(timeout_sec)

    def _dispatch(self, served: _Served) -> None:
        wait_set = served.wait_set
        for waitable in served.waitables:
            if waitable.is_ready(wait_set):
                _finish(waitable.execute(waitable.take_data()))
        for pointer in wait_set.get_ready_entities('timer'):
            handle, timer = served.timers[pointer]
            # A cancelled timer can still be reported ready (rclpy works around it too).
            if handle.is_timer_ready():
                handle.call_timer()
                _finish(timer.callback())
        for pointer in wait_set.get_ready_entities('subscription'):
            handle, subscription, with_info = served.subscriptions[pointer]
            taken = handle.take_message(subscription.msg_type, subscription.raw)
            if taken is not None:
                _finish(subscription.callback(*taken) if with_info
                        else subscription.callback(taken[0]))
        for pointer in wait_set.get_ready_entities('guard_condition'):
            _, guard = served.guards[pointer]
            if guard is None:
                # Ours: a node was added or removed (wake() marks entity changes).
                self._stale = True
            elif guard.callback is not None:
                _finish(guard.callback())
        for pointer in wait_set.get_ready_entities('service'):
            service = served.services[pointer]
            request, header = service.handle.service_take_request(service.srv_type.Request)
            if header is not None:
                response = _finish(service.callback(request, service.srv_type.Response()))
                service.send_response(response, header)

    def _serve(self) -> _Served:
        """Enter every entity's handle and size one wait set for them all."""
        nodes = self.get_nodes()
        stack = ExitStack()
        subscriptions, timers, services, guards = {}, {}, {}, {}
        waitables, handles = [], []
        try:
            for node in nodes:
                if list(node.clients):
                    raise UnsupportedWork(
                        f'ReusedWaitSetExecutor serves no clients (node {node.get_name()})')
                for sub in node.subscriptions:
                    handle = _entered(stack, sub.handle)
                    with_info = sub._callback_type is not Subscription.CallbackType.MessageOnly
                    subscriptions[handle.pointer] = (handle, sub, with_info)
                for timer in node.timers:
                    handle = _entered(stack, timer.handle)
                    timers[handle.pointer] = (handle, timer)
                for service in node.services:
                    services[_entered(stack, service.handle).pointer] = service
                for guard in node.guards:
                    handle = _entered(stack, guard.handle)
                    guards[handle.pointer] = (handle, guard)
                for waitable in node.waitables:
                    stack.enter_context(waitable)
                    waitables.append(waitable)
            for own in (self._guard, self._sigint_gc):
                handle = _entered(stack, own.handle)
                guards[handle.pointer] = (handle, None)
            count = sum((w.get_num_entities() for w in waitables), NumberOfEntities())
            wait_set = _rclpy.WaitSet(
                len(subscriptions) + count.num_subscriptions,
                len(guards) + count.num_guard_conditions,
                len(timers) + count.num_timers,
                count.num_clients,
                len(services) + count.num_services,
                count.num_events,
                _entered(stack, self._context.handle))
        except BaseException:
            stack.close()
            raise
        handles.extend((wait_set.add_subscription, h) for h, _, _ in subscriptions.values())
        handles.extend((wait_set.add_timer, h) for h, _ in timers.values())
        handles.extend((wait_set.add_service, s.handle) for s in services.values())
        handles.extend((wait_set.add_guard_condition, h) for h, _ in guards.values())
        self._served = _Served(wait_set, stack, subscriptions, timers, services, guards,
                               waitables, tuple(handles))
        return self._served

    def _release(self) -> None:
        served, self._served = self._served, None
        if served is not None:
            served.stack.close()


def _entered(stack: ExitStack, handle):
    """Hold ``handle`` in use (rcl cannot destroy it) until ``stack`` closes."""
    stack.enter_context(handle)
    return handle


def _finish(result: Any) -> Any:
    """Run a coroutine callback to its end; a plain callback's result passes through."""
    if not inspect.iscoroutine(result):
        return result
    try:
        result.send(None)
    except StopIteration as done:
        return done.value
    result.close()
    raise UnsupportedWork('ReusedWaitSetExecutor cannot run a callback that awaits')
