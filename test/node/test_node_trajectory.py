# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Trajectory mode over DDS with a nav_msgs/Path planner: approval, refusal, both outputs.

The bench's vehicle follows ``cmd_vel`` and reports its odometry; the
test's planner sends a plan drawn from the vehicle's frame now at 10 Hz, and
its reasoning text, which must be recorded and never change a verdict.
"""

import math
import time

from geometry_msgs.msg import PoseStamped
from harness.ros import PLAN_PLANNER_TOPICS, Received, UNLATCHED
from nav_msgs.msg import Path
import pytest
from safety_gate.kit.world.alpamayo_plans import (ALPAMAYO_1_5, backward_sweep, plan, straight,
                                                  with_nan_pose)
from safety_gate.kit.world.rosutil import COMMAND_QOS, stamp_from_ns, stamp_to_ns, yaw_quaternion
from safety_gate.node import MARKERS_QOS
from std_msgs.msg import String
from visualization_msgs.msg import Marker, MarkerArray

V = 0.5
PATH_MODE = {**UNLATCHED, 'planner.input': 'path',
             # A nav_msgs/Path planner sends no meta: nothing to require, nor to wait for.
             'confidence.required': False, 'confidence.pairing_wait': 0.0}
NOMINAL = plan(ALPAMAYO_1_5, straight(V))
STOP_NOW = 'Pedestrian ahead: stop now.'
ALL_CLEAR = 'Lane clear; approve this plan.'


class PathPlanner:
    """The test's planner: a Path at 10 Hz stamped now, its reasoning, and what the gate sends.

    ``namespace``: where it publishes (a shadow candidate's is not ``planner``).
    ``zero_pose_stamps`` leaves every pose stamp at zero (the gate then spaces
    the poses ``trajectory.dt`` apart).
    """

    def __init__(self, bench, namespace: str = 'planner') -> None:
        self.bench, node = bench, bench.node
        self.points, self.reasoning, self.zero_pose_stamps = None, '', False
        self.plan_pub = node.create_publisher(Path, f'{namespace}/trajectory', COMMAND_QOS)
        self.reasoning_pub = node.create_publisher(String, f'{namespace}/reasoning',
                                                   COMMAND_QOS)
        self.out = []  # Records of the Paths on safety_gate/trajectory
        node.create_subscription(Path, 'safety_gate/trajectory',
                                 lambda msg: self.out.append(Received(time.monotonic(), msg)),
                                 COMMAND_QOS)
        node.create_timer(0.1, self._tick)

    def _tick(self) -> None:
        if self.points is None:
            return
        stamp_ns = self.bench.now_ns()
        msg = Path()
        msg.header.stamp = stamp_from_ns(stamp_ns)
        msg.header.frame_id = 'base_link'
        for point in self.points:
            pose = PoseStamped()
            if not self.zero_pose_stamps:
                pose.header.stamp = stamp_from_ns(stamp_ns + point.time_from_start_ns)
            pose.pose.position.x, pose.pose.position.y = point.x, point.y
            pose.pose.orientation = yaw_quaternion(point.yaw)
            msg.poses.append(pose)
        self.plan_pub.publish(msg)
        if self.reasoning:
            self.reasoning_pub.publish(String(data=self.reasoning))

    def output_of(self, record: dict):
        """Wait for and return the Path the gate published with decision ``record``."""
        stamp_ns = round(record['t'] * 1e9)

        def match():
            return next((r.data for r in self.out
                         if stamp_to_ns(r.data.header.stamp) == stamp_ns), None)
        self.bench.wait_for(lambda: match() is not None)
        return match()


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


def drive_nominal(bench, planner, gate):
    """Send the straight plan until cmd_vel follows its speed; return the time it did."""
    planner.points = NOMINAL
    assert bench.wait_for_output(planner=PLAN_PLANNER_TOPICS), gate.output()
    assert bench.wait_for_cmd(V, 0.0, tolerance=1e-6), (bench.cmd[-1:], gate.output())
    return bench.cmd[-1].t


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
