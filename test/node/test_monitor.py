# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate monitor`` as a process, watching a gate in a namespace over loopback DDS."""

import re
import subprocess
import time

from harness.ros import DEFAULT_TIMEOUT, GATE_MODULE, NodeProcess, TestBench, UNLATCHED
import pytest
from safety_gate.config import NODE_NAME, write_params_file
from safety_gate.kit.world.process import python_command

NS = '/monitored'
MONITOR_TIMEOUT = 60.0  # s: a safety net; a snapshot takes a few seconds


@pytest.fixture
def gate_in_namespace(ros_context, tmp_path):
    """Yield (bench, gate): a gate in NS with require_reset_on_start false, and a bench there."""
    params = write_params_file(tmp_path / 'params.yaml',
                               {**UNLATCHED, 'trace.path': str(tmp_path / 'trace.jsonl')},
                               node_name=f'{NS}/{NODE_NAME}')
    gate = NodeProcess(GATE_MODULE, params, tmp_path, ['-r', f'__ns:={NS}'])
    bench = TestBench(ros_context, namespace=NS)
    yield bench, gate
    bench.destroy()
    code = gate.stop()
    print(f'--- gate exit code {code}, output:\n{gate.output()}')


def run_monitor(bench, *args):
    """Run ``safety-gate monitor ARGS`` as a process while the bench keeps driving the gate.

    Return (exit code, stdout, stderr).
    """
    process = subprocess.Popen(python_command('-m', 'safety_gate.cli', 'monitor', *args),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The bench publishes only while it spins: keep it spinning until the monitor is done.
        assert bench.wait_for(lambda: process.poll() is not None, MONITOR_TIMEOUT)
        stdout, stderr = process.communicate()
    finally:
        process.kill()
    return process.returncode, stdout, stderr


def rate(name, text):
    """Return the rate named ``name`` ('output', 'proposals') in a view."""
    found = re.search(rf'{name} ([0-9.]+) Hz', text)
    assert found, text
    return float(found.group(1))


def test_the_monitor_shows_the_decisions_rates_and_diagnostics_of_a_driven_gate(
        gate_in_namespace):
    bench, gate = gate_in_namespace
    bench.drive(0.3, 0.0, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for(lambda: bench.states and bench.states[-1].data['verdict'] == 'APPROVE',
                          DEFAULT_TIMEOUT), gate.output()
    code, out, err = run_monitor(bench, '--namespace', NS, '--once')
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


def test_a_monitor_started_after_the_state_changed_shows_it(gate_in_namespace):
    bench, gate = gate_in_namespace
    assert bench.wait_for_output(), gate.output()
    bench.publish_estop(True)
    assert bench.wait_for(lambda: bench.states and bench.states[-1].data['verdict'] == 'ESTOP',
                          DEFAULT_TIMEOUT), gate.output()
    # The gate published the latched e-stop once, before the monitor started:
    # only a transient local subscription gets it.
    code, out, err = run_monitor(bench, '--namespace', NS, '--count', '2', '--interval', '0.5')
    assert code == 0, (out, err)
    assert out.count(f'safety_gate in {NS}') == 2, out
    assert re.search(r'^state +ESTOP +ESTOP', out, re.MULTILINE), out
    assert re.search(r'^  seq [0-9-]+ +x\d+ +ESTOP +ESTOP\b.* out \(0\.00, 0\.00\)$', out,
                     re.MULTILINE), out
    assert rate('output', out) > 0, out


def test_no_gate_in_the_namespace_exits_1_saying_so(gate_in_namespace):
    bench, _ = gate_in_namespace
    assert bench.wait_for_output()
    started = time.monotonic()
    code, out, err = run_monitor(bench, '--namespace', '/elsewhere', '--once', '--timeout', '2')
    assert code == 1, (out, err)
    assert out == ''
    assert err.startswith('safety-gate monitor: no gate found in namespace /elsewhere: '
                          'nothing on /elsewhere/safety_gate/state within 2 s'), err
    assert time.monotonic() - started < MONITOR_TIMEOUT
