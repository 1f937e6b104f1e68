# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The end-to-end rig: devices under test in their own processes, source and sink here.

Each *arm* is one device under test (the gate, the gate without a trace file,
the null relay) running as its own process in its own namespace, so all arms
can stay up for the whole run and be measured in interleaved blocks. This
process plays the planner and the vehicle (source) and the base controller
(sink) for every arm over one rclpy node, with the gate's message types and
QoS, on the loopback DDS profile.

Correlation is by value, because the gate re-stamps its output. Every
proposal has v = :data:`V` and a yaw rate w that is unique in the run (a
triangle wave of small steps plus a per-proposal offset of 1e-9 rad/s). The
bench parameters (:data:`GATE_PARAMS`) make the gate's rate clamps wider than
any step, so an approved output carries exactly the proposal's w, and the sink
keeps the first arrival of each w with v == V: the watchdog's repeats of the
same command are ignored, and a fallback output (v < V) is never mistaken for
one. Times are the DDS timestamps on the realtime clock: the send time is read
just before ``publish`` and the arrival is the middleware's reception time of
the output, so the sink's own executor does not add to the figures.

Odometry goes to every gate at 50 Hz with v = V and an advancing position,
so it is fresh, plausible, never stuck, and within the tracking tolerance of
any output between 0 and V.

Arms in trajectory mode (``message`` ``path`` or ``autoware_trajectory``, for
the gate its ``planner.input``) take plans instead: 64 points 0.1 s apart from
0.1 s (the Alpamayo 2 format), straight ahead from the vehicle, stamped on
publishing (as a nav_msgs/Path planner and the Alpamayo 1.5 node do), then
the reasoning text as the wrapper sends it. Plan k of a run has the unique
speed :func:`plan_speed` (k): the gate's command on approving it is that speed
(to rounding, far inside :data:`PLAN_V_STEP`), and its null relay passes the
plan itself on, which the sink knows by its stamp.
"""

from dataclasses import dataclass, field
import functools
import hashlib
import math
from pathlib import Path
import time
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Odometry, Path as PathMsg
import psutil
from safety_gate.config import NODE_NAME, write_params_file
from safety_gate.kit.bench.relay import MESSAGE_OPTION, relayed, REUSED_WAIT_SET_FLAG
from safety_gate.kit.world.alpamayo_plans import ALPAMAYO_2_SUPER, FRAME_ID
from safety_gate.kit.world.process import ChildProcess, python_command
from safety_gate.kit.world.recorder import DIAGNOSTICS, GateRecorder
from safety_gate.kit.world.rosutil import (COMMAND_QOS, make_odom, make_twist, meta_json,
                                           SENSOR_QOS, stamp_from_ns, stamp_to_ns)
from safety_gate.plan_output import fill_path, fill_trajectory
from safety_gate.wrapper_types import load_wrapper_types
from std_msgs.msg import String

V = 0.4  # m/s: forward speed of every proposal, and of the odometry
W_AMPLITUDE = 0.5  # rad/s
W_STEP = 0.0005  # rad/s per proposal: far inside max_angular_accel * dt at 1 kHz
W_UNIQUE = 1e-9  # rad/s per proposal: makes every w in a run distinct
ODOM_HZ = 50.0
CONFIDENCE = 0.9
MODEL_SHA256 = hashlib.sha256(b'safety_gate bench').hexdigest()
PLAN_V_STEP = 1e-4  # m/s between the speeds of consecutive plans
_PLAN_MATCH = 1e-9  # m/s: how close a command must be to a plan's speed to be its approval
REASONING = ('Lane ahead is clear; following the route at cruise speed. Pedestrian on the '
             'right kerb, not crossing; keeping the lane centre.')

# The defaults, except where correlation by value needs otherwise: no reset
# step, rate clamps wider than any bench step (so an approved output equals
# its proposal), and authority back after one clean proposal (the watchdog
# trials resume the planner hundreds of times; the hysteresis is evaluated
# either way, only its thresholds differ).
GATE_PARAMS = {
    'require_reset_on_start': False,
    'envelope.max_linear_accel': 100.0,
    'envelope.max_linear_decel': 100.0,
    'envelope.max_angular_accel': 100.0,
    'confidence.min_dwell': 0.0,
    'confidence.recover_count': 1,
}

_STARTUP_TIMEOUT_S = 60.0
# A sender this many periods late skips ahead instead of bursting to catch up.
_MAX_BACKLOG_PERIODS = 5


@dataclass(frozen=True)
class ArmSpec:
    """A device under test: ``module`` is run with ``python -m`` in namespace /bench_<name>."""

    name: str
    module: str
    params: Optional[Mapping[str, object]] = None  # gate parameters; None for the relay
    args: Tuple[str, ...] = ()  # before --ros-args
    message: str = 'twist'  # what the planner sends: twist, path or autoware_trajectory

    @property
    def is_gate(self) -> bool:
        """Return True for a safety_gate process (it takes meta and odometry)."""
        return self.params is not None

    @property
    def takes_plans(self) -> bool:
        """Return True for an arm in trajectory mode."""
        return self.message != 'twist'


def gate_arm(name: str, message: str = 'twist', **overrides) -> ArmSpec:
    """Return a gate arm with the bench parameters plus dotted-name ``overrides``.

    In trajectory mode (``message`` not twist) its planner sends no meta, as
    the wrapper does, so a plan waits for none (``config/alpamayo_autoware.yaml``).
    """
    mode = {} if message == 'twist' else {'planner.input': message,
                                          'confidence.required': False,
                                          'confidence.pairing_wait': 0.0}
    return ArmSpec(name, 'safety_gate.node', {**GATE_PARAMS, **mode, **overrides},
                   message=message)


def relay_arm(name: str, message: str = 'twist', reused_wait_set: bool = False) -> ArmSpec:
    """Return a null relay arm of ``message``, spun by rclpy's executor or the gate's."""
    args = (REUSED_WAIT_SET_FLAG,) if reused_wait_set else ()
    return ArmSpec(name, 'safety_gate.kit.bench.relay', args=args + (MESSAGE_OPTION, message),
                   message=message)


RELAY = relay_arm('relay')
RELAY_REUSED_WAIT_SET = relay_arm('relay_reused', reused_wait_set=True)


def plan_speed(index: int) -> float:
    """Return the speed of the ``index``-th plan of a run (a unique value)."""
    return V + index * PLAN_V_STEP


@dataclass
class Arm:
    """A running arm: its process, this side's endpoints, and what its sink saw."""

    spec: ArmSpec
    process: ChildProcess
    cpu: psutil.Process
    trace_path: Optional[Path]
    cmd_pub: object = None
    meta_pub: object = None
    reasoning_pub: object = None
    odom_pub: object = None
    sink: object = None
    first_seen: Dict[float, int] = field(default_factory=dict)  # Sent.key -> arrival (ns)
    fallback_watch_ns: Optional[int] = None
    first_fallback_ns: Optional[int] = None
    diagnostics: Dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Return the arm's name."""
        return self.spec.name

    def cpu_seconds(self) -> float:
        """Return the process's CPU time so far (user + system, all threads)."""
        times = self.cpu.cpu_times()
        return times.user + times.system


