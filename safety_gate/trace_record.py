# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The trace record schema: decisions and their input events as plain dicts.

A decision record holds one decision and every event the core consumed since the
previous decision (the last one triggered it), each with its node time. That
is enough to replay the core exactly: feed the events back through
``core.step`` and compare the decisions. A config record, the first of every
chain, holds the parameters the decisions after it were made with.

Floats are kept as they are, NaN and infinities included; the trace writer
decides how they are spelled in JSON and :func:`event_from_dict` reads them
back.

The record types below (:class:`DecisionRecord`, :class:`ConfigRecord`) say
what a trace line holds, writer's members included; ``safety_gate.trace_schema``
generates the records' JSON Schema from them, and the export tests validate
every record of real traces against it, so the schema cannot drift from the
records.
"""

import dataclasses
from typing import Any, Dict, List, Optional, Sequence, Tuple, TypedDict, Union

from safety_gate import registry
from safety_gate.decision import Check, Clamp, Decision, Reason, Verdict
from safety_gate.events import (
    ClockStall, ConservativeRequest, Estop, Event, Imu, Meta, ModelAnnouncement,
    ModelFilesHashed, Odom, Plan, Proposal, Reasoning, Reset, Tick, TraceHealth)
from safety_gate.registry import Registry
from safety_gate.shadow import ShadowDecision
from safety_gate.trace_format import ChainFields, encode_record

EVENT_TYPES = {
    'proposal': Proposal, 'plan': Plan, 'reasoning': Reasoning, 'meta': Meta, 'odom': Odom,
    'imu': Imu, 'estop': Estop, 'reset': Reset, 'tick': Tick, 'trace_health': TraceHealth,
    'clock_stall': ClockStall, 'model_announcement': ModelAnnouncement,
    'model_files_hashed': ModelFilesHashed, 'conservative_request': ConservativeRequest,
}
EVENT_NAMES = {cls: name for name, cls in EVENT_TYPES.items()}
# Only numeric fields are read back from "NaN" and friends: the planner controls
# the text fields, and a reasoning of "NaN" must stay text.
_FLOAT_FIELDS = {cls: {f.name for f in dataclasses.fields(cls)
                       if f.type in (float, Optional[float])}
                 for cls in EVENT_TYPES.values()}
_FIELD_NAMES = {cls: tuple(f.name for f in dataclasses.fields(cls))
                for cls in EVENT_TYPES.values()}
# A field added later with a default (Odom.yaw) is absent from older traces.
_FIELD_DEFAULTS = {cls: {f.name: f.default for f in dataclasses.fields(cls)
                         if f.default is not dataclasses.MISSING}
                   for cls in EVENT_TYPES.values()}
NON_FINITE_SPELLINGS = {'NaN': float('nan'), 'Infinity': float('inf'), '-Infinity': float('-inf')}


class CheckRecord(TypedDict):
    """One check of a decision: its measured value against its limit."""

    name: str
    ok: bool
    value: Any
    limit: Any
    reason: Reason


class ProposalRecord(TypedDict):
    """The velocity proposal decided on and its meta (none in trajectory mode)."""

    v: float
    w: float
    stamp: float
    stamped: bool
    confidence: Optional[float]
    model_sha256: Optional[str]
    reasoning: Optional[str]
    meta_error: Optional[str]


class CommandRecord(TypedDict):
    """The command published on ``cmd_vel``: forward speed (m/s) and yaw rate (rad/s)."""

    v: float
    w: float


class ModelRecord(TypedDict):
    """The model in charge: its sha256, where it came from, its registry entry (None: none)."""

    sha256: str
    source: str
    name: Optional[str]
    version: Optional[str]
    stage: Optional[str]


class ModelNote(TypedDict, total=False):
    """The model in charge, when anything named one (absent from older traces)."""

    model: ModelRecord


class IntakeNotes(TypedDict, total=False):
    """Inputs that never became events since the previous record (only those not zero)."""

    events_dropped: int
    proposals_shed: int
    metas_shed: int
    proposals_missed: int


class DisagreementRecord(TypedDict):
    """The candidate against the production planner (``shadow.Disagreement``)."""

    output_dv: float
    output_dw: float
    proposal_dv: Optional[float]
    proposal_dw: Optional[float]
    lateral: Optional[float]
    longitudinal: Optional[float]


class ShadowDecisionRecord(TypedDict):
    """What the gate would have decided for the candidate; never published to an actuator."""

    trigger: str
    verdict: Verdict
    reasons: List[Reason]
    output: CommandRecord
    clamps: List[Clamp]
    proposal: Optional[ProposalRecord]
    model_sha256: str
    production_verdict: Verdict
    disagreement: DisagreementRecord


class _ShadowEntry(TypedDict):
    at: int
    event: Union[Proposal, Plan, Reasoning, Meta, Tick]
    decisions: List[ShadowDecisionRecord]


class ShadowEntryRecord(_ShadowEntry, total=False):
    """One candidate event the shadow judged, after ``at`` of the record's own events.

    ``error``: the shadow step failed on it (the candidate's state is left as
    it was, and a replay skips it); production is not affected.
    """

    error: str


class ShadowNotes(TypedDict, total=False):
    """The shadow stage since the previous record (only with ``shadow.enabled``)."""

    shadow: List[ShadowEntryRecord]
    shadow_shed: int


class _Decision(TypedDict):
    seq: int
    t: float
    wall_time: float
    trigger: str
    verdict: Verdict
    reasons: List[Reason]
    checks: List[CheckRecord]
    proposal: Optional[ProposalRecord]
    output: CommandRecord
    clamps: List[Clamp]
    latency_us: float
    config_sha256: str
    events: List[Event]


class DecisionRecord(_Decision, ModelNote, IntakeNotes, ShadowNotes, ChainFields):
    """A decision as a trace line: the decision, the events before it, the writer's members."""


