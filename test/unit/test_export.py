# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate export``: a trace as MCAP and as a rosbag2 bag, read back by other readers.

The traces are real: the decision core run with a test clock and a robot
that obeys it (``harness.core_driver``), its records written by the gate's
trace writer. Each output is read back with readers the export does not use
to write (mcap's reader with mcap-ros2-support's CDR decoder; rosbags'
AnyReader), and every record and every message field is compared with what
the run did: the records as the trace file holds them, the proposals as the
core consumed them, the outputs as it decided them, and in trajectory mode
the trajectory the node would have published (``plan_output`` on the run's
own state, not on a replay). Every record validates against the generated
JSON Schema.
"""

import json
import math
from pathlib import Path
import sys

from harness.core_driver import TICK
from harness.event_scripts import FIXED_SCRIPT, play, records_of
from harness.exports import MISSING, read_bag, read_mcap, schema_errors
from harness.recorded_runs import CONFIG_T, trajectory_run, twist_run
from harness.ros import skip_or_fail
import numpy
import pytest
from safety_gate import config, export, trace_schema
from safety_gate.events import Odom, Plan, Proposal

skip_or_fail(MISSING)

REPO = Path(__file__).resolve().parents[2]
TRAJECTORY_MODES = {'autoware_trajectory': 'autoware_planning_msgs/msg/Trajectory',
                    'path': 'nav_msgs/msg/Path'}


# ---------------------------------------------------------------- what the run did

def ns(seconds):
    return round(seconds * 1e9)


def time_fields(nanoseconds):
    sec, nanosec = divmod(nanoseconds, 10**9)
    return {'sec': sec, 'nanosec': nanosec}


def header(stamp_ns, frame_id):
    return {'stamp': time_fields(stamp_ns), 'frame_id': frame_id}


def twist(stamp, v, w):
    return {'header': header(ns(stamp), ''),
            'twist': {'linear': {'x': v, 'y': 0.0, 'z': 0.0},
                      'angular': {'x': 0.0, 'y': 0.0, 'z': w}}}


def pose(x, y, yaw):
    return {'position': {'x': x, 'y': y, 'z': 0.0},
            'orientation': {'x': 0.0, 'y': 0.0, 'z': math.sin(yaw / 2), 'w': math.cos(yaw / 2)}}


def odometry(odom):
    return {'header': header(ns(odom.stamp), ''), 'child_frame_id': '',
            'pose': {'pose': pose(odom.x, odom.y, odom.yaw), 'covariance': [0.0] * 36},
            'twist': {'twist': {'linear': {'x': odom.v, 'y': 0.0, 'z': 0.0},
                                'angular': {'x': 0.0, 'y': 0.0, 'z': odom.w}},
                      'covariance': [0.0] * 36}}


def trajectory(typename, stamp, frame_id, points):
    """Return a Path or Trajectory message of (time from stamp, x, y, yaw, speed) points."""
    stamp_ns = ns(stamp)
    if typename == TRAJECTORY_MODES['path']:
        return {'header': header(stamp_ns, frame_id), 'poses': [
            {'header': header(stamp_ns + ns(t), frame_id), 'pose': pose(x, y, yaw)}
            for t, x, y, yaw, _ in points]}
    zero = dict.fromkeys(['lateral_velocity_mps', 'acceleration_mps2', 'heading_rate_rps',
                          'front_wheel_angle_rad', 'rear_wheel_angle_rad'], 0.0)
    return {'header': header(stamp_ns, frame_id), 'points': [
        {'time_from_start': time_fields(ns(t)), 'pose': pose(x, y, yaw),
         'longitudinal_velocity_mps': float(numpy.float32(speed)), **zero}
        for t, x, y, yaw, speed in points]}


def expected(run, trace):
    """Return {topic: [(log time ns, message fields)]} of what the run did and the trace holds."""
    lines = [json.loads(line) for line in trace.read_bytes().splitlines()]
    plan_type = TRAJECTORY_MODES.get(run.cfg.planner.input)
    topics = {'/safety_gate/config': [(ns(CONFIG_T), lines[0])],
              '/safety_gate/decision': [], '/safety_gate/output/cmd_vel': [],
              '/safety_gate/proposal/cmd_vel': [], '/safety_gate/odom': []}
    if plan_type:
        topics.update({'/safety_gate/proposal/trajectory': [],
                       '/safety_gate/output/trajectory': []})
        del topics['/safety_gate/proposal/cmd_vel']
    for step in run.steps:
        if isinstance(step.event, Proposal):
            topics['/safety_gate/proposal/cmd_vel'].append(
                (ns(step.now), twist(step.event.stamp, step.event.v, step.event.w)))
        if isinstance(step.event, Odom):
            topics['/safety_gate/odom'].append((ns(step.now), odometry(step.event)))
        if isinstance(step.event, Plan):
            points = [(*point, 0.0) for point in step.event.points]
            topics['/safety_gate/proposal/trajectory'].append(
                (ns(step.now), trajectory(plan_type, step.event.stamp, 'base_link', points)))
    for decision, record, published in zip(run.decisions, lines[1:], run.published):
        topics['/safety_gate/decision'].append((ns(decision.t), record))
        topics['/safety_gate/output/cmd_vel'].append(
            (ns(decision.t), twist(decision.t, decision.output.v, decision.output.w)))
        if plan_type:
            topics['/safety_gate/output/trajectory'].append(
                (ns(decision.t), trajectory(plan_type, decision.t, 'base_link', published)))
    assert len(lines) == len(run.decisions) + 1
    return {topic: found for topic, found in topics.items() if found}


def assert_same(found, wanted):
    assert sorted(found) == sorted(wanted)
    for topic, messages in wanted.items():
        assert len(found[topic]) == len(messages), topic
        for index, (got, want) in enumerate(zip(found[topic], messages)):
            assert got == want, (topic, index)


def export_ok(trace, *options):
    assert export.main([str(trace), *options]) == 0


# ---------------------------------------------------------------- the tests

def test_a_twist_trace_exports_to_mcap_with_every_record_and_field(tmp_path):
    run = twist_run()
    trace = run.write_trace(tmp_path / 'trace.jsonl')
    export_ok(trace, '--mcap', str(tmp_path / 'out.mcap'))
    assert_same(read_mcap(tmp_path / 'out.mcap'), expected(run, trace))


@pytest.mark.parametrize('storage', export.STORAGES)
def test_a_twist_trace_exports_to_a_rosbag2_bag(tmp_path, storage):
    run = twist_run()
    trace = run.write_trace(tmp_path / 'trace.jsonl')
    export_ok(trace, '--rosbag2', str(tmp_path / 'bag'), '--storage', storage)
    assert (tmp_path / 'bag' / 'metadata.yaml').is_file()
    found, types = read_bag(tmp_path / 'bag')
    assert_same(found, expected(run, trace))
    assert types['/safety_gate/output/cmd_vel'] == 'geometry_msgs/msg/TwistStamped'


@pytest.mark.parametrize('mode', TRAJECTORY_MODES)
def test_a_trajectory_trace_exports_plans_and_published_trajectories(tmp_path, mode):
    run = trajectory_run(mode)
    trace = run.write_trace(tmp_path / 'trace.jsonl')
    export_ok(trace, '--mcap', str(tmp_path / 'out.mcap'), '--rosbag2', str(tmp_path / 'bag'))
    wanted = expected(run, trace)
    assert_same(read_mcap(tmp_path / 'out.mcap'), wanted)
    found, types = read_bag(tmp_path / 'bag')
    assert_same(found, wanted)
    assert types['/safety_gate/output/trajectory'] == TRAJECTORY_MODES[mode]
    stops = [points for points in run.published if len(points) > 1 and points[-1][4] == 0.0]
    assert stops, 'the run never published a stop along the path'


def test_the_autoware_definitions_are_those_of_the_message_package():
    package = REPO / 'test' / 'interfaces' / 'autoware_planning_msgs' / 'msg'
    for name, text in export.AUTOWARE_DEFINITIONS.items():
        assert (package / f'{name.rpartition("/")[2]}.msg').read_text() == text, name


def test_every_record_of_every_event_kind_validates_against_the_schema():
    """The fixed script holds every event kind and non-finite values; plans come from a run."""
    cfg = config.build({'require_reset_on_start': False, 'trace.required': True})
    plan_records = records_of(trajectory_run('path').steps)
    schema = trace_schema.decision_schema()
    for record in records_of(play(cfg, FIXED_SCRIPT)) + plan_records:
        line = json.loads(export.encode_record({**record, 'prev_sha256': '0' * 64}))
        assert schema_errors(schema, line) == [], record['seq']


def test_a_record_member_the_types_do_not_declare_fails_the_schema():
    record = records_of(twist_run().steps)[-1]
    line = json.loads(export.encode_record({**record, 'prev_sha256': '0' * 64}))
    schema = trace_schema.decision_schema()
    assert schema_errors(schema, line) == []
    assert schema_errors(schema, {**line, 'undeclared': 1})
    line['output']['v'] = 'fast'
    assert schema_errors(schema, line)


def test_without_the_libraries_it_says_which_to_install(tmp_path, monkeypatch, capsys):
    trace = twist_run().write_trace(tmp_path / 'trace.jsonl')
    monkeypatch.setitem(sys.modules, 'rosbags', None)  # import rosbags raises ImportError
    assert export.main([str(trace), '--mcap', str(tmp_path / 'out.mcap')]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'pip install mcap rosbags' in err, err
    assert not (tmp_path / 'out.mcap').exists()


def test_an_existing_output_is_not_overwritten(tmp_path, capsys):
    trace = twist_run().write_trace(tmp_path / 'trace.jsonl')
    (tmp_path / 'out.mcap').write_bytes(b'mine')
    assert export.main([str(trace), '--mcap', str(tmp_path / 'out.mcap')]) == 2
    assert 'exists already' in capsys.readouterr().err
    assert (tmp_path / 'out.mcap').read_bytes() == b'mine'
    assert export.main([str(trace)]) == 2


def test_a_trace_that_does_not_verify_is_exported_and_the_exit_code_says_so(tmp_path, capsys):
    run = twist_run()
    trace = run.write_trace(tmp_path / 'trace.jsonl')
    lines = trace.read_bytes().splitlines(keepends=True)
    del lines[5]
    trace.write_bytes(b''.join(lines))
    assert export.main([str(trace), '--mcap', str(tmp_path / 'out.mcap')]) == 1
    assert 'removed' in capsys.readouterr().out
    found = read_mcap(tmp_path / 'out.mcap')
    assert len(found['/safety_gate/decision']) == len(run.decisions) - 1


def test_with_another_config_the_trajectories_that_do_not_replay_are_left_out(tmp_path, capsys):
    run = trajectory_run('path')
    trace = run.write_trace(tmp_path / 'trace.jsonl')
    slower = config.write_params_file(tmp_path / 'slower.yaml', {
        'require_reset_on_start': False, 'planner.input': 'path', 'confidence.required': False,
        'envelope.max_linear_speed': 0.3})
    assert export.main([str(trace), '--mcap', str(tmp_path / 'out.mcap'),
                        '--config', str(slower)]) == 1
    assert 'did not replay' in capsys.readouterr().out
    found = read_mcap(tmp_path / 'out.mcap')
    assert len(found['/safety_gate/decision']) == len(run.decisions)
    assert len(found.get('/safety_gate/output/trajectory', [])) < len(run.decisions)


def test_a_storage_without_a_bag_is_a_usage_error(tmp_path, capsys):
    trace = twist_run().write_trace(tmp_path / 'trace.jsonl')
    assert export.main([str(trace), '--mcap', str(tmp_path / 'out.mcap'),
                        '--storage', 'sqlite3']) == 2
    assert '--rosbag2' in capsys.readouterr().err


def test_a_record_it_cannot_read_is_named_and_nothing_is_left(tmp_path, capsys):
    trace = twist_run().write_trace(tmp_path / 'trace.jsonl')
    lines = trace.read_text().splitlines(keepends=True)
    record = json.loads(lines[7])
    record['output']['v'] = 'fast'
    lines[7] = json.dumps(record) + '\n'
    trace.write_text(''.join(lines))
    assert export.main([str(trace), '--mcap', str(tmp_path / 'out.mcap'),
                        '--rosbag2', str(tmp_path / 'bag')]) == 2
    assert f'{trace}:8: cannot export this record' in capsys.readouterr().err
    assert not (tmp_path / 'out.mcap').exists() and not (tmp_path / 'bag').exists()


def test_runs_with_another_trajectory_type_in_one_trace_are_refused(tmp_path, capsys):
    trace = tmp_path / 'trace.jsonl'
    trajectory_run('path').write_trace(trace)
    trajectory_run('autoware_trajectory').write_trace(trace)  # a restart: a second chain
    assert export.main([str(trace), '--mcap', str(tmp_path / 'out.mcap')]) == 2
    assert 'changes planner.input between runs' in capsys.readouterr().err


def test_the_times_are_the_records_node_times(tmp_path):
    run = twist_run()
    trace = run.write_trace(tmp_path / 'trace.jsonl')
    export_ok(trace, '--mcap', str(tmp_path / 'out.mcap'))
    decisions = read_mcap(tmp_path / 'out.mcap')['/safety_gate/decision']
    assert [t for t, _ in decisions] == [ns(d.t) for d in run.decisions]
    assert decisions[1][0] - decisions[0][0] == ns(TICK)


def test_the_foxglove_layout_shows_fields_an_export_holds(tmp_path):
    """Every path of config/foxglove_layout.json names a topic and field of a twist export."""
    layout = json.loads((REPO / 'config' / 'foxglove_layout.json').read_text())
    trace = twist_run().write_trace(tmp_path / 'trace.jsonl')
    export_ok(trace, '--mcap', str(tmp_path / 'out.mcap'))
    found = read_mcap(tmp_path / 'out.mcap')
    paths = [path['value'] for panel in layout['configById'].values()
             for path in panel.get('paths', [])]
    topics = [panel['topicPath'] for panel in layout['configById'].values()
              if 'topicPath' in panel]
    assert len(paths) >= 6 and topics == ['/safety_gate/decision']
    for value in paths + topics:
        topic, *fields = value.split('.')
        for _, message in found[topic]:
            for name in fields:
                message = message[name]
            assert message is not None, value
