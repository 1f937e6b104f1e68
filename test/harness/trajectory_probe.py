# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A child process that records what an alpamayo-autoware-style node publishes, as JSON lines.

Run with :func:`harness.interfaces.interfaces_env` (the message packages load
only in a process started with them on LD_LIBRARY_PATH)::

    python -m harness.trajectory_probe --out FILE --prefix /alpamayo [--prefix ...] --count N

For every prefix it subscribes to ``<prefix>/predicted_trajectory``
(Trajectory), ``<prefix>/reasoning`` (String) and ``<prefix>/reasoning_stamped``
(StringStamped), with the wrapper's QoS, and writes one line per message:
``{"topic", "received_ns" (system time at receipt), "msg" (every field, nested)}``.
Once every trajectory topic has delivered ``count`` messages it records
``--linger`` seconds more (the reasoning follows its trajectory) and exits 0;
at ``--timeout`` it exits 1.
"""

import argparse
import json
import sys
import time
from typing import Any, List, Optional

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from safety_gate.kit.world.rosutil import COMMAND_QOS
from std_msgs.msg import String

SUFFIXES = ('predicted_trajectory', 'reasoning', 'reasoning_stamped')


def plain(value: Any) -> Any:
    """Return a message as nested dicts and lists of its fields, any other value as it is."""
    if hasattr(value, 'get_fields_and_field_types'):
        return {name: plain(getattr(value, name)) for name in value.get_fields_and_field_types()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def main(argv: Optional[List[str]] = None) -> int:
    """Record until every topic has delivered ``--count`` messages; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True)
    parser.add_argument('--prefix', action='append', required=True)
    parser.add_argument('--count', type=int, default=3)
    parser.add_argument('--linger', type=float, default=0.5)
    parser.add_argument('--timeout', type=float, default=60.0)
    args = parser.parse_args(argv)

    from autoware_internal_debug_msgs.msg import StringStamped
    from autoware_planning_msgs.msg import Trajectory
    types = dict(zip(SUFFIXES, (Trajectory, String, StringStamped)))
    rclpy.init()
    node = Node('trajectory_probe')
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    counts = {}
    with open(args.out, 'w', encoding='utf-8') as out:
        def record(topic: str, msg: Any) -> None:
            received_ns = node.get_clock().now().nanoseconds
            out.write(json.dumps({'topic': topic, 'received_ns': received_ns,
                                  'msg': plain(msg)}) + '\n')
            out.flush()
            counts[topic] += 1

        for prefix in args.prefix:
            for suffix in SUFFIXES:
                topic = f'{prefix}/{suffix}'
                counts[topic] = 0
                node.create_subscription(types[suffix], topic,
                                         lambda msg, topic=topic: record(topic, msg),
                                         COMMAND_QOS)
        plans = [f'{prefix}/{SUFFIXES[0]}' for prefix in args.prefix]

        def done() -> bool:
            return min(counts[topic] for topic in plans) >= args.count

        deadline = time.monotonic() + args.timeout
        while not done() and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
        linger_end = time.monotonic() + (args.linger if done() else 0.0)
        while time.monotonic() < linger_end:
            executor.spin_once(timeout_sec=0.05)
    ok = done()
    if not ok:
        print(f'trajectory_probe: timed out with {counts}', file=sys.stderr)
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown()
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
