# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Fuzz the gate's message converters end to end: random messages on every input topic.

The converters from ROS messages to core events live in the node's
callbacks, so they are fuzzed through the real node: Hypothesis draws
batches of commands (any float in any of the six components, any stamp the
message type can carry, long frame ids), metas, odometry and IMU samples,
and raw CDR bytes the types cannot even decode, interleaved with an honest
planner. The gate must stay alive, every cmd_vel output must be finite and
inside the envelope, every decision must keep the invariant, the trace must
verify, and afterwards the honest planner gets authority back. Stamped
(TwistStamped) and Twist mode are both fuzzed.
``SAFETY_GATE_HYPOTHESIS_EXAMPLES`` scales the number of batches (examples).
"""

import os
import time

from builtin_interfaces.msg import Time
from harness.faults import start_campaign
from harness.ros import CDR_HEADER, MODEL_SHA256
from hypothesis import given, HealthCheck, settings, strategies as st
import pytest
from safety_gate import config
from safety_gate.kit.world.rosutil import make_odom, make_twist, meta_json, stamp_from_ns
from sensor_msgs.msg import Imu
from std_msgs.msg import String

PARAMS = {'imu.enabled': True}
BATCHES = max(10, int(os.environ.get('SAFETY_GATE_HYPOTHESIS_EXAMPLES', '150')) // 3)
V = 0.5
FUZZED = 'fuzzed messages on every input topic'

any_float = st.floats(width=64)
value = st.one_of(st.floats(-2.0, 2.0), any_float)
stamp = st.one_of(
    st.tuples(st.just('now'), st.one_of(st.just(0.0), st.floats(-1.0, 0.2))),
    st.tuples(st.just('raw'), st.integers(-2**31, 2**31 - 1), st.integers(0, 2**32 - 1)))
confidence = st.one_of(st.floats(0.0, 1.0), any_float, st.none())
text = st.text(st.characters(codec='utf-8', exclude_characters='\x00'), max_size=300)
messages = st.one_of(
    st.tuples(st.just('cmd'), st.lists(value, min_size=6, max_size=6), stamp,
              text, st.booleans(), confidence),
    st.tuples(st.just('meta'), text),
    st.tuples(st.just('odom'), st.lists(value, min_size=4, max_size=4), stamp),
    st.tuples(st.just('imu'), value, stamp),
    st.tuples(st.just('raw'), st.sampled_from(['cmd', 'meta', 'odom', 'imu']),
              st.binary(max_size=120)),
)
batches = st.lists(messages, min_size=1, max_size=12)


def _time(bench, spec):
    if spec[0] == 'now':
        return stamp_from_ns(bench.now_ns() + int(spec[1] * 1e9))
    return Time(sec=spec[1], nanosec=spec[2])


def _publish(bench, message):
    kind = message[0]
    if kind == 'cmd':
        _, values, spec, frame_id, with_meta, conf = message
        when = _time(bench, spec)
        msg = make_twist(bench.stamped, values[0], values[5], when, frame_id)
        twist = msg.twist if bench.stamped else msg
        twist.linear.y, twist.linear.z, twist.angular.x, twist.angular.y = values[1:5]
        if with_meta:
            bench.meta_pub.publish(String(data=meta_json(when, conf, MODEL_SHA256, 'fuzz')))
        bench.cmd_pub.publish(msg)
    elif kind == 'meta':
        bench.meta_pub.publish(String(data=message[1]))
    elif kind == 'odom':
        _, (v, w, x, y), spec = message
        bench.odom_pub.publish(make_odom(_time(bench, spec), (x, y, 0.0), v, w))
    elif kind == 'imu':
        imu = Imu()
        imu.header.stamp = _time(bench, message[2])
        imu.angular_velocity.z = message[1]
        bench.imu_pub.publish(imu)
    else:
        publisher = {'cmd': bench.cmd_pub, 'meta': bench.meta_pub, 'odom': bench.odom_pub,
                     'imu': bench.imu_pub}[message[1]]
        publisher.publish(CDR_HEADER + message[2])


@pytest.mark.ros
@pytest.mark.parametrize('bench', [True, False], ids=['TwistStamped', 'Twist'], indirect=True)
def test_fuzzed_messages_never_harm_the_gate(bench, start_gate, tmp_path):
    params = {**PARAMS, 'enable_stamped_cmd_vel': bench.stamped}
    gate, trace, campaign = start_campaign(bench, start_gate, tmp_path, config.build(params),
                                           params)
    bench.set_imu(0.0)
    bench.drive(V)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for_cmd(V), (bench.cmd[-1:], gate.output())
    started = time.monotonic()
    sent = []

    # One gate for every example: its state carries over, as a real gate's would.
    @settings(max_examples=BATCHES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(batches)
    def fuzz(batch):
        for message in batch:
            _publish(bench, message)
        sent.extend(batch)
        bench.spin_for(0.05)
        assert gate.returncode is None, gate.output()

    fuzz()
    bench.drive(V)
    assert bench.wait_for_cmd(V, timeout=20.0), (bench.cmd[-1], gate.output())
    assert 'Traceback' not in gate.output(), gate.output()
    campaign.case(FUZZED, 'TwistStamped' if bench.stamped else 'Twist', started, None,
                  count=len(sent))
    lost, problems = campaign.finish(gate, [trace])
    assert lost == 0 and not problems, (lost, problems)
