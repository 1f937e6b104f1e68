# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The conservative command: a controlled stop along the current curvature.

The ramp starts from the last output with v lowered to the measured speed when
odometry passes every check (never above the last output, so a fallback never
speeds up); w is never removed in one step. Each step scales v and w by one
factor, which keeps the curvature w / v: the robot stops on the arc it was
driving instead of freezing or snapping its steering.

The stop is bounded by both limits: the factor is the smaller (faster) of the
two that bring v to zero within |v| / ``fallback.decel`` and w within
|w| / ``fallback.angular_decel`` (a component that is already zero has no
say). Keeping the curvature makes the other component decay faster than its
own limit, but never faster than the envelope's output limits
(``envelope.max_linear_decel``, ``envelope.max_angular_accel``): where those
bind, they set the factor, so the fallback stays inside the rate envelope.
"""

from typing import Optional

from safety_gate.config import EnvelopeConfig, FallbackConfig
from safety_gate.types import Command


def ramp_base(last: Command, measured_v: Optional[float]) -> Command:
    """Where a fallback starts: the last output, v lowered to the measured speed."""
    if measured_v is None or last.v == 0.0:
        return last
    along = measured_v if last.v > 0.0 else -measured_v
    scale = min(max(along, 0.0), abs(last.v)) / abs(last.v)
    return Command(last.v * scale, last.w)


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
