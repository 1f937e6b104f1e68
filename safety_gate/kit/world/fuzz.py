# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Fuzz the decision core with long seeded random input sequences; check the invariant.

A test tool, not part of the safety function.

``python -m safety_gate.kit.world.fuzz --steps 1000000`` (what ``make fuzz`` runs)
drives ``core.step`` through episodes of random events, each with a random
valid configuration and a random mix of faults: a planner that is nominal,
wild (NaN, huge, stale, future or duplicate stamps), unsure, silent or
bursting (a second proposal before the first one's meta), or turning on the
spot; metas that are missing, late, out of order, mismatched, malformed, or
malformed around a confidence that parsed; odometry and IMU that follow the
output, stop, freeze (mid-turn too, or at standstill while the gate drives),
jump or go non-finite; clock jumps both ways, late ticks and a stalled clock;
e-stops, resets, trace failures and internal errors. Every decision is checked
by :class:`Invariant` and :class:`ProposalAudit`; any violation is printed with
the seed and episode that reproduce it, and the exit code is 1.

:class:`Invariant` is shared with the process-level fault tests, which apply it
to the decision records a real gate publishes.
"""

import argparse
import collections
import dataclasses
import math
import random
import sys
import time
from typing import Callable, Counter, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from safety_gate import config, core, plan_mode
from safety_gate.decision import Clamp, Decision, Reason
from safety_gate.events import (
    ClockStall, Estop, Imu, Meta, Odom, Proposal, Reset, Tick, TraceHealth)
from safety_gate.kit.world import faults
from safety_gate.limits import inside_envelope
from safety_gate.meta import parse_meta
from safety_gate.plan_fallback import stopping

T0 = 1000.0
PERIOD = 0.02  # s: the watchdog period of the default rate_hz
SPECIAL = (math.nan, math.inf, -math.inf, 1e308, -1e308, -0.0, 5e-324)
MODEL = 'ab' * 32
# The odometry faults: while one is raised the measured speed never sets the ramp start.
_ODOM_REASONS = frozenset(r.value for r in Reason if r.value.startswith('ODOM_')) | {
    Reason.TRACKING_ERROR.value}
# Disturbances an episode may switch on, each with its own probability per period.
DISTURBANCES = ('wild_planner', 'silent_planner', 'unsure_planner', 'burst_planner',
                'meta_fault', 'odom_fault', 'imu_fault', 'clock_fault', 'operator',
                'trace_fault', 'internal_error')
# Triggers of the decision that decides a proposal; any other re-judges the one in force.
DECIDING = ('proposal', 'pairing_timeout', 'superseded', 'shutdown')


class Invariant:
    """The output invariant of one gate's decisions, checked in order.

    * every output is finite and inside the envelope;
    * an ESTOP outputs exactly zero;
    * an APPROVE moves the output by at most the envelope's rate limits times
      the node time since the previous output, that time bounded by one
      watchdog period plus ``monitor.max_late`` (where the envelope guard cut
      the output too, only its growth is bounded: the guard only shrinks it);
    * a FALLBACK never speeds up and stays inside the rate envelope: |w| shrinks
      by at most ``envelope.max_angular_accel`` times the node time since the
      previous decision, and |v| by at most ``envelope.max_linear_decel``, except
      on entry where the measured speed is trusted, which it never is when an
      odometry check fails (a stalled clock, which stops at once, aside);
    * from one FALLBACK to the next the stop is no faster than configured: the
      slower-shrinking of |v| and |w| shrinks by at most its fallback limit
      (``fallback.decel``, ``fallback.angular_decel``);
    * a run of FALLBACK decisions reaches zero no later than :func:`stop_time`
      of its first output (or of its output at a clock jump back);
    * a proposal refused as SUPERSEDED holds the output (zero when latched) and
      is otherwise left out: it is no output of the control law.

    In trajectory mode (``planner.input`` not ``twist``) a fallback may be the
    stop along the approved path, which keeps to the path's curvature and may
    escalate to the emergency deceleration (``safety_gate.plan_fallback``), so
    there: |w| may grow, but only up to |v| times ``trajectory.max_curvature``
    (the curvature any approved plan keeps to) and |w| is not rate-bounded;
    |v| shrinks by at most ``envelope.max_linear_decel`` times the node time
    (where the envelope guard did not cut the output),
    and the run reaches zero no later than the slower of :func:`stop_time` and
    the jerk-limited stop (:func:`plan_stop_time`).
    """

    def __init__(self, cfg: config.GateConfig, tolerance: float = 1e-9) -> None:
        """Check decisions made with ``cfg``; ``tolerance`` absorbs float rounding."""
        self.cfg = cfg
        self.tolerance = tolerance
        self.along_path = plan_mode.active(cfg)
        self.reset()

    def reset(self) -> None:
        """Forget the history: the next decision follows a gap or a restart."""
        self._previous: Optional[Tuple[float, str, float, float]] = None
        self._fallback_since: Optional[Tuple[float, float]] = None  # (t, time to stop)

    def check(self, t: float, verdict: str, reasons: Sequence[str], v: float, w: float,
              clamps: Sequence[str] = ()) -> List[str]:
        """Return what the decision (node time ``t``, output (v, w)) violates; [] if nothing."""
        env, tol = self.cfg.envelope, self.tolerance
        found = []
        if not (math.isfinite(v) and math.isfinite(w)):
            found.append(f'non-finite output ({v}, {w})')
        elif not inside_envelope(v, w, env, tol):
            found.append(f'output ({v}, {w}) outside the envelope')
        if verdict == 'ESTOP' and (v != 0.0 or w != 0.0):
            found.append(f'ESTOP with output ({v}, {w})')
        previous = self._previous
        if Reason.SUPERSEDED.value in reasons:
            if previous is not None and verdict != 'ESTOP' and (v, w) != previous[2:]:
                found.append(f'a superseded proposal moved the output: {previous[2:]} -> '
                             f'({v}, {w})')
            return found
        # A LIMIT may cut the output into its reduced envelope at once (entering
        # conservative mode): it is held to the envelope alone.
        if verdict == 'APPROVE' and previous is not None and not found:
            found += self._check_approval(previous, t, v, w,
                                          Clamp.ENVELOPE.value in clamps)
        if verdict == 'FALLBACK' and previous is not None and not found:
            found += self._check_fallback(previous, t, reasons, v, w,
                                          Clamp.ENVELOPE.value in clamps)
        if verdict != 'FALLBACK':
            self._fallback_since = None
        elif (self._fallback_since is None or Reason.CLOCK_JUMP_BACK.value in reasons) and (
                math.isfinite(v) and math.isfinite(w)):
            # A clock jump back makes the gate forget every time it kept, so its
            # ramp starts over from here, and so does the time it may take.
            to_stop = stop_time(v, w, self.cfg)
            if self.along_path:
                to_stop = max(to_stop, plan_stop_time(v, self.cfg))
            self._fallback_since = (t, to_stop)
        elif self._fallback_since is not None:
            start, to_stop = self._fallback_since
            if t - start > to_stop * (1.0 + 1e-9) + 1e-9 and max(abs(v), abs(w)) > 1e-6:
                found.append(f'fallback still at ({v}, {w}) {t - start:.3f} s after it '
                             f'began; it must stop within {to_stop:.3f} s')
        self._previous = (t, verdict, v, w)
        return found

    def _check_approval(self, previous, t, v, w, guarded) -> List[str]:
        t0, _, v0, w0 = previous
        if not (math.isfinite(v0) and math.isfinite(w0)):
            return []
        env, tol = self.cfg.envelope, self.tolerance
        dt = min(max(0.0, t - t0), 1.0 / self.cfg.rate_hz + self.cfg.monitor.max_late)
        if v0 * v < 0.0:
            linear = max(env.max_linear_accel, env.max_linear_decel)
        else:
            linear = env.max_linear_accel if abs(v) > abs(v0) else env.max_linear_decel
        dv, dw = abs(v - v0), abs(w - w0)
        if guarded:
            dv, dw = abs(v) - abs(v0), abs(w) - abs(w0)
        if dv > linear * dt + tol or dw > env.max_angular_accel * dt + tol:
            return [f'approval moves faster than the rate limits: ({v0}, {w0}) -> ({v}, {w}) '
                    f'in {t - t0:.4f} s']
        return []

    def _check_fallback(self, previous, t, reasons, v, w, guarded) -> List[str]:
        t0, verdict0, v0, w0 = previous
        tol = self.tolerance
        if not (math.isfinite(v0) and math.isfinite(w0)):
            return []
        found = []
        # Along a path the yaw rate follows the path's curvature, never beyond it.
        w_bound = max(abs(w0), abs(v) * self.cfg.trajectory.max_curvature) if (
            self.along_path) else abs(w0)
        if abs(v) > abs(v0) + tol or abs(w) > w_bound + tol:
            found.append(f'fallback speeds up: ({v0}, {w0}) -> ({v}, {w})')
        if Reason.CLOCK_STALLED.value in reasons:
            return found
        dt = max(0.0, t - t0)
        env, fb = self.cfg.envelope, self.cfg.fallback
        dv, dw = abs(v0) - abs(v), abs(w0) - abs(w)
        entry = verdict0 != 'FALLBACK'
        odom_failed = any(r in _ODOM_REASONS for r in reasons)
        if self.along_path:
            # The envelope guard may cut a stop whose yaw rate grew with the path's curvature.
            if (not entry or odom_failed) and not guarded and (
                    dv > env.max_linear_decel * dt + tol):
                found.append(f'fallback leaves the rate envelope: ({v0}, {w0}) -> ({v}, {w}) '
                             f'in {dt:.4f} s')
            return found
        if dw > env.max_angular_accel * dt + tol or (
                (not entry or odom_failed) and dv > env.max_linear_decel * dt + tol):
            found.append(f'fallback leaves the rate envelope: ({v0}, {w0}) -> ({v}, {w}) '
                         f'in {dt:.4f} s')
        shrinking = [(d, rate) for m, d, rate in ((v0, dv, fb.decel), (w0, dw, fb.angular_decel))
                     if m != 0.0]
        if not entry and shrinking and all(d > rate * dt + tol for d, rate in shrinking):
            found.append(f'fallback brakes harder than configured: ({v0}, {w0}) -> '
                         f'({v}, {w}) in {dt:.4f} s')
        return found

    def check_decision(self, decision) -> List[str]:
        """Check a ``safety_gate.decision.Decision`` (a ``Reason`` equals its value)."""
        return self.check(decision.t, decision.verdict.value, decision.reasons,
                          decision.output.v, decision.output.w,
                          [c.value for c in decision.clamps])


class ProposalAudit:
    """What the core owes each proposal, checked from its events and decisions in order.

    * every proposal gets exactly one deciding decision (:data:`DECIDING`);
      after each step only the one still waiting for its meta is undecided;
    * a proposal decided on arrival or at its pairing timeout is approved only
      if its stamp is newer than every plausible stamp (finite, at most
      ``future_tolerance`` ahead) decided that way before it, since start or
      the last backwards clock step;
    * any other APPROVE re-judges the proposal decided last in that way;
    * no decision whose meta has an error is an APPROVE.
    """

    def __init__(self, cfg: config.GateConfig) -> None:
        """Audit a core configured with ``cfg``."""
        self.future_tolerance = cfg.future_tolerance
        self._undecided: List[Proposal] = []
        self._newest: Optional[float] = None
        self._in_force: Optional[Proposal] = None
        self._last_now = -math.inf

    def step(self, now: float, event: object, decisions: Sequence[Decision],
             pending: Optional[Proposal]) -> List[str]:
        """Audit one step; ``pending`` is the proposal the core holds after it."""
        if now < self._last_now:
            self._newest = self._in_force = None
        self._last_now = now
        if isinstance(event, Proposal):
            self._undecided.append(event)
        found = []
        for decision in decisions:
            found += self._decision(decision)
        lost = [p for p in self._undecided if p is not pending]
        if lost:
            found.append(f'proposals never decided: {lost}')
            self._undecided = [p for p in self._undecided if p is pending]
        return found

    def _decision(self, decision: Decision) -> List[str]:
        found = []
        approved = decision.verdict.approves
        if approved and decision.meta is not None and decision.meta.error is not None:
            found.append(f'approved with a faulty meta ({decision.meta.error})')
        proposal = decision.proposal
        if decision.trigger not in DECIDING:
            if approved and proposal is not self._in_force:
                found.append(f'{decision.trigger} approved {proposal}, not the proposal in '
                             f'force {self._in_force}')
            return found
        if proposal is None:
            return found
        if not any(p is proposal for p in self._undecided):
            found.append(f'{proposal} decided twice, or never received')
        self._undecided = [p for p in self._undecided if p is not proposal]
        if decision.trigger in ('superseded', 'shutdown'):
            return found
        newest, stamp = self._newest, proposal.stamp
        if approved and newest is not None and not stamp > newest:
            found.append(f'approved stamp {stamp} after stamp {newest} was decided')
        if math.isfinite(stamp) and stamp - decision.t <= self.future_tolerance:
            self._newest = stamp if newest is None else max(newest, stamp)
        self._in_force = proposal
        return found


def stop_time(v: float, w: float, cfg: config.GateConfig) -> float:
    """Return the longest a fallback from (v, w) may take to reach zero.

    The faster of the two fallback limits sets it (a zero component has no
    say), unless an envelope rate limit forbids so fast a stop.
    """
    env, fb = cfg.envelope, cfg.fallback
    parts = [(abs(m), fast, slow) for m, fast, slow in (
        (v, fb.decel, env.max_linear_decel), (w, fb.angular_decel, env.max_angular_accel))
        if m != 0.0]
    if not parts:
        return 0.0
    return max([min(m / fast for m, fast, _ in parts)] + [m / slow for m, _, slow in parts])


def plan_stop_time(v: float, cfg: config.GateConfig) -> float:
    """Return the longest the stop along a path from speed ``v`` may take to reach zero.

    The comfortable stop: ``fallback.decel`` reached at ``trajectory.stop_jerk``
    (an escalation to the emergency deceleration only shortens it).
    """
    return stopping(abs(v), cfg.fallback.decel, cfg.trajectory.stop_jerk)[0]


def random_config(rng: random.Random) -> config.GateConfig:
    """Return the defaults or a random valid configuration."""
    if rng.random() < 0.3:
        return config.build({'require_reset_on_start': rng.random() < 0.5})
    threshold = rng.uniform(0.0, 1.0)
    linear = rng.uniform(0.2, 3.0)
    decel = rng.uniform(0.5, 5.0)
    angular_accel = rng.uniform(0.5, 6.0)
    warn_late = rng.uniform(0.005, 0.2)
    return config.build({
        'rate_hz': rng.choice([10.0, 20.0, 50.0, 100.0]),
        'proposal_timeout': rng.uniform(0.1, 1.0),
        'require_reset_on_start': rng.random() < 0.5,
        'confidence.required': rng.random() < 0.8,
        'confidence.threshold': threshold,
        'confidence.recover_threshold': rng.uniform(threshold, 1.0),
        'confidence.recover_count': rng.randint(1, 5),
        'confidence.min_dwell': rng.uniform(0.0, 1.0),
        'confidence.pairing_wait': rng.choice([0.0, 0.02, 0.05, 0.1]),
        'odom.required': rng.random() < 0.8,
        'odom.max_speed': linear + rng.uniform(0.0, 3.0),
        'imu.enabled': rng.random() < 0.5,
        'trace.required': rng.random() < 0.5,
        'envelope.max_linear_speed': linear,
        'envelope.max_reverse_speed': rng.uniform(0.0, linear),
        'envelope.max_angular_speed': rng.uniform(0.1, 3.0),
        'envelope.max_lateral_accel': rng.uniform(0.1, 3.0),
        'envelope.max_linear_accel': rng.uniform(0.1, 5.0),
        'envelope.max_linear_decel': decel,
        'envelope.max_angular_accel': angular_accel,
        'fallback.decel': rng.uniform(0.1, decel),
        'fallback.angular_decel': rng.uniform(0.1, angular_accel),
        'monitor.warn_late': warn_late,
        'monitor.max_late': rng.uniform(warn_late, 0.5),
        'monitor.max_spin_failure': 1.0,
    })


class Episode:
    """One gate from start: a clock, a planner, a vehicle and an operator, all random.

    :meth:`events` yields (node time, event) in order; an event of None stands
    for an exception inside the step (``core.internal_error``).
    """

    def __init__(self, rng: random.Random, cfg: config.GateConfig) -> None:
        """Draw the episode's fault mix."""
        self.rng = rng
        self.cfg = cfg
        self.now = T0
        self.output = (0.0, 0.0)  # the gate's latest output, set by the driver
        self.vehicle = [0.0, 0.0, 0.0, 0.0, 0.0]  # v, w, x, y, yaw: follows the output
        self.frozen: Optional[Odom] = None
        self.odom_mode = self.imu_mode = 'follow'
        self.last_stamp = T0
        self.held_metas: List[Tuple[int, Meta]] = []  # (periods still to wait, meta)
        self.replan = False  # the planner sends in this period, not only every plan_every
        self.plan_every = 5  # periods between the planner's messages
        odds = (0.0, 0.002, 0.02, 0.1)
        self.mix = {name: rng.choice(odds) for name in DISTURBANCES}
        self.planner = (rng.uniform(-0.3, 1.0), rng.uniform(-1.5, 1.5))

    def _wild(self, bound: float) -> float:
        rng = self.rng
        return rng.choice(SPECIAL) if rng.random() < 0.2 else rng.uniform(-bound, bound)

    def _hit(self, disturbance: str) -> bool:
        return self.rng.random() < self.mix[disturbance]

    def events(self, periods: int) -> Iterator[Tuple[float, object]]:
        """Yield the events of ``periods`` watchdog periods."""
        for period in range(periods):
            yield from self._clock()
            yield from self._sensors()
            yield from self._held_metas()
            if self._hit('burst_planner'):
                yield from self._late_command()
            if period % self.plan_every == 0 or self.replan:
                self.replan = False
                yield from self._planner()
            yield from self._operator()
            yield self.now, Tick(self.rng.expovariate(100.0) if self._hit('clock_fault')
                                 else 0.0)

    def _clock(self) -> Iterator[Tuple[float, object]]:
        rng = self.rng
        self.now += PERIOD
        if self._hit('clock_fault'):
            kind = rng.randrange(4)
            if kind == 0:
                self.now -= rng.uniform(0.0, 5.0)
            elif kind == 1:
                # A forward jump, and a proposal at once: it must not leap the rate limits.
                self.now += rng.uniform(0.0, 10.0)
                self.replan = True
            elif kind == 2:
                self.now += rng.uniform(0.0, 0.5)
            else:
                yield self.now, ClockStall()

    def _move(self) -> None:
        """Advance the vehicle one period: its speeds lag the output, it drives along x."""
        vehicle = self.vehicle
        for axis in (0, 1):
            vehicle[axis] += 0.3 * (self.output[axis] - vehicle[axis])
        vehicle[2] += vehicle[0] * PERIOD
        vehicle[4] += vehicle[1] * PERIOD

    def _sensors(self) -> Iterator[Tuple[float, object]]:
        rng, vehicle = self.rng, self.vehicle
        self._move()
        v, w, x, y, yaw = vehicle
        if self._hit('odom_fault'):
            self.odom_mode = rng.choice(['follow', 'stop', 'freeze', 'freeze_here',
                                         'freeze_still', 'wild', 'stale'])
            # Frozen where the vehicle is, mid-turn or mid-stop included.
            self.frozen = Odom(v, w, x, y, 0.0, yaw)
        stamp = self.now
        if self.odom_mode == 'follow':
            yield self.now, Odom(v, w, x, y, stamp, yaw)
        elif self.odom_mode == 'freeze':
            yield self.now, Odom(0.5, 0.0, 1.0, 0.0, stamp)
        elif self.odom_mode == 'freeze_here':
            yield self.now, dataclasses.replace(self.frozen, stamp=stamp)
        elif self.odom_mode == 'freeze_still':
            yield self.now, Odom(0.0, 0.0, 1.0, 0.0, stamp)
        elif self.odom_mode == 'wild':
            yield self.now, Odom(self._wild(5.0), self._wild(8.0), self._wild(100.0),
                                 self._wild(100.0), stamp + self._wild(1.0))
        elif self.odom_mode == 'stale':
            yield self.now, Odom(v, w, x, y, stamp - 1.0, yaw)
        if self._hit('imu_fault'):
            self.imu_mode = rng.choice(['follow', 'stop', 'wild'])
        if self.imu_mode == 'follow':
            yield self.now, Imu(vehicle[1], stamp)
        elif self.imu_mode == 'wild':
            yield self.now, Imu(self._wild(8.0), stamp + self._wild(1.0))

    def _planner(self) -> Iterator[Tuple[float, object]]:
        rng = self.rng
        if self._hit('silent_planner'):
            return
        if rng.random() < 0.05:
            self.planner = (rng.uniform(-0.5, 1.5) if rng.random() < 0.7 else 0.0,
                            rng.uniform(-2.0, 2.0))
        v, w = self.planner
        stamp = self.now
        confidence: Optional[float] = rng.uniform(0.6, 1.0)
        if self._hit('wild_planner'):
            v, w = self._wild(3.0), self._wild(4.0)
            stamp = rng.choice([self.last_stamp, self.now - rng.uniform(0.0, 2.0),
                                self.now + rng.uniform(0.0, 1.0), self._wild(1e9)])
        if self._hit('unsure_planner'):
            confidence = rng.choice([None, rng.uniform(0.0, 1.0), rng.uniform(0.4, 0.7)])
        self.last_stamp = stamp
        meta = Meta(stamp, confidence, MODEL, 'fuzz', None if confidence is not None
                    else 'malformed: confidence is not a number')
        if self._hit('meta_fault'):
            kind = rng.randrange(6)
            if kind == 0:
                meta = None
            elif kind == 1:
                meta = Meta(stamp + 0.001, confidence, MODEL, 'mismatch')
            elif kind == 2:
                meta = parse_meta(rng.choice(['{', '[' * 5000, '"x"', '{"stamp": 1}']),
                                  self.cfg.confidence.max_meta_bytes, 100)
            elif kind == 3:
                # A confidence that parsed, in a meta that did not: never better than low.
                meta = Meta(stamp, rng.uniform(0.0, 1.0), MODEL, '',
                            'malformed: reasoning is not a string')
            elif kind == 4:
                # Late or out of order: after the command, after ticks or after the next one.
                self.held_metas.append((rng.randint(0, 8), meta))
                meta = None
        proposal = Proposal(v, w, stamp, stamped=rng.random() < 0.9)
        pair = [(self.now, proposal)] if meta is None else [(self.now, meta),
                                                            (self.now, proposal)]
        if rng.random() < 0.2:
            pair.reverse()
        yield from pair

    def _late_command(self) -> Iterator[Tuple[float, object]]:
        """Deliver an older command now and its meta later: the next command supersedes it.

        Its stamp may be older than the last regular command's, which was decided.
        """
        v, w = self.planner
        stamp = self.now - self.rng.uniform(0.0, 6 * PERIOD)
        self.held_metas.append((self.rng.randint(0, 3),
                                Meta(stamp, self.rng.uniform(0.0, 1.0), MODEL, 'late')))
        yield self.now, Proposal(v + self.rng.uniform(-0.5, 0.5), w, stamp)

    def _held_metas(self) -> Iterator[Tuple[float, object]]:
        due = [meta for wait, meta in self.held_metas if wait == 0]
        self.held_metas = [(wait - 1, meta) for wait, meta in self.held_metas if wait > 0]
        self.rng.shuffle(due)
        for meta in due:
            yield self.now, meta

    def _operator(self) -> Iterator[Tuple[float, object]]:
        rng = self.rng
        if self._hit('operator'):
            kind = rng.randrange(3)
            if kind == 0:
                yield self.now, Estop(rng.random() < 0.5)
            elif kind == 1:
                yield self.now, Reset()
            else:
                yield self.now, Estop(False)
                self.odom_mode = 'follow'
                v, w, x, y, yaw = self.vehicle
                yield self.now, Odom(v, w, x, y, self.now, yaw)
                yield self.now, Reset()
        if self._hit('trace_fault'):
            yield self.now, TraceHealth(rng.random() < 0.5)
        if self._hit('internal_error'):
            yield self.now, None


class Campaign(NamedTuple):
    """What a fuzzing campaign draws and judges: the config, the episode, the audits.

    ``audits(cfg)`` returns objects with ``step(now, event, decisions, pending)``
    returning the violations of one core step.
    """

    name: str
    config: Callable[[random.Random], config.GateConfig]
    episode: Callable[[random.Random, config.GateConfig], 'Episode']
    audits: Callable[[config.GateConfig], Sequence[object]]


class DecisionInvariant:
    """:class:`Invariant` as an audit of whole steps."""

    def __init__(self, cfg: config.GateConfig) -> None:
        """Hold every decision made with ``cfg`` to the invariant."""
        self.invariant = Invariant(cfg)

    def step(self, now: float, event: object, decisions: Sequence[Decision],
             pending: Optional[Proposal]) -> List[str]:
        """Return the violations of the step's decisions."""
        found = []
        for decision in decisions:
            reasons = ','.join(r.value for r in decision.reasons)
            found += [f'{decision.verdict.value} {reasons}: {violation}'
                      for violation in self.invariant.check_decision(decision)]
        return found


TWIST = Campaign('twist', random_config, Episode,
                 lambda cfg: (DecisionInvariant(cfg), ProposalAudit(cfg)))


def count_regions(coverage: Counter, decision: Decision) -> None:
    """Count the regions a decision reached: verdict, reasons, failing checks, clamps."""
    coverage['decisions'] += 1
    coverage[f'verdict {decision.verdict.value}'] += 1
    for reason in decision.reasons:
        coverage[reason.value] += 1
    for check in decision.checks:
        if not check.ok:
            coverage[f'check {check.name}'] += 1
    for clamp in decision.clamps:
        coverage[f'clamp {clamp.value}'] += 1


def run_episode(rng: random.Random, steps: int, campaign: Campaign = TWIST,
                coverage: Optional[Counter] = None,
                observe: Optional[Callable[[float, object, core.StepResult], None]] = None,
                ) -> Tuple[int, int, List[str]]:
    """Run one episode of about ``steps`` core steps; return (steps, decisions, violations).

    ``coverage`` (if given) counts the regions every decision reached, and
    those an audit counts in its own ``regions``; ``observe`` (if given)
    receives each step's time, event (None for an injected internal error)
    and result. The episode's config is the first thing drawn from ``rng``.
    """
    cfg = campaign.config(rng)
    episode = campaign.episode(rng, cfg)
    audits = campaign.audits(cfg)
    state = core.initial_state(cfg)
    done = decisions = 0
    violations: List[str] = []
    for now, event in episode.events(max(1, steps // 4)):
        done += 1
        where = f'step {done} ({type(event).__name__} at {now:.3f})'
        if event is None:
            result = core.internal_error(state, now, cfg, 'tick', 'injected')
        else:
            try:
                result = core.step(state, event, now, cfg)
            except Exception as exc:  # noqa: B902 - any exception is a defect of the core
                # The node fails closed on it; the fuzzer reports it and does the same.
                violations.append(f'{where}: core.step raised {exc!r} on {event}')
                result = core.internal_error(state, now, cfg, 'tick', repr(exc))
        state = result.state
        if observe is not None:
            observe(now, event, result)
        pending = None if state.pending is None else state.pending.proposal
        for audit in audits:
            violations += [f'{where}: {v}' for v in audit.step(now, event, result.decisions,
                                                               pending)]
        for decision in result.decisions:
            decisions += 1
            episode.output = (decision.output.v, decision.output.w)
            if coverage is not None:
                count_regions(coverage, decision)
        if done >= steps or len(violations) >= 5:
            break
    if coverage is not None:
        for audit in audits:
            coverage.update(getattr(audit, 'regions', {}))
    return done, decisions, violations


def fuzz(total_steps: int, seed: int, episode_steps: int, report=print,
         campaign: Campaign = TWIST,
         coverage: Optional[Counter] = None) -> Tuple[int, int, int, List[str]]:
    """Run episodes until ``total_steps`` core steps: (steps, decisions, episodes, violations).

    ``report`` receives a progress line about every 10 s; ``coverage`` (if
    given) counts the regions the decisions reached.
    """
    steps = decisions = episodes = 0
    found: List[str] = []
    started = last_report = time.monotonic()
    while steps < total_steps and not found:
        episode_seed = seed * 1_000_003 + episodes
        done, decided, violations = run_episode(random.Random(episode_seed), episode_steps,
                                                campaign, coverage)
        steps, decisions, episodes = steps + done, decisions + decided, episodes + 1
        found += [f'seed {seed}, episode {episodes - 1} (Random({episode_seed})): {v}'
                  for v in violations]
        if time.monotonic() - last_report >= 10.0:
            last_report = time.monotonic()
            report(f'  {steps} steps, {steps / (last_report - started):.0f} steps/s')
    return steps, decisions, episodes, found


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the fuzzer; exit 1 if any decision violates the invariant."""
    parser = argparse.ArgumentParser(
        prog='python -m safety_gate.kit.world.fuzz',
        description='Drive the decision core with seeded random input sequences and check '
                    'that every output is finite, inside the envelope, and that every '
                    'fallback reaches zero at no more than the configured deceleration.')
    parser.add_argument('--steps', type=int, default=1_000_000, help='core steps in all')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--episode-steps', type=int, default=4000,
                        help='core steps per episode (a fresh gate and config each)')
    parser.add_argument('--mode', choices=('twist', 'trajectory'), default='twist',
                        help='the planner input fuzzed: velocity commands, or plans '
                             '(safety_gate.kit.world.plan_fuzz)')
    args = parser.parse_args(argv)
    campaign = TWIST
    if args.mode == 'trajectory':
        from safety_gate.kit.world import plan_fuzz  # it builds on this module
        campaign = plan_fuzz.TRAJECTORY
    coverage: Counter = collections.Counter()
    started = time.monotonic()
    steps, decisions, episodes, found = fuzz(args.steps, args.seed, args.episode_steps,
                                             campaign=campaign, coverage=coverage)
    elapsed = time.monotonic() - started
    print(f'fuzz ({args.mode}): {steps} core steps in {episodes} episodes, {decisions} '
          f'decisions, {len(found)} violations, {elapsed:.1f} s, {steps / elapsed:.0f} '
          f'steps/s (seed {args.seed})')
    print(f'  regions: {dict(sorted(coverage.items()))}')
    for violation in found:
        print(f'  VIOLATION {violation}')
    name = 'core fuzz: random input sequences' + (
        '' if args.mode == 'twist' else ', trajectory mode')
    faults.record(name, f'seed {args.seed}', unsafe=len(found), lost=None, reaction_s=None,
                  cases=steps)
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
