# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The safety_gate ROS 2 node: the imperative shell around ``safety_gate.core``.

It converts messages into core events, keeps time with the node clock (so
``use_sim_time`` works), publishes each decision's output at once, runs the
watchdog timer, and hands trace records to the background writer. It makes
no decision of its own: anything the core raises becomes a FALLBACK decision
with reason INTERNAL_ERROR.

In trajectory mode (``planner.input`` ``path`` or ``autoware_trajectory``) it
reads plans on ``planner/trajectory`` and reasoning text instead of
``planner/cmd_vel``, and with every decision also publishes
``safety_gate/trajectory`` (built by ``plan_output``); the Autoware types are
imported only then, and without them the node refuses to start (exit 2).

Two guards watch the shell itself on the steady clock, whatever the node
clock does: a backstop timer keeps ``cmd_vel`` alive (zero, CLOCK_STALLED)
while the watchdog timer on the node clock does not fire, and a thread
outside the executor ends the process when nothing has been published for
``monitor.max_spin_failure`` (callbacks failing or hung).
"""

from dataclasses import dataclass
from functools import partial
import json
import math
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, PoseStamped, Twist, TwistStamped
from nav_msgs.msg import Odometry, Path
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.clock import Clock, ClockType
from rclpy.duration import Duration
from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy)
from rclpy.serialization import deserialize_message
from rclpy.signals import SignalHandlerOptions
from safety_gate import (
    config, convert, core, diagnostics, markers, plan_mode, plan_output, registry,
    ros_parameters, shadow, spi, trace_record)
from safety_gate.decision import Decision, Verdict
from safety_gate.events import ClockStall, ConservativeRequest, Estop, Reset, Tick, TraceHealth
from safety_gate.executor import ReusedWaitSetExecutor
from safety_gate.explain import explain
from safety_gate.intake import Intake
from safety_gate.model_files import FileHasher, split_paths
from safety_gate.shadow_intake import ShadowIntake
from safety_gate.trace_file import default_trace_path
from safety_gate.trace_format import load_hmac_key
from safety_gate.trace_writer import TraceWriter
from safety_gate.wrapper_types import InterfacesMissing, load_string_stamped, load_wrapper_types
from sensor_msgs.msg import Imu as ImuMsg
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger
from visualization_msgs.msg import Marker, MarkerArray

# QoS, following ROS conventions (documented in the README):
# commands and meta are reliable and volatile with a small depth: a late joiner
# must never receive an old command, and a reliable publisher still matches.
COMMAND_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.VOLATILE)
# The state is latched so a monitor that starts later sees the current mode.
STATE_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.TRANSIENT_LOCAL)
# The e-stop is subscribed twice. Volatile matches every publisher; transient
# local receives a latched publisher's last value at once, so an e-stop held
# down while the gate restarts is seen, but it cannot match a volatile one.
ESTOP_QOS = COMMAND_QOS
ESTOP_LATCHED_QOS = STATE_QOS
# The model announcement is latched by its publisher, sent once per model load.
MODEL_QOS = STATE_QOS
DECISION_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                          durability=DurabilityPolicy.VOLATILE)
DIAGNOSTICS_QOS = QoSProfile(depth=10)
# Latched like the state: a monitor that starts later sees the indicators at once.
SPI_QOS = STATE_QOS
# The live view: only the newest matters, and a late joiner waits for the next one.
MARKERS_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.VOLATILE)
# The candidate planner (shadow.*): keep-last 1, so a candidate the gate has no
# time for leaves no backlog to work through; reliable, as the production planner's.
CANDIDATE_QOS = MARKERS_QOS

# At most one log line per reason set change, and no more than this often.
_LOG_INTERVAL_S = 1.0


@dataclass(frozen=True)
class PlanInput:
    """Trajectory mode's message types and the pure functions that read and fill them."""

    plan_type: Any  # on planner/trajectory and safety_gate/trajectory
    to_plan: Callable  # convert.path_plan or convert.autoware_plan
    fill: Callable  # plan_output.fill_path or fill_trajectory, with the point type bound
    string_stamped: Optional[Any]  # None: planner/reasoning_stamped is not subscribed


def plan_input(mode: str) -> PlanInput:
    """Return the types of ``planner.input`` ``mode``; ConfigError if they do not import."""
    if mode == 'path':
        return PlanInput(Path, convert.path_plan, partial(plan_output.fill_path, PoseStamped),
                         load_string_stamped())
    try:
        types = load_wrapper_types()
    except InterfacesMissing as exc:
        raise config.ConfigError(f'planner.input = {mode}: {exc}') from exc
    return PlanInput(types.trajectory, convert.autoware_plan,
                     partial(plan_output.fill_trajectory, types.trajectory_point),
                     types.string_stamped)


