# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Plans for the trajectory-mode tests: the Alpamayo wrapper's formats and exact polylines.

:func:`wrapper_plan` reproduces what alpamayo-autoware publishes: 20 points at
``idx * 0.1`` from 0 (the 1.5 node) or 64 points at ``(idx + 1) * 0.1`` (the 2
Super node), in ``base_link`` at the stamp, rolled out of the model's unicycle
in (speed, curvature). :func:`polyline` builds a plan whose recomputed segment
lengths, headings and yaw rates are exactly the ones asked for, so a check
can be put on its limit.
"""

import math
from typing import Callable, Sequence

from safety_gate.events import Plan

DT = 0.1
# The two published formats: (points, index of the first point's time).
ALPAMAYO_15 = (20, 0)
ALPAMAYO_2 = (64, 1)
# Integration steps per published interval: the model's rollout is finer than 0.1 s.
_SUBSTEPS = 20


def wrapper_plan(stamp: float, speed: Callable[[float], float],
                 curvature: Callable[[float], float] = lambda t: 0.0,
                 variant=ALPAMAYO_2, frame_id: str = 'base_link') -> Plan:
    """Roll the unicycle out from the origin at t = 0 and publish it as the wrapper does."""
    count, first = variant
    x = y = yaw = t = 0.0
    h = DT / _SUBSTEPS
    points = []
    for index in range(first, first + count):
        while t < index * DT - h / 2.0:
            v, k = speed(t + h / 2.0), curvature(t + h / 2.0)
            x += v * h * math.cos(yaw + v * k * h / 2.0)
            y += v * h * math.sin(yaw + v * k * h / 2.0)
            yaw += v * k * h
            t += h
        points.append((index * DT, x, y, yaw))
    return Plan(stamp, frame_id, tuple(points), 'autoware_trajectory')


def published_speeds(plan: Plan) -> list:
    """Return the wrapper's ``longitudinal_velocity_mps``: distance / 0.1 s, 0 first."""
    xs = [(p[1], p[2]) for p in plan.points]
    return [0.0] + [math.dist(a, b) / DT for a, b in zip(xs, xs[1:])]


def polyline(lengths: Sequence[float], turns: Sequence[float], dt: float = DT,
             stamp: float = 0.0, first: float = 0.0, start=(0.0, 0.0, 0.0)) -> Plan:
    """Return a plan whose segment i is ``lengths[i]`` long (< 0: reversing) over ``dt``.

    The heading changes by ``turns[i]`` over segment i, and the segment runs
    along the heading halfway along it, so length, yaw rate and curvature
    recompute to exactly the values given.
    """
    x, y, yaw = start
    points = [(first, x, y, yaw)]
    for i, (length, turn) in enumerate(zip(lengths, turns)):
        mid = yaw + turn / 2.0
        x, y, yaw = x + length * math.cos(mid), y + length * math.sin(mid), yaw + turn
        points.append((first + (i + 1) * dt, x, y, yaw))
    return Plan(stamp, 'base_link', tuple(points), 'autoware_trajectory')


def straight(speed: float, count: int = 64, dt: float = DT, stamp: float = 0.0,
             first: float = 0.0) -> Plan:
    """Return a straight plan along x at a constant signed ``speed``."""
    return polyline([speed * dt] * (count - 1), [0.0] * (count - 1), dt, stamp, first)
