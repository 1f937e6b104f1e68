# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Fuzz the decision core in trajectory mode: random plans, and an oracle that judges them.

A test tool, not part of the safety function; the driver, the clock, the
sensor and operator faults are the core fuzzer's (``fuzz``), and this module
adds what trajectory mode needs:

* :func:`random_config`: a random valid configuration with ``planner.input``
  ``path`` or ``autoware_trajectory``;
* :class:`PlanEpisode`: a vehicle that drives the gate's output as a unicycle,
  and a planner that draws each plan from the vehicle's state as the Alpamayo
  wrapper does (20 or 64 points 0.1 s apart, stamped now or at an earlier
  camera time), valid, on and just beyond a limit, or broken (:data:`BROKEN`);
* :class:`PlanAudit`: what the configuration forbids, computed from the input
  events alone: a plan it must refuse (:func:`must_refuse`) is never approved,
  a refused plan is never followed, an approval never outlives its plan, and
  the output is zero while the e-stop input is held.

Every decision is also held to the core fuzzer's :class:`fuzz.Invariant`,
which knows the stop along the path. ``python -m safety_gate.kit.world.fuzz
--mode trajectory`` runs it.
"""

import math
import random
from typing import Counter, Iterator, List, Optional, Sequence, Tuple

from safety_gate import config
from safety_gate.decision import Decision, Verdict
from safety_gate.ego_motion import wrap
from safety_gate.events import Estop, Imu, Meta, Odom, Plan, PlanPoint, Reasoning, Reset
from safety_gate.kit.world import fuzz

FRAME = 'base_link'
# What a wild planner sends instead of a valid plan, each with its weight; the share
# of broken plans is drawn per episode.
BROKEN_SHARES = (0.02, 0.1, 0.3)
BROKEN = {
    'late_overspeed': 3, 'non_finite': 2, 'huge': 1, 'time_order': 2, 'spacing': 2,
    'kink': 2, 'stale': 2, 'future': 2, 'old_stamp': 2, 'backward': 2, 'flip': 3, 'size': 2,
    'frame': 1, 'short': 2,
}
# The odds of each disturbance per period, one drawn per episode and disturbance.
CALM_ODDS = (0.0, 0.0, 0.0005, 0.002, 0.01)
# How often the planner's route changes: per second.
ROUTE_CHANGES = 0.15
# The share of routes on, just inside or just beyond a limit.
LIMIT_SHARE = 0.4
# Turning limits twice: slowing into a bend on them is where the envelope guard cuts.
LIMITS = ('speed', 'reverse', 'curvature', 'yaw_rate', 'yaw_rate', 'lateral', 'lateral')
SCALES = (0.98, 1.0, 1.0, 1.02, 1.1)
_HISTORY = 200  # periods of the vehicle's speeds kept to draw plans stamped earlier


def random_config(rng: random.Random) -> config.GateConfig:
    """Return a random valid trajectory-mode configuration (the core fuzzer's, plus a plan)."""
    flat = config.flatten(fuzz.random_config(rng))
    decel = flat['envelope.max_linear_decel']
    flat.update({
        'planner.input': rng.choice(['path', 'autoware_trajectory']),
        # The wrapper sends no meta; a planner that does is paired by stamp.
        'confidence.required': rng.random() < 0.3,
        # A stop that takes seconds leaves no horizon to approve in.
        'fallback.decel': rng.uniform(0.5 * decel, decel),
        'trajectory.max_age': rng.choice([1.0, 1.0, 4.0]),
        'trajectory.max_curvature': rng.choice([rng.uniform(0.1, 1.0), rng.uniform(1.0, 5.0)]),
        'trajectory.max_kink_angle': rng.uniform(0.1, 1.0),
        'trajectory.start_tolerance': rng.uniform(0.2, 2.0),
        'trajectory.max_lateral_shift': rng.uniform(0.1, 1.0),
        'trajectory.actuation_delay': rng.uniform(0.0, 0.3),
        'trajectory.stop_jerk': rng.uniform(2.0, 20.0),
        'trajectory.horizon_margin': rng.uniform(0.0, 0.3),
    })
    return config.build(flat)


def rollout(v0: float, segments: Sequence[Tuple[float, float]], dt: float,
            first: float = 0.0) -> List[PlanPoint]:
    """Return the points of a unicycle from the origin at speed ``v0``.

    Each segment is (target speed, curvature): over ``dt`` the speed moves to
    its target, and the pose follows the mean speed along the curvature.
    """
    t, x, y, yaw, v = first, 0.0, 0.0, 0.0, v0
    points = [(t, x, y, yaw)]
    for target, curvature in segments:
        mean = (v + target) / 2.0
        turn = mean * curvature * dt
        x += mean * dt * math.cos(yaw + turn / 2.0)
        y += mean * dt * math.sin(yaw + turn / 2.0)
        yaw, v, t = yaw + turn, target, t + dt
        points.append((t, x, y, yaw))
    return points


def ramp(v0: float, target: float, accel: float, jerk: float, count: int,
         dt: float) -> List[float]:
    """Return ``count`` speeds, ``dt`` apart, moving from ``v0`` to ``target`` and holding it.

    A smoothstep (3u^2 - 2u^3) over a duration that keeps the acceleration
    within ``accel`` and its rate of change within ``jerk``: it starts and ends
    without acceleration, so a plan that starts at the vehicle's speed has no
    jerk at its start.
    """
    gap = target - v0
    duration = max(1.5 * abs(gap) / accel, math.sqrt(6.0 * abs(gap) / jerk), dt)
    speeds = []
    for k in range(1, count + 1):
        u = min(k * dt / duration, 1.0)
        speeds.append(v0 + gap * u * u * (3.0 - 2.0 * u))
    return speeds


def peaks(plan: Plan) -> Tuple[float, float, float]:
    """Return a plan's largest segment speed, yaw rate and lateral acceleration (magnitudes).

    Its times must be finite and strictly increasing, and it must have two points.
    """
    speeds, yaw_rates = [], []
    for (t0, x0, y0, yaw0), (t1, x1, y1, yaw1) in zip(plan.points, plan.points[1:]):
        speeds.append(math.hypot(x1 - x0, y1 - y0) / (t1 - t0))
        yaw_rates.append(abs(wrap(yaw1 - yaw0)) / (t1 - t0))
    return max(speeds), max(yaw_rates), max(s * w for s, w in zip(speeds, yaw_rates))


def near_a_limit(plan: Plan, cfg: config.GateConfig, share: float = 0.97) -> bool:
    """Return True if a measurable plan reaches ``share`` of a speed or turning limit."""
    env = cfg.envelope
    limits = (max(env.max_linear_speed, env.max_reverse_speed), env.max_angular_speed,
              env.max_lateral_accel)
    return any(peak >= share * limit for peak, limit in zip(peaks(plan), limits))


def must_refuse(plan: Plan, now: float, cfg: config.GateConfig) -> List[str]:
    """Return why the configuration forbids approving ``plan`` at ``now``; [] if nothing does.

    Written from the parameters' documentation, not from the gate's checks:
    finiteness, size, time order, spacing, frame, age, future stamp, and the
    envelope's speed, yaw rate and lateral acceleration on every segment
    (whatever the direction, so the faster of forward and reverse bounds it).
    """
    traj, env = cfg.trajectory, cfg.envelope
    if not (math.isfinite(plan.stamp) and all(
            math.isfinite(value) for point in plan.points for value in point)):
        return ['non-finite']
    found = []
    if not traj.min_points <= len(plan.points) <= traj.max_points:
        found.append(f'{len(plan.points)} points')
    if plan.frame_id != traj.frame_id:
        found.append(f'frame {plan.frame_id!r}')
    age = now - plan.stamp
    if age > traj.max_age:
        found.append(f'{age:.3f} s old')
    if -age > cfg.future_tolerance:
        found.append(f'{-age:.3f} s in the future')
    if len(plan.points) < 2:
        return found
    intervals = [b[0] - a[0] for a, b in zip(plan.points, plan.points[1:])]
    if min(intervals) <= 0.0:
        return found + ['times not increasing']
    if plan.points[0][0] > traj.dt + traj.dt_tolerance or plan.points[0][0] < 0.0:
        found.append(f'first point at {plan.points[0][0]} s')
    if any(abs(d - traj.dt) > traj.dt_tolerance for d in intervals):
        found.append('spacing')
    speed, yaw_rate, lateral = peaks(plan)
    # A relative margin: the gate's signed speed and this magnitude round differently.
    margin = 1.0 + 1e-9
    if speed > max(env.max_linear_speed, env.max_reverse_speed) * margin:
        found.append(f'speed {speed}')
    if yaw_rate > env.max_angular_speed * margin:
        found.append(f'yaw rate {yaw_rate}')
    if lateral > env.max_lateral_accel * margin:
        found.append(f'lateral acceleration {lateral}')
    if plan.points[-1][0] < age + traj.actuation_delay:
        found.append('ends before the point it would be sampled at')
    return found


class PlanEpisode(fuzz.Episode):
    """The core fuzzer's episode with a unicycle vehicle and a planner that sends plans."""

    def __init__(self, rng: random.Random, cfg: config.GateConfig) -> None:
        """Draw the planner's rate, format and route on top of the episode's fault mix."""
        super().__init__(rng, cfg)
        # Calmer than the core fuzzer's mix: a plan is approved only while odometry places
        # the vehicle, so most episodes must leave it working long enough to drive.
        self.mix = {name: rng.choice(CALM_ODDS) for name in fuzz.DISTURBANCES}
        self.broken_share = rng.choice(BROKEN_SHARES)
        # The 1.5 node's 10 Hz, or the 2 Super node's 2 to 3.35 s between plans.
        self.plan_every = rng.choice([5, 5, 10, 100])
        self.variant = rng.choice([(20, 0.0), (64, 0.1)])  # (points, first point's time)
        # The route the planner drives: (speed, what it holds while turning, its value).
        self.route: Tuple[float, str, float] = (0.0, 'curvature', 0.0)
        self.route = self._new_route()
        self.speeds: List[Tuple[float, float]] = []  # (t, v) over the last _HISTORY periods
        self.last_plan_stamp = self.now
        # Stamped on publishing (the 1.5 node), at the camera time before 3.35 s of
        # inference (the 2 Super node), or by a planner always a little too late.
        max_age = cfg.trajectory.max_age
        self.latency = rng.choice([0.0, 0.0, 0.0, min(max_age, 3.35), min(max_age, 3.35),
                                   max_age + rng.uniform(0.0, 0.2)])
        # Released, reset and driving from the start in most episodes.
        self.warm_start = rng.random() < 0.8

    def _move(self) -> None:
        vehicle = self.vehicle
        for axis in (0, 1):
            vehicle[axis] += 0.3 * (self.output[axis] - vehicle[axis])
        v, w, x, y, yaw = vehicle
        heading = yaw + w * fuzz.PERIOD / 2.0
        vehicle[2:] = [x + v * fuzz.PERIOD * math.cos(heading),
                       y + v * fuzz.PERIOD * math.sin(heading), yaw + w * fuzz.PERIOD]
        self.speeds = (self.speeds + [(self.now, v)])[-_HISTORY:]

    def _planner(self) -> Iterator[Tuple[float, object]]:
        rng = self.rng
        if self._hit('silent_planner'):
            return
        if rng.random() < ROUTE_CHANGES * self.plan_every * fuzz.PERIOD:
            self.route = self._new_route()
        kind = 'nominal'
        if rng.random() < self.broken_share:
            kind = rng.choices(list(BROKEN), list(BROKEN.values()))[0]
        plan = self._draw(kind)
        self.last_plan_stamp = plan.stamp
        events: List[object] = [plan]
        if rng.random() < 0.3:
            events.append(Reasoning(rng.choice(['the road bends', 'NaN', '']), plan.stamp))
        if self.cfg.confidence.required or rng.random() < 0.2:
            confidence = rng.uniform(0.6, 1.0)
            if self._hit('unsure_planner'):
                confidence = rng.uniform(0.0, 1.0)
            meta = Meta(plan.stamp, confidence, fuzz.MODEL, 'plan')
            if self._hit('meta_fault'):
                meta = Meta(plan.stamp + 0.001, confidence, fuzz.MODEL, 'mismatch')
            # A meta sent after its plan: the plan waits for it, within pairing_wait.
            events.insert(0 if rng.random() < 0.95 else len(events), meta)
        for event in events:
            yield self.now, event

    def events(self, periods: int) -> Iterator[Tuple[float, object]]:
        """Yield the episode's events, after a warm start (released and reset) if drawn."""
        if self.warm_start:
            yield self.now, Estop(False)
            yield self.now, Odom(0.0, 0.0, 0.0, 0.0, self.now)
            yield self.now, Imu(0.0, self.now)
            yield self.now, Reset()
        yield from super().events(periods)

    def _new_route(self) -> Tuple[float, str, float]:
        """Return a new route: on a limit, or inside them keeping the curvature half the time."""
        rng, env = self.rng, self.cfg.envelope
        if rng.random() < LIMIT_SHARE:
            return self._on_a_limit(rng.choice(LIMITS), rng.choice(SCALES))
        speed = rng.uniform(0.2, 0.9) * env.max_linear_speed
        if rng.random() < 0.15:
            speed = -rng.uniform(0.0, 0.9) * env.max_reverse_speed
        bound = min(self.cfg.trajectory.max_curvature, env.max_angular_speed / max(
            abs(speed), 0.1), env.max_lateral_accel / max(speed * speed, 0.01))
        curvature = rng.uniform(-0.8, 0.8) * bound
        if rng.random() < 0.5 and self.route[1] == 'curvature':
            curvature = math.copysign(min(abs(self.route[2]), 0.8 * bound), self.route[2])
        return speed, 'curvature', curvature

    def _curvature(self, speed: float, turn: str, value: float) -> float:
        """Return the route's curvature at ``speed``.

        Held, or keeping a yaw rate or a lateral acceleration (inside the
        curvature limit), so that slowing into a bend tightens it.
        """
        if turn == 'curvature':
            return value
        bound = self.cfg.trajectory.max_curvature
        turning = value / abs(speed) if turn == 'yaw_rate' else value / (speed * speed)
        return math.copysign(min(abs(turning), 0.98 * bound), value) if speed else 0.0

    def _late_command(self) -> Iterator[Tuple[float, object]]:
        """Deliver a plan stamped a few periods ago now: out of order after a newer one."""
        plan = self._draw('nominal')
        yield self.now, Plan(self.now - self.rng.uniform(0.0, 6 * fuzz.PERIOD), plan.frame_id,
                             plan.points, plan.source)

    def _speed_at(self, stamp: float) -> float:
        """Return the vehicle's speed at ``stamp``: the plan starts from it."""
        past = [v for t, v in self.speeds if t <= stamp]
        return past[-1] if past else 0.0

    def _draw(self, kind: str) -> Plan:
        """Return a plan of ``kind`` (nominal, or one of :data:`BROKEN`) from the vehicle."""
        # In the vehicle's frame at the stamp: every plan starts at the origin.
        rng, cfg = self.rng, self.cfg
        env, traj = cfg.envelope, cfg.trajectory
        count, first = self.variant
        dt = traj.dt
        stamp = self.now - self.latency
        if kind == 'stale':
            stamp -= traj.max_age + rng.uniform(1e-6, 0.2)
        elif kind == 'future':
            stamp += cfg.future_tolerance + rng.uniform(1e-6, 0.5)
        elif kind == 'old_stamp':
            stamp = self.last_plan_stamp - rng.choice([0.0, rng.uniform(0.0, 0.5)])
        elif kind == 'spacing':
            dt *= rng.choice([0.5, 1.5, 2.0])
            first = rng.choice([first, dt + traj.dt + traj.dt_tolerance * 2])
        elif kind in ('size', 'short'):
            count = rng.choice([0, 1]) if kind == 'size' else rng.randint(2, 10)
        v0 = self._speed_at(stamp)
        target, turn, value = self.route
        accel, jerk = 0.8 * env.max_linear_accel, 0.8 * traj.max_jerk
        if kind == 'flip':
            turn, value = 'curvature', -math.copysign(
                max(abs(self._curvature(target, turn, value)), 0.5 * traj.max_curvature),
                value or 1.0)
        speeds = ramp(v0, target, accel, jerk, max(count - 1, 0), dt)
        if kind == 'late_overspeed':
            late = int(0.7 * len(speeds))
            speeds[late:] = ramp(speeds[late - 1] if late else v0, 1.5 * env.max_linear_speed,
                                 accel, jerk, len(speeds) - late, dt)
        means = [(a + b) / 2.0 for a, b in zip([v0] + speeds, speeds)]
        points = rollout(v0, [(s, self._curvature(mean, turn, value))
                              for s, mean in zip(speeds, means)], dt, first)[:max(count, 0)]
        if kind == 'backward':
            # The logged rollout: 10.6 m behind the axle, sweeping 27 m backwards.
            points = [(first + i * dt, -10.6 - 27.0 * i / 63, 0.0, 0.0) for i in range(count)]
        elif kind == 'kink' and len(points) > 4:
            i = rng.randrange(1, len(points) - 1)
            t, x, y, yaw = points[i]
            points[i] = (t, x, y + rng.choice([-1.0, 1.0]) * rng.uniform(0.05, 0.5), yaw)
        elif kind in ('non_finite', 'huge') and points:
            i, j = rng.randrange(len(points)), rng.randrange(4)
            point = list(points[i])
            point[j] = rng.choice(fuzz.SPECIAL[:3] if kind == 'non_finite' else
                                  (1e308, -1e308, 1e300, 5e-324))
            points[i] = tuple(point)
            if kind == 'non_finite' and rng.random() < 0.2:
                stamp = math.nan
        elif kind == 'time_order' and len(points) > 2:
            i = rng.randrange(1, len(points) - 1)
            points[i], points[i + 1] = ((points[i + 1][0],) + points[i][1:],
                                        (points[i][0],) + points[i + 1][1:])
            if rng.random() < 0.5:
                points[i + 1] = (points[i][0],) + points[i + 1][1:]
        frame = rng.choice(['map', '', 'base_link ']) if kind == 'frame' else FRAME
        return Plan(stamp, frame, tuple(points), cfg.planner.input)

    def _on_a_limit(self, which: str, scale: float) -> Tuple[float, str, float]:
        """Return a route at ``scale`` times one limit."""
        env, traj = self.cfg.envelope, self.cfg.trajectory
        sign = self.rng.choice([-1.0, 1.0])
        if which == 'speed':
            return env.max_linear_speed * scale, 'curvature', 0.0
        if which == 'reverse':
            return -env.max_reverse_speed * scale, 'curvature', 0.0
        # A speed at which the other turning limits hold, where there is one.
        value = {'curvature': traj.max_curvature, 'yaw_rate': env.max_angular_speed,
                 'lateral': env.max_lateral_accel}[which] * scale
        low, high = {
            'curvature': (0.0, min(env.max_angular_speed / value,
                                   math.sqrt(env.max_lateral_accel / value))),
            'yaw_rate': (value / traj.max_curvature, env.max_lateral_accel / value),
            'lateral': (max(value / env.max_angular_speed, math.sqrt(value / traj.max_curvature)),
                        math.inf)}[which]
        high = min(high, 0.9 * env.max_linear_speed)
        # Low in that range: from a faster route the plan slows into the bend at the limit,
        # where the sampled command (speed and curvature interpolated) can cross it.
        speed = self.rng.uniform(low, low + 0.3 * (high - low)) if low < high else (
            self.rng.uniform(0.3, 0.8) * env.max_linear_speed)
        return speed, which, sign * value


class PlanAudit:
    """What trajectory mode owes the planner's plans, from the input events alone.

    * a plan, decided on arrival or after waiting for its meta, is never
      approved if :func:`must_refuse` names anything at its arrival, nor if
      its stamp is not newer than every plausible stamp decided before it
      (since start, or the clock's last step back; a plan refused as
      superseded counts as decided);
    * any other APPROVE follows the latest plan decided, approved, and at
      a time its horizon still covers (its last point at or after the age plus
      ``trajectory.actuation_delay``): a refused plan is never followed;
    * while the e-stop input is held every decision is ESTOP with zero output.

    The one answer of the gate it takes is an accepted reset from the latch
    (a reset decision after an ESTOP), which voids the plans before it.
    """

    def __init__(self, cfg: config.GateConfig) -> None:
        """Audit a core configured with ``cfg``."""
        self.cfg = cfg
        self.held = False
        self.newest: Optional[float] = None
        self.in_force: Optional[Plan] = None  # the latest plan decided, if approved
        self.awaiting: Optional[Tuple[Plan, float]] = None  # a plan and its arrival
        self.last_now = -math.inf
        self.last_verdict: Optional[Verdict] = None
        self.regions: Counter = Counter()

    def step(self, now: float, event: object, decisions: Sequence[Decision],
             pending: object) -> List[str]:
        """Audit one step."""
        if now < self.last_now:
            self.newest = self.in_force = None
        self.last_now = now
        if isinstance(event, Estop):
            self.held = event.engaged
        found = []
        # A plan's decision can come with it, with its meta or at a tick after the wait;
        # a superseded refusal in the same step is the one waiting before it.
        arriving = (event, now) if isinstance(event, Plan) else None
        for decision in decisions:
            if decision.trigger == 'superseded':
                if self.awaiting is not None:
                    self._decided(self.awaiting[0].stamp, now)
                    self.awaiting = None
            else:
                if arriving is not None:
                    self.awaiting, arriving = arriving, None
                if decision.trigger in ('plan', 'pairing_timeout') and self.awaiting:
                    found += self._plan(now, *self.awaiting, decision)
                    self.awaiting = None
            found += self._decision(now, decision)
            self.last_verdict = decision.verdict
        if arriving is not None:
            self.awaiting = arriving
        return found

    def _decided(self, stamp: float, now: float) -> None:
        if math.isfinite(stamp) and stamp - now <= self.cfg.future_tolerance:
            self.newest = stamp if self.newest is None else max(self.newest, stamp)

    def _plan(self, now: float, plan: Plan, arrived: float, decision: Decision) -> List[str]:
        cfg = self.cfg
        refuse = must_refuse(plan, arrived, cfg)
        if self.newest is not None and not plan.stamp > self.newest:
            refuse.append(f'stamp {plan.stamp} after {self.newest}')
        self._decided(plan.stamp, now)
        approved = decision.verdict.approves
        self.in_force = plan if approved else None
        self.regions['plans must refuse' if refuse else 'plans may approve'] += 1
        self.regions['plans approved'] += approved
        if approved and near_a_limit(plan, cfg):
            self.regions['plans approved near a limit'] += 1
        if approved and refuse:
            return [f'approved a plan the configuration refuses ({", ".join(refuse)}): '
                    f'{plan.points[:3]}...']
        return []

    def _decision(self, now: float, decision: Decision) -> List[str]:
        found = []
        if decision.trigger == 'reset' and self.last_verdict is Verdict.ESTOP:
            self.in_force = None
        if self.held and (decision.verdict is not Verdict.ESTOP or (
                decision.output.v, decision.output.w) != (0.0, 0.0)):
            found.append(f'{decision.verdict.value} {decision.output} while the e-stop input '
                         'is held')
        if decision.verdict.approves and decision.trigger != 'plan':
            plan = self.in_force
            if plan is None:
                found.append(f'{decision.trigger} approved with no plan in force')
            elif plan.points[-1][0] < now - plan.stamp + self.cfg.trajectory.actuation_delay:
                found.append(f'{decision.trigger} approved {now - plan.stamp:.3f} s after a '
                             f'plan that ends at {plan.points[-1][0]} s')
        return found


TRAJECTORY = fuzz.Campaign(
    'trajectory', random_config, PlanEpisode,
    lambda cfg: (fuzz.DecisionInvariant(cfg), PlanAudit(cfg)))
