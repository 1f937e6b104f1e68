# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A drift alarm over DDS: published on safety_gate/spi and in /diagnostics, and acted on.

The planner's confidence stays above the gate's threshold (every proposal is
approved on its own) but its mean falls below ``spi.confidence_mean_limit``:
with ``warn`` the gate goes on driving and says so, with ``conservative`` it
limits the output to the conservative envelope (LIMIT, CONSERVATIVE_DRIFT),
with ``withdraw`` it stops (DRIFT_WITHDRAWN) until an accepted reset.
"""

import json

from harness.ros import UNLATCHED
import pytest
from safety_gate import node
from safety_gate.config import ConservativeConfig
from std_msgs.msg import String

V = 0.5
CONSERVATIVE = ConservativeConfig()
SAMPLES = 20  # two seconds of proposals at 10 Hz
LOW = 0.65  # above confidence.recover_threshold (0.6), below the SPI limit


def _params(action):
    return {**UNLATCHED, 'spi.min_samples': SAMPLES, 'spi.confidence_mean_limit': 0.8,
            'spi.confidence_mean_action': action}


def _listen(bench):
    """Subscribe to safety_gate/spi as a monitor would; return the snapshots received."""
    received = []
    bench.node.create_subscription(String, 'safety_gate/spi',
                                   lambda msg: received.append(json.loads(msg.data)),
                                   node.SPI_QOS)
    return received


def _spi_status(bench):
    for array in reversed(bench.diagnostics):
        for status in array.data.status:
            if status.name == 'safety_gate: spi':
                return status
    return None


@pytest.mark.slow
def test_a_warn_alarm_is_published_and_in_diagnostics_while_the_gate_drives(bench, start_gate):
    snapshots = _listen(bench)
    gate = start_gate(_params('warn'))
    bench.drive(V, confidence=0.9)
    assert bench.wait_for_cmd(V), gate.output()
    assert bench.wait_for(lambda: snapshots and snapshots[-1]['drift'] == 'none')
    assert _spi_status(bench) is None or _spi_status(bench).level == b'\x00'
    bench.drive(V, confidence=LOW)
    assert bench.wait_for(lambda: snapshots and snapshots[-1]['drift'] == 'warn',
                          timeout=20.0), gate.output()
    (alarm,) = snapshots[-1]['alarms']
    assert alarm['spi'] == 'confidence_mean' and alarm['value'] < 0.8, alarm
    assert bench.wait_for(lambda: _spi_status(bench) is not None
                          and _spi_status(bench).level == b'\x01', timeout=5.0)
    assert 'confidence_mean' in _spi_status(bench).message
    # A warning only: the gate keeps approving and the output keeps moving.
    bench.spin_for(1.0)
    assert bench.decisions[-1].data['verdict'] == 'APPROVE'
    assert abs(bench.cmd[-1].v - V) < 1e-6
    assert any(r.data['spi']['drift'] == 'warn' for r in bench.spis)


@pytest.mark.slow
def test_a_withdraw_alarm_stops_the_robot_until_a_reset(bench, start_gate):
    snapshots = _listen(bench)
    gate = start_gate(_params('withdraw'))
    bench.drive(V, confidence=0.9)
    assert bench.wait_for_cmd(V), gate.output()
    bench.drive(V, confidence=LOW)
    assert bench.wait_for(lambda: snapshots and snapshots[-1]['drift'] == 'withdraw',
                          timeout=20.0), gate.output()
    withdrawn = bench.wait_for_decision(lambda r: 'DRIFT_WITHDRAWN' in r['reasons'],
                                        bench.cmd[-1].t)
    assert withdrawn is not None and withdrawn.data['verdict'] == 'FALLBACK', gate.output()
    assert bench.wait_for_cmd(0.0), bench.cmd[-1]
    assert bench.wait_for(lambda: _spi_status(bench) is not None
                          and _spi_status(bench).level == b'\x02', timeout=5.0)
    # A confident planner alone does not hand authority back: the withdrawal latches.
    bench.drive(V, confidence=0.9)
    bench.spin_for(1.5)
    assert bench.cmd[-1].is_zero and bench.decisions[-1].data['verdict'] == 'FALLBACK'
    assert bench.call_reset() == (True, 'cleared the drift withdrawal')
    assert bench.wait_for_cmd(V), gate.output()
    assert snapshots[-1]['drift'] == 'none'


@pytest.mark.slow
def test_a_conservative_alarm_engages_conservative_mode(bench, start_gate):
    """At the configured threshold the gate limits the output to the conservative envelope."""
    snapshots = _listen(bench)
    gate = start_gate(_params('conservative'))
    fast = 0.8  # inside the envelope, beyond conservative.max_linear_speed
    bench.drive(fast, confidence=0.9)
    assert bench.wait_for_cmd(fast), gate.output()
    bench.drive(fast, confidence=LOW)
    assert bench.wait_for(lambda: snapshots and snapshots[-1]['drift'] == 'conservative',
                          timeout=20.0), gate.output()
    assert snapshots[-1]['alarms'][0]['limit'] == 0.8
    limited = bench.wait_for_decision(lambda r: 'CONSERVATIVE_DRIFT' in r['reasons'],
                                      bench.cmd[-1].t)
    assert limited is not None and limited.data['verdict'] == 'LIMIT', gate.output()
    assert bench.wait_for_cmd(CONSERVATIVE.max_linear_speed), bench.cmd[-1]
    bench.spin_for(1.0)
    assert all(c.v <= CONSERVATIVE.max_linear_speed + 1e-9 for c in bench.cmd_since(
        bench.cmd[-1].t - 0.5))
    assert bench.wait_for(lambda: _spi_status(bench) is not None
                          and _spi_status(bench).level == b'\x01', timeout=5.0)
