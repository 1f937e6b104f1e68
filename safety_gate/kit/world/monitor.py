# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate monitor``: a live view of one gate, for a venv without the ros2 CLI.

A :class:`~safety_gate.kit.world.recorder.GateRecorder` in the gate's
namespace collects the state (latched: a monitor started later still gets it),
the decision records and the gate's diagnostics into a
:class:`~safety_gate.kit.world.monitor_view.Snapshot`;
:func:`~safety_gate.kit.world.monitor_view.render` draws it. On a terminal the
view is redrawn in place, in colour; otherwise (a pipe, a log) each snapshot
is printed after the last. A gate is found when its state arrives.
"""

import argparse
import os
import shutil
import sys
import time
from typing import Any, Callable, Dict, Optional, Sequence

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.exceptions import InvalidNamespaceException
from rclpy.validate_namespace import validate_namespace
from safety_gate.diagnostics import Level, Status
from safety_gate.errors import user_error
from safety_gate.kit.world.monitor_view import DecisionHistory, render, Snapshot, WIDTH
from safety_gate.kit.world.recorder import DECISION, DIAGNOSTICS, GateRecorder, STATE

EXIT_NO_GATE = 1
# The gate publishes diagnostics once a second: the first view waits this long for them.
DIAGNOSTICS_WAIT_S = 2.5
_CLEAR_SCREEN = '\x1b[H\x1b[2J'  # cursor home, erase the screen


class Monitor(GateRecorder):
    """The recorder behind the view: the latest state, diagnostics and decision history."""

    def __init__(self, namespace: str) -> None:
        """Create the node in ``namespace``: the gate's state, records and diagnostics."""
        super().__init__(f'safety_gate_monitor_{os.getpid()}', namespace=namespace)
        self.state: Optional[Dict[str, Any]] = None
        self.history = DecisionHistory()
        self.malformed = 0
        self._statuses: Dict[str, Dict[str, Any]] = {}  # hardware_id -> {name: Status}
        self._diagnostics_received: Dict[str, float] = {}  # hardware_id -> monotonic time
        self._decision_received: Optional[float] = None
        self._latest_t: Optional[float] = None
        self._state_topic = self.node.resolve_topic_name('safety_gate/state')
        self.record(STATE, DECISION, DIAGNOSTICS)

    def on_state(self, state: dict) -> None:
        """Keep the latest state."""
        if not isinstance(state, dict):
            self.malformed += 1
            return
        self.state = state

    def on_decision(self, record: dict) -> None:
        """Add a decision record to the history."""
        if not isinstance(record, dict):
            self.malformed += 1
            return
        self.history.add(record)
        self._decision_received = time.monotonic()
        self._latest_t = record.get('t', self._latest_t)

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        """Keep the latest status of each name, by the node that sent it (its hardware_id)."""
        now = time.monotonic()
        for status in msg.status:
            self._statuses.setdefault(status.hardware_id, {})[status.name] = Status(
                status.name, _level(status.level), status.message,
                {kv.key: kv.value for kv in status.values})
            self._diagnostics_received[status.hardware_id] = now

    def gates(self) -> tuple:
        """Return the fully qualified names of the nodes publishing the gate's state."""
        return tuple(sorted(
            ('' if info.node_namespace == '/' else info.node_namespace) + '/' + info.node_name
            for info in self.node.get_publishers_info_by_topic(self._state_topic)))

    def has_diagnostics(self) -> bool:
        """Return True once a gate of this namespace has sent its diagnostics."""
        return any(gate in self._statuses for gate in self.gates())

    def snapshot(self) -> Snapshot:
        """Return what the monitor knows now."""
        now, gates = time.monotonic(), self.gates()
        statuses = tuple(status for gate in gates
                         for status in self._statuses.get(gate, {}).values())
        received = [self._diagnostics_received[g] for g in gates if g in self._statuses]
        return Snapshot(
            namespace=self.node.get_namespace(), gates=gates, state=self.state,
            statuses=statuses, diagnostics_age_s=now - max(received) if received else None,
            runs=self.history.runs(), rates=self.history.rates(),
            decision_age_s=(None if self._decision_received is None
                            else now - self._decision_received),
            latest_t=self._latest_t, malformed=self.malformed)

    def watch(self, condition: Callable[[], Any], seconds: float) -> bool:
        """Spin until ``condition()`` holds or ``seconds`` pass, ignoring malformed messages.

        Anyone can publish on the gate's topics: a message that does not
        decode is counted and shown, never the end of the view.
        """
        deadline = time.monotonic() + seconds
        while True:
            try:
                return self.spin_until(condition, deadline)
            except (ValueError, TypeError, AttributeError, KeyError):
                self.malformed += 1


