# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The gate's diagnostics as plain data: the gate, model, trace and timing statuses.

The node builds the four statuses once a second on the steady clock, turns
each :class:`Status` into a ``diagnostic_msgs/DiagnosticStatus`` and
publishes them on ``/diagnostics``. Values are strings, as published.
"""

from dataclasses import dataclass
from enum import IntEnum
import json
import math
from typing import Any, Dict, Mapping, Optional, Tuple

from safety_gate.config import MonitorConfig, ProvenanceConfig
from safety_gate.core import GateState
from safety_gate.decision import Decision, Reason, Verdict
from safety_gate.registry import Registry
from safety_gate.trace_writer import TraceStats


class Level(IntEnum):
    """A status level, numbered as in ``diagnostic_msgs/DiagnosticStatus``."""

    OK = 0
    WARN = 1
    ERROR = 2


# A LIMIT runs under a reduced envelope (conservative mode, a canary model): a
# degraded mode an operator should see, as a FALLBACK is.
LEVEL_OF_VERDICT = {Verdict.APPROVE: Level.OK, Verdict.LIMIT: Level.WARN,
                    Verdict.FALLBACK: Level.WARN, Verdict.ESTOP: Level.ERROR}


@dataclass(frozen=True)
class Status:
    """One named status: its level, a one-line message and its key values, in order."""

    name: str
    level: Level
    message: str
    values: Dict[str, str]


def status(name: str, level: Level, message: str, values: Mapping[str, Any]) -> Status:
    """Return a status whose values are given as their string forms."""
    return Status(name, level, message, {key: str(value) for key, value in values.items()})


def age(now: float, received: float) -> Any:
    """Return how long ago ``received`` was, in seconds to the millisecond, or 'never'."""
    return round(now - received, 3) if math.isfinite(received) else 'never'


def gate_status(verdict: Optional[Verdict], last_decision: Optional[Decision],
                counts: Mapping[str, int], state: GateState, now: float,
                config_sha256: str, model_sha256: str,
                incompatible_qos: Mapping[str, int]) -> Status:
    """Report the published verdict and its reasons, decision counts and input ages.

    ``verdict`` is the one last published on ``safety_gate/state`` (None
    before the first: FALLBACK), ``counts`` the decisions per verdict so far,
    ``now`` the node time, and ``incompatible_qos`` the peers that do not
    match, per topic.
    """
    verdict = verdict or Verdict.FALLBACK
    reasons = ' '.join(r.value for r in last_decision.reasons) if last_decision else ''
    values = {
        'verdict': verdict.value,
        'reasons': reasons,
        'config_sha256': config_sha256,
        'model_sha256': model_sha256,
        'decisions_approve': counts['APPROVE'],
        'decisions_limit': counts['LIMIT'],
        'decisions_fallback': counts['FALLBACK'],
        'decisions_estop': counts['ESTOP'],
        'proposal_age_s': age(now, state.latest_received),
        'odom_age_s': age(now, state.sensors.odom_received),
        'imu_age_s': age(now, state.sensors.imu_received),
        'incompatible_qos': json.dumps(dict(incompatible_qos)),
    }
    return status('safety_gate: gate', LEVEL_OF_VERDICT[verdict],
                  verdict.value + (f': {reasons}' if reasons else ''), values)


def model_status(last_decision: Optional[Decision], models: Registry, cfg: ProvenanceConfig,
                 hashing: Optional[Tuple[int, int]]) -> Status:
    """Report the model in charge, its registry entry and the weight files' hashing.

    ``hashing`` is (bytes hashed, bytes in all) while the gate hashes
    ``provenance.model_files``, else None.
    """
    model = None if last_decision is None else last_decision.model
    values = {'model_sha256': '' if model is None else model.sha256,
              'source': '' if model is None else model.source,
              'name': '' if model is None or model.name is None else model.name,
              'version': '' if model is None or model.version is None else model.version,
              'stage': '' if model is None or model.stage is None else model.stage,
              'registry_sha256': models.sha256, 'registry_entries': len(models.entries),
              'required': cfg.required}
    level, message = Level.OK, 'no model named' if model is None else (
        f'{model.name} {model.version} ({model.stage})' if model.stage else
        f'{model.sha256[:12]}: no registry entry')
    if hashing is not None:
        done, total = hashing
        values['files_hashed_bytes'], values['files_total_bytes'] = done, total
        level, message = Level.WARN, (
            f'hashing the model files: {100.0 * done / total if total else 0.0:.0f} %')
    elif last_decision is not None and any(
            r in _MODEL_REFUSALS for r in last_decision.reasons):
        level = Level.ERROR
        message = 'no authority: ' + ' '.join(
            r.value for r in last_decision.reasons if r in _MODEL_REFUSALS)
    return status('safety_gate: model', level, message, values)


_MODEL_REFUSALS = frozenset((Reason.MODEL_NOT_APPROVED, Reason.MODEL_UNVERIFIED,
                             Reason.MODEL_CHANGED, Reason.MODEL_SHADOW_ONLY))
_LEVEL_OF_DRIFT = {'none': Level.OK, 'warn': Level.WARN, 'conservative': Level.WARN,
                   'withdraw': Level.ERROR}


def spi_status(snapshot: Mapping[str, Any]) -> Status:
    """Report the safety performance indicators of the model in charge and the drift action.

    ``snapshot`` is :func:`safety_gate.spi.snapshot`'s: the level follows the
    action (warn and conservative WARN, withdraw ERROR) and the message names
    each alarm, its value and its limit.
    """
    drift, model = snapshot['drift'], snapshot['model']
    current = snapshot['models'].get(model, {}) if model is not None else {}
    alarms = snapshot['alarms']
    values = {'drift': drift, 'model_sha256': model or '', 'window_s': snapshot['window_s'],
              **{name: _rounded(current.get(name)) for name in (
                  'proposals', 'intervention_rate', 'fallback_rate_max', 'confidence_mean',
                  'confidence_p10', 'psi', 'plan_shift', 'ego_start', 'tracking_error')},
              'alarms': json.dumps(alarms)}
    message = 'no drift alarm' if not alarms else f'drift {drift}: ' + '; '.join(
        f"{a['spi']} {a['value']:.3g} (limit {a['limit']:.3g}, {a['action']})" for a in alarms)
    if drift == 'withdraw' and not alarms:
        message = 'drift withdraw: authority withdrawn until an accepted reset'
    return status('safety_gate: spi', _LEVEL_OF_DRIFT[drift], message, values)


def _rounded(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else ('' if value is None else value)


def trace_status(stats: TraceStats, path: Optional[str]) -> Status:
    """Report the trace writer: an error while it is unhealthy, a warning once it lost records."""
    values = {'path': path or 'off', 'written': stats.written, 'lost': stats.lost,
              'queue_depth': stats.queue_depth, 'last_error': stats.last_error or ''}
    level, message = Level.OK, 'ok'
    if stats.stalled:
        level, message = Level.ERROR, (
            'trace writer stalled: no write completed for trace.stall_timeout')
    elif not stats.healthy:
        level, message = Level.ERROR, (
            'trace file not writable, or records lost and not yet marked in it')
    elif stats.lost:
        level, message = Level.WARN, f'{stats.lost} records lost'
    return status('safety_gate: trace', level, message, values)


def timing_status(late: float, latency_us: float, since_tick: float, silence_limit: float,
                  intake: Mapping[str, int], planner_publishers: int,
                  monitor: MonitorConfig) -> Status:
    """Report the gate's own timing and intake over the last diagnostics period.

    ``late`` is the latest watchdog tick and ``latency_us`` the slowest
    decision in the period; ``since_tick`` the steady seconds since the last
    tick, which beyond ``silence_limit`` mean the node clock has stopped;
    ``intake`` the totals of :meth:`safety_gate.intake.Intake.totals` (and of
    :meth:`safety_gate.shadow_intake.ShadowIntake.totals` with ``shadow.enabled``).
    """
    values = {
        'tick_late_max_s': round(late, 4),
        'decision_latency_max_us': round(latency_us, 1),
        'seconds_since_tick': round(since_tick, 3),
        **intake,
        'planner_publishers': planner_publishers,
    }
    proposals_shed, metas_shed = intake['proposals_shed'], intake['metas_shed']
    level, message = Level.OK, 'on time'
    if late > monitor.warn_late:
        level, message = Level.WARN, f'watchdog tick {late * 1e3:.0f} ms late'
    if proposals_shed or metas_shed:
        level = Level.WARN
        message = (f'shed {proposals_shed} proposals and {metas_shed} metas '
                   'beyond monitor.max_proposal_rate')
    stalled = since_tick > silence_limit
    if late > monitor.max_late or stalled:
        level = Level.ERROR
        message = ('node clock not advancing (CLOCK_STALLED)' if stalled else
                   f'watchdog tick {late * 1e3:.0f} ms late (GATE_OVERRUN)')
    return status('safety_gate: timing', level, message, values)
