# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Stateless checks of one plan: structure, kinematics, the vehicle, the previous plan.

Each function returns Check records for every rule it evaluates, passing or
not, with the measured value and the limit. :func:`judge` runs them in order.
Like planning_validator it stops after the structure when the plan cannot be
measured (non-finite, fewer than two points, times not increasing): what
would follow is arithmetic on garbage, and the plan is refused anyway.

Kinematics are judged over the whole horizon, not only the first point: a
plan that overspeeds in its last second is refused now, before the gate has
followed it into that second. The vehicle and the previous plan are given
in the plan's frame by the caller (``safety_gate.ego_motion``).
"""

from dataclasses import dataclass
import math
from typing import List, Optional, Tuple

import numpy as np
from safety_gate.config import GateConfig
from safety_gate.decision import Check, Reason
from safety_gate.ego_motion import Pose, wrap
from safety_gate.events import Plan
from safety_gate.plan_profile import (
    diff, jerks, kink_angles, points_of, Profile, profile, speed_change_rates)
from safety_gate.plan_tracking import remaining_stop_feasible, sample


@dataclass(frozen=True)
class Ego:
    """The vehicle now: its pose in the plan's frame and its measured signed speed."""

    pose: Pose
    speed: float


@dataclass(frozen=True)
class Previous:
    """The previous approved plan, and the new plan's frame (its origin) in that plan's frame."""

    profile: Profile
    stamp: float
    offset: Pose
    stopping: bool = False  # the gate is stopping along it


def _peak(values: np.ndarray) -> float:
    """Return the largest value, 0 for none: a check with nothing to measure passes."""
    # The ufunc itself: ndarray.max's Python wrapper costs more than the
    # reduction on a plan's 64 values, and a plan's checks take about a dozen.
    return float(np.maximum.reduce(values, initial=0.0))


def structure(plan: Plan, now: float, cfg: GateConfig,
              points: Optional[np.ndarray] = None) -> List[Check]:
    """Check finiteness, point count, time order and spacing, frame, age and future stamp.

    ``points``: the plan's :func:`points_of`, when the caller has them already.
    """
    traj = cfg.trajectory
    points = points_of(plan) if points is None else points
    bad = np.flatnonzero(~np.isfinite(points).all(axis=1)).tolist()
    finite = not bad and math.isfinite(plan.stamp)
    count = len(points)
    times = points[:, 0]
    intervals = diff(times)
    shortest = float(intervals.min(initial=math.inf))
    first = float(times[0]) if count else 0.0
    drift = _peak(np.abs(intervals - traj.dt))
    age = now - plan.stamp if math.isfinite(plan.stamp) else math.inf
    return [
        Check('plan.finite', finite, None if finite else (bad or 'stamp'), 'finite',
              Reason.PLAN_NON_FINITE),
        Check('plan.points', traj.min_points <= count <= traj.max_points, count,
              [traj.min_points, traj.max_points], Reason.PLAN_SIZE),
        Check('plan.time_order', shortest > 0.0, shortest, '> 0',
              Reason.PLAN_TIME_NOT_INCREASING),
        Check('plan.spacing', drift <= traj.dt_tolerance, drift, traj.dt_tolerance,
              Reason.PLAN_SPACING),
        Check('plan.first_time', 0.0 <= first <= traj.dt + traj.dt_tolerance, first,
              [0.0, traj.dt + traj.dt_tolerance], Reason.PLAN_SPACING),
        Check('plan.frame', plan.frame_id == traj.frame_id, plan.frame_id, traj.frame_id,
              Reason.PLAN_FRAME),
        Check('plan.age', age <= traj.max_age, age, traj.max_age, Reason.PLAN_STALE),
        Check('plan.future', -age <= cfg.future_tolerance, -age, cfg.future_tolerance,
              Reason.STAMP_IN_FUTURE),
    ]