class SafetyGateNode(Node):
    """Subscribes to the planner and sensors, publishes the gated command."""

    def __init__(self, params_files: Sequence[str] = (), managed: bool = False, **kwargs):
        """Create the gate; unless ``managed``, configure and activate it at once.

        A managed gate (:mod:`safety_gate.lifecycle_node`) does each step in
        its lifecycle transition instead.
        """
        super().__init__('safety_gate', **kwargs)
        self._params_files = params_files
        self.cfg: Optional[config.GateConfig] = None
        self.active = False
        self._undo_activate: List[Callable[[], Any]] = []  # destroys what activate created
        self._silence_watch: Optional[threading.Event] = None
        self.add_on_set_parameters_callback(self._refuse_parameter_changes)
        if not managed:
            self.configure_gate()
            self.activate_gate()

    def configure_gate(self) -> None:
        """Validate the configuration, create the outputs and open the trace.

        Raise ConfigError, naming parameter, value and range, on an invalid one.
        The parameters are read-only, so a second configure (after a cleanup)
        validates the same values again.
        """
        self.cfg = self._load_config(self._params_files) if self.cfg is None else self.cfg
        try:
            self.models = registry.load(self._registry_path())
        except registry.RegistryError as exc:
            raise config.ConfigError(f'provenance.registry_file: {exc}') from None
        try:
            spi.baseline(self.cfg.spi)
        except spi.BaselineError as exc:
            raise config.ConfigError(str(exc)) from None
        self.config_sha256 = config.config_sha256(self.cfg, self.models.sha256)
        # Before any publisher, so a refusal leaves nothing behind to configure again.
        self._plans: Optional[PlanInput] = (plan_input(self.cfg.planner.input)
                                            if plan_mode.active(self.cfg) else None)
        self.state = core.initial_state(self.cfg, self.models)
        self._seq = 0
        self._counts: Dict[str, int] = {v.value: 0 for v in Verdict}
        self._incompatible_qos: Dict[str, int] = {}
        self._last_log = (None, -math.inf)
        self._verdict: Optional[Verdict] = None  # as last published on safety_gate/state
        self._last_decision: Optional[Decision] = None
        self._hasher: Optional[FileHasher] = None
        self._frame_id = 'base_link'
        self._trace_healthy = True
        self._suppressed_logs = 0
        self._period = 1.0 / self.cfg.rate_hz
        self._intake = Intake(self.cfg.monitor.max_proposal_rate)
        self._shadow: Optional[ShadowIntake] = None
        if self.cfg.shadow.enabled:
            self._shadow = ShadowIntake(self.cfg.shadow.max_rate_hz, self._period,
                                        self.cfg.monitor.warn_late)
        # The backstop's threshold: a watchdog tick this overdue means the node
        # clock is not driving the watchdog (GATE_OVERRUN starts at max_late).
        self._silence_limit = self._period + self.cfg.monitor.max_late

        cmd_type = TwistStamped if self.cfg.enable_stamped_cmd_vel else Twist
        self._cmd_pub = self._advertise(cmd_type, 'cmd_vel', COMMAND_QOS)
        # Filled in place for every output: rclpy copies a message when it publishes it.
        self._cmd_msg = cmd_type()
        self._decision_pub = self._advertise(String, 'safety_gate/decision', DECISION_QOS)
        self._state_pub = self._advertise(String, 'safety_gate/state', STATE_QOS)
        self._diag_pub = self._advertise(DiagnosticArray, '/diagnostics', DIAGNOSTICS_QOS)
        self._spi_pub = self._advertise(String, 'safety_gate/spi', SPI_QOS)
        self._trajectory_pub = None
        if self._plans is not None and self.cfg.trajectory.publish:
            plan_type = self._plans.plan_type
            self._trajectory_pub = self._advertise(plan_type, 'safety_gate/trajectory',
                                                   COMMAND_QOS)
        self._markers_pub = None
        if self.cfg.markers.enabled:
            self._markers_pub = self._advertise(MarkerArray, 'safety_gate/markers', MARKERS_QOS)
        self._markers_due = -math.inf  # steady time from which the next view may go out
        self._marker_failures = 0
        self.trace = self._open_trace()

    def activate_gate(self) -> None:
        """Start from the initial state (latched if so configured) and output at rate_hz."""
        self.state = core.initial_state(self.cfg, self.models)
        self.shadow_state = shadow.initial_state(self.cfg)
        self._drift = 'none'  # the drift action as last written to the trace
        self._last_tick_now: Optional[float] = None
        self._last_tick_late = 0.0
        self._last_tick_wall = time.monotonic()
        self._late_window = 0.0
        self._latency_window = 0.0
        self._last_emit_now = -math.inf
        # Steady time of the last cmd_vel publish that returned: the exit
        # watchdog's measure of a silent gate.
        self.last_output_monotonic = time.monotonic()
        # Each activation starts a chain section with what the gate runs with,
        # so the trace alone replays it (replay restarts from a config record).
        self.trace.submit(trace_record.config_to_dict(
            self._seq, self._now(), time.time(), config.flatten(self.cfg), self.config_sha256,
            self.models))
        self._seq += 1
        self.active = True
        self._wire_inputs()
        self._start_hashing()
        # A trace that is already unusable must bar the very first proposal.
        self._note_trace_health(self._now(), time.perf_counter())
        self._timer(self._period, self._on_tick)
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        # Created after the watchdog timer, so when both are due the watchdog runs first.
        self._timer(self._period, self._backstop, clock=steady)
        # Diagnostics run on the steady clock so they keep reporting when the node clock stops.
        self._timer(1.0, self._publish_diagnostics, clock=steady)
        self._publish_state(Verdict.ESTOP if self.state.latched else Verdict.FALLBACK, [])
        self._watch_output()
        self.get_logger().info(
            f'safety_gate up: config sha256 {self.config_sha256[:12]}, '
            f'rate {self.cfg.rate_hz} Hz, '
            f'{"latched until safety_gate/reset" if self.state.latched else "not latched"}, '
            f'trace {self.trace_path or "off"}')

    def deactivate_gate(self) -> None:
        """Publish and trace a final zero, then stop hearing inputs and stop the output."""
        self.stop_watching()
        if self._hasher is not None:
            self._hasher.stop()
        self.publish_final_zero()
        self.active = False
        for undo in self._undo_activate:
            undo()
        self._undo_activate.clear()

    def cleanup_gate(self) -> None:
        """Close the trace and remove the outputs: back to an unconfigured gate."""
        self.trace.close(timeout=2.0)
        for publisher in (self._cmd_pub, self._decision_pub, self._state_pub, self._diag_pub,
                          self._spi_pub, self._trajectory_pub, self._markers_pub):
            if publisher is not None:
                self.destroy_publisher(publisher)

    # ------------------------------------------------------------ set-up

    def _load_config(self, params_files: Sequence[str]) -> config.GateConfig:
        for path in params_files:  # rcl silently skips a file naming some other node
            config.require_rcl_section(path, self.get_fully_qualified_name())
        cfg = config.build(ros_parameters.given(self))
        ros_parameters.declare(self, cfg)
        return cfg

    def _registry_path(self) -> str:
        """Return ``provenance.registry_file``, relative to the params file that set it.

        Without such a file (a ``-p`` override, the default) it is relative to
        the working directory.
        """
        path = self.cfg.provenance.registry_file
        for params_file in reversed(self._params_files):
            try:
                given = config.read_params_file(params_file, self.get_namespace())
            except config.ConfigError:  # rcl applies it by a wildcard section: not this one
                continue
            if given.get('provenance.registry_file') == path:
                return registry.resolve(path, params_file)
        return registry.resolve(path)

    def _refuse_parameter_changes(self, params) -> SetParametersResult:
        # The gate's own parameters are declared read-only, and rclpy refuses a
        # set of them before this callback; what reaches it is rclpy's own
        # use_sim_time, the clock behind every timeout and the watchdog.
        changed = [p for p in params if self.has_parameter(p.name)]  # not their declaration
        if not changed:
            return SetParametersResult(successful=True)
        return SetParametersResult(successful=False, reason=(
            f"{changed[0].name} is read-only while the gate runs: it changes the gate's timing "
            '(the clock behind every timeout and the watchdog); restart the node to change it'))

    def _wire_inputs(self) -> None:
        if self._plans is not None:
            plan_type, stamped_type = self._plans.plan_type, self._plans.string_stamped
            self._subscribe(plan_type, 'planner/trajectory', self._on_plan, COMMAND_QOS)
            self._subscribe(String, 'planner/reasoning', self._on_reasoning, COMMAND_QOS)
            if stamped_type is not None:
                self._subscribe(stamped_type, 'planner/reasoning_stamped', self._on_reasoning,
                                COMMAND_QOS)
        else:
            cmd_type = type(self._cmd_msg)
            self._subscribe(cmd_type, 'planner/cmd_vel', self._on_cmd, COMMAND_QOS)
        # A wrapper may still send a confidence in trajectory mode. Raw bytes, so
        # the size cap applies before the message is even deserialised.
        self._subscribe(String, 'planner/meta', self._on_meta, COMMAND_QOS, raw=True)
        self._subscribe(String, 'planner/model', self._on_model, MODEL_QOS, raw=True)
        self._subscribe(Odometry, 'odom', self._on_odom, qos_profile_sensor_data)
        if self.cfg.imu.enabled:
            self._subscribe(ImuMsg, 'imu', self._on_imu, qos_profile_sensor_data)
        self._subscribe(Bool, 'safety_gate/estop', self._on_estop, ESTOP_QOS)
        # Volatile publishers never match this one: that mismatch is expected, not logged.
        self._subscribe(Bool, 'safety_gate/estop', self._on_estop, ESTOP_LATCHED_QOS,
                        report_incompatible=False)
        self._subscribe(Bool, 'safety_gate/conservative', self._on_conservative, COMMAND_QOS)
        service = self.create_service(Trigger, 'safety_gate/reset', self._on_reset)
        self._undo_activate.append(partial(self.destroy_service, service))
        if self._shadow is not None:
            self._wire_candidate(self.cfg.shadow.namespace)

    def _wire_candidate(self, namespace: str) -> None:
        """Subscribe to the candidate planner: production's planner topics under ``namespace``."""
        if self._plans is not None:
            plan_type, stamped_type = self._plans.plan_type, self._plans.string_stamped
            self._subscribe(plan_type, f'{namespace}/trajectory',
                            partial(self._on_candidate, self._plans.to_plan, True), CANDIDATE_QOS)
            reasoning = partial(self._on_candidate, convert.reasoning, False)
            self._subscribe(String, f'{namespace}/reasoning', reasoning, CANDIDATE_QOS)
            if stamped_type is not None:
                self._subscribe(stamped_type, f'{namespace}/reasoning_stamped', reasoning,
                                CANDIDATE_QOS)
        else:
            cmd_type = type(self._cmd_msg)
            self._subscribe(cmd_type, f'{namespace}/cmd_vel',
                            partial(self._on_candidate, convert.proposal, True), CANDIDATE_QOS)
        self._subscribe(String, f'{namespace}/meta',
                        partial(self._on_candidate, self._candidate_meta, False), CANDIDATE_QOS,
                        raw=True)

    # Only the incompatible-QoS event is handled, and rclpy's default handlers are
    # off: each one is a waitable the executor rebuilds into its wait set on every
    # spin, which cost the gate about a quarter of its CPU.
    def _subscribe(self, msg_type, topic: str, callback, qos, raw: bool = False,
                   report_incompatible: bool = True):
        subscription = self.create_subscription(
            msg_type, topic, callback, qos, raw=raw,
            event_callbacks=SubscriptionEventCallbacks(
                incompatible_qos=self._qos_event(topic) if report_incompatible else None,
                use_default_callbacks=False))
        self._undo_activate.append(partial(self.destroy_subscription, subscription))

    def _timer(self, period: float, callback, clock=None) -> None:
        timer = self.create_timer(period, callback, clock=clock)
        self._undo_activate.append(partial(self.destroy_timer, timer))

    def _advertise(self, msg_type, topic: str, qos):
        return self.create_publisher(
            msg_type, topic, qos, event_callbacks=PublisherEventCallbacks(
                incompatible_qos=self._qos_event(topic), use_default_callbacks=False))

    def _qos_event(self, topic: str):
        def on_incompatible(event):
            self._incompatible_qos[topic] = event.total_count
            self.get_logger().error(
                f'incompatible QoS on {topic}: {event.total_count} peer(s) do not match '
                f'(last policy kind {event.last_policy_kind}); their messages never arrive')
        return on_incompatible

    def _open_trace(self) -> TraceWriter:
        trace_cfg = self.cfg.trace
        self.trace_path = None
        if trace_cfg.enabled:
            self.trace_path = (trace_cfg.path or str(default_trace_path(None)))
        return TraceWriter(
            self.trace_path, trace_cfg.max_file_bytes, trace_cfg.max_files, trace_cfg.queue_size,
            hmac_key=load_hmac_key(trace_cfg.hmac_key_file), on_line=self._publish_record,
            stall_timeout=trace_cfg.stall_timeout)

    # ------------------------------------------------------------ inputs

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _admit_proposal(self, info) -> bool:
        if self._intake.admit_proposal(time.monotonic(),
                                       info.get('publication_sequence_number')):
            return True
        self._warn_shed('proposals', self._intake.proposals.shed)
        return False

    def _on_cmd(self, msg, info) -> None:
        started = time.perf_counter()
        if not self._admit_proposal(info):
            return
        if isinstance(msg, TwistStamped):
            self._frame_id = msg.header.frame_id or self._frame_id
        self._convert_and_step(convert.proposal, msg, started)

    def _on_plan(self, msg, info) -> None:
        started = time.perf_counter()
        if not self._admit_proposal(info):
            return
        self._frame_id = msg.header.frame_id or self._frame_id
        self._convert_and_step(self._plans.to_plan, msg, started)

    def _on_reasoning(self, msg) -> None:
        started = time.perf_counter()
        if not self._intake.admit_meta(time.monotonic()):
            self._warn_shed('reasoning texts', self._intake.metas.shed)
            return
        self._convert_and_step(convert.reasoning, msg, started)

    def _on_meta(self, raw: bytes) -> None:
        started = time.perf_counter()
        if not self._intake.admit_meta(time.monotonic()):
            self._warn_shed('metas', self._intake.metas.shed)
            return
        self._convert_and_step(self._meta_event, raw, started)

    def _meta_event(self, raw: bytes, now: float, cfg: config.GateConfig):
        return convert.meta(raw, now, cfg, _decode_string)

    def _on_model(self, raw: bytes) -> None:
        started = time.perf_counter()
        self._convert_and_step(self._announcement_event, raw, started)

    def _announcement_event(self, raw: bytes, now: float, cfg: config.GateConfig):
        announcement = convert.model_announcement(raw, now, cfg, _decode_string)
        self.get_logger().info(
            f'planner/model: {announcement.sha256 or "unknown"} {announcement.name} '
            f'{announcement.version}' + (f' ({announcement.error})' if announcement.error
                                         else ''))
        return announcement

    def _start_hashing(self) -> None:
        paths = split_paths(self.cfg.provenance.model_files)
        if not paths:
            return
        logger = self.get_logger()

        def progress(done: int, total: int) -> None:
            logger.info(f'hashing the model files: {done / 2**20:.0f} of '
                        f'{total / 2**20:.0f} MiB')
        logger.info(f'hashing the model files in the background: {", ".join(paths)}; '
                    'no authority (MODEL_UNVERIFIED) until they match a registry entry')
        self._hasher = FileHasher(paths, on_progress=progress)
        self._hasher.start()

    def _deliver_hash(self, now: float, started: float) -> None:
        hashed = self._hasher.result
        self._hasher = None
        entry = None if hashed.error else self.models.lookup(hashed.sha256)
        if entry is not None:
            self.get_logger().info(f'model files verified: {hashed.sha256} is {entry.name} '
                                   f'{entry.version} ({entry.stage})')
        else:
            why = hashed.error or f'{hashed.sha256} is in no registry entry'
            self.get_logger().error(f'model files not verified: {why}; no authority until '
                                    'restart (MODEL_UNVERIFIED)')
        self._step(hashed, now, started)

    def _on_odom(self, msg: Odometry) -> None:
        self._convert_and_step(convert.odom, msg, time.perf_counter())

    def _on_imu(self, msg: ImuMsg) -> None:
        self._convert_and_step(convert.imu, msg, time.perf_counter())

    def _warn_shed(self, what: str, shed: int) -> None:
        self.get_logger().warning(
            f'shedding {what} beyond monitor.max_proposal_rate '
            f'({self.cfg.monitor.max_proposal_rate} Hz): {shed} so far',
            throttle_duration_sec=_LOG_INTERVAL_S)

    def _on_estop(self, msg: Bool) -> None:
        self._step(Estop(bool(msg.data)), self._now(), time.perf_counter())

    def _on_conservative(self, msg: Bool) -> None:
        requested = bool(msg.data)
        if requested != self.state.conservative_request:
            self.get_logger().info('safety_gate/conservative: operator '
                                   f'{"requests" if requested else "releases"} conservative mode')
        self._step(ConservativeRequest(requested), self._now(), time.perf_counter())

    def _on_reset(self, request, response):
        reply = self._step(Reset(), self._now(), time.perf_counter())
        response.success, response.message = reply or (False, 'internal error')
        if response.success:
            self.get_logger().info(f'reset accepted: {response.message}')
        else:
            self.get_logger().warning(f'reset refused: {response.message}')
        return response

    def _on_tick(self) -> None:
        started = time.perf_counter()
        now = self._now()
        late = 0.0
        if self._last_tick_now is not None:
            late = max(0.0, now - self._last_tick_now - self._period)
        self._last_tick_now = now
        self._last_tick_late = late
        self._last_tick_wall = time.monotonic()
        self._late_window = max(self._late_window, late)
        self._note_trace_health(now, started)
        if self._hasher is not None and self._hasher.result is not None:
            self._deliver_hash(now, started)
        # Proposals faster than rate_hz already keep the output at least that
        # frequent and re-judged; a tick then adds nothing, unless it is late or
        # it is the one that ends a clock stall (only a tick does).
        since_output = now - self._last_emit_now
        if not (0.0 <= since_output < 0.5 * self._period and late <= self.cfg.monitor.max_late
                and not self.state.clock_stalled):
            self._step(Tick(late), now, started)
        # After production's own step: the candidate's waiting proposal, if its time is up.
        if self._shadow is not None and shadow.due(self.shadow_state, now, self.cfg):
            if self._shadow.admit_tick(late):
                self._judge_candidate(Tick(late), now)

    def _note_trace_health(self, now: float, started: float) -> None:
        healthy = self.trace.healthy
        if healthy != self._trace_healthy:
            self._trace_healthy = healthy
            self._step(TraceHealth(healthy), now, started)

    def _backstop(self) -> None:
        # rclpy does not fire a timer on the node clock while that clock stands
        # still (a paused /clock) or after it stepped backwards (NTP, by hand:
        # for as long as the step). Until the watchdog fires again this keeps the
        # output at rate_hz, zero, unless something else published just now.
        wall = time.monotonic()
        if (wall - self._last_tick_wall > self._silence_limit
                and wall - self.last_output_monotonic >= 0.5 * self._period):
            self._step(ClockStall(), self._now(), time.perf_counter())

    # ------------------------------------------------------------ the candidate (shadow.*)

    def _on_candidate(self, converter, proposal: bool, msg) -> None:
        # Judged only while production is on time, never published, and a
        # defect here is logged and counted but can never reach production.
        if not self.active:
            return
        now = self._now()
        since_tick = 0.0 if self._last_tick_now is None else now - self._last_tick_now
        if not self._shadow.admit(time.monotonic(), proposal,
                                  self._shadow.behind(since_tick, self._last_tick_late)):
            return
        try:
            event = converter(msg, now, self.cfg)
        except Exception as exc:  # noqa: B902 - a candidate's defect stays in the shadow
            self._candidate_failed('convert', exc)
            return
        self._judge_candidate(event, now)

    def _candidate_meta(self, raw: bytes, now: float, cfg: config.GateConfig):
        return convert.meta(raw, now, cfg, _decode_string)

    def _judge_candidate(self, event, now: float) -> None:
        at = self._intake.held  # production events already in the next record
        try:
            result = shadow.step(self.shadow_state, event, now, self.state, self.cfg)
        except Exception as exc:  # noqa: B902 - a defect in the shadow stays in the shadow
            self._candidate_failed(trace_record.EVENT_NAMES[type(event)], exc)
            self._shadow.hold(trace_record.shadow_entry_to_dict(at, now, event, (), repr(exc)))
            return
        self.shadow_state = result.state
        self._shadow.hold(trace_record.shadow_entry_to_dict(at, now, event, result.decisions))

    def _candidate_failed(self, what: str, exc: Exception) -> None:
        self._shadow.errors += 1
        self.get_logger().error(f'shadow: candidate {what} not judged ({self._shadow.errors} '
                                f'so far): {exc!r}', throttle_duration_sec=_LOG_INTERVAL_S)

    # ------------------------------------------------------------ the step

    def _convert_and_step(self, converter, msg, started: float) -> None:
        now = self._now()
        try:
            event = converter(msg, now, self.cfg)
        except Exception as exc:  # noqa: B902 - fail closed on any defect in a converter
            self._fail_closed(now, 'convert', exc, started)
            return
        self._step(event, now, started)

    def _step(self, event, now: float, started: float) -> Optional[Tuple[bool, str]]:
        if not self.active:  # a callback already due when a deactivation destroyed it
            return None
        self._intake.hold(now, event)
        try:
            result = core.step(self.state, event, now, self.cfg)
        except Exception as exc:  # noqa: B902 - fail closed on any defect in the core
            self._fail_closed(now, trace_record.EVENT_NAMES[type(event)], exc, started)
            return None
        self._apply(result, started)
        return result.reply

    def _fail_closed(self, now: float, trigger: str, exc: Exception, started: float) -> None:
        self.get_logger().error(f'internal error ({trigger}): {exc!r}',
                                throttle_duration_sec=_LOG_INTERVAL_S)
        self._apply(core.internal_error(self.state, now, self.cfg, trigger, repr(exc)), started)

    def _apply(self, result: core.StepResult, started: float) -> None:
        self.state = result.state
        # A step can decide twice (a waiting proposal refused as superseded,
        # then the new one): each decision is an output and a record, and the
        # step's events go with the first. The state topic reports where the
        # step left the gate, so a superseded proposal does not flicker it.
        for decision in result.decisions:
            self._emit(decision, started)
        if result.decisions and result.decisions[-1].verdict is not self._verdict:
            last = result.decisions[-1]
            self._publish_state(last.verdict, last.reasons)
        if self.state.drift != self._drift:
            self._publish_spi()

    def _emit(self, decision: Decision, started: float) -> None:
        self._publish_command(decision.output.v, decision.output.w)
        self._last_emit_now = decision.t
        latency_us = (time.perf_counter() - started) * 1e6
        self._latency_window = max(self._latency_window, latency_us)
        self._counts[decision.verdict.value] += 1
        self._last_decision = decision
        events, intake_notes = self._intake.take()
        line = trace_record.decision_to_dict(
            decision, self._seq, events, time.time(), latency_us, self.config_sha256,
            intake_notes)
        if self._shadow is not None:
            line.update(self._shadow.take())
        self._seq += 1
        self.trace.submit(line)
        self._log_decision(decision)
        # After the command and the record: what they say must not wait on this.
        if self._trajectory_pub is not None:
            self._publish_trajectory(decision)
        if self._markers_pub is not None:
            self._publish_markers(decision)

    def _publish_command(self, v: float, w: float) -> None:
        msg = twist = self._cmd_msg
        if self.cfg.enable_stamped_cmd_vel:
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.header.frame_id = self._frame_id
            twist = msg.twist
        twist.linear.x = v
        twist.angular.z = w
        self._cmd_pub.publish(msg)
        self.last_output_monotonic = time.monotonic()

    def _publish_trajectory(self, decision: Decision) -> None:
        found = plan_output.points(self.state.plans, decision.verdict.approves,
                                   decision.t, self.cfg)
        self._trajectory_pub.publish(self._plans.fill(
            self._plans.plan_type(), round(decision.t * 1e9), self.cfg.trajectory.frame_id,
            found))

    def _publish_markers(self, decision: Decision) -> None:
        # Last in the step, at most markers.max_rate_hz, and a defect here is
        # logged and counted but can never reach the command or the decision.
        wall = time.monotonic()
        if wall < self._markers_due:
            return
        self._markers_due = wall + 1.0 / self.cfg.markers.max_rate_hz
        try:
            plans = self.state.plans if self._plans is not None else None
            frame_id = self.cfg.trajectory.frame_id if self._plans is not None else self._frame_id
            self._markers_pub.publish(markers.fill(
                Marker, Point, MarkerArray(), round(decision.t * 1e9), frame_id,
                markers.shapes(decision, plans, self.cfg)))
        except Exception as exc:  # noqa: B902 - the view must never stop the gate
            self._marker_failures += 1
            self.get_logger().error(
                f'safety_gate/markers not published ({self._marker_failures} failures so '
                f'far): {exc!r}', throttle_duration_sec=_LOG_INTERVAL_S)

    def _publish_record(self, line: str) -> None:
        # Called from the trace writer's thread, off the control path.
        self._decision_pub.publish(String(data=line))

    def _publish_state(self, verdict: Verdict, reasons) -> None:
        self._verdict = verdict
        self._state_pub.publish(String(data=json.dumps({
            'verdict': verdict.value, 'reasons': [r.value for r in reasons], 't': self._now(),
            'config_sha256': self.config_sha256})))

    def _log_decision(self, decision: Decision) -> None:
        key = (decision.verdict, decision.reasons)
        last_key, last_time = self._last_log
        if key == last_key:
            return
        wall = time.monotonic()
        if wall - last_time < _LOG_INTERVAL_S:
            self._suppressed_logs += 1
            return
        suppressed = (f' ({self._suppressed_logs} other changes in the last '
                      f'{wall - last_time:.1f} s are in the trace)'
                      if self._suppressed_logs else '')
        self._suppressed_logs = 0
        self._last_log = (key, wall)
        if decision.verdict is Verdict.APPROVE:
            self.get_logger().info(f'APPROVE: proposals pass{suppressed}')
            return
        if decision.verdict is Verdict.LIMIT:
            self.get_logger().info(f'LIMIT: proposals pass under a reduced envelope '
                                   f'({", ".join(r.value for r in decision.reasons)}){suppressed}')
            return
        detail = explain(decision)
        self.get_logger().warning(f'{decision.verdict.value}: {detail}{suppressed}')

    # ------------------------------------------------------------ indicators and diagnostics

    def _publish_spi(self) -> Dict[str, Any]:
        """Publish the SPIs and write them to the trace; log a change of the drift action."""
        snapshot = spi.snapshot(self.state.spi, self.cfg.spi)
        if self.state.drift != self._drift:
            change = (f'drift action {self._drift} -> {self.state.drift}: '
                      f'{diagnostics.spi_status(snapshot).message}')
            # rclpy refuses two severities from one call site.
            if self.state.drift == 'none':
                self.get_logger().info(change)
            else:
                self.get_logger().warning(change)
            self._drift = self.state.drift
        self.trace.submit(trace_record.spi_to_dict(self._seq, self._now(), time.time(), snapshot,
                                                   self.config_sha256))
        self._seq += 1
        self._spi_pub.publish(String(data=json.dumps(snapshot)))
        return snapshot

    def _publish_diagnostics(self) -> None:
        # The maxima are over one diagnostics period: each publish starts them afresh.
        late, latency = self._late_window, self._latency_window
        self._late_window = self._latency_window = 0.0
        planner_topic = 'planner/trajectory' if self._plans else 'planner/cmd_vel'
        planner_publishers = self.count_publishers(self.resolve_topic_name(planner_topic))
        snapshot = self._publish_spi()
        statuses = (
            diagnostics.gate_status(
                self._verdict, self._last_decision, self._counts, self.state, self._now(),
                self.config_sha256, _model_sha256(self._last_decision), self._incompatible_qos),
            diagnostics.model_status(self._last_decision, self.models, self.cfg.provenance,
                                     None if self._hasher is None else self._hasher.progress()),
            diagnostics.trace_status(self.trace.stats(), self.trace_path),
            diagnostics.timing_status(
                late, latency, time.monotonic() - self._last_tick_wall, self._silence_limit,
                {**self._intake.totals(), **(self._shadow.totals() if self._shadow else {})},
                planner_publishers, self.cfg.monitor),
            diagnostics.spi_status(snapshot))
        msg = DiagnosticArray(status=[_status_msg(status, self.get_fully_qualified_name())
                                      for status in statuses])
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(msg)

    # ------------------------------------------------------------ shutdown

    def _watch_output(self) -> None:
        """Start the thread that ends the process when the active gate has gone silent.

        It runs beside the executor, so a callback that raises on every spin or
        one that never returns cannot stop it; :meth:`stop_watching` ends it (a
        normal shutdown, a deactivation).
        """
        self._silence_watch = stopping = threading.Event()
        self.last_output_monotonic = time.monotonic()
        threading.Thread(target=self._exit_when_silent, args=(stopping,),
                         name='safety_gate_exit_watchdog', daemon=True).start()

    def release(self) -> None:
        """Stop watching the output and close the trace (the last records drained)."""
        self.stop_watching()
        self.trace.close(timeout=2.0)

    def stop_watching(self) -> None:
        """End the exit watchdog: from now on, silence is intended."""
        if self._silence_watch is not None:
            self._silence_watch.set()

    def _exit_when_silent(self, stopping: threading.Event) -> None:
        limit = self.cfg.monitor.max_spin_failure
        poll = min(0.05, 0.25 * limit)
        watched_since = last_wake = time.monotonic()
        while not stopping.wait(poll):
            now = time.monotonic()
            # Silence counts only while this thread watched it: if it was not
            # running either, the whole process was frozen or starved (SIGSTOP,
            # the scheduler), and the executor gets its full time again.
            if now - last_wake > poll + 0.5 * limit:
                watched_since = now
            last_wake = now
            silent = now - max(self.last_output_monotonic, watched_since)
            if silent > limit and not stopping.is_set():
                # Alive but unable to publish is worse than dead: a supervisor sees
                # a dead gate and restarts it, the base controller's timeout stops.
                self.get_logger().fatal(
                    f'no cmd_vel published for {silent:.2f} s, over monitor.max_spin_failure '
                    f'= {limit} s (callbacks failing or hung); exiting with code 1 after '
                    'a final zero')
                self._last_zero()
                self.trace.close(timeout=0.5)
                os._exit(1)

    def _last_zero(self) -> None:
        # A message of its own: the executor thread may be filling _cmd_msg, and
        # the core's state is that thread's, so this zero is published, not traced.
        try:
            msg = type(self._cmd_msg)()
            if self.cfg.enable_stamped_cmd_vel:
                msg.header.stamp = self.get_clock().now().to_msg()
                msg.header.frame_id = self._frame_id
            self._cmd_pub.publish(msg)
        except Exception as exc:  # noqa: B902 - publishing may be what fails
            self.get_logger().error(f'final zero not published: {exc!r}')

    def publish_final_zero(self) -> None:
        """Publish and trace a last zero command, then wait briefly for delivery."""
        now = self._now()
        self._apply(core.shutdown(self.state, now), time.perf_counter())
        self._cmd_pub.wait_for_all_acked(Duration(seconds=0.5))


