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


def profile(plan: Plan, min_segment_length: float) -> Profile:
    """Recompute the plan's kinematics; its times must be finite and strictly increasing."""
    t, x, y, yaw = np.asarray(plan.points, dtype=float).reshape(-1, 4).T
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


def segment_at(knots: np.ndarray, value: float) -> int:
    """Return the segment of increasing ``knots`` (the times or the arc) that holds ``value``.

    Outside the knots it is the first or the last segment.
    """
    return min(max(int(knots.searchsorted(value, side='right')) - 1, 0), len(knots) - 2)
