# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Output shaping: rate clamps for approved commands, and the envelope guard.

``enforce_envelope`` runs on every output, approved or not. It is what makes
the invariant hold for any input sequence: no published command is
non-finite or outside the envelope.
"""

import math
from typing import List, Tuple

from safety_gate.config import EnvelopeConfig
from safety_gate.types import Clamp, Command, ZERO

# Shrinks a lateral-acceleration correction so rounding can never land a hair
# above the limit.
_ROUNDING_MARGIN = 1.0 - 1e-9


def _step(prev: float, target: float, max_step: float) -> float:
    return prev + max(-max_step, min(max_step, target - prev))


def rate_limit(prev: Command, target: Command, dt: float,
               env: EnvelopeConfig) -> Tuple[Command, List[Clamp]]:
    """Move from ``prev`` toward ``target`` within the acceleration limits.

    Speeding up (away from zero) is limited by ``max_linear_accel``; slowing
    down or reversing direction by ``max_linear_decel``.
    """
    dt = max(dt, 0.0)
    toward_zero = prev.v * target.v < 0.0 or abs(target.v) < abs(prev.v)
    limit = env.max_linear_decel if toward_zero else env.max_linear_accel
    v = _step(prev.v, target.v, limit * dt)
    w = _step(prev.w, target.w, env.max_angular_accel * dt)
    clamps = []
    if v != target.v:
        clamps.append(Clamp.LINEAR_DECEL if toward_zero else Clamp.LINEAR_ACCEL)
    if w != target.w:
        clamps.append(Clamp.ANGULAR_ACCEL)
    return Command(v, w), clamps


def enforce_envelope(cmd: Command, env: EnvelopeConfig) -> Tuple[Command, bool]:
    """Return the nearest command inside the envelope, and whether it changed.

    Non-finite values become zero. Lateral acceleration is cut by slowing down
    along the same curvature, so the path is kept.
    """
    v, w = cmd.v, cmd.w
    if not (math.isfinite(v) and math.isfinite(w)):
        return ZERO, True
    v = max(-env.max_reverse_speed, min(env.max_linear_speed, v))
    w = max(-env.max_angular_speed, min(env.max_angular_speed, w))
    if abs(v * w) > env.max_lateral_accel:
        curvature = w / v
        v = math.copysign(math.sqrt(env.max_lateral_accel / abs(curvature)), v)
        v *= _ROUNDING_MARGIN
        w = curvature * v * _ROUNDING_MARGIN
    changed = (v, w) != (cmd.v, cmd.w)
    return (Command(v, w) if changed else cmd), changed