class _Config(TypedDict):
    seq: int
    t: float
    wall_time: float
    config: Dict[str, Any]
    config_sha256: str


class RegistryNote(TypedDict, total=False):
    """The model registry in force: its entries and its file's sha256 (absent: none)."""

    registry: List[Dict[str, Any]]
    registry_sha256: str


class ConfigRecord(_Config, RegistryNote, ChainFields):
    """The first record of every chain: every effective parameter and their hash."""


class _Spi(TypedDict):
    seq: int
    t: float
    wall_time: float
    spi: Dict[str, Any]
    config_sha256: str


class SpiRecord(_Spi, ChainFields):
    """The safety performance indicators (``safety_gate.spi.snapshot``) after the record before."""


def event_to_dict(now: float, event: Event) -> Dict[str, Any]:
    """Serialise one input event with the node time it was consumed at."""
    # Event fields are scalars and events have no slots (types.evolve relies on
    # that too), so the instance dict is the record: records are built on the
    # control path, where dataclasses.asdict cost ten times as much.
    return {'type': EVENT_NAMES[type(event)], 't': now, **event.__dict__}


def event_from_dict(data: Dict[str, Any]) -> Tuple[float, object]:
    """Read back an event written by :func:`event_to_dict`: (node time, event)."""
    cls = EVENT_TYPES[data['type']]
    numeric, defaults = _FLOAT_FIELDS[cls], _FIELD_DEFAULTS[cls]
    fields = {}
    for name in _FIELD_NAMES[cls]:
        value = data[name] if name in data or name not in defaults else defaults[name]
        if name in numeric:
            value = _number(value)
        elif name == 'points':  # a plan's points: JSON gives lists, the event holds tuples
            value = tuple(tuple(_number(number) for number in point) for point in value)
        fields[name] = value
    return _number(data['t']), cls(**fields)


def _number(value: Any) -> Any:
    """Undo a writer's spelling of a non-finite float as a string."""
    if isinstance(value, str) and value in NON_FINITE_SPELLINGS:
        return NON_FINITE_SPELLINGS[value]
    return value


def _check(check: Check) -> Dict[str, Any]:
    return {'name': check.name, 'ok': check.ok, 'value': check.value, 'limit': check.limit,
            'reason': check.reason.value}


def record_checks(record: Dict[str, Any]) -> List[Check]:
    """Return the checks of a decision record, read back as the core made them."""
    return [Check(c['name'], c['ok'], c['value'], c['limit'], Reason(c['reason']))
            for c in record['checks']]


def _proposal(decision: Decision) -> Optional[Dict[str, Any]]:
    proposal, meta = decision.proposal, decision.meta
    if proposal is None:
        return None
    return {'v': proposal.v, 'w': proposal.w, 'stamp': proposal.stamp,
            'stamped': proposal.stamped,
            'confidence': None if meta is None else meta.confidence,
            'model_sha256': None if meta is None else meta.model_sha256,
            'reasoning': None if meta is None else meta.reasoning,
            'meta_error': 'missing' if meta is None else meta.error}


