# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A scripted stand-in for an Alpamayo-style planner.

A test tool, not part of the safety function.

At ``rate_hz`` (10 Hz) it publishes ``planner/meta`` (JSON with stamp,
confidence, model hash and a reasoning sentence) and then ``planner/cmd_vel``
carrying the same stamp. What it sends comes from a :class:`Script`: a speed
profile of ``[duration, v, w]`` segments and a list of timed faults. The script
is read from the YAML/JSON file named by the ``script`` parameter, or is the
built-in showcase :data:`SHOWCASE` when that is empty::

    confidence: 0.9        # confidence outside faults
    loop: true             # repeat the script; otherwise stop at its end
    segments: [[3.0, 0.8, 0.0], [3.0, 0.6, 0.4]]
    faults:
      - {t_start: 4.0, t_end: 5.5, kind: low_confidence, value: 0.3}

Fault kinds and what ``value`` means (default in brackets):

* ``low_confidence``: confidence = value [0.2]
* ``freeze``: publish nothing
* ``nan``: v = NaN
* ``overspeed``: v = value [2.0 m/s]
* ``no_meta``: commands without meta
* ``late_meta``: meta sent value seconds after its command [0.2 s], rounded up
  to the next tick
* ``malformed_meta``: meta that is not valid JSON
* ``stamp_mismatch``: meta stamp = command stamp + value [0.001 s]
* ``duplicate_stamp``: every message reuses the stamp sent just before
* ``backwards_stamp``: stamps are value seconds in the past [0.5 s], so the
  first one goes backwards

