# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A scripted stand-in for an Alpamayo-style planner.

A test tool, not part of the safety function.

At ``rate_hz`` (10 Hz) it publishes ``planner/meta`` (JSON with stamp,
confidence, model hash and a reasoning sentence) and then ``planner/cmd_vel``
carrying the same stamp. What it sends comes from a
:class:`~safety_gate.kit.world.planner_script.Script`: a route as a speed profile
of ``[duration, v, w]`` segments and a list of timed faults (the fault kinds
are listed there). The script is read from the YAML/JSON file named by the
``script`` parameter, or is the built-in showcase when that is empty::

    confidence: 0.9        # confidence outside faults
    loop: true             # repeat the script; otherwise stop at its end
    segments: [[3.0, 0.8, 0.0], [3.0, 0.6, 0.4]]
    faults:
      - {t_start: 4.0, t_end: 5.5, kind: low_confidence, value: 0.3}

Script time 0 is the first tick after the start. The start is at once, or
with ``wait_for_start`` true, on the first message on ``planner/start``
(std_msgs/Empty), so a test runner can start the script when everything is
up. Until then the planner holds position: it proposes (0, 0) at the
script's confidence, so a runner can see the whole chain work before the
route begins. Script time is measured on the node clock (sim time with
``use_sim_time``) and keeps running across a backwards clock jump. Every meta
carries two extra fields for the recorder (the gate ignores them):
``script_time`` (s) and ``script_start``, the node-clock time of script time
0 (s), which maps fault windows onto the recorder's clock exactly.

Other parameters: ``rate_hz`` (10.0), ``stamped`` (true: TwistStamped, false:
Twist), ``model_sha256`` (a fixed 64-hex string), ``wait_for_start`` (false),
``jitter`` (0.0 s: each tick period drawn from ``[1/rate_hz - jitter,
1/rate_hz + jitter]`` by ``jitter_seed``, :mod:`~safety_gate.kit.world.cadence`)
and ``meta_delay`` (0.0 s: the meta goes out this long after its command,
checked every :data:`META_CHECK_PERIOD`; at 0 just before it, as ever).

With ``plan_input`` set (``path`` or ``autoware_trajectory``) it is a
trajectory planner instead: it publishes the script's plans
(:mod:`~safety_gate.kit.world.plan_script`) on ``planner/trajectory`` as
``nav_msgs/Path`` or, in the wrapper's format, ``autoware_planning_msgs/
Trajectory``, each after its meta (same stamp). Parameters:
``plan_variant`` (``alpamayo_1_5`` or ``alpamayo_2_super``: 20 or 64
points), ``plan_period_min`` and ``plan_period_max`` (s between plans,
drawn from ``plan_seed``), ``plan_latency`` (s the stamp is older than the
publish time). Until started it sends a standstill plan every tick; the
plans are due on the node clock, checked every tick (``rate_hz``).
"""

import hashlib
import math
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from geometry_msgs.msg import Twist, TwistStamped
from rclpy.node import Node
from safety_gate.kit.world.alpamayo_plans import PlanPoint
from safety_gate.kit.world.alpamayo_standin import path_message, trajectory_message
from safety_gate.kit.world.cadence import check, command_periods
from safety_gate.kit.world.plan_script import PlanScript, PlanSpec
from safety_gate.kit.world.planner_script import (
    Fault, FaultKind, Script, SHOWCASE, SWAPPED_MODEL_SHA256)
from safety_gate.kit.world.rosutil import (COMMAND_QOS, make_twist, meta_json, MonotonicTime,
                                           run_node, stamp_from_ns)
from safety_gate.wrapper_types import load_wrapper_types
from std_msgs.msg import Empty, String

DEFAULT_MODEL_SHA256 = hashlib.sha256(b'safety_gate scripted planner').hexdigest()
# s: how often metas held back by meta_delay are checked (the simulated clock steps 0.02 s).
META_CHECK_PERIOD = 0.01


def reasoning_for(v: float, w: float, confidence: float) -> str:
    """Return the planner's explanation for a command, templated from its state."""
    if not math.isfinite(v):
        return 'Trajectory decoder output unresolved; passing it on.'
    if confidence < 0.5:
        return f'Glare on the camera, lane markings unclear; continuing at {v:.1f} m/s.'
    if abs(v) < 0.05 and abs(w) < 0.05:
        return 'Pedestrian at the crosswalk, holding position.'
    if abs(w) >= 0.05:
        side = 'left' if w > 0.0 else 'right'
        return f'Road curves {side} ahead, turning at {abs(w):.1f} rad/s at {v:.1f} m/s.'
    return f'Lane clear ahead, keeping {v:.1f} m/s.'


