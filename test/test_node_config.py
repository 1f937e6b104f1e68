# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""An invalid configuration stops the gate at start with a message naming the problem."""

import time

import pytest
from rosharness import UNLATCHED

START_TIMEOUT = 10.0  # s: interpreter and rclpy start-up on a loaded machine


@pytest.mark.parametrize('overrides, expected', [
    ({'confidence.threshold': 1.5}, ['confidence.threshold', '1.5', '[0.0, 1.0]']),
    ({'confidence.no_such_parameter': 1.0}, ['unknown', 'confidence.no_such_parameter']),
    ({'rate_hz': 'fast'}, ['rate_hz', 'fast']),
], ids=['out-of-range', 'unknown', 'wrong-type'])
def test_invalid_config_refuses_to_start(start_gate, overrides, expected):
    started = time.monotonic()
    gate = start_gate(overrides)
    code = gate.wait(START_TIMEOUT)
    output = gate.output()
    assert code != 0, output
    assert time.monotonic() - started < START_TIMEOUT
    for text in expected:
        assert text in output, (text, output)
    assert 'Traceback' not in output, output


def test_integer_for_float_parameter_is_accepted(bench, start_gate):
    gate = start_gate({**UNLATCHED, 'rate_hz': 50, 'odom.timeout': 1})
    assert bench.wait_for_output(), gate.output()
    assert gate.returncode is None