def _level(raw: bytes) -> Any:
    value = raw[0] if isinstance(raw, (bytes, bytearray)) else int(raw)
    try:
        return Level(value)
    except ValueError:
        return value


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f'must be a positive number of seconds, not {text}')
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be 1 or more, not {text}')
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='safety-gate monitor',
        description='Show a running gate: its state, its diagnostics with their key values, '
                    'the input ages, the latest decisions with their reasons and the output '
                    'and proposal rates. On a terminal the view is redrawn in place; '
                    'otherwise each snapshot is printed after the last. Exit 1 when no gate '
                    'publishes its state in the namespace within --timeout.')
    parser.add_argument('--namespace', default='', metavar='NS',
                        help='the namespace the gate runs in (default: none)')
    count = parser.add_mutually_exclusive_group()
    count.add_argument('--once', action='store_const', const=1, dest='count',
                       help='print one snapshot and exit (same as --count 1)')
    count.add_argument('--count', type=_count, metavar='N',
                       help='print N snapshots and exit (default: until Ctrl-C)')
    parser.add_argument('--interval', type=_positive, default=1.0, metavar='S',
                        help='seconds between snapshots (default: 1)')
    parser.add_argument('--timeout', type=_positive, default=10.0, metavar='S',
                        help='seconds to wait for the gate (default: 10)')
    parser.add_argument('--plain', action='store_true',
                        help='no colours and no redrawing, even on a terminal')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``safety-gate monitor``: 0 after the snapshots, 1 if no gate is found."""
    args = _parser().parse_args(argv)
    try:
        # Before any node exists: rcl would warn about the half-made node first.
        validate_namespace('/' + args.namespace.lstrip('/'))
    except InvalidNamespaceException as exc:
        return user_error('monitor', f'--namespace {args.namespace!r}: {exc}')
    monitor = Monitor(args.namespace)
    live = sys.stdout.isatty() and not args.plain
    try:
        return _show(monitor, args, live)
    except KeyboardInterrupt:
        return 0
    finally:
        monitor.destroy()


def _show(monitor: Monitor, args: argparse.Namespace, live: bool) -> int:
    if not monitor.watch(lambda: monitor.state is not None, args.timeout):
        namespace = monitor.node.get_namespace()
        print(f'safety-gate monitor: no gate found in namespace {namespace}: nothing on '
              f'{monitor.node.resolve_topic_name("safety_gate/state")} within '
              f'{args.timeout:g} s (is the gate running, in this ROS_DOMAIN_ID '
              f'{os.environ.get("ROS_DOMAIN_ID", "0")} and namespace?)', file=sys.stderr)
        return EXIT_NO_GATE
    # The first view shows a full interval of decisions and, if they come, the diagnostics.
    monitor.watch(lambda: False, args.interval)
    monitor.watch(monitor.has_diagnostics, DIAGNOSTICS_WAIT_S)
    shown = 0
    while True:
        text = render(monitor.snapshot(), colour=live,
                      width=shutil.get_terminal_size().columns if live else WIDTH)
        print(_CLEAR_SCREEN + text if live else text + '\n', flush=True)
        shown += 1
        if args.count is not None and shown >= args.count:
            return 0
        monitor.watch(lambda: False, args.interval)


if __name__ == '__main__':
    sys.exit(main())
