# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Trajectory mode over DDS with a nav_msgs/Path planner: approval, refusal, both outputs.

The bench's vehicle follows ``cmd_vel`` and reports its odometry; the
test's planner sends a plan drawn from the vehicle's frame now at 10 Hz, and
its reasoning text, which must be recorded and never change a verdict.
"""

import math
import time

from harness.path_planner import drive_nominal, NOMINAL, PATH_MODE, PathPlanner, V
from nav_msgs.msg import Path
import pytest
from safety_gate.kit.world.alpamayo_plans import ALPAMAYO_1_5, backward_sweep, plan, with_nan_pose
from safety_gate.kit.world.rosutil import stamp_to_ns
from safety_gate.node import MARKERS_QOS
from visualization_msgs.msg import Marker, MarkerArray

STOP_NOW = 'Pedestrian ahead: stop now.'
ALL_CLEAR = 'Lane clear; approve this plan.'


def speeds(path: Path):
    """Return each segment's speed (length over the time between the pose stamps)."""
    poses = path.poses
    return [math.hypot(b.pose.position.x - a.pose.position.x,
                       b.pose.position.y - a.pose.position.y)
            / ((stamp_to_ns(b.header.stamp) - stamp_to_ns(a.header.stamp)) / 1e9)
            for a, b in zip(poses, poses[1:])]


def reasoning_texts(bench):
    return [event['text'] for record in bench.decisions for event in record.data['events']
            if event['type'] == 'reasoning']


@pytest.fixture
def planner(bench):
    return PathPlanner(bench)


@pytest.mark.parametrize('zero_pose_stamps', [False, True], ids=['timed', 'untimed'])
def test_a_nominal_plan_is_approved_and_followed(bench, planner, start_gate, zero_pose_stamps):
    gate = start_gate(PATH_MODE)
    planner.zero_pose_stamps = zero_pose_stamps
    planner.reasoning = STOP_NOW  # text: recorded, never obeyed
    converged = drive_nominal(bench, planner, gate)
    bench.spin_for(1.0)
    steady = bench.decisions_since(converged + 0.1)
    assert steady, 'no decision records'
    for record in steady:
        assert record['verdict'] == 'APPROVE' and record['reasons'] == [], record
        assert math.isclose(record['output']['v'], V) and record['output']['w'] == 0.0
    plans = [e for r in steady for e in r['events'] if e['type'] == 'plan']
    assert plans and all(p['source'] == 'path' and len(p['points']) == 20 for p in plans)
    assert all(math.isclose(p['points'][1][0], 0.1) for p in plans), plans[0]
    assert STOP_NOW in reasoning_texts(bench)
    assert bench.states[-1].data['verdict'] == 'APPROVE'

    # safety_gate/trajectory: the plan from its point for now on, stamped with the
    # decision, in the vehicle's frame now, at the plan's speed.
    out = planner.output_of(steady[-1])
    assert out is not None, 'no safety_gate/trajectory for an approved decision'
    assert out.header.frame_id == 'base_link' and len(out.poses) >= 15
    first = out.poses[0]
    assert stamp_to_ns(first.header.stamp) == stamp_to_ns(out.header.stamp)
    assert abs(first.pose.position.x) < 0.3 and abs(first.pose.position.y) < 0.05
    assert all(math.isclose(speed, V, rel_tol=0.02) for speed in speeds(out)), speeds(out)


def test_the_view_draws_the_plans(bench, planner, start_gate):
    views = []
    bench.node.create_subscription(MarkerArray, 'safety_gate/markers', views.append, MARKERS_QOS)
    gate = start_gate({**PATH_MODE, 'markers.enabled': True, 'markers.max_rate_hz': 50.0})

    def view_with(namespace: str):
        found = next((v for v in reversed(views) for m in v.markers if m.ns == namespace), None)
        return found and {m.ns: m for m in found.markers[1:]}

    converged = drive_nominal(bench, planner, gate)
    bench.spin_for(0.3)
    shown = view_with('approved_plan')
    assert shown, gate.output()
    followed = shown['approved_plan']
    assert followed.type == Marker.LINE_STRIP and followed.header.frame_id == 'base_link'
    assert followed.color.g > 0.5 > followed.color.r  # approved: green
    # The strip is what safety_gate/trajectory published with the same decision.
    record = next(r.data for r in bench.decisions if r.t > converged
                  and round(r.data['t'] * 1e9) == stamp_to_ns(followed.header.stamp))
    out = planner.output_of(record)
    assert [(p.x, p.y) for p in followed.points] == [
        (pose.pose.position.x, pose.pose.position.y) for pose in out.poses]
    assert len(shown['proposed_plan'].points) == len(NOMINAL)

    views.clear()
    planner.points = with_nan_pose(NOMINAL, 10)
    assert bench.wait_for(lambda: view_with('stop_plan')), gate.output()
    shown = view_with('stop_plan')
    assert 'approved_plan' not in shown and 'PLAN_NON_FINITE' in shown['verdict'].text
    assert shown['stop_plan'].color.r > 0.5 > shown['stop_plan'].color.g  # fallback: orange
    proposed = shown['proposed_plan'].points
    assert len(proposed) == len(NOMINAL) - 1  # the NaN pose is left out
    assert all(math.isfinite(p.x) and math.isfinite(p.y) for p in proposed)


FAULTS = {
    'nan_pose': (with_nan_pose(NOMINAL, 10), 'PLAN_NON_FINITE'),
    'backward_sweep': (plan(ALPAMAYO_1_5, backward_sweep()), 'PLAN_BACKWARD_SWEEP'),
}


@pytest.mark.parametrize('fault', sorted(FAULTS))
def test_a_faulty_plan_stops_the_vehicle_along_the_approved_path(bench, planner, start_gate,
                                                                 fault):
    gate = start_gate(PATH_MODE)
    drive_nominal(bench, planner, gate)
    points, reason = FAULTS[fault]
    planner.reasoning = ALL_CLEAR  # text: recorded, never able to approve
    since = time.monotonic()
    planner.points = points
    refused = bench.wait_for_decision(lambda r: r['trigger'] == 'plan'
                                      and r['verdict'] == 'FALLBACK', since)
    assert refused is not None, gate.output()
    record = refused.data
    assert reason in record['reasons'], record
    failing = [c for c in record['checks'] if not c['ok'] and c['reason'] == reason]
    assert failing and all(c['limit'] is not None for c in failing), record['checks']
    assert bench.wait_for_cmd(0.0, 0.0), (bench.cmd[-1:], gate.output())
    after = bench.decisions_after(refused)
    assert all(r['verdict'] == 'FALLBACK' for r in after), [r['reasons'] for r in after]
    assert ALL_CLEAR in reasoning_texts(bench)

    # cmd_vel decelerates to standstill, never speeding up on the way.
    stopping = [c.v for c in bench.cmd_since(refused.t)]
    assert stopping and stopping[-1] == 0.0
    assert all(b <= a + 1e-9 for a, b in zip(stopping, stopping[1:])), stopping

    # safety_gate/trajectory carries the stop: along the straight path, slowing to zero.
    out = planner.output_of(record)
    assert out is not None, 'no safety_gate/trajectory for the refusal'
    profile = speeds(out)
    assert len(profile) >= 2 and profile[0] > 0.1 and profile[-1] < profile[0], profile
    assert all(b <= a + 1e-6 for a, b in zip(profile, profile[1:])), profile
    assert all(abs(pose.pose.position.y) < 0.05 for pose in out.poses)
    final = planner.output_of(bench.decisions[-1].data)
    assert final is not None and all(speed < 0.05 for speed in speeds(final)), speeds(final)
