# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Write a trace as MCAP or a rosbag2 bag, for Foxglove, PlotJuggler and the ``ros2 bag`` tools.

``safety-gate export TRACE... --mcap OUT.mcap --rosbag2 DIR``, or ``--parquet
OUT.parquet`` (every record one row, by :mod:`safety_gate.fleet`: what
``safety-gate spi`` and ``baseline`` read again without parsing JSON). The trace is
checked and read by :mod:`safety_gate.verify` and replayed by
:mod:`safety_gate.replay` (the gate's state at each record gives the
trajectory it published). Every message is logged at the node time of what
it shows:

* ``/safety_gate/decision``, ``/safety_gate/config`` and ``/safety_gate/spi``: the records, in MCAP
  as JSON with the JSON Schema ``safety_gate.trace_schema`` generates, in a
  rosbag2 bag as ``std_msgs/msg/String`` holding the JSON line (as the gate
  publishes them);
* ``/safety_gate/proposal/cmd_vel``: each velocity proposal the gate consumed
  (``geometry_msgs/msg/TwistStamped`` stamped with the proposal's stamp), at
  its arrival;
* ``/safety_gate/proposal/trajectory``: in trajectory mode each plan
  (``nav_msgs/msg/Path`` or ``autoware_planning_msgs/msg/Trajectory``, by
  ``planner.input``), at its arrival; the plan's velocity fields were never
  read, so they are 0;
* ``/safety_gate/odom``: each odometry sample the gate consumed
  (``nav_msgs/msg/Odometry``: stamp, planar pose and speeds; the frames and
  covariances are not recorded), at its arrival;
* ``/safety_gate/output/cmd_vel``: each decision's output, stamped with its time;
* ``/safety_gate/output/trajectory``: in trajectory mode, the trajectory the
  gate published with each decision, rebuilt from the replayed state by
  ``plan_output`` as the node builds it.

The topics are not the gate's own, so that playing a bag drives nothing. The
message definitions come from rosbags' Jazzy type store (the Autoware types
from their definitions below), for both formats. ``mcap`` and ``rosbags`` are
needed here only: the gate does not import this module.
"""

import argparse
from dataclasses import dataclass, field
import json
import math
from pathlib import Path
import shutil
import sys
from typing import Any, Dict, List, Optional, Sequence

import numpy
from safety_gate import fleet, plan_output, replay, verify
from safety_gate.config import load_yaml, NAMESPACE_HELP
from safety_gate.errors import user_error
from safety_gate.events import Odom, Plan, Proposal
from safety_gate.trace_format import encode_record
from safety_gate.trace_record import (
    decision_summary, event_from_dict, is_config, is_spi, record_summary)
from safety_gate.trace_schema import config_schema, decision_schema, spi_schema
import yaml

DECISION_TOPIC = '/safety_gate/decision'
CONFIG_TOPIC = '/safety_gate/config'
SPI_TOPIC = '/safety_gate/spi'
PROPOSAL_CMD_TOPIC = '/safety_gate/proposal/cmd_vel'
PROPOSAL_PLAN_TOPIC = '/safety_gate/proposal/trajectory'
ODOM_TOPIC = '/safety_gate/odom'
OUTPUT_CMD_TOPIC = '/safety_gate/output/cmd_vel'
OUTPUT_PLAN_TOPIC = '/safety_gate/output/trajectory'
TWIST_STAMPED = 'geometry_msgs/msg/TwistStamped'
ODOMETRY = 'nav_msgs/msg/Odometry'
STRING = 'std_msgs/msg/String'
POSE_STAMPED = 'geometry_msgs/msg/PoseStamped'
TRAJECTORY_POINT = 'autoware_planning_msgs/msg/TrajectoryPoint'
PLAN_TYPES = {'path': 'nav_msgs/msg/Path', 'autoware_trajectory':
              'autoware_planning_msgs/msg/Trajectory'}
# autoware_msgs (autoware_planning_msgs 1.x), what the alpamayo-autoware wrapper publishes.
AUTOWARE_DEFINITIONS = {
    TRAJECTORY_POINT: 'builtin_interfaces/Duration time_from_start\n'
                      'geometry_msgs/Pose pose\n'
                      'float32 longitudinal_velocity_mps\n'
                      'float32 lateral_velocity_mps\n'
                      'float32 acceleration_mps2\n'
                      'float32 heading_rate_rps\n'
                      'float32 front_wheel_angle_rad\n'
                      'float32 rear_wheel_angle_rad\n',
    PLAN_TYPES['autoware_trajectory']: 'std_msgs/Header header\n'
                                       'autoware_planning_msgs/TrajectoryPoint[] points\n',
}
JSON_SCHEMAS = {DECISION_TOPIC: ('safety_gate/DecisionRecord', decision_schema),
                CONFIG_TOPIC: ('safety_gate/ConfigRecord', config_schema),
                SPI_TOPIC: ('safety_gate/SpiRecord', spi_schema)}
STORAGES = ('mcap', 'sqlite3')
MISSING_LIBRARIES = ("needs the Python packages 'mcap' and 'rosbags' (not needed by the gate): "
                     "pip install mcap rosbags, or pip install 'safety_gate[export]'")


class ExportError(ValueError):
    """The trace cannot be written as asked."""


class RosTypes:
    """rosbags' Jazzy type store with the Autoware types: zeroed messages and their CDR bytes."""

    def __init__(self, typesys) -> None:
        """Load the store from ``rosbags.typesys``."""
        self.store = typesys.get_typestore(typesys.Stores.ROS2_JAZZY)
        for name, text in AUTOWARE_DEFINITIONS.items():
            self.store.register(typesys.get_types_from_msg(text, name))
        self._base = typesys.base.Nodetype.BASE
        self._name = typesys.base.Nodetype.NAME
        self._sequence = typesys.base.Nodetype.SEQUENCE

    def zeroed(self, typename: str):
        """Return a message of ``typename`` with every field zero, empty or False."""
        _, fields = self.store.fielddefs[typename]
        return self.store.types[typename](**{
            name: self._zero(kind, detail) for name, (kind, detail) in fields})

    def _zero(self, kind, detail):
        if kind == self._base:
            return {'string': '', 'bool': False}.get(detail[0], 0.0 if 'float' in detail[0] else 0)
        if kind == self._name:
            return self.zeroed(detail)
        if kind == self._sequence:
            return []
        (item_kind, item), length = detail  # a fixed-size array: the covariances
        if item_kind != self._base or item[0] != 'float64':
            raise TypeError(f'no zero for an array of {item}: not in the exported types')
        return numpy.zeros(length)

    def cdr(self, message, typename: str) -> bytes:
        """Serialise ``message`` as CDR, as it travels over DDS."""
        return bytes(self.store.serialize_cdr(message, typename))

    def definition(self, typename: str) -> str:
        """Return the ros2msg definition text (with its dependencies) of ``typename``."""
        return self.store.generate_msgdef(typename, ros_version=2)[0]


