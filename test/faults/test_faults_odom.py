# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Sensor process faults: odometry that dies, freezes or jumps; an IMU that disappears.

Two simulated vehicles run as processes and follow the gate's output: one
publishes odom, the other (remapped) only imu, so each sensor can fail on its
own. The bench plays the planner. Every fault must give a fallback output
within its check's timeout + 1/rate_hz (plus slack), no approval while it
lasts, and authority back under the hysteresis rules once it is over.
"""

import json
import signal

from harness.faults import has_reason, Processes, start_campaign, VEHICLE
import pytest
from safety_gate import config
from std_msgs.msg import String

PARAMS = {'imu.enabled': True}
CFG = config.build(PARAMS)
V = 0.5
HOLD = 0.6  # s: how long each fault lasts
SAMPLE = 1.0 / 50.0  # s: the vehicles' sensor period
TICK = 1.0 / CFG.rate_hz
ODOM = 'odometry publisher killed (SIGKILL) or frozen (SIGSTOP)'
VALUES = 'odometry values frozen or jumping'
IMU = 'IMU publisher killed or frozen while imu.enabled'
IMU_VEHICLE_ARGS = ['-r', '__node:=imu_vehicle', '-r', 'odom:=imu_vehicle/odom',
                    '-r', 'sim_vehicle/fault:=imu_vehicle/fault']


@pytest.mark.ros
@pytest.mark.slow
def test_odometry_and_imu_faults(bench, start_gate, tmp_path):
    bench.set_odom(None)  # the vehicle processes publish the sensors
    gate, trace, campaign = start_campaign(bench, start_gate, tmp_path, CFG, PARAMS)
    fault_pub = bench.node.create_publisher(String, 'sim_vehicle/fault', 10)
    with Processes(tmp_path) as processes:
        starts = {'odom': lambda: processes.vehicle(publish_imu=False),
                  'imu': lambda: processes.node(VEHICLE, 'imu_vehicle', {}, IMU_VEHICLE_ARGS)}
        sensors = {name: start() for name, start in starts.items()}
        bench.drive(V)
        assert bench.wait_for_output(), gate.output()
        assert bench.wait_for_cmd(V, timeout=20.0), (bench.cmd[-1:], gate.output())
        assert bench.wait_for(lambda: fault_pub.get_subscription_count() > 0)

        def send(sensor, sig):
            return lambda: sensors[sensor].signal(sig)

        def restart(sensor):
            def recover():
                sensors[sensor].wait()
                sensors[sensor] = starts[sensor]()
            return recover

        def vehicle_fault(odom):
            return lambda: fault_pub.publish(String(data=json.dumps({'odom': odom})))

        for sensor, fault_class, reason, timeout in (
                ('odom', ODOM, 'ODOM_STALE', CFG.odom.timeout),
                ('imu', IMU, 'IMU_STALE', CFG.imu.timeout)):
            campaign.run(gate, fault_class, f'{sensor} SIGKILL', send(sensor, signal.SIGKILL),
                         restart(sensor), has_reason(reason), timeout + TICK, HOLD, V)
            campaign.run(gate, fault_class, f'{sensor} SIGSTOP', send(sensor, signal.SIGSTOP),
                         send(sensor, signal.SIGCONT), has_reason(reason), timeout + TICK,
                         HOLD, V)
        campaign.run(gate, VALUES, 'odom values frozen', vehicle_fault('freeze'),
                     vehicle_fault('ok'), has_reason('ODOM_STUCK'),
                     CFG.odom.stuck_timeout + SAMPLE + TICK, HOLD, V)
        # A jump is a single sample: the gate rightly recovers by itself, no hold.
        campaign.run(gate, VALUES, 'odom jump', vehicle_fault('jump'), lambda: None,
                     has_reason('ODOM_IMPLAUSIBLE', 'ODOM_ACCEL_JUMP'), 2 * SAMPLE + TICK,
                     speed=V)
    lost, problems = campaign.finish(gate, [trace])
    assert lost == 0 and not problems, (lost, problems)
