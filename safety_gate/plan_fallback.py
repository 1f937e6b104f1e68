# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Trajectory mode's fallback: a jerk-limited stop along the last approved path.

The stop starts where the vehicle is on the path (the point for now of the
approved plan) at its speed, and moves along the path by the distance it
drives, so the curvature follows the path as the distance progresses
(``w = v * curvature``): the vehicle keeps to the path it was approved to
drive instead of freezing or dropping its steering (Autoware issue #13012).

The deceleration ramps up at ``trajectory.stop_jerk`` to ``fallback.decel``,
Autoware's comfortable stop. When the path left is too short for that stop,
the target becomes ``envelope.max_linear_decel``, the emergency stop, and
stays so until standstill: a stop that switched back would brake in waves.
Past the path's end the last curvature is held: nothing is known beyond it.

The speed is a magnitude here; ``direction`` (+1 or -1) is the gear the stop
started in, and the output speed carries its sign.
"""

from dataclasses import dataclass
import math
from typing import Tuple

from safety_gate.config import GateConfig
from safety_gate.decision import Command, evolve
from safety_gate.ego_motion import Pose
from safety_gate.plan_profile import Profile, segment_at, value_at

# One point of a published stop trajectory: (time from its start s, x m, y m,
# yaw rad, speed m/s) in the approved plan's frame.
StopPoint = Tuple[float, float, float, float, float]


def stopping(speed: float, decel: float, jerk: float,
             braking: float = 0.0) -> Tuple[float, float]:
    """Return (time, distance) to stop from ``speed`` (>= 0).

    The deceleration grows from ``braking`` (>= 0, what is already applied) at
    ``jerk`` up to ``decel`` and is held there until standstill.
    """
    braking = min(max(braking, 0.0), decel)
    ramp = (decel - braking) / jerk
    lost_in_ramp = braking * ramp + jerk * ramp ** 2 / 2.0
    if speed <= lost_in_ramp:
        # Standstill before the full deceleration: speed = braking t + jerk t^2 / 2.
        t = (math.sqrt(braking ** 2 + 2.0 * jerk * speed) - braking) / jerk
        return t, speed * t - braking * t ** 2 / 2.0 - jerk * t ** 3 / 6.0
    ramp_distance = speed * ramp - braking * ramp ** 2 / 2.0 - jerk * ramp ** 3 / 6.0
    left = speed - lost_in_ramp
    # left * left, not left ** 2: a float power raises on overflow, a product gives inf.
    return ramp + left / decel, ramp_distance + left * left / (2.0 * decel)


@dataclass(frozen=True)
class Stop:
    """A stop in progress along ``path``: where, how fast, how hard it brakes."""

    path: Profile
    arc: float
    speed: float
    direction: float
    # The deceleration applied now and the one it ramps toward (both >= 0).
    braking: float
    decel: float


def _remaining(stop: Stop) -> float:
    return float(stop.path.arc[-1]) - stop.arc


def _target(stop: Stop, cfg: GateConfig) -> float:
    """Return the deceleration this stop brakes toward: comfortable, or escalated."""
    emergency = cfg.envelope.max_linear_decel
    if stop.decel >= emergency:
        return stop.decel
    _, distance = stopping(stop.speed, stop.decel, cfg.trajectory.stop_jerk, stop.braking)
    return stop.decel if distance <= _remaining(stop) else emergency


def start(path: Profile, t: float, speed: float, cfg: GateConfig) -> Stop:
    """Begin a stop on ``path`` at its time ``t`` with signed ``speed`` (the last output)."""
    arc = value_at(path.t, path.arc, t)
    stop = Stop(path=path, arc=arc, speed=abs(speed), direction=1.0 if speed >= 0.0 else -1.0,
                braking=0.0, decel=cfg.fallback.decel)
    return evolve(stop, decel=_target(stop, cfg))


def step(stop: Stop, dt: float, cfg: GateConfig) -> Tuple[Stop, Command]:
    """Advance the stop by ``dt``; return it and the command for the end of the step."""
    dt = max(dt, 0.0)
    decel = _target(stop, cfg)
    jerk = cfg.trajectory.stop_jerk
    # The ramp to ``decel`` may end inside the step: the speed lost is the ramp's part
    # and the held part, so that the steps stop exactly when ``stopping`` says.
    ramp = min(dt, max(decel - stop.braking, 0.0) / jerk)
    braking = min(stop.braking + jerk * ramp, decel)
    lost = (stop.braking + braking) / 2.0 * ramp + braking * (dt - ramp)
    speed = max(0.0, stop.speed - lost)
    stop = evolve(stop, arc=stop.arc + (stop.speed + speed) / 2.0 * dt, speed=speed,
                  braking=braking if speed > 0.0 else 0.0, decel=decel)
    v = stop.direction * speed
    return stop, Command(v, v * float(stop.path.curvature[segment_at(stop.path.arc, stop.arc)]))


def _pose_along(path: Profile, arc: float) -> Pose:
    """Return the pose at distance ``arc`` along ``path``, on the last arc past its end.

    At the end itself it is the path's last pose, exactly: the last segment may
    have no length (a plan that ends turning on the spot), and the points past
    the end start from that pose too.
    """
    end = float(path.arc[-1])
    if arc < end:
        segment = segment_at(path.arc, arc)
        length = float(path.length[segment])
        f = 0.0 if length == 0.0 else (arc - float(path.arc[segment])) / length
        yaw0 = float(path.yaw[segment])
        turn = math.remainder(float(path.yaw[segment + 1]) - yaw0, 2.0 * math.pi)
        return Pose(float(path.x[segment] + f * (path.x[segment + 1] - path.x[segment])),
                    float(path.y[segment] + f * (path.y[segment + 1] - path.y[segment])),
                    yaw0 + f * turn)
    beyond, kappa = arc - end, float(path.curvature[-1])
    x, y, yaw = float(path.x[-1]), float(path.y[-1]), float(path.yaw[-1])
    direction = 1.0 if path.speed[-1] >= 0.0 else -1.0
    travelled = direction * beyond
    if abs(kappa * travelled) < 1e-9:
        return Pose(x + travelled * math.cos(yaw), y + travelled * math.sin(yaw), yaw)
    turned = kappa * travelled
    return Pose(x + (math.sin(yaw + turned) - math.sin(yaw)) / kappa,
                y - (math.cos(yaw + turned) - math.cos(yaw)) / kappa, yaw + turned)


def stop_points(stop: Stop, dt: float, cfg: GateConfig) -> Tuple[StopPoint, ...]:
    """Return the rest of the stop as points ``dt`` apart, ending at standstill.

    What the gate publishes as the stop trajectory: the decelerating speed
    profile on the path, in the approved plan's frame, from the stop's state now
    (``dt`` > 0).
    """
    time, _ = stopping(stop.speed, stop.decel, cfg.trajectory.stop_jerk, stop.braking)
    points = []
    for k in range(int(math.ceil(time / dt)) + 2):
        pose = _pose_along(stop.path, stop.arc)
        points.append((k * dt, pose.x, pose.y, pose.yaw, stop.direction * stop.speed))
        if stop.speed == 0.0:
            break
        stop, _ = step(stop, dt, cfg)
    return tuple(points)
