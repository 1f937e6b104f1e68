# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The scripted planner's script: a route (speed profile) and timed faults.

A test tool, not part of the safety function. Pure Python (no ROS), so the
scenario model validates scripts without a ROS installation; the planner node
(``safety_gate.kit.world.planner``) plays them.

Fault kinds and what ``value`` means (default in brackets):

* ``low_confidence``: confidence = value [0.2]
* ``confidence_flicker``: confidence alternates every tick between value
  [0.45] and ``alt_value`` [0.55]
* ``confidence_ramp``: confidence moves linearly from value [0.9] at t_start
  to ``alt_value`` [0.6] at t_end (a slow drift)
* ``freeze``: publish nothing
* ``nan``: v = NaN
* ``inf``: v = +Inf
* ``overspeed``: v = value [2.0 m/s]
* ``yaw_rate``: w = value [2.0 rad/s] (with the route's v: a lateral
  acceleration of v * value)
* ``no_meta``: commands without meta
* ``late_meta``: meta sent value seconds after its command [0.2 s], rounded up
  to the next tick
* ``malformed_meta``: meta that is not valid JSON
* ``stamp_mismatch``: meta stamp = command stamp + value [0.001 s]
* ``duplicate_stamp``: every message reuses the stamp sent just before
* ``backwards_stamp``: stamps are value seconds in the past [0.5 s], so the
  first one goes backwards
* ``burst``: every tick sends value [5] meta + command pairs at once, all with
  that tick's stamp (so all but the first are duplicates)
* ``model_swap``: the meta names another model, :data:`SWAPPED_MODEL_SHA256`
  (the planner loaded other weights mid-run)

