# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Re-run a trace's recorded inputs through the core and report every difference.

``safety-gate replay TRACE... [--config FILE]``. The files are checked and
ordered by :mod:`safety_gate.verify` first. Each record's events are fed to
``core.step`` at their recorded node times, from a fresh state at every
``chain_start`` (a gate restart); the decision the last event produces must
equal the record's verdict, reasons, output and clamps exactly, and the
candidate decisions of its shadow entries (``safety_gate.shadow``), each
judged at its place among the events, must equal theirs. A step that
decided more than once was recorded as one record with its events followed by
one record without events per further decision, and is matched the same way.
The config comes from the trace's config record at each chain start;
``--config`` replaces it (to see what another configuration would have
decided) and the report says where the two differ. With the config that
produced the trace nothing differs.
"""

import argparse
from dataclasses import dataclass, field
import json
import math
from pathlib import Path
import sys
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

from safety_gate import core, shadow, spi, verify
from safety_gate.config import build, config_sha256, GateConfig, load_yaml, NAMESPACE_HELP
from safety_gate.decision import Decision, Reason
from safety_gate.errors import user_error
from safety_gate.registry import EMPTY, of_config, Registry
from safety_gate.trace_record import (
    decision_summary, event_from_dict, is_config, is_spi, record_events, record_registry,
    record_summary, same_records, shadow_decision_to_dict)
import yaml


class ReplayError(ValueError):
    """The trace cannot be replayed: no configuration for it, or an unreadable one."""


@dataclass
class Difference:
    """One record the replay did not reproduce."""

    where: str
    seq: int
    recorded: dict
    replayed: Optional[dict]


@dataclass
class ReplayReport:
    """The outcome of a replay."""

    records: int = 0
    shadow_entries: int = 0  # candidate events judged beside production, replayed too
    differences: List[Difference] = field(default_factory=list)
    other_configs: int = 0
    spi_records: int = 0
    trace_configs: List[str] = field(default_factory=list)
    replayed_with: Optional[str] = None
    gaps: List[str] = field(default_factory=list)
    integrity: Optional[verify.VerifyReport] = None

    @property
    def ok(self) -> bool:
        """Return True if every record replayed exactly and the trace is intact."""
        return not self.differences and self.integrity is not None and self.integrity.ok


def _replay_record(state: core.GateState, queued: Tuple[Decision, ...], record: dict,
                   cfg: GateConfig,
                   before: Optional[Callable[[float, core.GateState], None]] = None):
    """Return (state, decision, queued) after the record.

    ``queued`` holds the decisions the last step made after the one it was
    matched with; a record without events is the next of them. None if
    nothing was decided. ``before(index, state)`` is called with the
    production state before the record's event ``index`` and once after
    them (index infinity), for the shadow's entries to run in their place.
    """
    run_before = before or (lambda index, production: None)
    if queued and not record.get('events'):
        run_before(math.inf, state)
        return state, queued[0], queued[1:]
    events = record_events(record)
    # The exception itself is not in the trace, its consequence is: a failed
    # step consumed the last event, a failed conversion made no event at all.
    internal = Reason.INTERNAL_ERROR.value in record['reasons']
    if internal and record['trigger'] != 'convert':
        events = events[:-1]
    decisions = ()
    for index, (now, event) in enumerate(events):
        run_before(index, state)
        result = core.step(state, event, now, cfg)
        # Only the last event decided at the gate: an earlier one deciding here comes
        # first, so the record is matched with it and differs.
        state, decisions = result.state, decisions + result.decisions
    run_before(math.inf, state)
    if record['trigger'] == 'shutdown':
        # The deactivation decides after the events held since the record before,
        # which decided nothing at the gate (if they decide here, that differs).
        result = core.shutdown(state, record['t'])
        state, decisions = result.state, decisions + result.decisions
    elif internal:
        result = core.internal_error(state, record['t'], cfg, record['trigger'], 'replayed')
        state, decisions = result.state, decisions + result.decisions
    return state, (decisions[0] if decisions else None), decisions[1:]


class _ShadowReplay:
    """Run a record's shadow entries at their places among its events, as the node did."""

    def __init__(self, record: dict, state: shadow.ShadowState, cfg: GateConfig) -> None:
        self.entries = record.get('shadow', [])
        self.state = state
        self.cfg = cfg
        self.replayed: List[object] = []

    def before(self, index: float, production: core.GateState) -> None:
        """Run the entries judged before production event ``index``."""
        while len(self.replayed) < len(self.entries):
            entry = self.entries[len(self.replayed)]
            if entry['at'] > index:
                return
            self.replayed.append(self._run(entry, production))

    def _run(self, entry: dict, production: core.GateState) -> object:
        if 'error' in entry:  # the node's step failed and left the candidate's state as it was
            return []
        now, event = event_from_dict(entry['event'])
        try:
            result = shadow.step(self.state, event, now, production, self.cfg)
        except Exception as exc:  # noqa: B902 - a difference to report, not a crash
            return {'error': repr(exc)}
        self.state = result.state
        return [shadow_decision_to_dict(found) for found in result.decisions]


