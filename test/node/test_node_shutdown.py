# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""SIGTERM and SIGINT stop the gate cleanly: a final zero command, exit code 0."""

import signal

from harness.ros import UNLATCHED
import pytest


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT], ids=['SIGTERM', 'SIGINT'])
def test_signal_publishes_final_zero(bench, start_gate, sig):
    gate = start_gate(UNLATCHED)
    bench.drive(0.5, 0.0, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for(lambda: bench.cmd[-1].v > 0.2), gate.output()

    gate.signal(sig)
    assert bench.wait_for(lambda: gate.returncode is not None), gate.output()
    assert gate.returncode == 0, gate.output()
    bench.spin_for(0.5)  # anything still in flight
    assert bench.cmd[-1].is_zero, bench.cmd[-5:]
    assert 'Traceback' not in gate.output(), gate.output()