@dataclass
class ExportReport:
    """What was written, and what could not be."""

    outputs: List[str] = field(default_factory=list)
    counts: Dict[str, int] = field(default_factory=dict)
    first_t: Optional[float] = None
    last_t: Optional[float] = None
    integrity: Optional[verify.VerifyReport] = None
    unreplayed: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True if the trace verified and every published trajectory was rebuilt."""
        return self.integrity is not None and self.integrity.ok and not self.unreplayed


def nanoseconds(seconds: float) -> int:
    """Return a node time or stamp in integer nanoseconds, as the node rounds it (NaN: 0)."""
    return round(seconds * 1e9) if math.isfinite(seconds) else 0


class _Messages:
    """Turn the replayed records into (topic, type, log time, message) and hand them to sinks."""

    def __init__(self, types: RosTypes, sinks) -> None:
        self.types, self.sinks = types, sinks
        self.topic_types: Dict[str, str] = {}
        self.report = ExportReport()

    def publish(self, topic: str, typename: str, t: float, message) -> None:
        known = self.topic_types.setdefault(topic, typename)
        if known != typename:
            raise ExportError(f'{topic} would carry {typename} after {known}: the trace '
                              'changes planner.input between runs; export each run on its own')
        log_time = nanoseconds(t)
        for sink in self.sinks:
            sink.write(topic, typename, log_time, message)
        self.report.counts[topic] = self.report.counts.get(topic, 0) + 1
        self.report.first_t = t if self.report.first_t is None else min(self.report.first_t, t)
        self.report.last_t = t if self.report.last_t is None else max(self.report.last_t, t)

    def record(self, step: replay.Replayed) -> None:
        record = step.record
        if is_config(record):
            self.publish(CONFIG_TOPIC, STRING, record['t'], record)
            return
        if is_spi(record):
            self.publish(SPI_TOPIC, STRING, record['t'], record)
            return
        plan_type = PLAN_TYPES.get(step.cfg.planner.input)
        for event in record.get('events', []):
            now, value = event_from_dict(event)
            if isinstance(value, Proposal):
                self.publish(PROPOSAL_CMD_TOPIC, TWIST_STAMPED, now,
                             self.twist(value.stamp, value.v, value.w))
            elif isinstance(value, Odom):
                self.publish(ODOM_TOPIC, ODOMETRY, now, self.odometry(value))
            elif isinstance(value, Plan) and plan_type is not None:
                found = [(t, x, y, yaw, 0.0) for t, x, y, yaw in value.points]
                self.publish(PROPOSAL_PLAN_TOPIC, plan_type, now,
                             self.plan(plan_type, value.stamp, value.frame_id, found))
        self.publish(DECISION_TOPIC, STRING, record['t'], record)
        output = record_summary(record)['output']
        self.publish(OUTPUT_CMD_TOPIC, TWIST_STAMPED, record['t'],
                     self.twist(record['t'], output['v'], output['w']))
        if plan_type is not None:
            self.output_plan(step, plan_type)

    def output_plan(self, step: replay.Replayed, plan_type: str) -> None:
        """Rebuild the trajectory the gate published with the record's decision."""
        record = step.record
        if step.decision is None or decision_summary(step.decision) != record_summary(record):
            self.report.unreplayed.append(f'{step.where} seq {record["seq"]}')
            return
        found = plan_output.points(step.state.plans, step.decision.verdict.approves,
                                   record['t'], step.cfg)
        self.publish(OUTPUT_PLAN_TOPIC, plan_type, record['t'],
                     self.plan(plan_type, record['t'], step.cfg.trajectory.frame_id, found))

    def twist(self, stamp: float, v: float, w: float):
        msg = self.types.zeroed(TWIST_STAMPED)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(nanoseconds(stamp), 10**9)
        msg.twist.linear.x, msg.twist.angular.z = float(v), float(w)
        return msg

    def odometry(self, odom: Odom):
        msg = self.types.zeroed(ODOMETRY)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(nanoseconds(odom.stamp), 10**9)
        plan_output.set_pose(msg.pose.pose, odom.x, odom.y, odom.yaw)
        msg.twist.twist.linear.x, msg.twist.twist.angular.z = float(odom.v), float(odom.w)
        return msg

    def plan(self, plan_type: str, stamp: float, frame_id: str, found):
        msg = self.types.zeroed(plan_type)
        if plan_type == PLAN_TYPES['path']:
            return plan_output.fill_path(lambda: self.types.zeroed(POSE_STAMPED), msg,
                                         nanoseconds(stamp), frame_id, found)
        return plan_output.fill_trajectory(lambda: self.types.zeroed(TRAJECTORY_POINT), msg,
                                           nanoseconds(stamp), frame_id, found)


