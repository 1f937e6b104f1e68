# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Output shaping: rate clamps for approved commands, and the envelope guard.

``enforce_envelope`` runs on every output, approved or not. It is what makes
the invariant hold for any input sequence: no published command is
non-finite or outside the envelope.
"""

import math
import sys
from typing import List, Optional, Tuple

from safety_gate.config import EnvelopeConfig
from safety_gate.decision import Clamp, Command, ZERO

# Shrinks a lateral-acceleration correction so rounding can never land a hair
# above the limit.
_ROUNDING_MARGIN = 1.0 - 1e-9


def _step(prev: float, target: float, max_step: float) -> float:
    # Return the target itself when it is reachable: prev + (target - prev) may
    # differ from target in the last bit, which would read as a clamp.
    if abs(target - prev) <= max_step:
        return target
    return prev + math.copysign(max_step, target - prev)


def _linear(prev: float, target: float, dt: float,
            env: EnvelopeConfig) -> Tuple[float, Optional[Clamp]]:
    """Limit the forward speed: braking at max_linear_decel, speeding up at max_linear_accel."""
    if prev * target < 0.0:
        # Reversing: brake to zero first, then speed up the other way with what is left of dt.
        stop_time = abs(prev) / env.max_linear_decel
        if dt <= stop_time:
            return _step(prev, 0.0, env.max_linear_decel * dt), Clamp.LINEAR_DECEL
        v = _step(0.0, target, env.max_linear_accel * (dt - stop_time))
        return v, (None if v == target else Clamp.LINEAR_ACCEL)
    slowing = abs(target) < abs(prev)
    limit = env.max_linear_decel if slowing else env.max_linear_accel
    v = _step(prev, target, limit * dt)
    if v == target:
        return v, None
    return v, Clamp.LINEAR_DECEL if slowing else Clamp.LINEAR_ACCEL


def rate_limit(prev: Command, target: Command, dt: float,
               env: EnvelopeConfig) -> Tuple[Command, List[Clamp]]:
    """Move from ``prev`` toward ``target`` within the acceleration limits.

    |v| grows at most ``max_linear_accel``·dt and shrinks at most
    ``max_linear_decel``·dt (a reversal brakes to zero, then speeds up); w
    changes at most ``max_angular_accel``·dt.
    """
    dt = max(dt, 0.0)
    v, linear_clamp = _linear(prev.v, target.v, dt, env)
    w = _step(prev.w, target.w, env.max_angular_accel * dt)
    clamps = [] if linear_clamp is None else [linear_clamp]
    if w != target.w:
        clamps.append(Clamp.ANGULAR_ACCEL)
    return Command(v, w), clamps


def inside_envelope(v: float, w: float, env: EnvelopeConfig, tol: float) -> bool:
    """Return True if the finite output (v, w) is inside ``env``, every limit plus ``tol``.

    The judgement the fuzzer's invariant and the scenario metrics apply to outputs.
    """
    return (-env.max_reverse_speed - tol <= v <= env.max_linear_speed + tol
            and abs(w) <= env.max_angular_speed + tol
            and abs(v * w) <= env.max_lateral_accel + tol)


def enforce_envelope(cmd: Command, env: EnvelopeConfig) -> Tuple[Command, bool]:
    """Return the nearest command inside the envelope, and whether it changed.

    Non-finite values become zero, and so does a result that would not be
    finite. Lateral acceleration is cut by slowing down along the same
    curvature, so the path is kept.
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
        if not (math.isfinite(v) and math.isfinite(w)):
            # The config ranges keep this finite; this stays the last line of defence.
            return ZERO, True
    # A subnormal component is zero: the fallback scales both components by one factor, and
    # a subnormal one would underflow to zero before the other, switching the decay limit
    # mid-stop (and so stopping later than the stop began to promise).
    v, w = _flush_subnormal(v), _flush_subnormal(w)
    changed = (v, w) != (cmd.v, cmd.w)
    return (Command(v, w) if changed else cmd), changed


def _flush_subnormal(x: float) -> float:
    return x if abs(x) >= sys.float_info.min or x == 0.0 else 0.0
