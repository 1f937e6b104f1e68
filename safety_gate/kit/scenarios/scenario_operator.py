# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The operator and recorder of a closed-loop run, as one rclpy node.

A test tool, not part of the safety function. It records what crosses the
wire (proposals, meta, the gate's output, odometry, the vehicle's ground truth,
decision records, the gate's state) into a
:class:`~safety_gate.kit.scenarios.recording.Recording`, timing every message on
the run clock: ``/clock`` made monotonic (see
``safety_gate.kit.scenarios.recording`` for which messages are timed by their
stamps and which on receipt). It also acts: e-stop, reset, vehicle faults and
the planner's start.
"""

import json
import math
import time
from typing import Any, Callable, Optional, Tuple

from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry, Path
from rosgraph_msgs.msg import Clock
from safety_gate import config, convert
from safety_gate.kit.scenarios.recording import (Action, DecisionSample, Output, PlanSample,
                                                 PoseSample, Proposal, Recording, Sample)
from safety_gate.kit.world.recorder import COMMAND, DECISION, GateRecorder, STATE
from safety_gate.kit.world.rosutil import (CLOCK_QOS, COMMAND_QOS, LATCHED_QOS, MonotonicTime,
                                           RECORD_QOS, SENSOR_QOS, stamp_to_ns)
from safety_gate.wrapper_types import load_wrapper_types
from std_msgs.msg import Bool, Empty, String
from std_srvs.srv import Trigger

# Odometry counts as flowing if a sample arrived within this long (wall clock).
_ODOM_FRESH_S = 0.5
# Plans and poses are read with the gate's own converters; only trajectory.dt
# (for a Path without pose stamps, which the scripted planner never sends) matters.
_CONVERT_CONFIG = config.build(config.defaults())
# A reset request without a reply after this long (wall clock) is sent again.
_REPLY_TIMEOUT_S = 0.5


class Operator(GateRecorder):
    """Records one run into ``self.rec`` and performs the operator's actions."""

    def __init__(self, scenario_id: str, domain_id: int,
                 plan_input: Optional[str] = None, planners: int = 1) -> None:
        """Record a run; ``plan_input`` (path, autoware_trajectory) records plans.

        ``planners``: how many planners ``planner/start`` starts (a shadow
        candidate is the second), all of which must be connected first.
        """
        self._planners = planners
        self.candidate_judged = False  # a decision record carried a shadow entry
        self.rec = Recording(scenario_id)
        self.gate_state: Optional[str] = None
        self.script_start: Optional[float] = None  # raw clock of script time 0
        self._monotonic = MonotonicTime()
        self._raw_ns: Optional[int] = None
        self._now: Optional[float] = None
        self._last_odom_wall = -math.inf
        super().__init__('scenario_operator', domain_id=domain_id)
        node = self.node
        # /clock first: what arrives with it is timed by it (see GateRecorder.record).
        node.create_subscription(Clock, '/clock', self._on_clock, CLOCK_QOS)
        self._planner_topic = 'planner/cmd_vel'
        if plan_input is None:
            node.create_subscription(TwistStamped, 'planner/cmd_vel', self._on_proposal,
                                     RECORD_QOS)
        else:
            self._planner_topic = 'planner/trajectory'
            if plan_input == 'path':
                plan_type, self._convert_plan = Path, convert.path_plan
            else:
                plan_type = load_wrapper_types().trajectory
                self._convert_plan = convert.autoware_plan
            node.create_subscription(plan_type, self._planner_topic, self._on_plan, RECORD_QOS)
        node.create_subscription(String, 'planner/meta', self._on_meta, RECORD_QOS)
        self.record(COMMAND)
        node.create_subscription(Odometry, 'odom', self._on_odom, SENSOR_QOS)
        node.create_subscription(Odometry, 'sim_vehicle/ground_truth', self._on_truth,
                                 RECORD_QOS)
        self.record(DECISION, STATE)
        # Latched, as an e-stop button's state should be: it matches both of the
        # gate's e-stop subscriptions, and a restarted gate sees it at once.
        self._estop = node.create_publisher(Bool, 'safety_gate/estop', LATCHED_QOS)
        self._fault = node.create_publisher(String, 'sim_vehicle/fault', COMMAND_QOS)
        self._start = node.create_publisher(Empty, 'planner/start', COMMAND_QOS)
        self._reset = node.create_client(Trigger, 'safety_gate/reset')

    # ------------------------------------------------------------ the run clock

    @property
    def now(self) -> Optional[float]:
        """Return the run clock (s), or None before the first /clock message."""
        return self._now

    @property
    def raw(self) -> float:
        """Return the raw simulation clock (s) as last received."""
        return (self._raw_ns or 0) / 1e9

    @property
    def clocks(self) -> Tuple[float, float]:
        """Return (run clock, raw clock) now, as an action is recorded."""
        return self._now or 0.0, self.raw

    def _on_clock(self, msg: Clock) -> None:
        self._raw_ns = stamp_to_ns(msg.clock)
        self._now = self._monotonic(self._raw_ns) / 1e9
        offset = self._monotonic.offset / 1e9
        offsets = self.rec.offsets
        if not offsets or offsets[-1][1] != offset:
            offsets.append((self._now, offset))

    def _stamped(self, stamp) -> float:
        """Return the run time of a message stamped by a trusted tool on the sim clock."""
        return self.rec.at(stamp_to_ns(stamp) / 1e9, self._now)

    # ------------------------------------------------------------ recording

    def _on_proposal(self, msg: TwistStamped) -> None:
        if self._now is not None:
            self.rec.proposals.append(Proposal(self._now, msg.twist.linear.x,
                                               msg.twist.angular.z,
                                               stamp_to_ns(msg.header.stamp) / 1e9))

    def _on_plan(self, msg: Any) -> None:
        """Record a plan, and as the proposal its motion over the first interval."""
        if self._now is None:
            return
        plan = self._convert_plan(msg, self._now, _CONVERT_CONFIG)
        points = plan.points
        self.rec.plans.append(PlanSample(self._now, plan.stamp,
                                         [(t, x, y) for t, x, y, _ in points]))
        v = w = 0.0
        if len(points) > 1 and points[1][0] > points[0][0]:
            (t0, x0, y0, yaw0), (t1, x1, y1, yaw1) = points[:2]
            v = math.hypot(x1 - x0, y1 - y0) / (t1 - t0)
            w = math.remainder(yaw1 - yaw0, math.tau) / (t1 - t0)
        self.rec.proposals.append(Proposal(self._now, v, w, plan.stamp))

    def _on_meta(self, msg: String) -> None:
        if self.script_start is not None:
            return
        try:
            self.script_start = float(json.loads(msg.data)['script_start'])
        except (ValueError, KeyError, TypeError):
            pass  # malformed on purpose, or not from the scripted planner

    def on_command(self, msg: TwistStamped) -> None:
        """Record the gate's output, timed by its stamp."""
        if self._now is None:
            return
        twist = msg.twist
        clean = all(x == 0.0 for x in (twist.linear.y, twist.linear.z, twist.angular.x,
                                       twist.angular.y))
        self.rec.outputs.append(Output(self._stamped(msg.header.stamp), twist.linear.x,
                                       twist.angular.z, clean))

    def _on_odom(self, msg: Odometry) -> None:
        self._last_odom_wall = time.monotonic()
        if self._now is not None:
            twist = msg.twist.twist
            self.rec.odom.append(Sample(self._stamped(msg.header.stamp), twist.linear.x,
                                        twist.angular.z))

    def _on_truth(self, msg: Odometry) -> None:
        if self._now is not None:
            twist = msg.twist.twist
            t = self._stamped(msg.header.stamp)
            self.rec.truth.append(Sample(t, twist.linear.x, twist.angular.z))
            pose = convert.odom(msg, t, _CONVERT_CONFIG)
            self.rec.poses.append(PoseSample(t, pose.x, pose.y, pose.yaw))

    def on_decision(self, record: dict) -> None:
        """Record a decision, timed by the time in it."""
        if self._now is None:
            return
        self.candidate_judged = self.candidate_judged or bool(record.get('shadow'))
        self.rec.decisions.append(DecisionSample.of(self.rec.at(float(record['t']), self._now),
                                                    record))

    def on_state(self, state: dict) -> None:
        """Keep the gate's latest verdict."""
        self.gate_state = state['verdict']

    def odom_flowing(self) -> bool:
        """Return True if odometry arrived recently (wall clock)."""
        return time.monotonic() - self._last_odom_wall < _ODOM_FRESH_S

    def connected(self) -> bool:
        """Return True once the gate, the vehicle and the planners are discovered."""
        return (self._estop.get_subscription_count() > 0
                and self._fault.get_subscription_count() > 0
                and self._start.get_subscription_count() >= self._planners
                and self.node.count_subscribers(self._planner_topic) >= 2
                and self._reset.service_is_ready())

    # ------------------------------------------------------------ spinning

    def wait_until(self, condition: Callable[[], Any], timeout: float, what: str) -> None:
        """Spin until ``condition`` holds; raise TimeoutError naming ``what`` (wall clock)."""
        if not self.wait_for(condition, timeout):
            raise TimeoutError(f'timed out after {timeout:.0f} s waiting for {what}')

    def spin_until_run_time(self, t: float, stalled_after: float,
                            progress: Optional[Callable[[float], None]] = None) -> None:
        """Spin until the run clock reaches ``t``.

        Raise TimeoutError if the clock does not move for ``stalled_after``
        wall seconds (the simulation died).
        """
        last, moved = self._now, time.monotonic()
        while self._now is None or self._now < t:
            self.spin_once()
            if self._now != last:
                last, moved = self._now, time.monotonic()
                if progress is not None:
                    progress(self._now)
            elif time.monotonic() - moved > stalled_after:
                raise TimeoutError(f'the simulation clock stopped for {stalled_after:.0f} s')

    # ------------------------------------------------------------ acting

    def note(self, kind: str, fault: Optional[int] = None, ok: Optional[bool] = None,
             detail: Any = None, at: Optional[Tuple[float, float]] = None) -> None:
        """Record an action at ``at`` (run clock, raw clock), by default the current clocks."""
        t, raw = self.clocks if at is None else at
        self.rec.actions.append(Action(t, raw, kind, fault, ok, detail))

    def estop(self, engaged: bool) -> None:
        """Publish the e-stop input."""
        self._estop.publish(Bool(data=engaged))

    def vehicle_fault(self, payload: dict) -> None:
        """Send a fault to the simulated vehicle."""
        self._fault.publish(String(data=json.dumps(payload)))

    def start_planner(self) -> None:
        """Start the planner's script."""
        self._start.publish(Empty())

    def reset(self, timeout: float) -> bool:
        """Call ``safety_gate/reset``, record the reply and return whether it was accepted.

        A request without a reply is sent again: after a gate restart the
        killed gate's server stays in the graph until its DDS lease expires,
        and a request sent before the new server matched may be lost, or
        delivered late. The first reply counts, and the reset is timed when its
        request was sent: the gate took it somewhere between then and the
        reply, and on a loaded host the reply may come long after the gate
        already acted on a fresh proposal (its decisions would then fall
        before a reset timed at the reply, as motion while latched).
        """
        self.wait_until(self._reset.service_is_ready, timeout, 'the reset service')
        deadline = time.monotonic() + timeout
        sent = []  # (future, clocks when it was sent) of each request
        while True:
            sent.append((self._reset.call_async(Trigger.Request()), self.clocks))
            try:
                self.wait_until(lambda: any(f.done() for f, _ in sent), _REPLY_TIMEOUT_S,
                                'the reset reply')
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
        answered, at = next((f, at) for f, at in sent if f.done())
        for future, _ in sent:
            if not future.done():
                self._reset.remove_pending_request(future)
        reply = answered.result()
        self.note('reset', ok=reply.success, detail=reply.message, at=at)
        return reply.success