class _McapSink:
    """An MCAP file: records on JSON channels with their schema, messages as CDR."""

    def __init__(self, mcap_writer, types: RosTypes, path: Path) -> None:
        self.types = types
        self.file = open(path, 'xb')
        self.writer = mcap_writer.Writer(self.file)
        self.writer.start(profile='ros2', library='safety_gate export')
        self.channels: Dict[str, int] = {}
        self.sequence: Dict[str, int] = {}

    def channel(self, topic: str, typename: str) -> int:
        if topic not in self.channels:
            if topic in JSON_SCHEMAS:
                name, schema_of_records = JSON_SCHEMAS[topic]
                schema_id = self.writer.register_schema(name, 'jsonschema',
                                                        json.dumps(schema_of_records()).encode())
                encoding = 'json'
            else:
                schema_id = self.writer.register_schema(
                    typename, 'ros2msg', self.types.definition(typename).encode())
                encoding = 'cdr'
            self.channels[topic] = self.writer.register_channel(topic, encoding, schema_id)
        return self.channels[topic]

    def write(self, topic: str, typename: str, log_time: int, message) -> None:
        channel = self.channel(topic, typename)
        data = (encode_record(message) if topic in JSON_SCHEMAS
                else self.types.cdr(message, typename))
        sequence = self.sequence[topic] = self.sequence.get(topic, -1) + 1
        self.writer.add_message(channel, log_time=log_time, data=data, publish_time=log_time,
                                sequence=sequence)

    def close(self) -> None:
        self.writer.finish()
        self.file.close()


