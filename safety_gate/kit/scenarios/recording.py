# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""What one closed-loop scenario run recorded: plain data, no ROS.

Every time is in seconds on one clock, the run clock: the simulation clock
(``/clock``, driven by the simulated vehicle), made monotonic so that a
simulation reset does not send it backwards (see
``safety_gate.kit.world.rosutil.MonotonicTime``). Messages from the trusted test
tools carry their time on that clock: odometry and ground truth are stamped by
the vehicle, which drives the clock; the gate's outputs are stamped, and its
decision records timed, with the gate's node clock. Those stamps are mapped
onto the run clock (:meth:`Recording.at`), so a recorder that falls behind
does not shift them. The planner's commands are timed on receipt, because
their stamps are under test; so are the runner's own actions. Resolution: one
``/clock`` step (20 ms of simulated time).
"""

from dataclasses import asdict, dataclass, field
import json
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from safety_gate.trace_format import WRITER_FIELDS

# A stamp mapped onto the run clock may lead the recorder's own reading of it
# by this much (a recorder that fell behind); clock resets must be larger.
MAX_LEAD_S = 2.0
# What a recording leaves out of a decision record: the input events (replay
# material, most of a trajectory-mode record) and the trace writer's chain
# members. The trace keeps both.
DROPPED_RECORD_FIELDS = ('events',) + WRITER_FIELDS


class Sample(NamedTuple):
    """A planar motion (v m/s, w rad/s) received at run time ``t``."""

    t: float
    v: float
    w: float


class Proposal(NamedTuple):
    """A planner command, with its header stamp (raw simulation seconds)."""

    t: float
    v: float
    w: float
    stamp: float


class Output(NamedTuple):
    """A gate output on cmd_vel; ``clean`` is False if an unused component is not 0."""

    t: float
    v: float
    w: float
    clean: bool = True


class PoseSample(NamedTuple):
    """The vehicle's true pose (odom frame: x, y m, yaw rad) at run time ``t``."""

    t: float
    x: float
    y: float
    yaw: float


class PlanSample(NamedTuple):
    """A plan as received: its stamp (raw seconds) and its points (time s, x, y m).

    The points are in the ego frame at the stamp, as the planner sent them.
    """

    t: float
    stamp: float
    points: List[Tuple[float, float, float]]


class DecisionSample(NamedTuple):
    """A decision at run time ``t``: what the metrics use, and the record for the report.

    ``record`` is the decision record as the gate published it, less
    :data:`DROPPED_RECORD_FIELDS`; None in recordings made without it.
    """

    t: float
    verdict: str
    reasons: List[str]
    v: float
    w: float
    record: Optional[Dict[str, Any]] = None

    @classmethod
    def of(cls, t: float, record: Dict[str, Any]) -> 'DecisionSample':
        """Return the sample of a record the gate published, its time ``t`` on the run clock."""
        output = record['output']
        kept = {key: value for key, value in record.items() if key not in DROPPED_RECORD_FIELDS}
        return cls(t, record['verdict'], list(record['reasons']), float(output['v']),
                   float(output['w']), kept)

    @property
    def confidence(self) -> Optional[float]:
        """Return the confidence the gate held to its threshold; None if it judged none.

        That is the value of the record's ``confidence`` check, present in both
        modes whenever the paired meta carried a confidence.
        """
        checks = self.record['checks'] if self.record else ()
        return next((float(c['value']) for c in checks if c['name'] == 'confidence'), None)


@dataclass
class Action:
    """Something the runner did: ``start``, ``fault_start``, ``fault_end`` and ``reset``.

    ``raw`` is the raw simulation clock at that moment (for a reset, when the
    request that was answered was sent); ``fault`` the index of the scenario
    fault it belongs to; ``ok`` whether a reset was accepted.
    """

    t: float
    raw: float
    kind: str
    fault: Optional[int] = None
    ok: Optional[bool] = None
    detail: Any = None


@dataclass
class Recording:
    """Everything the recorder saw during one run."""

    scenario: str
    t0: float = 0.0  # run time of script time 0 (the planner's first proposal)
    end: float = 0.0  # run time at which recording stopped
    proposals: List[Proposal] = field(default_factory=list)
    outputs: List[Output] = field(default_factory=list)
    odom: List[Sample] = field(default_factory=list)  # what the gate was told
    truth: List[Sample] = field(default_factory=list)  # what the vehicle did
    poses: List[PoseSample] = field(default_factory=list)  # where it did it
    plans: List[PlanSample] = field(default_factory=list)  # trajectory mode
    decisions: List[DecisionSample] = field(default_factory=list)
    actions: List[Action] = field(default_factory=list)
    # (run time it began, run time - raw clock): a new entry at every clock reset.
    offsets: List[Tuple[float, float]] = field(default_factory=list)

    def at(self, raw: float, received: float) -> float:
        """Return the run time of a raw clock reading that arrived at run time ``received``.

        The newest clock offset that does not put the reading more than
        :data:`MAX_LEAD_S` after its arrival wins: a reading from before a
        clock reset, still in flight after it, maps with the offset of its
        time. A zero reading (a node whose sim clock has not started yet) maps
        to its arrival.
        """
        if raw > 0.0:
            for _, offset in reversed(self.offsets):
                if raw + offset <= received + MAX_LEAD_S:
                    return raw + offset
        return received

    def save(self, path: Path) -> None:
        """Write the recording as JSON (non-finite numbers as NaN/Infinity)."""
        Path(path).write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> 'Recording':
        """Read a recording written by :meth:`save`."""
        data = json.loads(Path(path).read_text())
        return cls(
            scenario=data['scenario'], t0=data['t0'], end=data['end'],
            proposals=[Proposal(*p) for p in data['proposals']],
            outputs=[Output(*o) for o in data['outputs']],
            odom=[Sample(*s) for s in data['odom']],
            truth=[Sample(*s) for s in data['truth']],
            poses=[PoseSample(*p) for p in data.get('poses', [])],
            plans=[PlanSample(p[0], p[1], [tuple(q) for q in p[2]])
                   for p in data.get('plans', [])],
            decisions=[DecisionSample(*d) for d in data['decisions']],
            actions=[Action(**a) for a in data['actions']],
            offsets=[tuple(o) for o in data['offsets']])
