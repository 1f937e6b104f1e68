# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The motion a plan describes, recomputed from its poses and times alone.

A segment joins two neighbouring points. Its speed is its length over its
duration, negative when it runs against the heading of its poses (reversing);
its yaw rate is the heading change over the duration, and its curvature the
heading change over its signed length, so that ``w = v * curvature`` holds in
either gear. A segment shorter than ``trajectory.min_segment_length`` has no
direction: its curvature is zero and it takes no part in the kink angles.
Accelerations and jerk are differences of the segment speeds between segment
midpoints.

The velocity fields of a message are never read: the Alpamayo wrapper
finite-differences them and zeroes the rest.
"""

from dataclasses import dataclass
from typing import Optional

import numpy as np
from safety_gate.ego_motion import wrap
from safety_gate.events import Plan


@dataclass(frozen=True, eq=False)
class Profile:
    """A plan's points (N) and segments (N - 1) as arrays.

    ``mid`` is each segment's midpoint time, ``arc`` the distance along the
    path at each point.
    """

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    yaw: np.ndarray
    dt: np.ndarray
    mid: np.ndarray
    length: np.ndarray
    speed: np.ndarray
    yaw_rate: np.ndarray
    curvature: np.ndarray
    directed: np.ndarray
    arc: np.ndarray


def diff(values: np.ndarray) -> np.ndarray:
    """Return the differences of neighbouring values: numpy.diff without its wrapper's cost."""
    return values[1:] - values[:-1]


def points_of(plan: Plan) -> np.ndarray:
    """Return the plan's points as rows (t, x, y, yaw)."""
    return np.asarray(plan.points, dtype=float).reshape(-1, 4)


def profile(plan: Plan, min_segment_length: float, points: Optional[np.ndarray] = None) -> Profile:
    """Recompute the plan's kinematics; its times must be finite and strictly increasing.

    ``points``: the plan's :func:`points_of`, when the caller has them already.
    """
    t, x, y, yaw = (points_of(plan) if points is None else points).T
    dt, dx, dy = diff(t), diff(x), diff(y)
    length = np.hypot(dx, dy)
    dyaw = wrap(diff(yaw))
    # A segment's sign is its direction against the heading halfway along it.
    mid_yaw = yaw[:-1] + dyaw / 2.0
    forward = dx * np.cos(mid_yaw) + dy * np.sin(mid_yaw) >= 0.0
    signed = np.where(forward, length, -length)
    directed = length >= min_segment_length
    curvature = np.divide(dyaw, signed, out=np.zeros_like(dyaw), where=directed)
    return Profile(t=t, x=x, y=y, yaw=yaw, dt=dt, mid=(t[:-1] + t[1:]) / 2.0, length=length,
                   speed=signed / dt,
                   yaw_rate=dyaw / dt, curvature=curvature, directed=directed,
                   arc=np.concatenate(([0.0], np.cumsum(length))))


def speed_change_rates(prof: Profile) -> np.ndarray:
    """Return d|v|/dt between neighbouring segment midpoints: > 0 speeding up, < 0 slowing."""
    return diff(np.abs(prof.speed)) / diff(prof.mid)


def jerks(prof: Profile) -> np.ndarray:
    """Return the rate of change of :func:`speed_change_rates` between their own midpoints."""
    rate_mid = (prof.mid[:-1] + prof.mid[1:]) / 2.0
    return diff(speed_change_rates(prof)) / diff(rate_mid)


def kink_angles(prof: Profile) -> np.ndarray:
    """Return the angles between the directions of consecutive directed segments."""
    keep = prof.directed
    heading = np.arctan2(diff(prof.y)[keep], diff(prof.x)[keep])
    return np.abs(wrap(diff(heading)))


def value_at(knots: np.ndarray, values: np.ndarray, t: float) -> float:
    """Return ``numpy.interp(t, knots, values)`` for one ``t``, bit for bit, at less cost.

    The plan-arrival path interpolates one value at a time about ten times,
    where numpy's wrapper costs more than the arithmetic (make bench, the
    trajectory core). ``knots`` increase strictly; outside them the end values hold.
    """
    if not t > knots[0]:
        return float(values[0])
    if not t < knots[-1]:
        return float(values[-1])
    i = int(knots.searchsorted(t, side='right')) - 1
    left, right = float(values[i]), float(values[i + 1])
    slope = (right - left) / (float(knots[i + 1]) - float(knots[i]))
    return slope * (t - float(knots[i])) + left


def segment_at(knots: np.ndarray, value: float) -> int:
    """Return the segment of increasing ``knots`` (the times or the arc) that holds ``value``.

    Outside the knots it is the first or the last segment.
    """
    return min(max(int(knots.searchsorted(value, side='right')) - 1, 0), len(knots) - 2)
