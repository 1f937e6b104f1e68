# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""What the gate draws on ``safety_gate/markers``: a live view of a decision for RViz.

Everything is drawn in the vehicle's frame, on the ground plane, in one
picture of the command space: x is forward speed (1 m per m/s, where the
vehicle would be after one second) and y is yaw rate (1 m per rad/s, left
turns to the left). In that picture:

- ``envelope``: the outline of the envelope's vetoes (forward and reverse
  speed, yaw rate, the lateral acceleration cutting the corners); a command
  inside it passes them. The rate clamps are not drawn.
- ``output`` and ``proposal``: each command as an arrow along x as long as its
  speed, one along y as long as its yaw rate, and a dot at (speed, yaw rate),
  coloured by the verdict: approved green, limited (approved, but a clamp
  changed it) amber, fallback orange, e-stop red. The proposal is wider and
  translucent, so the output shows inside it where they agree.
- ``verdict``: the verdict, its reasons and clamps as text above the vehicle.
- in trajectory mode, on the ground plane in metres: ``proposed_plan`` (the
  latest plan, translucent, in the verdict's colour), ``approved_plan`` (what
  the gate follows, on APPROVE) and ``stop_plan`` (the stop it drives
  otherwise), as :mod:`plan_output` publishes them.

The shapes are plain values; :func:`fill` turns them into a
visualization_msgs/MarkerArray by attribute (no rclpy import), like
``plan_output`` fills its messages. Nothing here decides: the view is built
after the command is out, and never read back.
"""

from dataclasses import dataclass
import enum
import math
from typing import Callable, List, Optional, Sequence, Tuple

from safety_gate import plan_output
from safety_gate.config import EnvelopeConfig, GateConfig
from safety_gate.decision import Command, Decision, Verdict
from safety_gate.events import Proposal
from safety_gate.plan_mode import PlanState

Rgba = Tuple[float, float, float, float]
Point = Tuple[float, float, float]

APPROVED: Rgba = (0.1, 0.8, 0.1, 1.0)
LIMITED: Rgba = (1.0, 0.75, 0.0, 1.0)
FALLBACK: Rgba = (1.0, 0.4, 0.0, 1.0)
ESTOP: Rgba = (0.9, 0.0, 0.0, 1.0)
ENVELOPE: Rgba = (0.6, 0.6, 0.6, 1.0)
PROPOSAL_ALPHA = 0.4

OUTPUT_WIDTH = 0.04  # arrow shaft and dot diameter, m
PROPOSAL_WIDTH = 0.1
LINE_WIDTH = 0.03
TEXT_HEIGHT = 0.15
TEXT_Z = 0.6  # above the vehicle's origin, m
# A plan may hold trajectory.max_points (up to 10000) points, or more when it is refused for
# it; every n-th is drawn so that a strip stays this short, its end kept.
MAX_STRIP_POINTS = 500
# Points per quarter of the envelope's lateral-acceleration curve.
_CURVE_SAMPLES = 16


class Kind(enum.Enum):
    """A shape's kind, named as visualization_msgs/Marker names its type constants."""

    ARROW = 'ARROW'
    LINE_STRIP = 'LINE_STRIP'
    SPHERE = 'SPHERE'
    TEXT_VIEW_FACING = 'TEXT_VIEW_FACING'


@dataclass(frozen=True)
class Shape:
    """One marker: ``points`` are an arrow's start and end, a strip's points, a dot's centre.

    ``width`` is an arrow's shaft, a strip's line, a dot's diameter or a
    text's height, in metres; ``ident`` tells shapes of one namespace apart.
    """

    ns: str
    ident: int
    kind: Kind
    points: Tuple[Point, ...]
    color: Rgba
    width: float
    text: str = ''


def verdict_color(decision: Decision) -> Rgba:
    """Return the colour of a decision: approved, limited, fallback or e-stop."""
    if decision.verdict is Verdict.APPROVE:
        return LIMITED if decision.clamps else APPROVED
    if decision.verdict is Verdict.LIMIT:
        return LIMITED
    return FALLBACK if decision.verdict is Verdict.FALLBACK else ESTOP


def envelope_outline(env: EnvelopeConfig) -> Tuple[Point, ...]:
    """Return the closed outline of the envelope's vetoes in the (speed, yaw rate) picture."""
    def speed_limit(limit: float, yaw_rate: float) -> float:
        return limit if yaw_rate == 0.0 else min(limit, env.max_lateral_accel / abs(yaw_rate))

    # The yaw rates across the limits, with those where a speed limit meets the
    # lateral-acceleration curve, so each corner is drawn exactly.
    w_max = env.max_angular_speed
    rates = {w_max * k / _CURVE_SAMPLES for k in range(_CURVE_SAMPLES + 1)}
    for limit in (env.max_linear_speed, env.max_reverse_speed):
        if limit > 0.0 and env.max_lateral_accel / limit < w_max:
            rates.add(env.max_lateral_accel / limit)
    across = sorted(rates | {-w for w in rates})
    # Counter-clockwise: the forward edge upwards, the reverse edge downwards, closed.
    ring = ([(speed_limit(env.max_linear_speed, w), w) for w in across]
            + [(-speed_limit(env.max_reverse_speed, w), w) for w in reversed(across)])
    return tuple((v, w, 0.0) for v, w in ring + ring[:1])