def _model_sha256(decision: Optional[Decision]) -> str:
    return '' if decision is None or decision.model is None else decision.model.sha256


def _decode_string(raw: bytes) -> str:
    return deserialize_message(raw, String).data


def _status_msg(status: diagnostics.Status, hardware_id: str) -> DiagnosticStatus:
    # The node's full name as hardware_id tells the gates of several namespaces apart
    # on the one /diagnostics topic (safety-gate monitor --namespace relies on it).
    return DiagnosticStatus(
        level=bytes([status.level]), name=status.name, message=status.message,
        hardware_id=hardware_id,
        values=[KeyValue(key=key, value=value) for key, value in status.values.items()])


def _params_files(args: Sequence[str]) -> List[str]:
    """Return the ``--params-file`` arguments among the ROS arguments."""
    files, in_ros_args = [], False
    for arg, value in zip(args, [*args[1:], None]):
        if arg in ('--ros-args', '--'):
            in_ros_args = arg == '--ros-args'
        elif in_ros_args and arg == '--params-file' and value is not None:
            files.append(value)
    return files


def serve(node: 'SafetyGateNode', done: Callable[[], bool], finish: Callable[[], Any]) -> None:
    """Spin ``node`` until ``done()``, then ``finish()``; always release it and shut down.

    A defect in a callback never stops the spinning: it is logged, and the gate
    goes on publishing.
    """
    executor = ReusedWaitSetExecutor()
    executor.add_node(node)
    try:
        while not done():
            try:
                executor.spin_once(timeout_sec=0.05)
            except Exception as exc:  # noqa: B902
                node.get_logger().error(f'internal error in a callback: {exc!r}',
                                        throttle_duration_sec=_LOG_INTERVAL_S)
        finish()
    finally:
        node.release()
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()