Other parameters: ``rate_hz`` (10.0), ``stamped`` (true: TwistStamped, false:
Twist), ``model_sha256`` (a fixed 64-hex string).
"""

from dataclasses import dataclass
import enum
import hashlib
import math
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from geometry_msgs.msg import Twist, TwistStamped
from rclpy.node import Node
from safety_gate.tools.rosutil import (COMMAND_QOS, make_twist, meta_json, run_node,
                                       stamp_from_ns)
from std_msgs.msg import String
import yaml

DEFAULT_MODEL_SHA256 = hashlib.sha256(b'safety_gate scripted planner').hexdigest()


class FaultKind(str, enum.Enum):
    """What a scripted fault does to the planner output."""

    LOW_CONFIDENCE = 'low_confidence'
    FREEZE = 'freeze'
    NAN = 'nan'
    OVERSPEED = 'overspeed'
    NO_META = 'no_meta'
    LATE_META = 'late_meta'
    MALFORMED_META = 'malformed_meta'
    STAMP_MISMATCH = 'stamp_mismatch'
    DUPLICATE_STAMP = 'duplicate_stamp'
    BACKWARDS_STAMP = 'backwards_stamp'


DEFAULT_VALUES = {
    FaultKind.LOW_CONFIDENCE: 0.2,
    FaultKind.OVERSPEED: 2.0,
    FaultKind.LATE_META: 0.2,
    FaultKind.STAMP_MISMATCH: 0.001,
    FaultKind.BACKWARDS_STAMP: 0.5,
}


@dataclass(frozen=True)
class Segment:
    """Drive at (v, w) for ``duration`` seconds."""

    duration: float
    v: float
    w: float


@dataclass(frozen=True)
class Fault:
    """A fault active for script times in [t_start, t_end)."""

    t_start: float
    t_end: float
    kind: FaultKind
    value: Optional[float] = None

    @property
    def amount(self) -> float:
        """Return the fault's value, or its kind's default when none was given."""
        return DEFAULT_VALUES.get(self.kind, 0.0) if self.value is None else self.value


@dataclass(frozen=True)
class Script:
    """A speed profile plus timed faults; times are seconds since the planner started."""

    segments: Tuple[Segment, ...]
    faults: Tuple[Fault, ...] = ()
    confidence: float = 0.9
    loop: bool = True

    @property
    def duration(self) -> float:
        """Length of one pass through the segments."""
        return sum(s.duration for s in self.segments)

    def script_time(self, t: float) -> float:
        """Map time since start to script time (wrapping around when looping)."""
        return t % self.duration if self.loop else t

    def motion_at(self, t: float) -> Tuple[float, float]:
        """Return (v, w) at script time ``t``; (0, 0) after the end of the profile."""
        for segment in self.segments:
            if t < segment.duration:
                return segment.v, segment.w
            t -= segment.duration
        return 0.0, 0.0

    def faults_at(self, t: float) -> Dict[FaultKind, Fault]:
        """Return the faults active at script time ``t`` by kind (the last listed wins)."""
        return {f.kind: f for f in self.faults if f.t_start <= t < f.t_end}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> 'Script':
        """Build a script from its YAML/JSON form; raise ValueError if it is invalid."""
        try:
            segments = tuple(Segment(**s) if isinstance(s, Mapping) else Segment(*s)
                             for s in data['segments'])
            faults = tuple(Fault(float(f['t_start']), float(f['t_end']), FaultKind(f['kind']),
                                 None if f.get('value') is None else float(f['value']))
                           for f in data.get('faults') or ())
            script = cls(segments, faults, float(data.get('confidence', 0.9)),
                         bool(data.get('loop', True)))
        except (KeyError, TypeError) as exc:
            raise ValueError(f'malformed planner script: {exc!r}') from None
        script.validate()
        return script

    @classmethod
    def load(cls, path: Path) -> 'Script':
        """Read a script from a YAML (or JSON) file."""
        return cls.from_mapping(yaml.safe_load(Path(path).read_text()) or {})

    def validate(self) -> None:
        """Raise ValueError unless durations are positive and fault windows well-formed."""
        problems: List[str] = []
        if not self.segments:
            problems.append('no segments')
        for i, s in enumerate(self.segments):
            if not (s.duration > 0.0 and math.isfinite(s.duration)):
                problems.append(f'segment {i}: duration must be > 0')
        for i, f in enumerate(self.faults):
            if not f.t_start < f.t_end:
                problems.append(f'fault {i}: t_start must be < t_end')
        if not 0.0 <= self.confidence <= 1.0:
            problems.append('confidence must be in [0, 1]')
        if problems:
            raise ValueError('invalid planner script: ' + '; '.join(problems))


SHOWCASE = Script(
    segments=(Segment(3.0, 0.8, 0.0), Segment(3.0, 0.6, 0.4), Segment(3.0, 0.8, 0.0),
              Segment(3.0, 0.6, -0.4), Segment(2.0, 0.0, 0.0), Segment(6.0, 0.8, 0.0)),
    faults=(Fault(4.0, 5.5, FaultKind.LOW_CONFIDENCE, 0.3),
            Fault(7.0, 7.8, FaultKind.FREEZE),
            Fault(9.0, 9.3, FaultKind.NAN),
            Fault(10.0, 11.0, FaultKind.OVERSPEED, 2.0),
            Fault(15.0, 15.5, FaultKind.LATE_META),
            Fault(16.0, 16.3, FaultKind.STAMP_MISMATCH),
            Fault(17.0, 17.3, FaultKind.MALFORMED_META),
            Fault(18.0, 18.3, FaultKind.NO_META),
            Fault(18.5, 18.8, FaultKind.DUPLICATE_STAMP),
            Fault(19.5, 19.6, FaultKind.BACKWARDS_STAMP)))


def reasoning_for(v: float, w: float, confidence: float) -> str:
    """Return the planner's explanation for a command, templated from its state."""
    if not math.isfinite(v):
        return 'Trajectory decoder output unresolved; passing it on.'
    if confidence < 0.5:
        return f'Glare on the camera, lane markings unclear; continuing at {v:.1f} m/s.'
    if abs(v) < 0.05 and abs(w) < 0.05:
        return 'Pedestrian at the crosswalk, holding position.'
    if abs(w) >= 0.05:
        side = 'left' if w > 0.0 else 'right'
        return f'Road curves {side} ahead, turning at {abs(w):.1f} rad/s at {v:.1f} m/s.'
    return f'Lane clear ahead, keeping {v:.1f} m/s.'