@dataclass(frozen=True)
class Sent:
    """A proposal as sent: realtime ns just before publish, and its key.

    The key is unique in the run: a command's w, a plan's index.
    """

    ns: int
    key: float


def proposal_w(index: int) -> float:
    """Return the yaw rate of the ``index``-th proposal of a run (a unique value)."""
    half = int(2 * W_AMPLITUDE / W_STEP)
    phase = index % (2 * half)
    tri = phase if phase < half else 2 * half - phase
    return -W_AMPLITUDE + tri * W_STEP + index * W_UNIQUE


class Rig(GateRecorder):
    """Start the arms, connect to them, drive proposals and record outputs.

    Of the recorder's subscriptions only the diagnostics are used; every arm's
    output has a sink of its own (:meth:`_on_output`), in the arm's namespace,
    that keeps the middleware's reception time and no more: it is the latency
    measurement, so nothing is decoded or dispatched on its way.
    """

    def __init__(self, workdir: Path, env: Mapping[str, str], specs: Sequence[ArmSpec]):
        """Start every arm's process with ``env`` and wait until all are connected.

        This process's environment must already be loopback-confined (the ROS
        domain comes from ``env``).
        """
        self.workdir = Path(workdir)
        self.env = dict(env)
        self.arms: Dict[str, Arm] = {}
        self._count = 0
        self._plans = 0
        self._plan_index: Dict[int, int] = {}  # a plan's stamp (ns) -> its index
        self._plan_types: Dict[str, Tuple[object, Callable]] = {
            'path': (PathMsg, functools.partial(fill_path, PoseStamped))}
        self._odom_x = 0.0
        super().__init__('bench', domain_id=int(env['ROS_DOMAIN_ID']))
        self.record(DIAGNOSTICS)
        self.node.create_timer(1.0 / ODOM_HZ, self._publish_odom)
        try:
            self.start(specs)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ arms

    def start(self, specs: Sequence[ArmSpec]) -> None:
        """Start arms (in parallel) and wait until each is connected on every topic."""
        for spec in specs:
            self.arms[spec.name] = self._launch(spec)
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        for spec in specs:
            arm = self.arms[spec.name]
            if not self.spin_until(lambda: self._connected(arm), deadline):
                raise RuntimeError(f'{arm.name} did not connect within {_STARTUP_TIMEOUT_S} s; '
                                   f'its log: {arm.process.log_path}')

    def stop(self, name: str) -> int:
        """Stop one arm's process (SIGINT) and remove its endpoints; return its exit code."""
        arm = self.arms.pop(name)
        code = arm.process.stop()
        for endpoint in (arm.cmd_pub, arm.meta_pub, arm.reasoning_pub, arm.odom_pub):
            if endpoint is not None:
                self.node.destroy_publisher(endpoint)
        self.node.destroy_subscription(arm.sink)
        return code

    def _launch(self, spec: ArmSpec) -> Arm:
        namespace = f'/bench_{spec.name}'
        argv = ['-m', spec.module, *spec.args, '--ros-args', '-r', f'__ns:={namespace}']
        trace_path = None
        if spec.is_gate:
            params = dict(spec.params)
            trace_path = self.workdir / spec.name / 'trace.jsonl'
            params.setdefault('trace.path', str(trace_path))
            if not params.get('trace.enabled', True):
                trace_path = None
            params_file = write_params_file(self.workdir / f'{spec.name}_params.yaml', params,
                                            f'{namespace}/{NODE_NAME}')
            argv += ['--params-file', str(params_file)]
        process = ChildProcess(spec.name, python_command(*argv),
                               self.workdir / f'{spec.name}.log', self.env)
        arm = Arm(spec, process, psutil.Process(process.pid), trace_path)
        node = self.node
        msg_type, topic_in, topic_out = relayed(spec.message)
        arm.cmd_pub = node.create_publisher(msg_type, f'{namespace}/{topic_in}', COMMAND_QOS)
        on_output = self._on_output
        if spec.is_gate:
            text_topic = 'planner/reasoning' if spec.takes_plans else 'planner/meta'
            text_pub = node.create_publisher(String, f'{namespace}/{text_topic}', COMMAND_QOS)
            if spec.takes_plans:
                arm.reasoning_pub, on_output = text_pub, self._on_plan_command
            else:
                arm.meta_pub = text_pub
            arm.odom_pub = node.create_publisher(Odometry, f'{namespace}/odom', SENSOR_QOS)
            msg_type, topic_out = TwistStamped, 'cmd_vel'
        elif spec.takes_plans:
            on_output = self._on_relayed_plan
        arm.sink = node.create_subscription(msg_type, f'{namespace}/{topic_out}',
                                            functools.partial(on_output, arm), COMMAND_QOS)
        return arm

    def _connected(self, arm: Arm) -> bool:
        if not arm.process.alive():
            raise RuntimeError(f'{arm.name} exited with code {arm.process.returncode}; '
                               f'its log: {arm.process.log_path}')
        pubs = [p for p in (arm.cmd_pub, arm.meta_pub, arm.reasoning_pub, arm.odom_pub)
                if p is not None]
        return (all(p.get_subscription_count() > 0 for p in pubs)
                and arm.sink.get_publisher_count() > 0)

    # ------------------------------------------------------------ callbacks

    def _on_output(self, arm: Arm, msg: TwistStamped, info: dict) -> None:
        arrived = info['received_timestamp']
        twist = msg.twist
        if twist.linear.x == V:
            arm.first_seen.setdefault(twist.angular.z, arrived)
        elif (arm.fallback_watch_ns is not None and arm.first_fallback_ns is None
              and arrived >= arm.fallback_watch_ns):
            arm.first_fallback_ns = arrived

    def _on_plan_command(self, arm: Arm, msg: TwistStamped, info: dict) -> None:
        v = msg.twist.linear.x
        index = round((v - V) / PLAN_V_STEP)
        if index >= 0 and abs(v - plan_speed(index)) <= _PLAN_MATCH:
            arm.first_seen.setdefault(index, info['received_timestamp'])

    def _on_relayed_plan(self, arm: Arm, msg, info: dict) -> None:
        index = self._plan_index.get(stamp_to_ns(msg.header.stamp))
        if index is not None:
            arm.first_seen.setdefault(index, info['received_timestamp'])

    def _publish_odom(self) -> None:
        now = time.time_ns()
        self._odom_x += V / ODOM_HZ
        msg = make_odom(stamp_from_ns(now), (self._odom_x, 0.0, 0.0), V, 0.0)
        for arm in self.arms.values():
            if arm.odom_pub is not None:
                arm.odom_pub.publish(msg)

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        """Keep the latest diagnostics values of each gate arm."""
        # Every gate publishes on the absolute /diagnostics; the trace path tells them apart.
        values = {f'{s.name}/{kv.key}': kv.value for s in msg.status for kv in s.values}
        for arm in self.arms.values():
            if arm.trace_path is not None and values.get(
                    'safety_gate: trace/path') == str(arm.trace_path):
                arm.diagnostics = values

    # ------------------------------------------------------------ driving

    def propose(self, arm: Arm) -> Sent:
        """Publish one proposal to ``arm``: the meta first, then the command with its stamp."""
        if arm.spec.takes_plans:
            return self._propose_plan(arm)
        w = proposal_w(self._count)
        self._count += 1
        stamp = stamp_from_ns(time.time_ns())
        if arm.meta_pub is not None:
            arm.meta_pub.publish(String(data=meta_json(stamp, CONFIDENCE, MODEL_SHA256,
                                                       REASONING)))
        msg = make_twist(True, V, w, stamp)
        sent_ns = time.time_ns()
        arm.cmd_pub.publish(msg)
        return Sent(sent_ns, w)

    def _propose_plan(self, arm: Arm) -> Sent:
        """Publish plan k to ``arm`` (see the module doc), then the reasoning to a gate."""
        index = self._plans
        self._plans += 1
        speed = plan_speed(index)
        if arm.spec.message not in self._plan_types:  # autoware_trajectory: not in the wheels
            types = load_wrapper_types()
            self._plan_types[arm.spec.message] = (
                types.trajectory, functools.partial(fill_trajectory, types.trajectory_point))
        msg_type, fill = self._plan_types[arm.spec.message]
        stamp_ns = time.time_ns()
        points = [(time_ns * 1e-9, speed * time_ns * 1e-9, 0.0, 0.0, speed)
                  for time_ns in ALPAMAYO_2_SUPER.times_ns()]
        msg = fill(msg_type(), stamp_ns, FRAME_ID, points)
        self._plan_index[stamp_ns] = index
        sent_ns = time.time_ns()
        arm.cmd_pub.publish(msg)
        if arm.reasoning_pub is not None:
            arm.reasoning_pub.publish(String(data=REASONING))
        return Sent(sent_ns, index)

    def drive(self, arm: Arm, rate_hz: float, seconds: float = math.inf,
              until: Optional[Callable[[List[Sent]], bool]] = None) -> List[Sent]:
        """Send proposals to ``arm`` at ``rate_hz`` for ``seconds`` or until ``until(sent)``.

        Between sends the executor spins, so outputs and odometry keep flowing.
        """
        period = int(1e9 / rate_hz)
        start = time.monotonic_ns()
        end = start + seconds * 1e9
        next_send = start
        sent: List[Sent] = []
        while True:
            now = time.monotonic_ns()
            if now >= end or (until is not None and until(sent)):
                return sent
            if now >= next_send:
                sent.append(self.propose(arm))
                next_send += period
                if now - next_send > _MAX_BACKLOG_PERIODS * period:
                    next_send = now
            else:
                self.executor.spin_once(timeout_sec=(next_send - now) * 1e-9)

    def latencies(self, arm: Arm, sent: Sequence[Sent]) -> Tuple[List[float], int]:
        """Return (latency in µs of each proposal that came out, proposals that did not)."""
        found = [(arm.first_seen.get(s.key), s.ns) for s in sent]
        latencies = [(out - ns) * 1e-3 for out, ns in found if out is not None]
        return latencies, len(sent) - len(latencies)

    def close(self) -> None:
        """Stop every arm and shut the bench node down."""
        for name in list(self.arms):
            self.stop(name)
        self.destroy()
