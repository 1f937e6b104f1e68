# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Sensor plausibility end to end: missing and stale odometry, IMU disagreement."""

from harness.ros import FOLLOW, UNLATCHED
from safety_gate.config import GateConfig
from safety_gate.decision import Reason

CFG = GateConfig()
SLACK = 0.25  # s: scheduling and DDS latency on a loaded machine


def test_missing_disagreeing_and_stale_sensors(bench, start_gate):
    bench.set_odom(None)
    bench.set_imu(0.0)
    gate = start_gate({**UNLATCHED, 'imu.enabled': True})
    bench.drive(0.5, 0.0, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    start = bench.cmd[-1].t
    missing = bench.wait_for_decision(lambda r: r['trigger'] == 'proposal', start)
    assert missing is not None, gate.output()
    assert missing.data['verdict'] == 'FALLBACK'
    assert Reason.ODOM_MISSING in missing.data['reasons'], missing.data
    bench.spin_for(0.5)
    assert all(c.is_zero for c in bench.cmd), 'moved without odometry'

    bench.set_odom(FOLLOW)
    assert bench.wait_for_cmd(0.5), (bench.cmd[-1], gate.output())

    # The IMU yaw rate disagrees with odometry beyond the tolerance.
    biased = bench.cmd[-1].t
    bench.set_imu(2.0 * CFG.imu.yaw_rate_tolerance)
    record = bench.wait_for_decision(lambda r: r['verdict'] == 'FALLBACK', biased)
    assert record is not None, gate.output()
    assert Reason.IMU_ODOM_DISAGREE in record.data['reasons'], record.data
    assert record.t - biased <= CFG.imu.disagreement_timeout + 1.0 / CFG.rate_hz + SLACK
    bench.set_imu(0.0)
    assert bench.wait_for_cmd(0.5), (bench.cmd[-1], gate.output())

    bench.set_odom(None)
    last_odom = bench.last_odom_time
    record = bench.wait_for_decision(lambda r: r['verdict'] == 'FALLBACK', last_odom)
    assert record is not None, gate.output()
    assert Reason.ODOM_STALE in record.data['reasons'], record.data
    first = next(c for c in bench.cmd_since(last_odom) if c.v < 0.5 - 1e-9)
    bound = CFG.odom.timeout + 1.0 / CFG.rate_hz + SLACK
    assert first.t - last_odom <= bound, f'first fallback output {first.t - last_odom:.3f} s late'
    assert bench.wait_for_cmd(0.0), bench.cmd[-1]
