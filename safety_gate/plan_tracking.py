# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The command for now from an approved plan, and whether the plan still allows a stop.

The tracking law is time-indexed speed and curvature. The plan is sampled at
``age + trajectory.actuation_delay``, where ``age = now - stamp``: the point
the vehicle should reach when the command takes effect. Speed and curvature
are interpolated between segment midpoints (where the finite differences are
exact), and the command is ``v = speed``, ``w = v * curvature``.

Why curvature and not the plan's yaw rate: the path is the curvature, and
tying w to v keeps the vehicle on it whatever slows v, which is what the
envelope guard (slows along the curvature) and the fallback (scales v and w
together) already assume. On every directed segment ``v * curvature`` is the
plan's own yaw rate, so nothing is lost; a segment too short to have a
direction is followed without turning.

The law is feedforward: it does not steer back toward the path. The loop is
closed by the planner, which draws every plan from the vehicle's current
state, and by the gate, which refuses a plan whose point for now is off the
vehicle (``plan_checks.ego``) and stops when plans stop coming.
"""

from dataclasses import dataclass

from safety_gate.config import GateConfig
from safety_gate.decision import Check, Command, Reason
from safety_gate.ego_motion import wrap
from safety_gate.plan_fallback import stopping
from safety_gate.plan_profile import Profile, segment_at, value_at


@dataclass(frozen=True)
class Sample:
    """The plan at one time: pose (plan frame), signed speed and curvature."""

    x: float
    y: float
    yaw: float
    speed: float
    curvature: float


# m: a last segment at most this long stands still (1 cm/s at the wrapper's 0.1 s),
# far below a crawl that still needs the margin and above a standing plan's rounding.
AT_REST = 0.001


def sample(prof: Profile, t: float) -> Sample:
    """Return the plan at its time ``t``, held at its first or last point outside them."""
    t = min(max(t, float(prof.t[0])), float(prof.t[-1]))
    i = segment_at(prof.t, t)
    f = (t - float(prof.t[i])) / float(prof.dt[i])
    x0, y0, yaw0 = float(prof.x[i]), float(prof.y[i]), float(prof.yaw[i])
    yaw = yaw0 + f * wrap(float(prof.yaw[i + 1]) - yaw0)
    return Sample(x0 + f * (float(prof.x[i + 1]) - x0), y0 + f * (float(prof.y[i + 1]) - y0),
                  wrap(yaw), value_at(prof.mid, prof.speed, t),
                  value_at(prof.mid, prof.curvature, t))


def command(prof: Profile, age: float, cfg: GateConfig) -> Command:
    """Return the command for a plan ``age`` seconds after its stamp (see the module doc)."""
    point = sample(prof, age + cfg.trajectory.actuation_delay)
    return Command(point.speed, point.speed * point.curvature)


def remaining_stop_feasible(prof: Profile, age: float, speed: float,
                            cfg: GateConfig) -> Check:
    """Judge whether the plan left after ``age`` still holds a stop from ``speed``.

    A fallback decided now acts from the sample point (a delay ahead) and is
    the fallback's stop: ramping at ``trajectory.stop_jerk`` to
    ``fallback.decel``. From the sample point the plan must last that stop's
    time plus ``trajectory.horizon_margin``, and its path must hold the stop's
    distance plus the margin driven at ``speed``, so the stop ends on the path.
    A plan whose last segment stands still (:data:`AT_REST` m) ends at rest:
    its path holds its own stop, so only the fallback's stop itself must fit
    in it, without the margin (with it, a planned stop at half
    ``fallback.decel`` is refused below 2 * decel * margin = 0.4 m/s).
    Value and limit are [time s, distance m].
    """
    traj = cfg.trajectory
    start = age + traj.actuation_delay
    speed = abs(speed)
    stop_time, stop_distance = stopping(speed, cfg.fallback.decel, traj.stop_jerk)
    left = [float(prof.t[-1] - start),
            float(prof.arc[-1]) - value_at(prof.t, prof.arc, start)]
    margin = 0.0 if prof.length[-1] <= AT_REST else traj.horizon_margin
    needed = [stop_time + margin, stop_distance + speed * margin]
    return Check('plan.horizon', left[0] >= needed[0] and left[1] >= needed[1], left, needed,
                 Reason.PLAN_HORIZON_SHORT)