def decision_to_dict(decision: Decision, seq: int, events: Sequence[Tuple[float, object]],
                     wall_time: float, latency_us: float, config_sha256: str,
                     notes: Optional[Dict[str, int]] = None) -> Dict[str, Any]:
    """Build the trace record of one decision.

    ``notes`` counts inputs that never became events since the previous record
    (``events_dropped``, ``proposals_shed``, ``proposals_missed``).
    """
    record = {
        'seq': seq,
        't': decision.t,
        'wall_time': wall_time,
        'trigger': decision.trigger,
        'verdict': decision.verdict.value,
        'reasons': [r.value for r in decision.reasons],
        'checks': [_check(c) for c in decision.checks],
        'proposal': _proposal(decision),
        'output': {'v': decision.output.v, 'w': decision.output.w},
        'clamps': [c.value for c in decision.clamps],
        'latency_us': latency_us,
        'config_sha256': config_sha256,
        'events': [event_to_dict(now, event) for now, event in events],
    }
    if decision.model is not None:
        record['model'] = dict(decision.model.__dict__)
    if notes:
        record.update(notes)
    return record


def config_to_dict(seq: int, t: float, wall_time: float, flat: Dict[str, Any],
                   config_sha256: str, models: Registry = registry.EMPTY) -> Dict[str, Any]:
    """Build the config record: every effective parameter, the model registry, the config hash.

    The node writes it at every start, as the first record of its chain, so a
    trace says by itself what the gate ran with (``-p`` overrides and the
    registry's entries included).
    """
    record = {'seq': seq, 't': t, 'wall_time': wall_time, 'config': dict(flat),
              'config_sha256': config_sha256}
    if models.sha256:
        record.update(registry=models.to_records(), registry_sha256=models.sha256)
    return record


def record_registry(record: Dict[str, Any]) -> Registry:
    """Return the model registry a config record holds (the empty one if it has none).

    Raise RegistryError if its entries do not validate.
    """
    if 'registry' not in record:
        return registry.EMPTY
    return registry.from_records(record['registry'], record.get('registry_sha256', ''),
                                 "the config record's registry")


def spi_to_dict(seq: int, t: float, wall_time: float, snapshot: Dict[str, Any],
                config_sha256: str) -> Dict[str, Any]:
    """Build an SPI record: the indicators as the decisions before it left them.

    The node writes one a second and whenever the drift action changes; replay
    recomputes the snapshot at the same place and compares.
    """
    return {'seq': seq, 't': t, 'wall_time': wall_time, 'spi': snapshot,
            'config_sha256': config_sha256}


def is_config(record: Dict[str, Any]) -> bool:
    """Return True for a config record, False for a decision or SPI record."""
    return 'config' in record


def is_spi(record: Dict[str, Any]) -> bool:
    """Return True for an SPI record, False for a decision or config record."""
    return 'spi' in record


def is_decision(record: Dict[str, Any]) -> bool:
    """Return True for a decision record, False for a config or SPI record."""
    return not (is_config(record) or is_spi(record))


def decision_summary(decision: Decision) -> Dict[str, Any]:
    """Return the part of a record that a replay must reproduce exactly."""
    return {'verdict': decision.verdict.value, 'reasons': [r.value for r in decision.reasons],
            'output': {'v': decision.output.v, 'w': decision.output.w},
            'clamps': [c.value for c in decision.clamps]}


def record_summary(record: Dict[str, Any]) -> Dict[str, Any]:
    """Return the fields of :func:`decision_summary`, read from a trace record."""
    return {'verdict': record['verdict'], 'reasons': list(record['reasons']),
            'output': {k: _number(v) for k, v in record['output'].items()},
            'clamps': list(record['clamps'])}


def record_events(record: Dict[str, Any]) -> List[Tuple[float, object]]:
    """Return the input events of a record, in the order the core consumed them."""
    return [event_from_dict(e) for e in record.get('events', [])]


def shadow_decision_to_dict(found: ShadowDecision) -> Dict[str, Any]:
    """Return a candidate decision as its trace record, which a replay must reproduce exactly."""
    decision = found.decision
    return {'trigger': decision.trigger, **decision_summary(decision),
            'proposal': _proposal(decision), 'model_sha256': found.model_sha256,
            'production_verdict': found.production_verdict.value,
            'disagreement': dict(found.disagreement.__dict__)}


def shadow_entry_to_dict(at: int, now: float, event: Event,
                         decisions: Sequence[ShadowDecision],
                         error: Optional[str] = None) -> Dict[str, Any]:
    """Build the record of one candidate event judged after ``at`` of the record's events."""
    entry = {'at': at, 'event': event_to_dict(now, event),
             'decisions': [shadow_decision_to_dict(found) for found in decisions]}
    if error is not None:
        entry['error'] = error
    return entry


def same_records(first: Any, second: Any) -> bool:
    """Return True if two record values encode to the same trace bytes (NaN equals NaN)."""
    return encode_record({'v': first}) == encode_record({'v': second})