def _command_shapes(ns: str, command: Command, color: Rgba, width: float) -> List[Shape]:
    v, w = command.v, command.w
    if not (math.isfinite(v) and math.isfinite(w)):
        return []  # NON_FINITE_COMMAND says so; RViz refuses non-finite points
    found = [Shape(ns, 2, Kind.SPHERE, ((v, w, 0.0),), color, width)]
    # A zero-length arrow has no direction: it is left out, the dot remains.
    if v != 0.0:
        found.append(Shape(ns, 0, Kind.ARROW, ((0.0, 0.0, 0.0), (v, 0.0, 0.0)), color, width))
    if w != 0.0:
        found.append(Shape(ns, 1, Kind.ARROW, ((0.0, 0.0, 0.0), (0.0, w, 0.0)), color, width))
    return found


def _strip(ns: str, points: Sequence[plan_output.OutPoint], color: Rgba) -> List[Shape]:
    finite = [(x, y, 0.0) for _, x, y, _, _ in points if math.isfinite(x) and math.isfinite(y)]
    if len(finite) < 2:
        return []
    stride = math.ceil(len(finite) / MAX_STRIP_POINTS)
    drawn = finite[::stride]
    if drawn[-1] != finite[-1]:
        drawn.append(finite[-1])
    return [Shape(ns, 0, Kind.LINE_STRIP, tuple(drawn), color, LINE_WIDTH)]


def _plan_shapes(decision: Decision, plans: PlanState, color: Rgba,
                 cfg: GateConfig) -> List[Shape]:
    found: List[Shape] = []
    latest = plans.latest
    if latest is not None and latest.points:
        sent = [(t, x, y, yaw, 0.0) for t, x, y, yaw in latest.points]
        found += _strip('proposed_plan', plan_output.in_vehicle_frame_now(
            plans, latest.stamp, sent, cfg), color[:3] + (PROPOSAL_ALPHA,))
    approved = decision.verdict.approves
    if plans.approved is not None and (approved or plans.stop is not None):
        driven = plan_output.points(plans, approved, decision.t, cfg)
        found += _strip('approved_plan' if approved else 'stop_plan', driven,
                        APPROVED if approved else FALLBACK)
    return found


def _label(decision: Decision) -> str:
    words = [decision.verdict.value, *(r.value for r in decision.reasons)]
    if decision.clamps:
        words.append('limited: ' + ' '.join(c.value for c in decision.clamps))
    return ' '.join(words)


def shapes(decision: Decision, plans: Optional[PlanState], cfg: GateConfig) -> Tuple[Shape, ...]:
    """Return the view of ``decision``; ``plans`` is trajectory mode's state (None: twist mode)."""
    color = verdict_color(decision)
    found = [Shape('envelope', 0, Kind.LINE_STRIP, envelope_outline(cfg.envelope), ENVELOPE,
                   LINE_WIDTH)]
    found += _command_shapes('output', decision.output, color, OUTPUT_WIDTH)
    if isinstance(decision.proposal, Proposal):
        proposal = Command(decision.proposal.v, decision.proposal.w)
        found += _command_shapes('proposal', proposal, color[:3] + (PROPOSAL_ALPHA,),
                                 PROPOSAL_WIDTH)
    found.append(Shape('verdict', 0, Kind.TEXT_VIEW_FACING, ((0.0, 0.0, TEXT_Z),), color,
                       TEXT_HEIGHT, _label(decision)))
    if plans is not None:
        found += _plan_shapes(decision, plans, color, cfg)
    return tuple(found)


def _set_point(point, xyz: Point):
    point.x, point.y, point.z = (float(value) for value in xyz)
    return point


def _fill_marker(marker, point_type: Callable, delete_all: bool, shape: Optional[Shape],
                 stamp_ns: int, frame_id: str) -> None:
    plan_output.set_header(marker.header, stamp_ns, frame_id)
    if delete_all:
        marker.action = marker.DELETEALL
        return
    marker.ns, marker.id = shape.ns, shape.ident
    marker.type = getattr(marker, shape.kind.name)
    marker.action = marker.ADD
    marker.pose.orientation.w = 1.0
    # Drawn in the vehicle's frame: the view moves with it between publishes.
    marker.frame_locked = True
    width = shape.width
    if shape.kind is Kind.ARROW:
        marker.scale.x, marker.scale.y = width, 2.0 * width  # shaft, head diameters
    elif shape.kind is Kind.SPHERE:
        marker.scale.x = marker.scale.y = marker.scale.z = width
    elif shape.kind is Kind.TEXT_VIEW_FACING:
        marker.scale.z = width
        marker.text = shape.text
    else:
        marker.scale.x = width
    color = marker.color
    color.r, color.g, color.b, color.a = shape.color
    if shape.kind in (Kind.ARROW, Kind.LINE_STRIP):
        marker.points = [_set_point(point_type(), xyz) for xyz in shape.points]
    else:
        _set_point(marker.pose.position, shape.points[0])


def fill(marker_type: Callable, point_type: Callable, msg, stamp_ns: int, frame_id: str,
         found: Sequence[Shape]):
    """Fill a MarkerArray: a DELETEALL first, so what a decision no longer has disappears.

    Every marker is stamped ``stamp_ns`` (the decision's time) in ``frame_id``
    (the vehicle's frame).
    """
    markers = []
    for shape in (None, *found):
        marker = marker_type()
        _fill_marker(marker, point_type, shape is None, shape, stamp_ns, frame_id)
        markers.append(marker)
    msg.markers = markers
    return msg
