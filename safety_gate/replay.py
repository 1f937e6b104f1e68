# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Re-run a trace's recorded inputs through the core and report every difference.

``safety-gate replay TRACE... --config FILE``. The files are checked and
ordered by :mod:`safety_gate.verify` first. Each record's events are fed to
``core.step`` at their recorded node times, from a fresh state at every
``chain_start`` (a gate restart); the decision the last event produces must
equal the record's verdict, reasons, output and clamps exactly. With the
config that produced the trace nothing differs.
"""

import argparse
from dataclasses import dataclass, field
import json
from pathlib import Path
import sys
from typing import List, Optional, Sequence

from safety_gate import core, verify
from safety_gate.config import (config_sha256, ConfigError, GateConfig, load_yaml,
                                NAMESPACE_HELP)
from safety_gate.record import decision_summary, record_events, record_summary
from safety_gate.types import Reason


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
    differences: List[Difference] = field(default_factory=list)
    other_configs: int = 0
    gaps: List[str] = field(default_factory=list)
    integrity: Optional[verify.VerifyReport] = None

    @property
    def ok(self) -> bool:
        """Return True if every record replayed exactly and the trace is intact."""
        return not self.differences and self.integrity is not None and self.integrity.ok


def _replay_record(state: core.GateState, record: dict, cfg: GateConfig):
    """Return (state, decision) after the record's events; None if none was decided."""
    if record['trigger'] == 'shutdown':
        result = core.shutdown(state, record['t'])
        return result.state, result.decision
    events = record_events(record)
    # The exception itself is not in the trace, its consequence is: a failed
    # step consumed the last event, a failed conversion made no event at all.
    internal = Reason.INTERNAL_ERROR.value in record['reasons']
    if internal and record['trigger'] != 'convert':
        events = events[:-1]
    decision = None
    for now, event in events:
        result = core.step(state, event, now, cfg)
        state = result.state
        if result.decision is not None:
            decision = result.decision
    if internal:
        result = core.internal_error(state, record['t'], cfg, record['trigger'], 'replayed')
        state, decision = result.state, result.decision
    return state, decision


def replay(paths: Sequence[Path], cfg: GateConfig) -> ReplayReport:
    """Replay the trace in ``paths`` with ``cfg``."""
    report = ReplayReport(integrity=verify.verify(paths))
    expected_config = config_sha256(cfg)
    state = core.initial_state(cfg)
    for path in report.integrity.files:
        with open(path, encoding='utf-8') as lines:
            for number, line in enumerate(lines, start=1):
                record = json.loads(line)
                where = f'{path}:{number}'
                if record.get('chain_start'):
                    state = core.initial_state(cfg)
                if record.get('lost_before') or record.get('events_dropped'):
                    report.gaps.append(f'{where}: inputs were lost before this record')
                if record.get('config_sha256') != expected_config:
                    report.other_configs += 1
                state, decision = _replay_record(state, record, cfg)
                report.records += 1
                recorded = record_summary(record)
                replayed = None if decision is None else decision_summary(decision)
                if replayed != recorded:
                    report.differences.append(
                        Difference(where, record['seq'], recorded, replayed))
    return report


def format_report(report: ReplayReport, limit: int = 20) -> str:
    """Describe a replay for a person."""
    lines = [f'replayed {report.records} records: {len(report.differences)} differ']
    if report.other_configs:
        lines.append(f'  {report.other_configs} records name another config_sha256 than the '
                     'given config')
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
    """Run ``safety-gate replay``: 0 when every record replays exactly, 1 otherwise."""
    parser = argparse.ArgumentParser(
        prog='safety-gate replay',
        description='Re-run the inputs recorded in a trace through the decision core.')
    parser.add_argument('trace', nargs='+', type=Path, help='trace files, rotated ones too')
    parser.add_argument('--config', type=Path, required=True,
                        help='the params file the gate ran with')
    parser.add_argument('--namespace', default='', metavar='NS', help=NAMESPACE_HELP)
    args = parser.parse_args(argv)
    try:
        cfg = load_yaml(args.config, args.namespace)
    except (OSError, ConfigError) as exc:
        print(f'safety-gate replay: {exc}', file=sys.stderr)
        return 2
    report = replay(args.trace, cfg)
    print(format_report(report))
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