def kinematics(prof: Profile, cfg: GateConfig) -> List[Check]:
    """Check speeds, accelerations, jerk, turning and point spacing against the limits."""
    env, traj = cfg.envelope, cfg.trajectory
    rates = speed_change_rates(prof)
    found = [
        ('plan.speed', _peak(prof.speed), env.max_linear_speed, Reason.OVER_SPEED),
        ('plan.reverse_speed', _peak(-prof.speed), env.max_reverse_speed,
         Reason.OVER_REVERSE_SPEED),
        ('plan.accel', _peak(rates), env.max_linear_accel, Reason.PLAN_OVER_ACCEL),
        ('plan.decel', _peak(-rates), env.max_linear_decel, Reason.PLAN_OVER_DECEL),
        ('plan.jerk', _peak(np.abs(jerks(prof))), traj.max_jerk, Reason.PLAN_OVER_JERK),
        ('plan.yaw_rate', _peak(np.abs(prof.yaw_rate)), env.max_angular_speed,
         Reason.OVER_YAW_RATE),
        ('plan.lateral_accel', _peak(np.abs(prof.speed * prof.yaw_rate)),
         env.max_lateral_accel, Reason.OVER_LATERAL_ACCEL),
        ('plan.curvature', _peak(np.abs(prof.curvature)), traj.max_curvature,
         Reason.PLAN_OVER_CURVATURE),
        ('plan.kink', _peak(kink_angles(prof)), traj.max_kink_angle, Reason.PLAN_KINK),
        ('plan.interval', _peak(prof.length), traj.max_interval, Reason.PLAN_INTERVAL),
    ]
    return [Check(name, value <= limit, value, limit, reason)
            for name, value, limit, reason in found]


def _in_frame(x: np.ndarray, y: np.ndarray, pose: Pose) -> Tuple[np.ndarray, np.ndarray]:
    """Return points (x, y) given in the frame ``pose`` is in, in the frame of ``pose``."""
    dx, dy = x - pose.x, y - pose.y
    cos, sin = math.cos(pose.yaw), math.sin(pose.yaw)
    return cos * dx + sin * dy, -sin * dx + cos * dy


def _out_of_frame(x, y, pose: Pose):
    """Return points (x, y) given in the frame of ``pose`` in the frame ``pose`` is in."""
    cos, sin = math.cos(pose.yaw), math.sin(pose.yaw)
    return pose.x + cos * x - sin * y, pose.y + sin * x + cos * y


def ego(prof: Profile, age: float, vehicle: Ego, cfg: GateConfig) -> List[Check]:
    """Check the plan against the vehicle, ``age`` seconds after the plan's stamp.

    The plan's point for now must be near the vehicle, with its heading and
    speed; no point still to come may lie far behind it; and a plan may not
    travel backwards further than reversing permits.
    """
    traj = cfg.trajectory
    now = sample(prof, age)
    pose = vehicle.pose
    start = math.hypot(now.x - pose.x, now.y - pose.y)
    heading = abs(float(wrap(now.yaw - pose.yaw)))
    speed = abs(now.speed - vehicle.speed)
    ahead, _ = _in_frame(prof.x[prof.t >= age], prof.y[prof.t >= age], pose)
    behind = _peak(-ahead)
    sweep = float(np.sum(prof.length[prof.speed < 0.0]))
    sweep_limit = traj.max_behind if cfg.envelope.max_reverse_speed > 0.0 else (
        traj.backward_tolerance)
    return [
        Check('plan.start', start <= traj.start_tolerance, start, traj.start_tolerance,
              Reason.PLAN_START_FAR),
        Check('plan.heading', heading <= traj.heading_tolerance, heading,
              traj.heading_tolerance, Reason.PLAN_HEADING_DEVIATION),
        Check('plan.start_speed', speed <= traj.speed_tolerance, speed, traj.speed_tolerance,
              Reason.PLAN_SPEED_DEVIATION),
        Check('plan.behind', behind <= traj.max_behind, behind, traj.max_behind,
              Reason.PLAN_BEHIND_EGO),
        Check('plan.backward_sweep', sweep <= sweep_limit, sweep, sweep_limit,
              Reason.PLAN_BACKWARD_SWEEP),
    ]


def _distances_to_path(px: np.ndarray, py: np.ndarray, path: Profile) -> np.ndarray:
    """Return the distance to the polyline through ``path``'s points of each point beside it.

    A point whose nearest place on the path is before its start or beyond its
    end is not beside it, and left out: its distance is along the path, not
    across it. A path without a segment of length has no side.
    """
    ax, ay = path.x[:-1], path.y[:-1]
    bx, by = diff(path.x), diff(path.y)
    squared = bx * bx + by * by
    keep = squared > 0.0
    if not keep.all():
        if not keep.any():
            return np.zeros(0)
        ax, ay, bx, by, squared = ax[keep], ay[keep], bx[keep], by[keep], squared[keep]
    # Point-by-segment arrays, compared squared and with the offsets reused: the
    # plan-arrival hot spot (51 -> 32 us for 64 points on 64; make bench section 7).
    dx, dy = px[:, None] - ax, py[:, None] - ay
    raw = (dx * bx + dy * by) / squared
    f = np.minimum(np.maximum(raw, 0.0), 1.0)
    ex, ey = f * bx - dx, f * by - dy
    squared_distances = ex * ex + ey * ey
    nearest = squared_distances.argmin(axis=1)
    rows = np.arange(len(px))
    at = raw[rows, nearest]
    outside = ((nearest == 0) & (at < 0.0)) | ((nearest == len(ax) - 1) & (at > 1.0))
    return np.sqrt(squared_distances[rows, nearest][~outside])


