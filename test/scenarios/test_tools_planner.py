# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The scripted planner: script semantics, and meta + command pairs on the wire."""

import json
import math
import statistics
import time

from geometry_msgs.msg import TwistStamped
from harness.ros import NodeProcess, write_params
import pytest
from safety_gate.kit.world.planner import FaultKind, reasoning_for, Script, SHOWCASE
from safety_gate.kit.world.rosutil import COMMAND_QOS, stamp_to_ns
from std_msgs.msg import String
import yaml

SCRIPT = {
    'confidence': 0.8,
    'loop': False,
    'segments': [[2.0, 0.4, 0.0], {'duration': 1.0, 'v': 0.3, 'w': -0.2}],
    'faults': [{'t_start': 0.5, 't_end': 1.0, 'kind': 'low_confidence', 'value': 0.3},
               {'t_start': 1.5, 't_end': 1.8, 'kind': 'nan'},
               {'t_start': 2.5, 't_end': 2.6, 'kind': 'overspeed'}],
}


def test_script_semantics():
    script = Script.from_mapping(SCRIPT)
    assert script.duration == 3.0
    assert script.motion_at(0.1) == (0.4, 0.0)
    assert script.motion_at(2.5) == (0.3, -0.2)
    assert script.motion_at(3.5) == (0.0, 0.0)
    assert script.script_time(3.5) == 3.5
    assert set(script.faults_at(0.7)) == {FaultKind.LOW_CONFIDENCE}
    assert script.faults_at(0.7)[FaultKind.LOW_CONFIDENCE].amount == 0.3
    assert script.faults_at(2.55)[FaultKind.OVERSPEED].amount == 2.0  # the kind's default
    assert script.faults_at(1.0) == {}
    looping = Script.from_mapping({**SCRIPT, 'loop': True})
    assert looping.script_time(3.5) == pytest.approx(0.5)
    SHOWCASE.validate()


@pytest.mark.parametrize('broken', [
    {'segments': []},
    {'segments': [[0.0, 1.0, 0.0]]},
    {'segments': [[1.0, 1.0]]},
    {'segments': [[1.0, 1.0, 0.0]], 'faults': [{'t_start': 2, 't_end': 1, 'kind': 'nan'}]},
    {'segments': [[1.0, 1.0, 0.0]], 'faults': [{'t_start': 0, 't_end': 1, 'kind': 'boom'}]},
    {'segments': [[1.0, 1.0, 0.0]], 'confidence': 1.5},
])
def test_invalid_scripts_are_refused(broken):
    with pytest.raises(ValueError):
        Script.from_mapping(broken)


def test_reasoning_is_templated_from_the_state():
    assert reasoning_for(0.8, 0.0, 0.9) == 'Lane clear ahead, keeping 0.8 m/s.'
    assert 'left' in reasoning_for(0.6, 0.4, 0.9)
    assert 'unclear' in reasoning_for(0.6, 0.0, 0.2)
    assert 'holding' in reasoning_for(0.0, 0.0, 0.9)


def test_planner_publishes_paired_meta_and_commands(bench, tmp_path):
    script_file = tmp_path / 'script.yaml'
    script_file.write_text(yaml.safe_dump({**SCRIPT, 'loop': True}))
    params = write_params(tmp_path, {'script': str(script_file)}, node_name='planner')
    bench.stop_proposals()  # the planner under test is the only one
    metas, cmds = {}, []
    node = bench.node
    node.create_subscription(String, 'planner/meta', lambda m: _store_meta(metas, m),
                             COMMAND_QOS)
    node.create_subscription(TwistStamped, 'planner/cmd_vel', cmds.append, COMMAND_QOS)
    planner = NodeProcess('safety_gate.kit.world.planner', params, tmp_path)
    try:
        def seen_faults():
            return (any(m['confidence'] == 0.3 for m in metas.values())
                    and any(math.isnan(c.twist.linear.x) for c in cmds) and len(cmds) > 30)
        assert bench.wait_for(seen_faults), planner.output()
    finally:
        assert planner.stop() == 0, planner.output()
    for cmd in cmds[:-1]:  # the last meta may still be in flight
        meta = metas.get(stamp_to_ns(cmd.header.stamp))
        assert meta is not None, cmd
        assert len(meta['model_sha256']) == 64 and meta['reasoning']
        assert cmd.header.frame_id == 'base_link'


def _store_meta(metas, msg):
    meta = json.loads(msg.data)
    metas[meta['stamp']['sec'] * 1_000_000_000 + meta['stamp']['nanosec']] = meta


def test_planner_jitters_its_period_and_sends_each_meta_after_its_command(bench, tmp_path):
    script_file = tmp_path / 'script.yaml'
    script_file.write_text(yaml.safe_dump({**SCRIPT, 'loop': True}))
    params = write_params(tmp_path, {'script': str(script_file), 'jitter': 0.04,
                                     'jitter_seed': 3, 'meta_delay': 0.05}, node_name='planner')
    bench.stop_proposals()
    meta_at, cmd_at = {}, {}  # stamp -> arrival (s, monotonic)
    node = bench.node
    node.create_subscription(
        String, 'planner/meta',
        lambda m: meta_at.setdefault(_stamp_ns(json.loads(m.data)), time.monotonic()),
        COMMAND_QOS)
    node.create_subscription(
        TwistStamped, 'planner/cmd_vel',
        lambda c: cmd_at.setdefault(stamp_to_ns(c.header.stamp), time.monotonic()), COMMAND_QOS)
    planner = NodeProcess('safety_gate.kit.world.planner', params, tmp_path)
    try:
        assert bench.wait_for(lambda: len(meta_at) > 40), planner.output()
    finally:
        assert planner.stop() == 0, planner.output()
    stamps = sorted(cmd_at)[1:-1]  # a meta may be missed at the start or still in flight
    periods = [(b - a) / 1e9 for a, b in zip(stamps, stamps[1:])]
    # Periods drawn from [0.06, 0.14] s; a fixed 10 Hz timer spreads by scheduling noise only.
    assert max(periods) - min(periods) > 0.05, periods
    delays = [meta_at[s] - cmd_at[s] for s in stamps if s in meta_at]
    assert len(delays) > 30
    # Every meta comes after its command: 0.05 s, checked every 0.01 s (generous bounds).
    assert min(delays) > 0.03 and statistics.median(delays) < 0.2, delays


def _stamp_ns(meta):
    return meta['stamp']['sec'] * 1_000_000_000 + meta['stamp']['nanosec']