@dataclass(frozen=True)
class Replayed:
    """One record of a trace and what the core made of it."""

    where: str
    record: dict
    cfg: GateConfig  # in force at the record: the chain's config record's, or --config
    state: core.GateState  # after the record, as the node had it when it published
    decision: Optional[Decision]  # None for a config record, or if nothing was decided
    shadow: Tuple[object, ...] = ()  # per shadow entry, the candidate decisions replayed


def replay_records(integrity: verify.VerifyReport, override: Optional[GateConfig] = None,
                   override_registry: Registry = EMPTY) -> Iterator[Replayed]:
    """Replay the records of a verified trace one by one, with its own config or ``override``.

    The model registry is the config record's, or with ``override`` ``override_registry``.
    Raise ReplayError at a decision that has no config record before it and no override,
    and at a config (the override first) whose ``spi.baseline_file`` cannot be used.
    """
    cfg, models = override, override_registry
    if override is not None:
        try:
            spi.baseline(override.spi)  # refused as the node and a config record would be
        except spi.BaselineError as exc:
            raise ReplayError(f'the config to replay with: {exc}') from None
    state, queued = (None if cfg is None else core.initial_state(cfg, models)), ()
    candidate = None if cfg is None else shadow.initial_state(cfg)
    for where, record in verify.read_records(integrity):
        if is_config(record):
            if override is None:
                cfg, models = _config_of(record, where)
            state, queued = core.initial_state(cfg, models), ()
            candidate = shadow.initial_state(cfg)
            yield Replayed(where, record, cfg, state, None)
            continue
        if cfg is None:
            raise ReplayError(f'{where}: no config record before this decision (the '
                              'trace starts mid-chain): give --config FILE')
        if record.get('chain_start'):
            state, queued = core.initial_state(cfg, models), ()
            candidate = shadow.initial_state(cfg)
        if is_spi(record):
            yield Replayed(where, record, cfg, state, None)
            continue
        shadowed = _ShadowReplay(record, candidate, cfg)
        state, decision, queued = _replay_record(state, queued, record, cfg, shadowed.before)
        candidate = shadowed.state
        yield Replayed(where, record, cfg, state, decision, tuple(shadowed.replayed))


