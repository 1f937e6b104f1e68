# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The conservative command: a controlled stop along the current curvature.

Each step scales v and w by one factor, which keeps the curvature w / v: the
robot stops on the arc it was driving instead of freezing or snapping its
steering. The first step after an approval (:func:`first_step`) also lowers v
to the measured speed when odometry passes every check (never above the
stepped output, so a fallback never speeds up), scaling w with it to keep the
curvature, except that w never falls below what the yaw-rate decay leaves of
it in that step: lowering to a measured standstill must not remove a turn in
one step.

The stop is bounded by both limits: the factor is the smaller (faster) of the
two that bring v to zero within |v| / ``fallback.decel`` and w within
|w| / ``fallback.angular_decel`` (a component that is already zero has no
say). Keeping the curvature makes the other component decay faster than its
own limit, but never faster than the envelope's output limits
(``envelope.max_linear_decel``, ``envelope.max_angular_accel``): where those
bind, they set the factor, so the fallback stays inside the rate envelope.
"""

import math
from typing import Optional

from safety_gate.config import EnvelopeConfig, FallbackConfig
from safety_gate.decision import Command


def _factor(magnitude: float, rate: float, dt: float) -> float:
    """Return the factor that takes ``magnitude`` (> 0) down by ``rate * dt``, or to zero."""
    return max(0.0, magnitude - rate * dt) / magnitude


def step(prev: Command, dt: float, cfg: FallbackConfig, env: EnvelopeConfig) -> Command:
    """One fallback step of length ``dt`` from ``prev`` toward standstill."""
    dt = max(dt, 0.0)
    parts = [(abs(prev.v), cfg.decel, env.max_linear_decel),
             (abs(prev.w), cfg.angular_decel, env.max_angular_accel)]
    parts = [part for part in parts if part[0] > 0.0]
    if not parts:
        return prev
    scale = max([min(_factor(m, fb, dt) for m, fb, _ in parts)]
                + [_factor(m, limit, dt) for m, _, limit in parts])
    return Command(prev.v * scale, prev.w * scale)


def first_step(last: Command, measured_v: Optional[float], dt: float, cfg: FallbackConfig,
               env: EnvelopeConfig) -> Command:
    """Return the first fallback output after an approved ``last``: v lowered to measured."""
    stepped = step(last, dt, cfg, env)
    if measured_v is None or stepped.v == 0.0:
        return stepped
    along = measured_v if stepped.v > 0.0 else -measured_v
    scale = min(max(along, 0.0), abs(stepped.v)) / abs(stepped.v)
    if scale == 1.0:
        return stepped
    w_floor = min(abs(stepped.w), max(0.0, abs(last.w) - cfg.angular_decel * max(dt, 0.0)))
    return Command(stepped.v * scale,
                   math.copysign(max(abs(stepped.w) * scale, w_floor), stepped.w))
