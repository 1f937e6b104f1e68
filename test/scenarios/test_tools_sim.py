# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated vehicle follows cmd_vel, drives /clock and injects odometry faults."""

import json

from geometry_msgs.msg import TwistStamped
from harness.ros import NodeProcess, write_params
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock
from safety_gate.kit.world.rosutil import (COMMAND_QOS, make_twist, RECORD_QOS, SENSOR_QOS,
                                           stamp_from_ns, stamp_to_ns)
from std_msgs.msg import String

CLOCK_START = 1000.0


def test_follows_cmd_vel_on_its_own_clock(bench, tmp_path):
    params = write_params(tmp_path, {'publish_clock': True, 'clock_start': CLOCK_START},
                          node_name='sim_vehicle')
    sim = NodeProcess('safety_gate.kit.world.sim_vehicle', params, tmp_path)
    bench.set_odom(None)  # the vehicle under test is the only odometry source
    node = bench.node
    odom, clock = [], []
    node.create_subscription(Odometry, 'odom', odom.append, SENSOR_QOS)
    node.create_subscription(Clock, '/clock', clock.append, 10)
    cmd_pub = node.create_publisher(TwistStamped, 'cmd_vel', COMMAND_QOS)
    fault_pub = node.create_publisher(String, 'sim_vehicle/fault', 10)
    # The vehicle times out stale commands, so keep commanding as a controller does.
    node.create_timer(0.05, lambda: cmd_pub.publish(
        make_twist(True, 0.5, 0.2, stamp_from_ns(0))))
    try:
        assert bench.wait_for(lambda: odom and clock), sim.output()

        def converged():
            twist = odom[-1].twist.twist
            return abs(twist.linear.x - 0.5) < 0.01 and abs(twist.angular.z - 0.2) < 0.01
        assert bench.wait_for(converged), odom[-1].twist.twist
        last = odom[-1]
        assert last.header.frame_id == 'odom' and last.child_frame_id == 'base_link'
        assert last.pose.pose.position.x > 0.0
        # Stamps are simulated time, far from the wall clock.
        sim_now = stamp_to_ns(clock[-1].clock) / 1e9
        assert CLOCK_START < sim_now < CLOCK_START + 60.0
        assert abs(stamp_to_ns(last.header.stamp) / 1e9 - sim_now) < 1.0

        assert bench.wait_for(lambda: fault_pub.get_subscription_count() > 0)
        fault_pub.publish(String(data=json.dumps({'odom': 'freeze'})))
        count = len(odom)
        assert bench.wait_for(lambda: len(odom) > count + 10 and _frozen(odom[-10:]))
        fault_pub.publish(String(data=json.dumps({'odom': 'stop'})))
        bench.spin_for(0.3)  # let messages in flight arrive
        count = len(odom)
        bench.spin_for(0.5)
        assert len(odom) == count
    finally:
        assert sim.stop() == 0, sim.output()


def _frozen(messages):
    """Return True if the odometry values repeat while the stamps advance."""
    key = [(m.pose.pose.position.x, m.twist.twist.linear.x) for m in messages]
    stamps = [stamp_to_ns(m.header.stamp) for m in messages]
    return len(set(key)) == 1 and stamps == sorted(set(stamps))


def test_odometry_noise_and_lag(bench, tmp_path):
    # Campaigns vary these: the odometry reports the state of odom_lag ago, stamped with
    # its time, plus seeded noise; the ground truth stays exact and current.
    lag, noise = 0.2, 0.05
    params = write_params(tmp_path, {'odom_lag': lag, 'odom_noise_std': noise, 'seed': 3},
                          node_name='sim_vehicle')
    sim = NodeProcess('safety_gate.kit.world.sim_vehicle', params, tmp_path)
    bench.set_odom(None)
    node = bench.node
    truth, odom_arrivals = {}, []
    node.create_subscription(Odometry, 'sim_vehicle/ground_truth',
                             lambda m: truth.__setitem__(stamp_to_ns(m.header.stamp), m),
                             RECORD_QOS)
    node.create_subscription(Odometry, 'odom',
                             lambda m: odom_arrivals.append((max(truth, default=0), m)),
                             SENSOR_QOS)
    cmd_pub = node.create_publisher(TwistStamped, 'cmd_vel', COMMAND_QOS)
    node.create_timer(0.05, lambda: cmd_pub.publish(
        make_twist(True, 0.5, 0.0, stamp_from_ns(0))))
    try:
        assert bench.wait_for(lambda: len(odom_arrivals) > 150, timeout=30.0), sim.output()
        errors, delays = [], []
        for newest_truth, m in odom_arrivals[50:]:
            stamp = stamp_to_ns(m.header.stamp)
            assert stamp in truth  # a state the vehicle was in, stamped with its time
            errors.append(m.twist.twist.linear.x - truth[stamp].twist.twist.linear.x)
            delays.append((newest_truth - stamp) / 1e9)
        delays.sort()
        # The median arrival: lag behind the newest truth (a step either way: arrival order).
        assert lag - 0.03 <= delays[len(delays) // 2] <= lag + 0.03, delays
        mean = sum(errors) / len(errors)
        std = (sum((e - mean) ** 2 for e in errors) / len(errors)) ** 0.5
        assert abs(mean) < 0.02 and 0.6 * noise < std < 1.4 * noise, (mean, std)
    finally:
        assert sim.stop() == 0, sim.output()