def replay(paths: Sequence[Path], override: Optional[GateConfig] = None,
           override_registry: Registry = EMPTY) -> ReplayReport:
    """Replay the trace in ``paths`` with its own config, or with ``override`` and its registry.

    Raise ReplayError if a chain has no config record and no override is given.
    """
    report = ReplayReport(integrity=verify.verify(paths))
    report.replayed_with = None if override is None else config_sha256(
        override, override_registry.sha256)
    for step in replay_records(report.integrity, override, override_registry):
        where, record = step.where, step.record
        if is_config(record):
            report.trace_configs.append(f'{where}: {record.get("config_sha256")}')
            continue
        if record.get('lost_before') or record.get('events_dropped'):
            report.gaps.append(f'{where}: inputs were lost before this record')
        if record.get('config_sha256') != config_sha256(step.cfg, step.state.registry.sha256):
            report.other_configs += 1
        report.records += 1
        if is_spi(record):
            report.spi_records += 1
            replayed_spi = json.loads(json.dumps(spi.snapshot(step.state.spi, step.cfg.spi)))
            if replayed_spi != record['spi']:
                report.differences.append(Difference(where, record['seq'], record['spi'],
                                                     replayed_spi))
            continue
        recorded = record_summary(record)
        replayed = None if step.decision is None else decision_summary(step.decision)
        if replayed != recorded:
            report.differences.append(Difference(where, record['seq'], recorded, replayed))
        candidates = [entry['decisions'] for entry in record.get('shadow', [])]
        report.shadow_entries += len(candidates)
        if not same_records(candidates, list(step.shadow)):
            report.differences.append(Difference(where, record['seq'], {'shadow': candidates},
                                                 {'shadow': list(step.shadow)}))
    return report


def _config_of(record: dict, where: str) -> Tuple[GateConfig, Registry]:
    """Return the config and the model registry a config record holds."""
    try:
        cfg = build(record['config'])
        spi.baseline(cfg.spi)  # a baseline that cannot be read fails here, named
        return cfg, record_registry(record)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ReplayError(f'{where}: the config record does not load here ({exc}): '
                          'give --config FILE') from None


def format_report(report: ReplayReport, limit: int = 20) -> str:
    """Describe a replay for a person."""
    lines = [f'replayed {report.records} records ({report.spi_records} of SPIs): '
             f'{len(report.differences)} differ']
    if report.shadow_entries:
        lines.append(f'  with {report.shadow_entries} shadow (candidate) entries')
    if report.replayed_with is not None:
        lines.append(f'  replayed with --config, sha256 {report.replayed_with}; the trace '
                     'ran with:')
        lines.extend(f'    {config}' for config in report.trace_configs)
    if report.other_configs:
        lines.append(f'  {report.other_configs} records name another config_sha256 than the '
                     'one replayed with')
    lines.extend(f'  gap: {gap}' for gap in report.gaps[:limit])
    for diff in report.differences[:limit]:
        lines.append(f'  {diff.where} seq {diff.seq}: recorded {json.dumps(diff.recorded)}, '
                     f'replayed {json.dumps(diff.replayed)}')
    if len(report.differences) > limit:
        lines.append(f'  ... {len(report.differences) - limit} more')
    if report.integrity is not None and not report.integrity.ok:
        lines.append('trace integrity:')
        lines.append(verify.format_report(report.integrity))
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``safety-gate replay``: 0 when every record replays, 1 if one differs, 2 on errors."""
    parser = argparse.ArgumentParser(
        prog='safety-gate replay',
        description='Re-run the inputs recorded in a trace through the decision core. '
                    'Exit 0 when every decision replays exactly, 1 otherwise, 2 on an error.')
    parser.add_argument('trace', nargs='+', type=Path, help='trace files, rotated ones too')
    parser.add_argument('--config', type=Path,
                        help="a params file to replay with instead of the trace's own "
                             'config records (to compare configurations)')
    parser.add_argument('--namespace', default='', metavar='NS', help=NAMESPACE_HELP)
    args = parser.parse_args(argv)
    try:
        override = None if args.config is None else load_yaml(args.config, args.namespace)
        models = EMPTY if override is None else of_config(override, args.config)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return user_error('replay', f'--config {args.config}: {exc}')
    try:
        report = replay(args.trace, override, models)
    except (OSError, EOFError, ReplayError) as exc:
        return user_error('replay', str(exc))
    print(format_report(report))
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