class _BagSink:
    """A rosbag2 directory (metadata.yaml and one mcap or sqlite3 file) for ``ros2 bag play``."""

    def __init__(self, rosbag2, types: RosTypes, path: Path, storage: str) -> None:
        self.types = types
        self.writer = rosbag2.Writer(path, version=9,
                                     storage_plugin=rosbag2.StoragePlugin[storage.upper()])
        self.writer.open()
        self.connections: Dict[str, Any] = {}

    def write(self, topic: str, typename: str, log_time: int, message) -> None:
        if topic in JSON_SCHEMAS:
            message = self.types.store.types[STRING](data=encode_record(message).decode())
        if topic not in self.connections:
            self.connections[topic] = self.writer.add_connection(
                topic, typename, typestore=self.types.store)
        self.writer.write(self.connections[topic], log_time, self.types.cdr(message, typename))

    def close(self) -> None:
        self.writer.close()


def _libraries():
    """Import the writers lazily: the gate runs without them."""
    try:
        from mcap import writer as mcap_writer
        from rosbags import rosbag2, typesys
        import rosbags.typesys.base  # noqa: F401  (Nodetype)
    except ImportError as exc:
        raise ExportError(f'{MISSING_LIBRARIES} ({exc.name} is not installed)') from None
    return mcap_writer, rosbag2, typesys


def export(paths: Sequence[Path], mcap: Optional[Path] = None, rosbag2: Optional[Path] = None,
           storage: str = 'mcap', override=None) -> ExportReport:
    """Write the trace in ``paths`` to ``mcap`` and/or the bag directory ``rosbag2``.

    Raise ExportError (or replay.ReplayError) if it cannot be written; nothing is
    left behind then. An output that exists already is not overwritten.
    """
    mcap_writer, bag_module, typesys = _libraries()
    for target in (mcap, rosbag2):
        if target is not None and target.exists():
            raise ExportError(f'{target} exists already: not overwriting it')
    types = RosTypes(typesys)
    sinks: list = []
    try:
        if mcap is not None:
            sinks.append(_McapSink(mcap_writer, types, mcap))
        if rosbag2 is not None:
            sinks.append(_BagSink(bag_module, types, rosbag2, storage))
        messages = _Messages(types, sinks)
        messages.report.integrity = verify.verify(paths)
        for step in replay.replay_records(messages.report.integrity, override):
            try:
                messages.record(step)
            except (KeyError, TypeError, ValueError) as exc:  # an edited or foreign record
                raise ExportError(f'{step.where}: cannot export this record ({exc!r})') from None
        for sink in sinks:
            sink.close()
    except BaseException:
        for target in (mcap, rosbag2):
            if target is not None and target.is_dir():
                shutil.rmtree(target)
            elif target is not None:
                target.unlink(missing_ok=True)
        raise
    messages.report.outputs = [str(t) for t in (mcap, rosbag2) if t is not None]
    return messages.report


