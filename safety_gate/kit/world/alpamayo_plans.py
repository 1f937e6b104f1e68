# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Plans in the format the alpamayo-autoware wrapper publishes, as pure data (no ROS).

What the wrapper publishes (its alpamayo_node.py, alpamayo2_node.py and
conversions.py) differs between its two nodes; :class:`Variant` holds the
difference:

=================  =========================  ===========================
                   Alpamayo 1.5               Alpamayo 2 Super
=================  =========================  ===========================
points             20 (2.0 s)                 64 (6.4 s)
time_from_start    idx * 0.1 s (first at 0)   (idx + 1) * 0.1 s
header stamp       now() at publish           the input t0, older than now
period             0.1 s                      2.0 s to 3.35 s
=================  =========================  ===========================

Both: frame ``base_link`` (the ego frame at the stamp: x forward, y left),
``longitudinal_velocity_mps`` finite-differenced as distance to the previous
point / 0.1 s, whatever the times say (0 for the first point), every other
float field 0. A :data:`Shape` gives the poses at the points' times: the
nominal :func:`straight` and :func:`arc`, and the faults met in practice,
:func:`backward_sweep` (a logged rollout) and :func:`kink`; two faults act on a
finished plan instead: :func:`with_nan_pose` and :func:`with_non_monotonic_time`.
The stand-in node (``alpamayo_standin``) publishes these plans; the scenarios
use them directly.
"""

from dataclasses import dataclass, replace
import math
from typing import Callable, List, Sequence, Tuple

WAYPOINT_DT = 0.1  # s between points, and the divisor of the wrapper's velocities
WAYPOINT_DT_NS = 100_000_000
FRAME_ID = 'base_link'

Pose = Tuple[float, float, float]  # x (m, forward), y (m, left), yaw (rad) in the ego frame
# The poses at the given times (s after the stamp), one per time.
Shape = Callable[[Sequence[float]], List[Pose]]


@dataclass(frozen=True)
class Variant:
    """How one of the wrapper's nodes formats and times its plans."""

    name: str
    points: int
    first_step: int  # time_from_start of point idx is (idx + first_step) * 0.1 s
    stamped_at_input: bool  # header stamp: the input t0 (True) or now() at publish (False)
    period: Tuple[float, float]  # s between plans: (shortest, longest)

    def times_ns(self) -> List[int]:
        """Return every point's time_from_start in nanoseconds."""
        return [(idx + self.first_step) * WAYPOINT_DT_NS for idx in range(self.points)]


ALPAMAYO_1_5 = Variant('alpamayo_1_5', points=20, first_step=0, stamped_at_input=False,
                       period=(0.1, 0.1))
ALPAMAYO_2_SUPER = Variant('alpamayo_2_super', points=64, first_step=1, stamped_at_input=True,
                           period=(2.0, 3.35))
VARIANTS = {variant.name: variant for variant in (ALPAMAYO_1_5, ALPAMAYO_2_SUPER)}


@dataclass(frozen=True)
class PlanPoint:
    """One TrajectoryPoint as the wrapper fills it; the fields it leaves 0 are not held."""

    time_from_start_ns: int
    x: float
    y: float
    yaw: float
    longitudinal_velocity_mps: float


def straight(speed: float) -> Shape:
    """Return a straight path ahead at constant ``speed`` (m/s)."""
    return lambda times: [(speed * t, 0.0, 0.0) for t in times]


def arc(speed: float, curvature: float) -> Shape:
    """Return an arc at constant ``speed`` (m/s) and ``curvature`` (1/m, positive left)."""
    if curvature == 0.0:
        return straight(speed)

    def poses(times: Sequence[float]) -> List[Pose]:
        headings = [curvature * speed * t for t in times]
        return [(math.sin(yaw) / curvature, (1.0 - math.cos(yaw)) / curvature, yaw)
                for yaw in headings]
    return poses


def kink(speed: float, at: float, angle: float) -> Shape:
    """Return a straight path that turns abruptly by ``angle`` (rad) at time ``at`` (s)."""
    def poses(times: Sequence[float]) -> List[Pose]:
        corner = speed * at
        return [(speed * t, 0.0, 0.0) if t <= at else
                (corner + speed * (t - at) * math.cos(angle),
                 speed * (t - at) * math.sin(angle), angle)
                for t in times]
    return poses


def backward_sweep(start_behind: float = 10.6, length: float = 27.0) -> Shape:
    """Return the logged bad rollout: from ``start_behind`` m behind the axle, ``length`` m back.

    Evenly over the plan's times; the vehicle keeps facing forward (yaw 0), so
    the plan is a reverse drive, at 27 m / 6.3 s (4.3 m/s) over the 2 Super
    horizon and 27 m / 1.9 s over the 1.5 one.
    """
    def poses(times: Sequence[float]) -> List[Pose]:
        first, span = times[0], (times[-1] - times[0]) or 1.0
        return [(-start_behind - length * (t - first) / span, 0.0, 0.0) for t in times]
    return poses


def finite_differenced(times_ns: Sequence[int], poses: Sequence[Pose]) -> List[PlanPoint]:
    """Return the plan points for poses at times, velocities computed as the wrapper does.

    Distance to the previous point / 0.1 s, never from the times, 0 for the
    first point; a NaN position gives NaN velocities on both its segments.
    """
    points = []
    for idx, (time_ns, (x, y, yaw)) in enumerate(zip(times_ns, poses)):
        speed = 0.0 if idx == 0 else math.hypot(x - poses[idx - 1][0],
                                                y - poses[idx - 1][1]) / WAYPOINT_DT
        points.append(PlanPoint(time_ns, x, y, yaw, speed))
    return points


def plan(variant: Variant, shape: Shape) -> List[PlanPoint]:
    """Return one plan of ``variant`` along ``shape``."""
    times_ns = variant.times_ns()
    return finite_differenced(times_ns, shape([time_ns / 1e9 for time_ns in times_ns]))


def with_nan_pose(points: Sequence[PlanPoint], index: int) -> List[PlanPoint]:
    """Return the plan with NaN as the x of point ``index``, velocities recomputed from it."""
    poses = [(math.nan if idx == index else p.x, p.y, p.yaw) for idx, p in enumerate(points)]
    return finite_differenced([p.time_from_start_ns for p in points], poses)


def with_non_monotonic_time(points: Sequence[PlanPoint], index: int) -> List[PlanPoint]:
    """Return the plan with the times of points ``index`` and ``index + 1`` swapped.

    The poses stay where they were, so the velocities (from positions) do too.
    """
    if not 0 <= index < len(points) - 1:
        raise ValueError(f'index {index} has no next point in a {len(points)}-point plan')
    swapped = list(points)
    first, second = points[index], points[index + 1]
    swapped[index] = replace(first, time_from_start_ns=second.time_from_start_ns)
    swapped[index + 1] = replace(second, time_from_start_ns=first.time_from_start_ns)
    return swapped