def plan_offsets(prof: Profile, stamp: float, age: float,
                 previous: Previous) -> Optional[Tuple[float, float]]:
    """Return how far a plan lies from the ``previous`` one: (lateral m, along m).

    Lateral: the largest distance from the previous path of the new points
    whose time the previous plan also covers and that lie beside it. Along:
    the new point for now ahead of (positive) or behind the previous plan's
    point for now, along that point's heading. None when the plans share no time.
    """
    old = previous.profile
    gap = stamp - previous.stamp
    x, y = _out_of_frame(prof.x, prof.y, previous.offset)
    common = (prof.t + gap >= old.t[0]) & (prof.t + gap <= old.t[-1])
    if not common.any():
        return None
    lateral = _peak(_distances_to_path(x[common], y[common], old))
    new_now, old_now = sample(prof, age), sample(old, age + gap)
    new_x, new_y = _out_of_frame(new_now.x, new_now.y, previous.offset)
    along = ((new_x - old_now.x) * math.cos(old_now.yaw)
             + (new_y - old_now.y) * math.sin(old_now.yaw))
    return lateral, float(along)


def shift(prof: Profile, stamp: float, age: float, previous: Previous,
          cfg: GateConfig) -> List[Check]:
    """Check the new plan against the previous approved one over their common horizon.

    Laterally: every new point whose time the previous plan also covers, and
    that lies beside the previous path, must lie near it (a plan that flips
    between routes fails). Along the path: the new point for now may lie only
    so far ahead of or behind the previous plan's point for now; not judged
    while the gate stops along the previous plan, which leaves the vehicle
    behind it by design. None when the plans share no time.
    """
    traj = cfg.trajectory
    offsets = plan_offsets(prof, stamp, age, previous)
    if offsets is None:
        return []
    lateral, along = offsets
    found = [Check('plan.shift_lateral', lateral <= traj.max_lateral_shift, lateral,
                   traj.max_lateral_shift, Reason.PLAN_SHIFT)]
    if previous.stopping:
        return found
    return found + [
        Check('plan.shift_forward', max(along, 0.0) <= traj.max_forward_shift,
              max(along, 0.0), traj.max_forward_shift, Reason.PLAN_SHIFT),
        Check('plan.shift_backward', max(-along, 0.0) <= traj.max_backward_shift,
              max(-along, 0.0), traj.max_backward_shift, Reason.PLAN_SHIFT),
    ]


def judge(plan: Plan, now: float, vehicle: Optional[Ego], previous: Optional[Previous],
          cfg: GateConfig) -> Tuple[List[Check], Optional[Profile]]:
    """Run every check of ``plan`` at ``now``; return them and its profile (None if unmeasurable).

    Without the vehicle's pose in the plan's frame (no odometry at the stamp
    or now) the plan cannot be placed, which fails PLAN_EGO_UNKNOWN.
    """
    points = points_of(plan)
    found = structure(plan, now, cfg, points)
    measurable = {c.name: c.ok for c in found}
    if not (measurable['plan.finite'] and len(plan.points) >= 2
            and measurable['plan.time_order']):
        return found, None
    prof = profile(plan, cfg.trajectory.min_segment_length, points)
    age = now - plan.stamp
    found += kinematics(prof, cfg)
    if vehicle is None:
        found.append(Check('plan.ego', False, 'unknown', 'odometry at the stamp and now',
                           Reason.PLAN_EGO_UNKNOWN))
    else:
        found += ego(prof, age, vehicle, cfg)
        found.append(remaining_stop_feasible(prof, age, vehicle.speed, cfg))
    if previous is not None:
        found += shift(prof, plan.stamp, age, previous, cfg)
    return found, prof
