# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The inputs the core consumes: one frozen value per message or timer.

Times are float seconds on the node clock. A stamp is converted from ROS
(sec, nanosec) by one function, so a command and its meta with the same ROS
stamp compare equal as floats. The trace records every event, so a replay
feeds the same sequence back through the same step function.
"""

from dataclasses import dataclass
from typing import Optional, Tuple, Union


def stamp_to_seconds(sec: int, nanosec: int) -> float:
    """Convert a ROS stamp to float seconds (the one conversion used everywhere)."""
    return sec + nanosec * 1e-9


@dataclass(frozen=True)
class Proposal:
    """A planner command; ``stamp`` is the header stamp (arrival time for Twist)."""

    v: float
    w: float
    stamp: float
    stamped: bool = True


# One plan point: (time_from_start s, x m, y m, yaw rad) in the plan's frame.
PlanPoint = Tuple[float, float, float, float]


@dataclass(frozen=True)
class Plan:
    """A planner trajectory: timed poses in ``frame_id`` as it was at ``stamp``.

    Trajectory mode's counterpart of :class:`Proposal`. The poses are all the
    gate believes: speeds, accelerations and curvature are recomputed from them
    and their times (``safety_gate.plan_profile``), never read from a
    message's velocity fields, which the Alpamayo wrapper finite-differences or
    leaves at zero. ``source`` names the input it came from (``path`` or
    ``autoware_trajectory``), for the trace.
    """

    stamp: float
    frame_id: str
    points: Tuple[PlanPoint, ...]
    source: str = ''


@dataclass(frozen=True)
class Reasoning:
    """The planner's reasoning text: recorded, never parsed, never able to approve.

    ``stamp`` pairs it with the plan of the same stamp; None for an unstamped
    ``std_msgs/String``.
    """

    text: str
    stamp: Optional[float] = None


@dataclass(frozen=True)
class Meta:
    """The planner's description of the proposal with the same stamp.

    ``error`` is set when the message was oversized, malformed or of the wrong
    types, or arrived too late; only what parsed is kept, ``confidence`` too
    (for the trace: a meta with an error never passes the confidence check).
    """

    stamp: Optional[float]
    confidence: Optional[float]
    model_sha256: str = ''
    reasoning: str = ''
    error: Optional[str] = None


@dataclass(frozen=True)
class Odom:
    """Measured motion: speeds, planar pose and heading, with the header stamp.

    ``yaw`` (rad) is last and defaults to 0 for sources without a heading: a
    heading that never changes can only make the stuck check fire sooner.
    """

    v: float
    w: float
    x: float
    y: float
    stamp: float
    yaw: float = 0.0
    # The larger of the pose covariance's x and y variances (m^2); 0 when the
    # publisher leaves the covariance all zero (not filled).
    position_variance: float = 0.0


@dataclass(frozen=True)
class Imu:
    """Measured yaw rate from the IMU, with the header stamp."""

    wz: float
    stamp: float


@dataclass(frozen=True)
class Estop:
    """The e-stop input: True engages the latch; False only releases the input."""

    engaged: bool


@dataclass(frozen=True)
class Reset:
    """An operator's request to clear the latch."""


@dataclass(frozen=True)
class Tick:
    """The watchdog timer; ``late`` is how far past its period it fired (node clock)."""

    late: float = 0.0


@dataclass(frozen=True)
class ClockStall:
    """The watchdog timer on the node clock has not fired for ``1/rate_hz + monitor.max_late``.

    Measured on the steady clock, so it holds whatever the node clock does: a
    stopped ``/clock``, a wall clock stepped backwards.
    """


@dataclass(frozen=True)
class ConservativeRequest:
    """An operator's request on ``safety_gate/conservative``: True enters, False releases."""

    on: bool


@dataclass(frozen=True)
class ModelAnnouncement:
    """The model a planner says it runs, from the latched JSON topic ``planner/model``.

    ``source`` is ``planner`` (the production planner) or ``candidate`` (a shadow
    planner beside it). ``error`` is set for an announcement that did not parse:
    it still replaces the one before, so the model in charge becomes unknown.
    """

    sha256: str
    name: str = ''
    version: str = ''
    source: str = 'planner'
    error: Optional[str] = None


@dataclass(frozen=True)
class ModelFilesHashed:
    """The gate's own sha256 of ``provenance.model_files``, when hashing finished.

    ``error`` names a file that could not be read; ``sha256`` is then empty.
    """

    sha256: str
    error: Optional[str] = None


@dataclass(frozen=True)
class TraceHealth:
    """The trace writer became healthy or unhealthy."""

    ok: bool


Event = Union[Proposal, Plan, Reasoning, Meta, Odom, Imu, Estop, Reset, Tick, ClockStall,
              TraceHealth, ModelAnnouncement, ModelFilesHashed, ConservativeRequest]
