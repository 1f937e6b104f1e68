# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""An invalid configuration stops the gate at start with a message naming the problem."""

import json
import subprocess

from harness.ros import GATE_MODULE, NodeProcess, UNLATCHED, write_params
import pytest
from safety_gate.trace_file import open_trace
from safety_gate.trace_record import is_config

START_TIMEOUT = 10.0  # s: interpreter and rclpy start-up on a loaded machine


@pytest.mark.parametrize('overrides, expected', [
    ({'confidence.threshold': 1.5}, ['confidence.threshold', '1.5', '[0.0, 1.0]']),
    ({'confidence.no_such_parameter': 1.0}, ['unknown', 'confidence.no_such_parameter']),
    ({'rate_hz': 'fast'}, ['rate_hz', 'fast']),
], ids=['out-of-range', 'unknown', 'wrong-type'])
def test_invalid_config_refuses_to_start(start_gate, overrides, expected):
    gate = start_gate(overrides)
    try:
        code = gate.wait(START_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f'still running after {START_TIMEOUT} s:\n{gate.output()}')
    output = gate.output()
    assert code == 2, output
    for text in expected:
        assert text in output, (text, output)
    assert 'Traceback' not in output, output


def test_integer_for_float_parameter_is_accepted(bench, start_gate, tmp_path):
    # Not the defaults: a gate that dropped the integers would run with those.
    gate = start_gate({**UNLATCHED, 'rate_hz': 40, 'odom.timeout': 1})
    assert bench.wait_for_output(), gate.output()
    assert gate.stop() == 0, gate.output()
    with open_trace(tmp_path / 'trace0.jsonl') as lines:
        (head,) = [r for r in map(json.loads, lines) if is_config(r)]
    ran_with = {name: head['config'][name] for name in ('rate_hz', 'odom.timeout')}
    assert ran_with == {'rate_hz': 40.0, 'odom.timeout': 1.0}, head


@pytest.mark.parametrize('content, expected', [
    (None, 'No such file or directory'),
    ('directory', 'Is a directory'),
    ('safety_gate: [\n', 'not valid YAML at line 2'),
    ('- just\n- a list\n', 'no node sections'),
    ('safety_gate:\n  ros_parameters:\n    rate_hz: 30.0\n',
     "section 'safety_gate' has no 'ros__parameters'"),
    ('gate:\n  ros__parameters:\n    rate_hz: 30.0\n',
     "applies nothing to /safety_gate: its sections are 'gate'"),
], ids=['missing', 'unreadable', 'unparsable', 'not-a-mapping', 'ros_parameters-typo',
        'other-node'])
def test_a_bad_params_file_exits_2_with_one_line(tmp_path, content, expected):
    # Exit 1 means "let the supervisor restart me": a respawn would loop on these.
    path = tmp_path / 'params.yaml'
    if content == 'directory':
        path.mkdir()  # unreadable as a file even for root
    elif content is not None:
        path.write_text(content)
    gate = NodeProcess(GATE_MODULE, path, tmp_path)
    code = gate.wait(START_TIMEOUT)
    output = gate.output()
    assert code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('safety_gate: refusing to start: '), output
    assert str(path) in lines[0] and expected in lines[0], output


def test_a_bare_section_does_not_reach_a_namespaced_node_silently(tmp_path):
    # rcl applies `safety_gate:` to /safety_gate only; the launch file handles namespaces.
    gate = NodeProcess(GATE_MODULE, write_params(tmp_path, {'rate_hz': 30.0}), tmp_path,
                       ['-r', '__ns:=/robot1'])
    assert gate.wait(START_TIMEOUT) == 2, gate.output()
    assert 'applies nothing to /robot1/safety_gate' in gate.output()


def test_a_bad_ros_argument_exits_2_without_a_traceback(tmp_path):
    gate = NodeProcess(GATE_MODULE, None, tmp_path, ['-r', 'a:='])
    assert gate.wait(START_TIMEOUT) == 2, gate.output()
    assert 'safety_gate: refusing to start: ' in gate.output()
    assert 'Traceback' not in gate.output()