Faults that act on plans only (``safety_gate.kit.world.plan_script``, which
also gives ``nan``, ``overspeed``, ``yaw_rate`` and ``backwards_stamp`` their
meaning for a plan): ``time_order`` [-], ``kink`` [0.8 rad],
``backward_sweep`` [-], ``start_far`` [3.0 m], ``curvature`` [0.4 1/m],
``flip`` [1.0 m], ``period`` [3.35 s].
"""

from dataclasses import dataclass
import enum
import hashlib
import math
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml


class FaultKind(str, enum.Enum):
    """What a scripted fault does to the planner output."""

    LOW_CONFIDENCE = 'low_confidence'
    CONFIDENCE_FLICKER = 'confidence_flicker'
    CONFIDENCE_RAMP = 'confidence_ramp'
    FREEZE = 'freeze'
    NAN = 'nan'
    INF = 'inf'
    OVERSPEED = 'overspeed'
    YAW_RATE = 'yaw_rate'
    NO_META = 'no_meta'
    LATE_META = 'late_meta'
    MALFORMED_META = 'malformed_meta'
    STAMP_MISMATCH = 'stamp_mismatch'
    DUPLICATE_STAMP = 'duplicate_stamp'
    BACKWARDS_STAMP = 'backwards_stamp'
    BURST = 'burst'
    TIME_ORDER = 'time_order'
    KINK = 'kink'
    BACKWARD_SWEEP = 'backward_sweep'
    START_FAR = 'start_far'
    CURVATURE = 'curvature'
    FLIP = 'flip'
    PERIOD = 'period'
    MODEL_SWAP = 'model_swap'


# The model a ``model_swap`` fault names in the meta instead of the planner's own.
SWAPPED_MODEL_SHA256 = hashlib.sha256(b'safety_gate scripted planner, swapped').hexdigest()
# The kinds only a plan can carry, and those of the twist planner a plan carries too.
PLAN_ONLY = frozenset({FaultKind.TIME_ORDER, FaultKind.KINK, FaultKind.BACKWARD_SWEEP,
                       FaultKind.START_FAR, FaultKind.CURVATURE, FaultKind.FLIP,
                       FaultKind.PERIOD})
PLAN_KINDS = PLAN_ONLY | {FaultKind.FREEZE, FaultKind.NAN, FaultKind.OVERSPEED,
                          FaultKind.YAW_RATE, FaultKind.BACKWARDS_STAMP,
                          FaultKind.LOW_CONFIDENCE, FaultKind.CONFIDENCE_RAMP,
                          FaultKind.NO_META, FaultKind.MODEL_SWAP}
# The kinds whose value (and alt_value) is a confidence.
CONFIDENCE_KINDS = frozenset({FaultKind.LOW_CONFIDENCE, FaultKind.CONFIDENCE_FLICKER,
                              FaultKind.CONFIDENCE_RAMP})


DEFAULT_VALUES = {
    FaultKind.LOW_CONFIDENCE: 0.2,
    FaultKind.CONFIDENCE_FLICKER: 0.45,
    FaultKind.CONFIDENCE_RAMP: 0.9,
    FaultKind.OVERSPEED: 2.0,
    FaultKind.YAW_RATE: 2.0,
    FaultKind.LATE_META: 0.2,
    FaultKind.STAMP_MISMATCH: 0.001,
    FaultKind.BACKWARDS_STAMP: 0.5,
    FaultKind.BURST: 5.0,
    FaultKind.KINK: 0.8,
    FaultKind.START_FAR: 3.0,
    FaultKind.CURVATURE: 0.4,
    FaultKind.FLIP: 1.0,
    FaultKind.PERIOD: 3.35,
}
DEFAULT_ALT_VALUES = {FaultKind.CONFIDENCE_FLICKER: 0.55, FaultKind.CONFIDENCE_RAMP: 0.6}


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
    alt_value: Optional[float] = None

    @property
    def amount(self) -> float:
        """Return the fault's value, or its kind's default when none was given."""
        return DEFAULT_VALUES.get(self.kind, 0.0) if self.value is None else self.value

    @property
    def alt_amount(self) -> float:
        """Return the fault's second value (flicker, ramp), or its kind's default."""
        if self.alt_value is None:
            return DEFAULT_ALT_VALUES.get(self.kind, 0.0)
        return self.alt_value


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

    def confidence_at(self, t: float, period: float) -> float:
        """Return the confidence proposed at script time ``t``, ticking every ``period`` s."""
        faults = self.faults_at(t)
        flicker = faults.get(FaultKind.CONFIDENCE_FLICKER)
        if flicker is not None:
            ticks = round((t - flicker.t_start) / period)
            return flicker.alt_amount if ticks % 2 else flicker.amount
        ramp = faults.get(FaultKind.CONFIDENCE_RAMP)
        if ramp is not None:
            share = (t - ramp.t_start) / (ramp.t_end - ramp.t_start)
            return ramp.amount + share * (ramp.alt_amount - ramp.amount)
        low = faults.get(FaultKind.LOW_CONFIDENCE)
        return self.confidence if low is None else low.amount

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> 'Script':
        """Build a script from its YAML/JSON form; raise ValueError if it is invalid."""
        try:
            segments = tuple(Segment(**s) if isinstance(s, Mapping) else Segment(*s)
                             for s in data['segments'])
            faults = tuple(Fault(float(f['t_start']), float(f['t_end']), FaultKind(f['kind']),
                                 _optional_float(f.get('value')),
                                 _optional_float(f.get('alt_value')))
                           for f in data.get('faults') or ())
            script = cls(segments, faults, float(data.get('confidence', 0.9)),
                         bool(data.get('loop', True)))
        except (KeyError, TypeError) as exc:
            raise ValueError(f'malformed planner script: {exc!r}') from None
        script.validate()
        return script

    def to_mapping(self) -> Dict[str, Any]:
        """Return the YAML/JSON form that :meth:`from_mapping` reads."""
        return {
            'confidence': self.confidence, 'loop': self.loop,
            'segments': [[s.duration, s.v, s.w] for s in self.segments],
            'faults': [{'t_start': f.t_start, 't_end': f.t_end, 'kind': f.kind.value,
                        'value': f.value, 'alt_value': f.alt_value} for f in self.faults],
        }

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
            if f.kind is FaultKind.BURST and not 1 <= f.amount <= 100:
                problems.append(f'fault {i}: a burst sends 1 to 100 pairs per tick')
            if f.kind in CONFIDENCE_KINDS and not (0.0 <= f.amount <= 1.0
                                                   and 0.0 <= f.alt_amount <= 1.0):
                problems.append(f'fault {i}: a {f.kind.value} confidence must be in [0, 1]')
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


def _optional_float(value: Any) -> Optional[float]:
    return None if value is None else float(value)
