# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The alpamayo-autoware stand-in, as another node receives it over loopback DDS.

Three stand-ins run at once: the 1.5 and the 2 Super variant along an arc, and
a 1.5 one with the backward sweep, a NaN pose and no reasoning. A probe child
process (harness.trajectory_probe) records everything they publish; the tests
judge the records against the wrapper's format (point count, time origin,
stamps, frame, velocities, zeroed fields, period, reasoning).
"""

import json
import math
import os
import statistics
import subprocess
import sys

from harness.interfaces import interfaces_env, require_interfaces
from harness.ros import NodeProcess
import pytest

SPEED = 5.0
CURVATURE = 0.1
LATENCY = 0.5  # s: the 2 Super stand-in's input t0 before its publishing time
REASONING = 'Lane clear ahead; keeping the lane.'
NAN_INDEX = 7
PLANS = 3  # per stand-in: two intervals for the 2 Super's 2 to 3.35 s period
STAND_INS = {
    '/v15': {'variant': 'alpamayo_1_5', 'shape': 'arc'},
    '/v2': {'variant': 'alpamayo_2_super', 'shape': 'arc', 'input_latency': LATENCY},
    '/quiet': {'variant': 'alpamayo_1_5', 'shape': 'backward_sweep', 'fault': 'nan_pose',
               'fault_index': NAN_INDEX, 'reasoning': "''"},
}
ZEROED = ('lateral_velocity_mps', 'acceleration_mps2', 'heading_rate_rps',
          'front_wheel_angle_rad', 'rear_wheel_angle_rad')


def ros_args(prefix, params):
    params = {'speed': SPEED, 'curvature': CURVATURE, 'reasoning': REASONING, **params,
              'trajectory_topic': f'{prefix}/predicted_trajectory',
              'cot_topic': f'{prefix}/reasoning',
              'cot_with_stamped_topic': f'{prefix}/reasoning_stamped'}
    args = ['-r', f'__node:=standin_{prefix.strip("/")}']
    for name, value in params.items():
        args += ['-p', f'{name}:={value}']
    return args


@pytest.fixture(scope='module')
def received(tmp_path_factory):
    """Run the stand-ins and the probe; return {topic: [record]} of what the probe got."""
    require_interfaces()
    scratch = tmp_path_factory.mktemp('standin')
    env = interfaces_env()
    stand_ins = [NodeProcess('safety_gate.kit.world.alpamayo_standin', None, scratch,
                             ros_args(prefix, params), env)
                 for prefix, params in STAND_INS.items()]
    out = scratch / 'probe.jsonl'
    try:
        probe = subprocess.run(
            [sys.executable, '-m', 'harness.trajectory_probe', '--out', str(out),
             '--count', str(PLANS), '--timeout', '60',
             *(arg for prefix in STAND_INS for arg in ('--prefix', prefix))],
            env={**os.environ, **env}, capture_output=True, text=True, timeout=90)
    finally:
        codes = [process.stop() for process in stand_ins]
    outputs = '\n'.join(process.output() for process in stand_ins)
    assert probe.returncode == 0, f'{probe.stderr}\n--- stand-ins:\n{outputs}'
    assert codes == [0] * len(stand_ins), outputs
    records = {}
    for line in out.read_text(encoding='utf-8').splitlines():
        record = json.loads(line)
        records.setdefault(record['topic'], []).append(record)
    return records


def plans_of(received, prefix):
    return [r['msg'] for r in received[f'{prefix}/predicted_trajectory']]


def stamp_ns(stamp):
    return stamp['sec'] * 1_000_000_000 + stamp['nanosec']


def yaw_of(point):
    orientation = point['pose']['orientation']
    return 2.0 * math.atan2(orientation['z'], orientation['w'])


def xy(point):
    return point['pose']['position']['x'], point['pose']['position']['y']


@pytest.mark.parametrize('prefix, count, first_step', [('/v15', 20, 0), ('/v2', 64, 1)])
def test_each_variant_has_its_point_count_and_time_origin(received, prefix, count, first_step):
    for msg in plans_of(received, prefix):
        assert [stamp_ns(p['time_from_start']) for p in msg['points']] == [
            (idx + first_step) * 100_000_000 for idx in range(count)]


@pytest.mark.parametrize('prefix', STAND_INS)
def test_the_frame_is_base_link_and_what_the_wrapper_never_computes_is_zero(received, prefix):
    for msg in plans_of(received, prefix):
        assert msg['header']['frame_id'] == 'base_link'
        for point in msg['points']:
            assert [point[name] for name in ZEROED] == [0.0] * len(ZEROED)
            pose = point['pose']
            assert (pose['position']['z'], pose['orientation']['x'],
                    pose['orientation']['y']) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize('prefix', ['/v15', '/v2'])
def test_orientations_follow_the_path(received, prefix):
    for msg in plans_of(received, prefix):
        points = msg['points']
        assert yaw_of(points[0]) == pytest.approx(
            CURVATURE * SPEED * stamp_ns(points[0]['time_from_start']) / 1e9, abs=1e-9)
        for a, b in zip(points, points[1:]):
            (xa, ya), (xb, yb) = xy(a), xy(b)
            # On an arc each chord points midway between the headings at its ends.
            error = math.atan2(yb - ya, xb - xa) - (yaw_of(a) + yaw_of(b)) / 2.0
            assert math.remainder(error, math.tau) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize('prefix', ['/v15', '/v2'])
def test_the_velocity_is_the_distance_to_the_previous_point_over_0_1_s(received, prefix):
    for msg in plans_of(received, prefix):
        points = msg['points']
        expected = [0.0] + [math.dist(xy(a), xy(b)) / 0.1 for a, b in zip(points, points[1:])]
        velocities = [p['longitudinal_velocity_mps'] for p in points]
        assert velocities == pytest.approx(expected, rel=1e-6)
        assert expected[1] == pytest.approx(SPEED, rel=1e-3)


def test_the_1_5_stamp_is_now_at_publish_every_0_1_s(received):
    records = received['/v15/predicted_trajectory']
    ages = [(r['received_ns'] - stamp_ns(r['msg']['header']['stamp'])) / 1e9 for r in records]
    assert all(0.0 <= age < 1.0 for age in ages), ages
    stamps = [stamp_ns(r['msg']['header']['stamp']) / 1e9 for r in records]
    intervals = [b - a for a, b in zip(stamps, stamps[1:])]
    assert all(interval > 0.0 for interval in intervals)
    assert 0.07 <= statistics.median(intervals) <= 0.2, intervals


def test_the_2_super_stamp_is_the_input_t0_every_2_to_3_35_s(received):
    records = received['/v2/predicted_trajectory']
    ages = [(r['received_ns'] - stamp_ns(r['msg']['header']['stamp'])) / 1e9 for r in records]
    assert all(LATENCY <= age < LATENCY + 1.0 for age in ages), ages
    stamps = [stamp_ns(r['msg']['header']['stamp']) / 1e9 for r in records]
    intervals = [b - a for a, b in zip(stamps, stamps[1:])]
    assert len(intervals) >= PLANS - 1
    assert all(1.95 <= interval <= 3.35 + 1.0 for interval in intervals), intervals
    assert max(intervals) - min(intervals) > 0.1, intervals  # drawn, not fixed


@pytest.mark.parametrize('prefix', ['/v15', '/v2'])
def test_the_reasoning_follows_each_plan_stamped_like_it(received, prefix):
    first_plan = received[f'{prefix}/predicted_trajectory'][0]['received_ns']
    plan_stamps = {stamp_ns(msg['header']['stamp']) for msg in plans_of(received, prefix)}
    texts = [r['msg'] for r in received[f'{prefix}/reasoning']]
    stamped = [r['msg'] for r in received[f'{prefix}/reasoning_stamped']
               if r['received_ns'] > first_plan]
    assert texts and all(text == {'data': REASONING} for text in texts)
    assert stamped and all(s['data'] == REASONING for s in stamped)
    # A reasoning received after the first plan belongs to a plan the probe received.
    assert {stamp_ns(s['stamp']) for s in stamped} <= plan_stamps


def test_no_reasoning_is_published_when_it_is_empty(received):
    assert len(received['/quiet/predicted_trajectory']) >= PLANS
    assert '/quiet/reasoning' not in received
    assert '/quiet/reasoning_stamped' not in received


def test_faults_reach_the_subscriber_as_published(received):
    for msg in plans_of(received, '/quiet'):
        xs = [xy(p)[0] for p in msg['points']]
        speeds = [p['longitudinal_velocity_mps'] for p in msg['points']]
        assert xs[0] == pytest.approx(-10.6)
        assert xs[-1] == pytest.approx(-10.6 - 27.0)
        assert [math.isnan(x) for x in xs] == [idx == NAN_INDEX for idx in range(20)]
        assert [math.isnan(v) for v in speeds] == [idx in (NAN_INDEX, NAN_INDEX + 1)
                                                   for idx in range(20)]
