# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""What the core decides: verdicts, reason codes, commands, checks and the decision.

The node publishes a decision's output and the trace records the rest, so every
output can be traced to the checks and the inputs behind it.
"""

from dataclasses import dataclass
import enum
from typing import Optional, Tuple

from safety_gate.events import Meta, Proposal


def evolve(obj, **changes):
    """Return a copy of the frozen dataclass ``obj`` with ``changes`` applied.

    What ``dataclasses.replace`` does, about seven times faster: it copies the
    instance dict instead of re-running ``__init__``. The core's state types
    have no ``__post_init__`` and no slots, which is what makes this valid, and
    the core replaces its state on every event.
    """
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


class Verdict(str, enum.Enum):
    """What the gate did with a decision; also its state, published on change.

    ESTOP is latched: it lasts until an accepted reset.
    """

    APPROVE = 'APPROVE'
    FALLBACK = 'FALLBACK'
    ESTOP = 'ESTOP'
    # Approved under a reduced envelope (conservative mode or a canary model):
    # clamped into it; for the output it is APPROVE with a smaller envelope.
    LIMIT = 'LIMIT'

    @property
    def approves(self) -> bool:
        """Return True for APPROVE and LIMIT: the proposal drives the output."""
        return self in _APPROVING


_APPROVING = frozenset((Verdict.APPROVE, Verdict.LIMIT))


class Reason(str, enum.Enum):
    """Why a decision is not APPROVE; every failing check contributes one.

    A LIMIT decision's reasons say why the envelope is reduced.
    """

    # latch
    LATCHED_ON_START = 'LATCHED_ON_START'
    ESTOP = 'ESTOP'
    ESTOP_UNKNOWN = 'ESTOP_UNKNOWN'
    ESTOP_HEARTBEAT_LOST = 'ESTOP_HEARTBEAT_LOST'
    # the proposal itself
    NO_PROPOSAL = 'NO_PROPOSAL'
    NON_FINITE_COMMAND = 'NON_FINITE_COMMAND'
    PROPOSAL_STALE = 'PROPOSAL_STALE'
    STAMP_IN_FUTURE = 'STAMP_IN_FUTURE'
    STAMP_NOT_INCREASING = 'STAMP_NOT_INCREASING'
    SUPERSEDED = 'SUPERSEDED'
    PROPOSAL_BEFORE_RESET = 'PROPOSAL_BEFORE_RESET'
    # confidence
    CONFIDENCE_UNKNOWN = 'CONFIDENCE_UNKNOWN'
    LOW_CONFIDENCE = 'LOW_CONFIDENCE'
    HYSTERESIS = 'HYSTERESIS'
    # odometry and IMU plausibility
    ODOM_MISSING = 'ODOM_MISSING'
    ODOM_STALE = 'ODOM_STALE'
    ODOM_STAMP_IN_FUTURE = 'ODOM_STAMP_IN_FUTURE'
    ODOM_STAMP_BACKWARDS = 'ODOM_STAMP_BACKWARDS'
    ODOM_NON_FINITE = 'ODOM_NON_FINITE'
    ODOM_IMPLAUSIBLE = 'ODOM_IMPLAUSIBLE'
    ODOM_ACCEL_JUMP = 'ODOM_ACCEL_JUMP'
    ODOM_STUCK = 'ODOM_STUCK'
    TRACKING_ERROR = 'TRACKING_ERROR'
    IMU_MISSING = 'IMU_MISSING'
    IMU_STALE = 'IMU_STALE'
    IMU_STAMP_IN_FUTURE = 'IMU_STAMP_IN_FUTURE'
    IMU_NON_FINITE = 'IMU_NON_FINITE'
    IMU_ODOM_DISAGREE = 'IMU_ODOM_DISAGREE'
    # envelope veto
    OVER_SPEED = 'OVER_SPEED'
    OVER_REVERSE_SPEED = 'OVER_REVERSE_SPEED'
    OVER_YAW_RATE = 'OVER_YAW_RATE'
    OVER_LATERAL_ACCEL = 'OVER_LATERAL_ACCEL'
    # a plan (trajectory mode); its speed, reverse speed, yaw rate and lateral
    # acceleration are judged against the envelope with the reasons above
    PLAN_NON_FINITE = 'PLAN_NON_FINITE'
    PLAN_SIZE = 'PLAN_SIZE'
    PLAN_TIME_NOT_INCREASING = 'PLAN_TIME_NOT_INCREASING'
    PLAN_SPACING = 'PLAN_SPACING'
    PLAN_FRAME = 'PLAN_FRAME'
    PLAN_STALE = 'PLAN_STALE'
    PLAN_OVER_ACCEL = 'PLAN_OVER_ACCEL'
    PLAN_OVER_DECEL = 'PLAN_OVER_DECEL'
    PLAN_OVER_JERK = 'PLAN_OVER_JERK'
    PLAN_OVER_CURVATURE = 'PLAN_OVER_CURVATURE'
    PLAN_KINK = 'PLAN_KINK'
    PLAN_INTERVAL = 'PLAN_INTERVAL'
    PLAN_EGO_UNKNOWN = 'PLAN_EGO_UNKNOWN'
    PLAN_START_FAR = 'PLAN_START_FAR'
    PLAN_HEADING_DEVIATION = 'PLAN_HEADING_DEVIATION'
    PLAN_SPEED_DEVIATION = 'PLAN_SPEED_DEVIATION'
    PLAN_BEHIND_EGO = 'PLAN_BEHIND_EGO'
    PLAN_BACKWARD_SWEEP = 'PLAN_BACKWARD_SWEEP'
    PLAN_SHIFT = 'PLAN_SHIFT'
    PLAN_HORIZON_SHORT = 'PLAN_HORIZON_SHORT'
    # the gate itself
    CLOCK_JUMP_BACK = 'CLOCK_JUMP_BACK'
    CLOCK_STALLED = 'CLOCK_STALLED'
    GATE_OVERRUN = 'GATE_OVERRUN'
    TRACE_UNAVAILABLE = 'TRACE_UNAVAILABLE'
    INTERNAL_ERROR = 'INTERNAL_ERROR'
    SHUTDOWN = 'SHUTDOWN'
    # governance
    MODEL_NOT_APPROVED = 'MODEL_NOT_APPROVED'
    MODEL_UNVERIFIED = 'MODEL_UNVERIFIED'
    MODEL_CHANGED = 'MODEL_CHANGED'
    MODEL_SHADOW_ONLY = 'MODEL_SHADOW_ONLY'
    MODEL_CANARY = 'MODEL_CANARY'
    CONSERVATIVE_CONFIDENCE = 'CONSERVATIVE_CONFIDENCE'
    CONSERVATIVE_LOCALIZATION = 'CONSERVATIVE_LOCALIZATION'
    CONSERVATIVE_OPERATOR = 'CONSERVATIVE_OPERATOR'
    CONSERVATIVE_DRIFT = 'CONSERVATIVE_DRIFT'
    DRIFT_WITHDRAWN = 'DRIFT_WITHDRAWN'


class Clamp(str, enum.Enum):
    """A rate limit that changed an approved command (a clamp, not a veto)."""

    LINEAR_ACCEL = 'LINEAR_ACCEL'
    LINEAR_DECEL = 'LINEAR_DECEL'
    ANGULAR_ACCEL = 'ANGULAR_ACCEL'
    # The time since the last output was cut to one watchdog period plus
    # monitor.max_late before the limits above were applied.
    DT_BOUND = 'DT_BOUND'
    ENVELOPE = 'ENVELOPE'


@dataclass(frozen=True)
class Command:
    """A planar velocity command: forward speed v (m/s), yaw rate w (rad/s)."""

    v: float
    w: float


ZERO = Command(0.0, 0.0)


@dataclass(frozen=True)
class Check:
    """One check's outcome: measured value against its limit."""

    name: str
    ok: bool
    value: object
    limit: object
    reason: Reason


@dataclass(frozen=True)
class Model:
    """The model in charge of a decision: its sha256, where that came from, its registry entry.

    ``source`` is ``meta``, ``announcement`` or ``files``; name, version and
    stage are None when the registry has no entry for the hash.
    """

    sha256: str
    source: str
    name: Optional[str] = None
    version: Optional[str] = None
    stage: Optional[str] = None


@dataclass(frozen=True)
class Decision:
    """What the gate outputs for one step, and why."""

    t: float
    trigger: str
    verdict: Verdict
    reasons: Tuple[Reason, ...]
    checks: Tuple[Check, ...]
    proposal: Optional[Proposal]
    meta: Optional[Meta]
    output: Command
    clamps: Tuple[Clamp, ...] = ()
    model: Optional[Model] = None
