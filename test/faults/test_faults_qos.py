# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""QoS mismatch: a best-effort planner cannot reach the reliable inputs, and the gate says so.

A planner publishing best effort never matches the gate's reliable
subscriptions: its messages never arrive. The gate must report each such
publisher (an error log line naming the topic, and the ``incompatible_qos``
count per topic in /diagnostics) and of course never move on its behalf.
"""

import json
import time

from geometry_msgs.msg import TwistStamped
from harness.faults import diagnostic, start_campaign
from harness.ros import MODEL_SHA256
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from safety_gate.config import GateConfig
from safety_gate.kit.world.rosutil import make_twist, meta_json, stamp_from_ns
from std_msgs.msg import String

CFG = GateConfig()
QOS = 'QoS mismatch: best-effort publisher on planner topics'
BEST_EFFORT = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)


def _first_report(bench, since):
    """Return when /diagnostics first named both planner topics as incompatible, or None."""
    topics = {'planner/cmd_vel', 'planner/meta'}
    return next((t for t, _, _, values in diagnostic(bench, 'safety_gate: gate', since)
                 if topics <= set(json.loads(values['incompatible_qos']))), None)


@pytest.mark.ros
def test_best_effort_planner_is_reported(bench, start_gate, tmp_path):
    gate, trace, campaign = start_campaign(bench, start_gate, tmp_path, CFG)
    assert bench.wait_for_output(), gate.output()
    node = bench.node
    injected = time.monotonic()
    cmd_pub = node.create_publisher(TwistStamped, 'planner/cmd_vel', BEST_EFFORT)
    meta_pub = node.create_publisher(String, 'planner/meta', BEST_EFFORT)
    for _ in range(20):
        stamp = stamp_from_ns(bench.now_ns())
        meta_pub.publish(String(data=meta_json(stamp, 0.9, MODEL_SHA256, 'best effort')))
        cmd_pub.publish(make_twist(True, 0.5, 0.0, stamp))
        bench.spin_for(0.1)
    assert bench.wait_for(lambda: _first_report(bench, injected), 5.0), gate.output()
    reported = _first_report(bench, injected)
    assert all(c.is_zero for c in bench.cmd), 'moved on a best-effort planner'
    log = gate.output()
    assert 'incompatible QoS on planner/cmd_vel' in log, log
    assert 'incompatible QoS on planner/meta' in log, log
    campaign.case(QOS, 'best-effort cmd_vel and meta publishers', injected,
                  reported - injected)
    lost, problems = campaign.finish(gate, [trace])
    assert lost == 0 and not problems, (lost, problems)