def init_process(args=None) -> List[str]:
    """Check the params files and initialise rclpy; return the params files.

    Raise ConfigError on any configuration problem (params files, ROS
    arguments): rcl would fail with a traceback, and exit 1.
    """
    params_files = _params_files(sys.argv if args is None else args)
    try:
        for path in params_files:
            config.parse_params_file(path)
        # Our own handlers: rclpy's would shut the context down before the final
        # zero could be published.
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    except _rclpy.RCLError as exc:
        raise config.ConfigError(str(exc)) from None
    except _rclpy.UnknownROSArgsError as exc:
        raise config.ConfigError(f'unknown ROS arguments {exc}') from None
    return params_files


def catch_stop_signals() -> List[int]:
    """Return the list SIGINT and SIGTERM append to from now on."""
    stop: List[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.append(signum))
    return stop


def refuse(problem) -> int:
    """Say why the gate does not start, shut rclpy down and return exit code 2."""
    print(f'safety_gate: refusing to start: {problem}', file=sys.stderr, flush=True)
    rclpy.try_shutdown()
    return 2


def main(args=None) -> int:
    """Run the node until SIGINT or SIGTERM.

    Exit 2 with one line on any configuration problem (params files, ROS
    arguments, parameter values): a restart would only repeat it. Exit 1 when
    nothing is published for ``monitor.max_spin_failure`` (see
    :meth:`SafetyGateNode._watch_output`), for the supervisor to restart the gate.
    """
    try:
        params_files = init_process(args)
    except config.ConfigError as exc:
        return refuse(exc)
    stop = catch_stop_signals()
    try:
        node = SafetyGateNode(params_files)
    except config.ConfigError as exc:
        return refuse(exc)

    def finish():
        node.stop_watching()
        node.get_logger().info(f'signal {stop[0]}: publishing a final zero and stopping')
        node.publish_final_zero()

    serve(node, lambda: bool(stop), finish)
    return 0


if __name__ == '__main__':
    sys.exit(main())
