# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The conservative command: a controlled stop along the current curvature.

The ramp starts from the measured speed when odometry is trustworthy (never
above the last output, so a fallback never speeds up), else from the last
output. Each step scales v and w by one factor, which keeps the curvature
w / v: the robot stops on the arc it was driving instead of freezing or
snapping its steering. The factor is the larger of the two allowed by
``fallback.decel`` and ``fallback.angular_decel``, so neither is exceeded.
"""

from typing import Optional

from safety_gate.config import FallbackConfig
from safety_gate.types import Command


def _shrink(magnitude: float, rate: float, dt: float) -> float:
    if magnitude == 0.0:
        return 0.0
    return max(0.0, magnitude - rate * dt) / magnitude


def ramp_base(last: Command, measured_v: Optional[float]) -> Command:
    """Where a fallback starts: the last output, lowered to the measured speed."""
    if measured_v is None or last.v == 0.0:
        return last
    along = measured_v if last.v > 0.0 else -measured_v
    scale = min(max(along, 0.0), abs(last.v)) / abs(last.v)
    return Command(last.v * scale, last.w * scale)


def step(prev: Command, dt: float, cfg: FallbackConfig) -> Command:
    """One fallback step of length ``dt`` from ``prev`` toward standstill."""
    dt = max(dt, 0.0)
    scale = max(_shrink(abs(prev.v), cfg.decel, dt),
                _shrink(abs(prev.w), cfg.angular_decel, dt))
    return Command(prev.v * scale, prev.w * scale)
