# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The shadow stage over DDS: a candidate on candidate/... is judged and traced, never actuated."""

import math
import signal
import time

from harness.faults import diagnostic
from harness.path_planner import drive_nominal, PATH_MODE, PathPlanner, V as PLAN_V
from harness.ros import UNLATCHED
import pytest
from safety_gate import replay
from safety_gate.kit.world.alpamayo_plans import ALPAMAYO_1_5, plan, with_nan_pose
from safety_gate.kit.world.rosutil import make_twist, meta_json, stamp_from_ns
from safety_gate.node import CANDIDATE_QOS
from std_msgs.msg import String

V = 0.5
CANDIDATE_MODEL = 'cd' * 32
# A candidate that tries everything a gate must never pass: far over the envelope,
# non-finite, reversing hard, spinning.
EXTREMES = [(100.0, 0.0), (math.nan, 0.0), (0.3, math.inf), (-50.0, 0.0), (0.3, 40.0),
            (1e308, -1e308)]
SHADOW_ON = {**UNLATCHED, 'shadow.enabled': True}


def candidate_publishers(bench, namespace='candidate'):
    node = bench.node
    return (node.create_publisher(type(make_twist(True, 0.0, 0.0, stamp_from_ns(0))),
                                  f'{namespace}/cmd_vel', CANDIDATE_QOS),
            node.create_publisher(String, f'{namespace}/meta', CANDIDATE_QOS))


def shadow_decisions(bench):
    return [decision for received in bench.decisions
            for entry in received.data.get('shadow', ()) for decision in entry['decisions']]


