# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Scripted plans: the trajectory a scripted planner sends at each script time (pure, no ROS).

A test tool, not part of the safety function. The route of a
:class:`~safety_gate.kit.world.planner_script.Script` (``[duration, v, w]``
segments) becomes a reference motion over script time: the speed follows
the segments' speeds at :data:`PROFILE_ACCEL` (so no plan steps its speed),
the curvature is each segment's ``w / v``. A plan made at script time ``s``
is that reference from ``s`` on, integrated from the ego pose at the plan's
stamp (x forward, y left), in the point format of an alpamayo-autoware
:class:`~safety_gate.kit.world.alpamayo_plans.Variant`. Like a real planner
each plan starts at the vehicle, so the vehicle's lag never accumulates.

The planner faults that act on plans (``value`` default in brackets):
``nan`` (x of the middle point NaN), ``time_order`` (the middle two points'
times swapped), ``kink`` (the path turns by value [0.8] rad at the middle
of the horizon), ``backward_sweep`` (the logged rollout: 10.6 m behind the
axle, 27 m back), ``start_far`` (every point value [3.0] m to the left),
``overspeed`` (from the middle of the horizon the speed ramps at
:data:`PROFILE_ACCEL` up to value [2.0] m/s), ``yaw_rate`` (from the middle
of the horizon the yaw rate is value [2.0] rad/s), ``curvature`` (the whole
plan at curvature value [0.4] 1/m), ``flip`` (every other plan drifts
linearly to value [1.0] m left at its end: a second route), ``period``
(plans value [3.35] s apart instead of the spec's period, until the
fault's end) and
``backwards_stamp`` (stamps value [0.5] s older; the plan is still made from
the pose at that stamp).
"""

from dataclasses import dataclass
import math
import random
from typing import List, Mapping, Optional, Sequence, Tuple

from safety_gate.kit.world.alpamayo_plans import (backward_sweep, finite_differenced,
                                                  PlanPoint, Pose, VARIANTS, with_nan_pose,
                                                  with_non_monotonic_time)
from safety_gate.kit.world.planner_script import Fault, FaultKind, Script

# m/s^2: how fast the reference speed follows the route (half the envelope's accel).
PROFILE_ACCEL = 0.5
_STEP = 0.01  # s: integration step of the reference and of the plans' poses


@dataclass(frozen=True)
class PlanSpec:
    """How plans are formatted and timed: the variant, the period and the stamp's age."""

    variant: str = 'alpamayo_1_5'
    period: Tuple[float, float] = (0.1, 0.1)  # s between plans: (shortest, longest)
    latency: float = 0.0  # s the stamp is older than the publish time
    seed: int = 0  # draws the periods between shortest and longest


class Reference:
    """The route as a motion over script time: speed ramped, curvature per segment."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self._speeds: List[float] = [0.0]  # speed at i * _STEP

    def speed(self, s: float) -> float:
        """Return the reference speed at script time ``s`` in m/s; 0 before the start."""
        if s <= 0.0:
            return 0.0
        index = int(s / _STEP)
        while len(self._speeds) <= index + 1:
            t = len(self._speeds) * _STEP
            target, _ = self._script.motion_at(t - _STEP)
            last = self._speeds[-1]
            step = PROFILE_ACCEL * _STEP
            self._speeds.append(last + max(-step, min(step, target - last)))
        frac = s / _STEP - index
        return self._speeds[index] * (1.0 - frac) + self._speeds[index + 1] * frac

    def curvature(self, s: float) -> float:
        """Return the route segment's curvature at script time ``s`` in 1/m."""
        v, w = self._script.motion_at(max(s, 0.0))
        return w / v if v != 0.0 else 0.0


def _integrate(times: Sequence[float], speed, curvature) -> List[Pose]:
    """Return the poses at ``times`` (s, increasing) of a motion from the origin."""
    x = y = yaw = t = 0.0
    poses = []
    for target in times:
        while t < target - 1e-9:
            dt = min(_STEP, target - t)
            v = speed(t + 0.5 * dt)
            w = v * curvature(t + 0.5 * dt)
            heading = yaw + 0.5 * w * dt
            x += v * math.cos(heading) * dt
            y += v * math.sin(heading) * dt
            yaw += w * dt
            t += dt
        poses.append((x, y, yaw))
    return poses


def _kinked(poses: Sequence[Pose], at: int, angle: float) -> List[Pose]:
    """Return the poses with everything after point ``at`` turned by ``angle`` about it."""
    cx, cy, _ = poses[at]
    cos, sin = math.cos(angle), math.sin(angle)
    return [p if i <= at else (cx + cos * (p[0] - cx) - sin * (p[1] - cy),
                               cy + sin * (p[0] - cx) + cos * (p[1] - cy), p[2] + angle)
            for i, p in enumerate(poses)]


class PlanScript:
    """The plans of a script: which plan is due when, and what it holds."""

    def __init__(self, script: Script, spec: PlanSpec) -> None:
        if spec.variant not in VARIANTS:
            raise ValueError(f'variant {spec.variant!r} is not one of {sorted(VARIANTS)}')
        if not 0.0 < spec.period[0] <= spec.period[1]:
            raise ValueError(f'need 0 < shortest <= longest period, not {spec.period}')
        self.script, self.spec = script, spec
        self.variant = VARIANTS[spec.variant]
        self._reference = Reference(script)
        self._random = random.Random(spec.seed)
        self._flipped = False

    def next_period(self, s: float) -> float:
        """Return the time (s) from a plan sent at script time ``s`` to the next one."""
        low, high = self.spec.period
        nominal = low if low == high else self._random.uniform(low, high)
        period = self.script.faults_at(s).get(FaultKind.PERIOD)
        if period is not None:  # the nominal period again from the fault's end
            return max(min(period.amount, period.t_end - s), nominal)
        return nominal

    def stamp_age(self, s: float) -> float:
        """Return how much older than the publish time the stamp of a plan at ``s`` is."""
        stale = self.script.faults_at(s).get(FaultKind.BACKWARDS_STAMP)
        return self.spec.latency + (stale.amount if stale is not None else 0.0)

    def hold(self) -> List[PlanPoint]:
        """Return a plan standing still at the vehicle (sent before the script starts)."""
        times_ns = self.variant.times_ns()
        return finite_differenced(times_ns, [(0.0, 0.0, 0.0)] * len(times_ns))

    def plan(self, s: float) -> List[PlanPoint]:
        """Return the plan made at script time ``s``, the stamp's time (the ego frame then)."""
        faults = self.script.faults_at(s)
        times_ns = self.variant.times_ns()
        times = [t_ns / 1e9 for t_ns in times_ns]
        late = times[len(times) // 2]
        speed = self._speed(s, late, faults.get(FaultKind.OVERSPEED))
        curvature = self._curvature(s, late, speed, faults)
        if FaultKind.BACKWARD_SWEEP in faults:
            poses = backward_sweep()(times)
        else:
            poses = _integrate(times, speed, curvature)
        middle = len(poses) // 2
        if FaultKind.KINK in faults:
            poses = _kinked(poses, middle, faults[FaultKind.KINK].amount)
        offset = self._lateral_offset(faults, times)
        poses = [(x, y + dy, yaw) for (x, y, yaw), dy in zip(poses, offset)]
        points = finite_differenced(times_ns, poses)
        if FaultKind.NAN in faults:
            points = with_nan_pose(points, middle)
        if FaultKind.TIME_ORDER in faults:
            points = with_non_monotonic_time(points, middle)
        return points

    def _speed(self, s: float, late: float, overspeed: Optional[Fault]):
        ref = self._reference
        if overspeed is None:
            return lambda t: ref.speed(s + t)

        def speed(t: float) -> float:
            base = ref.speed(s + t)
            if t <= late:
                return base
            return min(max(overspeed.amount, base), base + PROFILE_ACCEL * (t - late))
        return speed

    def _curvature(self, s: float, late: float, speed, faults: Mapping[FaultKind, Fault]):
        ref = self._reference
        if FaultKind.CURVATURE in faults:
            value = faults[FaultKind.CURVATURE].amount
            return lambda t: value
        yaw_rate = faults.get(FaultKind.YAW_RATE)
        if yaw_rate is not None:
            return lambda t: (yaw_rate.amount / max(speed(t), 1e-3) if t > late
                              else ref.curvature(s + t))
        return lambda t: ref.curvature(s + t)

    def _lateral_offset(self, faults: Mapping[FaultKind, Fault],
                        times: Sequence[float]) -> List[float]:
        offset = [0.0] * len(times)
        if FaultKind.START_FAR in faults:
            offset = [faults[FaultKind.START_FAR].amount] * len(times)
        if FaultKind.FLIP in faults:
            self._flipped = not self._flipped
            if self._flipped:
                drift = faults[FaultKind.FLIP].amount
                offset = [o + drift * t / times[-1] for o, t in zip(offset, times)]
        else:
            self._flipped = False
        return offset