class ScriptedPlanner(Node):
    """The planner node: one meta + command pair per tick, shaped by the script."""

    def __init__(self) -> None:
        super().__init__('planner')
        path = self.declare_parameter('script', '').value
        rate_hz = self.declare_parameter('rate_hz', 10.0).value
        self._stamped = self.declare_parameter('stamped', True).value
        self._model = self.declare_parameter('model_sha256', DEFAULT_MODEL_SHA256).value
        self._go = not self.declare_parameter('wait_for_start', False).value
        self._script = Script.load(Path(path)) if path else SHOWCASE
        self._meta_pub = self.create_publisher(String, 'planner/meta', COMMAND_QOS)
        self._plans = self._plan_script_from_parameters()
        if self._plans is None:
            self._cmd_pub = self.create_publisher(TwistStamped if self._stamped else Twist,
                                                  'planner/cmd_vel', COMMAND_QOS)
        self._next_plan_ns = 0  # monotonic time the next plan is due
        self.create_subscription(Empty, 'planner/start', self._on_start, COMMAND_QOS)
        self._period_ns = int(1e9 / rate_hz)
        self._jitter = self.declare_parameter('jitter', 0.0).value
        self._meta_delay = self.declare_parameter('meta_delay', 0.0).value
        check(1.0 / rate_hz, self._jitter, self._meta_delay)
        self._periods = command_periods(1.0 / rate_hz, self._jitter,
                                        self.declare_parameter('jitter_seed', 0).value)
        self._monotonic = MonotonicTime()
        self._start: Optional[Tuple[int, int]] = None  # (node clock ns, monotonic ns)
        self._last_stamp_ns: Optional[int] = None
        self._late: List[Tuple[int, String]] = []  # (due monotonic time ns, meta)
        self._timer = self.create_timer(next(self._periods), self._tick)
        if self._meta_delay > 0.0:
            self.create_timer(META_CHECK_PERIOD, self._on_meta_check)
        self.get_logger().info(
            f'script {path or "showcase"}: {len(self._script.segments)} segments, '
            f'{len(self._script.faults)} faults, {self._script.duration:.1f} s')

    def _plan_script_from_parameters(self) -> Optional[PlanScript]:
        param = self.declare_parameter
        plan_input = param('plan_input', '').value
        spec = PlanSpec(param('plan_variant', PlanSpec.variant).value,
                        (param('plan_period_min', 0.1).value, param('plan_period_max', 0.1).value),
                        param('plan_latency', 0.0).value, param('plan_seed', 0).value)
        if not plan_input:
            return None
        if plan_input == 'path':
            self._plan_message = path_message
        elif plan_input == 'autoware_trajectory':
            types = load_wrapper_types()
            self._plan_message = lambda points, stamp_ns: trajectory_message(
                types, points, stamp_ns)
        else:
            raise ValueError(f'plan_input {plan_input!r} is not path or autoware_trajectory')
        msg_type = type(self._plan_message([], 0))
        self._plan_pub = self.create_publisher(msg_type, 'planner/trajectory', COMMAND_QOS)
        return PlanScript(self._script, spec)

    def _on_start(self, msg: Empty) -> None:
        self._go = True

    def _tick(self) -> None:
        if self._jitter > 0.0:
            # The timer has already scheduled the next tick: this sets the period after it.
            self._timer.timer_period_ns = int(next(self._periods) * 1e9)
        now_ns = self.get_clock().now().nanoseconds
        elapsed_ns = self._monotonic(now_ns)
        # A node clock of zero is sim time before the first /clock message.
        if self._start is None:
            if now_ns == 0:
                return
            if not self._go:
                if self._plans is not None:
                    self._send_plan(self._plans.hold(), self._script.confidence,
                                    now_ns - int(self._plans.spec.latency * 1e9), {}, None)
                else:
                    self._send(0.0, 0.0, self._script.confidence, now_ns, elapsed_ns, {},
                               None)
                return
            self._start = (now_ns, elapsed_ns)
            self.get_logger().info(f'script started at {now_ns / 1e9:.3f} s (node clock)')
        self._send_due_meta(elapsed_ns)
        t = self._script.script_time((elapsed_ns - self._start[1]) / 1e9)
        faults = self._script.faults_at(t)
        confidence = self._script.confidence_at(t, self._period_ns / 1e9)
        extra = {'script_time': round(t, 6), 'script_start': self._start[0] / 1e9}
        if self._plans is not None:
            if elapsed_ns >= self._next_plan_ns:
                self._next_plan_ns = elapsed_ns + int(self._plans.next_period(t) * 1e9)
                if FaultKind.FREEZE not in faults:
                    age = self._plans.stamp_age(t)
                    self._send_plan(self._plans.plan(t - age), confidence,
                                    now_ns - int(age * 1e9), faults, extra)
            return
        if FaultKind.FREEZE in faults:
            return
        v, w = self._script.motion_at(t)
        if FaultKind.NAN in faults:
            v = math.nan
        if FaultKind.INF in faults:
            v = math.inf
        if FaultKind.OVERSPEED in faults:
            v = faults[FaultKind.OVERSPEED].amount
        if FaultKind.YAW_RATE in faults:
            w = faults[FaultKind.YAW_RATE].amount

        stamp_ns = now_ns
        if FaultKind.DUPLICATE_STAMP in faults and self._last_stamp_ns is not None:
            stamp_ns = self._last_stamp_ns
        if FaultKind.BACKWARDS_STAMP in faults:
            stamp_ns -= int(faults[FaultKind.BACKWARDS_STAMP].amount * 1e9)
        self._last_stamp_ns = stamp_ns
        self._send(v, w, confidence, stamp_ns, elapsed_ns, faults, extra)

    def _send(self, v: float, w: float, confidence: float, stamp_ns: int, elapsed_ns: int,
              faults: Mapping[FaultKind, Fault], extra: Optional[Mapping[str, Any]]) -> None:
        """Publish the meta and then the command, as the faults shape them."""
        meta = self._meta(faults, stamp_ns, confidence, reasoning_for(v, w, confidence), extra)
        cmd = make_twist(self._stamped, v, w, stamp_from_ns(stamp_ns))
        burst = faults.get(FaultKind.BURST)
        late = faults.get(FaultKind.LATE_META)
        delay_ns = int((late.amount if late is not None else self._meta_delay) * 1e9)
        for _ in range(int(burst.amount) if burst is not None else 1):
            if meta is not None and (late is not None or delay_ns > 0):
                self._late.append((elapsed_ns + delay_ns, meta))
            elif meta is not None:
                self._meta_pub.publish(meta)
            self._cmd_pub.publish(cmd)

    def _send_plan(self, points: Sequence[PlanPoint], confidence: float, stamp_ns: int,
                   faults: Mapping[FaultKind, Fault],
                   extra: Optional[Mapping[str, Any]]) -> None:
        """Publish the meta and then the plan, both stamped ``stamp_ns``."""
        v = points[1].longitudinal_velocity_mps if len(points) > 1 else 0.0
        meta = self._meta(faults, stamp_ns, confidence, reasoning_for(v, 0.0, confidence),
                          extra)
        if meta is not None:
            self._meta_pub.publish(meta)
        self._plan_pub.publish(self._plan_message(points, stamp_ns))

    def _meta(self, faults: Mapping[FaultKind, Fault], stamp_ns: int, confidence: float,
              reasoning: str, extra: Optional[Mapping[str, Any]]) -> Optional[String]:
        if FaultKind.NO_META in faults:
            return None
        if FaultKind.STAMP_MISMATCH in faults:
            stamp_ns += int(faults[FaultKind.STAMP_MISMATCH].amount * 1e9)
        model = SWAPPED_MODEL_SHA256 if FaultKind.MODEL_SWAP in faults else self._model
        text = meta_json(stamp_from_ns(stamp_ns), confidence, model, reasoning, extra)
        if FaultKind.MALFORMED_META in faults:
            text = text[:len(text) // 2]  # cut mid-document: not parseable JSON
        return String(data=text)

    def _on_meta_check(self) -> None:
        if self._late:
            self._send_due_meta(self._monotonic(self.get_clock().now().nanoseconds))

    def _send_due_meta(self, elapsed_ns: int) -> None:
        due = [meta for when, meta in self._late if when <= elapsed_ns]
        self._late = [(when, meta) for when, meta in self._late if when > elapsed_ns]
        for meta in due:
            self._meta_pub.publish(meta)


def main(args: Optional[Sequence[str]] = None) -> int:
    """Run the scripted planner (console script ``safety_gate_planner``)."""
    return run_node(ScriptedPlanner, args)


if __name__ == '__main__':
    raise SystemExit(main())