def test_extreme_candidate_proposals_never_reach_cmd_vel(bench, start_gate, tmp_path):
    gate = start_gate(SHADOW_ON)
    cmd_pub, meta_pub = candidate_publishers(bench)
    bench.drive(V, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for(lambda: cmd_pub.get_subscription_count() > 0
                          and meta_pub.get_subscription_count() > 0)
    assert bench.wait_for_cmd(V), (bench.cmd[-1], gate.output())
    started = len(bench.cmd)

    def send_extremes():
        for v, w in EXTREMES:
            stamp = stamp_from_ns(bench.now_ns())
            meta_pub.publish(String(data=meta_json(stamp, 0.99, CANDIDATE_MODEL, 'trust me')))
            cmd_pub.publish(make_twist(True, v, w, stamp))
            bench.spin_for(0.1)
    for _ in range(3):
        send_extremes()
    bench.spin_for(0.5)

    # Production went on being approved at its own speed: nothing of the candidate's moved it.
    driven = bench.cmd[started:]
    assert len(driven) > 50
    assert all(c.v == V and c.w == 0.0 for c in driven), {(c.v, c.w) for c in driven}
    production = [r.data for r in bench.decisions if r.data['t'] >= bench.decisions[-1].data[
        't'] - 1.5]
    assert all(r['verdict'] == 'APPROVE' for r in production), [r['reasons'] for r in production]

    # Every extreme was judged, refused and traced with the candidate's model and disagreement.
    found = shadow_decisions(bench)
    assert len(found) >= 2 * len(EXTREMES), found
    assert all(d['verdict'] == 'FALLBACK' for d in found), [d['reasons'] for d in found]
    assert all(d['model_sha256'] == CANDIDATE_MODEL for d in found)
    assert all(d['production_verdict'] == 'APPROVE' for d in found)
    reasons = {reason for d in found for reason in d['reasons']}
    assert {'OVER_SPEED', 'NON_FINITE_COMMAND', 'OVER_YAW_RATE'} <= reasons, reasons
    assert any(d['disagreement']['proposal_dv'] == 100.0 - V for d in found)

    code = gate.stop()
    assert code == 0, gate.output()
    report = replay.replay([tmp_path / 'trace0.jsonl'])
    assert report.ok and report.shadow_entries >= 2 * len(EXTREMES), replay.format_report(report)


def test_a_candidate_over_its_rate_is_shed_and_counted(bench, start_gate):
    gate = start_gate({**SHADOW_ON, 'shadow.max_rate_hz': 2.0, 'shadow.namespace': 'next'})
    cmd_pub, meta_pub = candidate_publishers(bench, 'next')
    bench.drive(V, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for(lambda: cmd_pub.get_subscription_count() > 0)
    for _ in range(40):
        stamp = stamp_from_ns(bench.now_ns())
        meta_pub.publish(String(data=meta_json(stamp, 0.9, CANDIDATE_MODEL, 'fast')))
        cmd_pub.publish(make_twist(True, 0.2, 0.0, stamp))
        bench.spin_for(0.02)
    bench.spin_for(0.3)
    shed = sum(r.data.get('shadow_shed', 0) for r in bench.decisions)
    judged = [e for r in bench.decisions for e in r.data.get('shadow', ())
              if e['event']['type'] == 'proposal']
    # 0.8 s at 2 Hz with a burst of 2: a handful judged, the rest shed.
    assert 1 <= len(judged) <= 6 and shed >= 60, (len(judged), shed)
    assert bench.wait_for(lambda: any(
        value.key == 'shadow_shed_rate' and int(value.value) >= 60
        for received in bench.diagnostics for status in received.data.status
        for value in status.values), timeout=3.0)


# Beside the production plan (straight at PLAN_V), 0.6 m to its left at the same speed.
BESIDE = plan(ALPAMAYO_1_5, lambda times: [(PLAN_V * t, 0.6, 0.0) for t in times])


def test_a_candidate_plan_is_judged_beside_the_production_plan(bench, start_gate, tmp_path):
    gate = start_gate({**PATH_MODE, 'shadow.enabled': True})
    production, candidate = PathPlanner(bench), PathPlanner(bench, 'candidate')
    drive_nominal(bench, production, gate)
    assert bench.wait_for(lambda: candidate.plan_pub.get_subscription_count() > 0)
    started = len(bench.cmd)
    candidate.points = BESIDE
    assert bench.wait_for(lambda: len(shadow_decisions(bench)) >= 10)
    beside = shadow_decisions(bench)
    candidate.points = with_nan_pose(BESIDE, 5)
    assert bench.wait_for(lambda: any('PLAN_NON_FINITE' in d['reasons']
                                      for d in shadow_decisions(bench)))
    bench.spin_for(0.5)
    candidate.points = None

    assert all(c.v == pytest.approx(PLAN_V) and c.w == 0.0 for c in bench.cmd[started:])
    # Placed on production's odometry, a plan 0.6 m beside the vehicle passes (start_tolerance).
    assert any(d['verdict'] == 'APPROVE' for d in beside), [d['reasons'] for d in beside]
    gaps = [d['disagreement'] for d in beside if d['trigger'] == 'plan']
    assert gaps and all(gap['lateral'] == pytest.approx(0.6, abs=0.05) for gap in gaps), gaps
    assert all(abs(gap['longitudinal']) < 0.1 for gap in gaps), gaps
    assert all(d['production_verdict'] == 'APPROVE' for d in shadow_decisions(bench))
    assert gate.stop() == 0, gate.output()
    report = replay.replay([tmp_path / 'trace0.jsonl'])
    assert report.ok and report.shadow_entries >= 10, replay.format_report(report)


def test_the_candidate_is_shed_while_the_gate_catches_up(bench, start_gate):
    """Frozen (SIGSTOP) while the candidate sends, the gate resumes with production's work."""
    gate = start_gate(SHADOW_ON)
    cmd_pub, meta_pub = candidate_publishers(bench)
    bench.drive(V, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for(lambda: cmd_pub.get_subscription_count() > 0)

    def send():
        stamp = stamp_from_ns(bench.now_ns())
        meta_pub.publish(String(data=meta_json(stamp, 0.9, CANDIDATE_MODEL, 'steady')))
        cmd_pub.publish(make_twist(True, 0.4, 0.0, stamp))
    bench.node.create_timer(0.05, send)
    assert bench.wait_for(lambda: len(shadow_decisions(bench)) >= 5)
    gate.signal(signal.SIGSTOP)
    time.sleep(0.3)
    gate.signal(signal.SIGCONT)
    resumed = time.monotonic()
    assert bench.wait_for(lambda: [s for s in diagnostic(bench, 'safety_gate: timing', resumed)
                                   if int(s[3]['shadow_shed_late']) >= 1], timeout=5.0)
    # Production's late tick went first; the candidate waiting with it was shed, not judged.
    records = [r.data for r in bench.decisions]
    late = next(i for i, r in enumerate(records) if r['trigger'] == 'tick' and any(
        c['name'] == 'watchdog.late' and c['value'] > 0.2 for c in r['checks']))
    late_t = records[late]['t']
    judged = [e['event']['t'] for r in records for e in r.get('shadow', ())]
    assert not [t for t in judged if late_t - 0.25 <= t <= late_t], (late_t, judged)
    assert any(r.get('shadow_shed') for r in records[late:late + 5]), records[late:late + 5]
    # And once on time again, the candidate is judged again.
    count = len(shadow_decisions(bench))
    assert bench.wait_for(lambda: len(shadow_decisions(bench)) > count + 3)
