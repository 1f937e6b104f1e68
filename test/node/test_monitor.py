# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate monitor`` as a process, watching a gate in a namespace over loopback DDS."""

import os
import pty
import re
import subprocess
import time

from harness.ros import DEFAULT_TIMEOUT, GATE_MODULE, NodeProcess, TestBench, UNLATCHED
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from safety_gate.config import NODE_NAME, write_params_file
from safety_gate.kit.world.process import python_command
from safety_gate.kit.world.rosutil import COMMAND_QOS, spin_until
from std_msgs.msg import String

NS = '/monitored'
MONITOR_TIMEOUT = 60.0  # s: a safety net; a snapshot takes a few seconds


@pytest.fixture
def gate_in_namespace(tmp_path):
    """Yield a gate in NS with require_reset_on_start false; stop it after."""
    params = write_params_file(tmp_path / 'params.yaml',
                               {**UNLATCHED, 'trace.path': str(tmp_path / 'trace.jsonl')},
                               node_name=f'{NS}/{NODE_NAME}')
    gate = NodeProcess(GATE_MODULE, params, tmp_path, ['-r', f'__ns:={NS}'])
    yield gate
    code = gate.stop()
    print(f'--- gate exit code {code}, output:\n{gate.output()}')


@pytest.fixture
def bench_in_namespace(ros_context):
    """Yield a test bench in NS: planner, vehicle and operator of the gate there."""
    bench = TestBench(ros_context, namespace=NS)
    yield bench
    bench.destroy()


def run_monitor(wait_for, *args):
    """Run ``safety-gate monitor ARGS`` as a process while ``wait_for`` spins the test's node.

    ``wait_for(condition, timeout)`` is a bench's: the bench publishes only
    while it spins. Return (exit code, stdout, stderr).
    """
    process = subprocess.Popen(python_command('-m', 'safety_gate.cli', 'monitor', *args),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: process.poll() is not None, MONITOR_TIMEOUT)
        stdout, stderr = process.communicate()
    finally:
        process.kill()
    return process.returncode, stdout, stderr


def run_monitor_on_a_terminal(wait_for, *args):
    """Run ``safety-gate monitor ARGS`` with stdout a pseudo-terminal; return (code, text)."""
    terminal, child_end = pty.openpty()
    process = subprocess.Popen(python_command('-m', 'safety_gate.cli', 'monitor', *args),
                               stdout=child_end, stderr=subprocess.STDOUT,
                               env={**os.environ, 'COLUMNS': '120'})
    os.close(child_end)
    os.set_blocking(terminal, False)
    chunks = []

    def drained_and_done():
        # Read as it comes: a terminal's buffer is small, and a full one blocks the writer.
        try:
            while True:
                chunks.append(os.read(terminal, 65536))
        except (BlockingIOError, OSError):  # nothing yet; OSError: the child end closed
            pass
        return process.poll() is not None

    try:
        assert wait_for(drained_and_done, MONITOR_TIMEOUT)
        drained_and_done()
    finally:
        process.kill()
        os.close(terminal)
    return process.returncode, b''.join(chunks).decode()


def rate(name, text):
    """Return the rate named ``name`` ('output', 'proposals') in a view."""
    found = re.search(rf'{name} ([0-9.]+) Hz', text)
    assert found, text
    return float(found.group(1))


