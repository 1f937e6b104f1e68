# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Where the vehicle is in a plan's frame: planar poses, frames and the odometry history.

A plan is drawn in the vehicle's own frame as it was at the plan's stamp; the
vehicle has moved since. Odometry gives the vehicle's pose in its odometry
frame at both times, and :func:`relative_pose` turns the pair into the
vehicle's pose now in the plan's frame, which is all the plan checks and the
tracking law need. Odometry drifts, but over the seconds between a stamp and
now its drift is far below the checks' tolerances.
"""

import bisect
from dataclasses import dataclass
import math
from operator import itemgetter
from typing import Optional, Sequence, Tuple


@dataclass(frozen=True)
class Pose:
    """A planar pose: position (m) and heading (rad) in some frame."""

    x: float
    y: float
    yaw: float


ORIGIN = Pose(0.0, 0.0, 0.0)
_stamp_of = itemgetter(0)


def wrap(angle):
    """Return ``angle`` (a float or a numpy array) in [-pi, pi].

    Nominally [-pi, pi); an angle a rounding error below -pi comes back as +pi,
    the same heading, so callers compare headings through ``wrap`` of their
    difference, never by the sign of a result at the seam.
    """
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


def relative_pose(origin: Pose, pose: Pose) -> Pose:
    """Return ``pose`` (given in the same frame as ``origin``) in the frame of ``origin``."""
    dx, dy = pose.x - origin.x, pose.y - origin.y
    cos, sin = math.cos(origin.yaw), math.sin(origin.yaw)
    return Pose(cos * dx + sin * dy, -sin * dx + cos * dy, wrap(pose.yaw - origin.yaw))


def pose_at(history: Sequence[Tuple[float, Pose]], t: float,
            hold: float = 0.0) -> Optional[Pose]:
    """Interpolate the odometry ``history`` ((stamp, pose), oldest first) at time ``t``.

    None when ``t`` is outside the history: a pose the odometry never measured
    is not guessed, so a plan stamped before the oldest sample kept cannot be
    placed. Up to ``hold`` after the newest sample, ``t`` gets the newest
    pose: a plan stamped on publishing is newer than any odometry the gate
    has, and the vehicle moved at most its speed times ``hold`` since.
    """
    if not history or not history[0][0] <= t <= history[-1][0] + hold:
        return None
    # The first sample at or after t (bisection: the history holds hundreds of samples).
    after = bisect.bisect_left(history, t, lo=1, key=_stamp_of)
    if after == len(history):
        return history[-1][1]
    (t0, a), (t1, b) = history[after - 1], history[after]
    f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
    return Pose(a.x + f * (b.x - a.x), a.y + f * (b.y - a.y),
                wrap(a.yaw + f * wrap(b.yaw - a.yaw)))


def vehicle_in_plan_frame(history: Sequence[Tuple[float, Pose]], stamp: float,
                          now_pose: Pose, hold: float = 0.0) -> Optional[Pose]:
    """Return the vehicle's pose now in the frame of a plan stamped ``stamp``, or None.

    ``hold``: as for :func:`pose_at`.
    """
    at_stamp = pose_at(history, stamp, hold)
    return None if at_stamp is None else relative_pose(at_stamp, now_pose)