class ScriptedPlanner(Node):
    """The planner node: one meta + command pair per tick, shaped by the script."""

    def __init__(self) -> None:
        super().__init__('planner')
        path = self.declare_parameter('script', '').value
        rate_hz = self.declare_parameter('rate_hz', 10.0).value
        self._stamped = self.declare_parameter('stamped', True).value
        self._model = self.declare_parameter('model_sha256', DEFAULT_MODEL_SHA256).value
        self._script = Script.load(Path(path)) if path else SHOWCASE
        self._meta_pub = self.create_publisher(String, 'planner/meta', COMMAND_QOS)
        self._cmd_pub = self.create_publisher(TwistStamped if self._stamped else Twist,
                                              'planner/cmd_vel', COMMAND_QOS)
        self._start_ns = self.get_clock().now().nanoseconds
        self._last_stamp_ns: Optional[int] = None
        self._late: List[Tuple[int, String]] = []  # (due time ns, meta)
        self.create_timer(1.0 / rate_hz, self._tick)
        self.get_logger().info(
            f'script {path or "showcase"}: {len(self._script.segments)} segments, '
            f'{len(self._script.faults)} faults, {self._script.duration:.1f} s')

    def _tick(self) -> None:
        now_ns = self.get_clock().now().nanoseconds
        self._send_due_meta(now_ns)
        t = self._script.script_time((now_ns - self._start_ns) / 1e9)
        faults = self._script.faults_at(t)
        if FaultKind.FREEZE in faults:
            return
        v, w = self._script.motion_at(t)
        confidence = self._script.confidence
        if FaultKind.LOW_CONFIDENCE in faults:
            confidence = faults[FaultKind.LOW_CONFIDENCE].amount
        if FaultKind.NAN in faults:
            v = math.nan
        if FaultKind.OVERSPEED in faults:
            v = faults[FaultKind.OVERSPEED].amount

        stamp_ns = now_ns
        if FaultKind.DUPLICATE_STAMP in faults and self._last_stamp_ns is not None:
            stamp_ns = self._last_stamp_ns
        if FaultKind.BACKWARDS_STAMP in faults:
            stamp_ns -= int(faults[FaultKind.BACKWARDS_STAMP].amount * 1e9)
        self._last_stamp_ns = stamp_ns

        meta = self._meta(faults, stamp_ns, confidence, reasoning_for(v, w, confidence))
        if meta is not None and FaultKind.LATE_META in faults:
            delay_ns = int(faults[FaultKind.LATE_META].amount * 1e9)
            self._late.append((now_ns + delay_ns, meta))
        elif meta is not None:
            self._meta_pub.publish(meta)
        self._cmd_pub.publish(make_twist(self._stamped, v, w, stamp_from_ns(stamp_ns)))

    def _meta(self, faults: Mapping[FaultKind, Fault], stamp_ns: int, confidence: float,
              reasoning: str) -> Optional[String]:
        if FaultKind.NO_META in faults:
            return None
        if FaultKind.STAMP_MISMATCH in faults:
            stamp_ns += int(faults[FaultKind.STAMP_MISMATCH].amount * 1e9)
        text = meta_json(stamp_from_ns(stamp_ns), confidence, self._model, reasoning)
        if FaultKind.MALFORMED_META in faults:
            text = text[:len(text) // 2]  # cut mid-document: not parseable JSON
        return String(data=text)

    def _send_due_meta(self, now_ns: int) -> None:
        due = [meta for when, meta in self._late if when <= now_ns]
        self._late = [(when, meta) for when, meta in self._late if when > now_ns]
        for meta in due:
            self._meta_pub.publish(meta)


def main(args: Optional[Sequence[str]] = None) -> int:
    """Run the scripted planner (console script ``safety_gate_planner``)."""
    return run_node(ScriptedPlanner, args)


if __name__ == '__main__':
    raise SystemExit(main())