def test_the_monitor_shows_the_decisions_rates_and_diagnostics_of_a_driven_gate(
        gate_in_namespace, bench_in_namespace):
    gate, bench = gate_in_namespace, bench_in_namespace
    bench.drive(0.3, 0.0, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for(lambda: bench.states and bench.states[-1].data['verdict'] == 'APPROVE',
                          DEFAULT_TIMEOUT), gate.output()
    code, out, err = run_monitor(bench.wait_for, '--namespace', NS, '--once')
    assert code == 0, (out, err)
    assert out.count(f'safety_gate in {NS}  ({NS}/{NODE_NAME})') == 1, out
    # A loaded host can make the gate late for a moment: the verdicts vary, the
    # approved proposals show with their confidence and reasoning.
    assert re.search(r'^state +(APPROVE|FALLBACK)', out, re.MULTILINE), out
    assert re.search(r'^  seq [0-9-]+ +x\d+ +APPROVE +- +out \(0\.30, 0\.00\) +confidence 0\.90 +'
                     r"'Lane clear ahead\.'$", out, re.MULTILINE), out
    assert rate('output', out) > 0 and rate('proposals', out) > 0, out
    # The gate's own diagnostics, told apart by the node's name, with the input ages.
    assert re.search(r'^  [A-Z]+ +safety_gate: gate +', out, re.MULTILINE), out
    assert re.search(r'^input ages +proposal [0-9.]+ s, odom [0-9.]+ s, imu never$', out,
                     re.MULTILINE), out


def test_a_monitor_started_after_the_state_changed_shows_it(gate_in_namespace, bench_in_namespace):
    gate, bench = gate_in_namespace, bench_in_namespace
    assert bench.wait_for_output(), gate.output()
    bench.publish_estop(True)
    assert bench.wait_for(lambda: bench.states and bench.states[-1].data['verdict'] == 'ESTOP',
                          DEFAULT_TIMEOUT), gate.output()
    # The gate published the latched e-stop once, before the monitor started:
    # only a transient local subscription gets it.
    code, out, err = run_monitor(bench.wait_for, '--namespace', NS, '--count', '2',
                                 '--interval', '0.5')
    assert code == 0, (out, err)
    assert out.count(f'safety_gate in {NS}') == 2, out
    assert re.search(r'^state +ESTOP +ESTOP', out, re.MULTILINE), out
    assert re.search(r'^  seq [0-9-]+ +x\d+ +ESTOP +ESTOP\b.* out \(0\.00, 0\.00\)$', out,
                     re.MULTILINE), out
    assert rate('output', out) > 0, out


def test_no_gate_in_the_namespace_exits_1_saying_so(gate_in_namespace, bench_in_namespace):
    bench = bench_in_namespace
    assert bench.wait_for_output()
    started = time.monotonic()
    code, out, err = run_monitor(bench.wait_for, '--namespace', '/elsewhere', '--once',
                                 '--timeout', '2')
    assert code == 1, (out, err)
    assert out == ''
    assert err.startswith('safety-gate monitor: no gate found in namespace /elsewhere: '
                          'nothing on /elsewhere/safety_gate/state within 2 s'), err
    assert time.monotonic() - started < MONITOR_TIMEOUT


def test_on_a_terminal_the_view_is_redrawn_in_place_in_colour(
        gate_in_namespace, bench_in_namespace):
    gate, bench = gate_in_namespace, bench_in_namespace
    assert bench.wait_for_output(), gate.output()
    code, text = run_monitor_on_a_terminal(bench.wait_for, '--namespace', NS, '--count', '2',
                                           '--interval', '0.5')
    assert code == 0, text
    home_and_clear = '\x1b[H\x1b[2J'
    assert text.count(home_and_clear) == 2 and text.startswith(home_and_clear), repr(text)
    assert re.search(r'^state +\x1b\[33mFALLBACK\x1b\[0m', text, re.MULTILINE), repr(text)
    assert text.count(f'safety_gate in {NS}') == 2, repr(text)


def test_messages_that_do_not_decode_are_counted_not_fatal(gate_in_namespace, ros_context):
    # A node of its own: a bench would choke on the garbage it records.
    node = Node('garbage', namespace=NS, context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    garbage = node.create_publisher(String, 'safety_gate/decision', COMMAND_QOS)
    payloads = iter(['not json', '[1, 2]', '{"t": "soon"}', '{"t": 1.0, "events": [7]}'] * 200)
    node.create_timer(0.05, lambda: garbage.publish(String(data=next(payloads))))
    try:
        code, out, err = run_monitor(
            lambda condition, timeout: spin_until(executor, condition, time.monotonic() + timeout),
            '--namespace', NS, '--count', '5', '--interval', '1')
    finally:
        executor.shutdown()
        node.destroy_node()
    assert code == 0, (out, err, gate_in_namespace.output())
    snapshots = out.split(f'safety_gate in {NS}')[1:]
    assert len(snapshots) == 5, out
    assert re.search(r'^state +FALLBACK', out, re.MULTILINE), out
    # Discovery between the monitor and the garbage may take a moment (over 2 s once, on
    # Kilted under load): the count is cumulative and the last view counts.
    assert re.search(r'^ignored [1-9]\d* messages on the gate topics that did not decode$',
                     snapshots[-1], re.MULTILINE), out
    # The gate's own records still make the view.
    assert re.search(r'^  seq [0-9-]+ +x\d+ +FALLBACK ', out, re.MULTILINE), out
    assert rate('output', out) > 0, out