def format_report(report: ExportReport) -> str:
    """Describe an export for a person."""
    span = ('' if report.first_t is None else
            f', node time {report.first_t:.3f} to {report.last_t:.3f} s')
    lines = [f'wrote {" and ".join(report.outputs)}{span}']
    lines += [f'  {topic}: {count} messages' for topic, count in sorted(report.counts.items())]
    if report.unreplayed:
        lines.append(f'  {len(report.unreplayed)} records did not replay, so the trajectory '
                     f'published with them is not in the output (first: {report.unreplayed[0]});'
                     ' safety-gate replay shows why')
    if report.integrity is not None and not report.integrity.ok:
        lines.append('trace integrity (exported as it is):')
        lines.append(verify.format_report(report.integrity))
    return '\n'.join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='safety-gate export',
        description='Write a decision trace as MCAP (Foxglove, PlotJuggler) and/or a rosbag2 '
                    'bag (ros2 bag play). Exit 0 when written from a trace that verifies and '
                    'replays, 1 when written from one that does not (the report says what), '
                    '2 on an error (nothing written).')
    parser.add_argument('traces', nargs='+', type=Path, metavar='TRACE',
                        help='trace files, current and rotated, in any order')
    parser.add_argument('--mcap', type=Path, metavar='OUT.mcap', help='the MCAP file to write')
    parser.add_argument('--rosbag2', type=Path, metavar='DIR',
                        help='the rosbag2 bag directory to write')
    parser.add_argument('--parquet', type=Path, metavar='OUT.parquet',
                        help='write every record as a row of one Parquet file (DuckDB), for '
                             'repeated analysis with safety-gate spi and baseline')
    parser.add_argument('--storage', choices=STORAGES,
                        help='the storage of the rosbag2 bag (default: mcap)')
    parser.add_argument('--config', type=Path, metavar='FILE',
                        help='a params file for a trace without its config record')
    parser.add_argument('--namespace', default='', metavar='NS', help=NAMESPACE_HELP)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``safety-gate export``; return the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else 2
    if args.parquet is not None:
        if args.mcap is not None or args.rosbag2 is not None:
            return user_error('export', '--parquet is written on its own: export again for '
                              '--mcap or --rosbag2')
        try:
            rows = fleet.export_parquet(args.traces, args.parquet)
        except (OSError, fleet.FleetError) as exc:
            return user_error('export', str(exc))
        print(f'wrote {args.parquet}: {rows} records')
        return 0
    if args.mcap is None and args.rosbag2 is None:
        return user_error('export', 'nothing to write: give --mcap OUT.mcap, --rosbag2 DIR, '
                          '--parquet OUT.parquet')
    if args.storage is not None and args.rosbag2 is None:
        return user_error('export', '--storage is the storage of a rosbag2 bag: give '
                          '--rosbag2 DIR')
    try:
        override = None if args.config is None else load_yaml(args.config, args.namespace)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return user_error('export', f'--config {args.config}: {exc}')
    try:
        report = export(args.traces, args.mcap, args.rosbag2, args.storage or 'mcap', override)
    except (OSError, EOFError, ExportError, replay.ReplayError) as exc:
        return user_error('export', str(exc))
    print(format_report(report))
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
