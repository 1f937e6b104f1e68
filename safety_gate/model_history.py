# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate models TRACES...``: which model was in charge, when, under which config.

Reads the decision records of a verified trace (rotated files in any order)
and groups consecutive decisions by the model in charge (its sha256 and
registry entry: name, version, stage) and the config hash they were decided
under. Each row is one such period: its first and last decision (wall clock
and node time), how many decisions and which verdicts. Decisions that name no
model (none announced, no meta hash, no hashed files) form rows of their own.
"""

import argparse
from dataclasses import dataclass, field
from datetime import datetime, timezone
import json
from pathlib import Path
import sys
from typing import Counter, Dict, List, Optional, Sequence, Tuple

from safety_gate import verify
from safety_gate.decision import Verdict
from safety_gate.errors import user_error
from safety_gate.trace_record import is_config

_SHOWN = 12  # characters of a sha256 in the table, as git abbreviates


@dataclass
class Period:
    """Consecutive decisions with the same model in charge and the same config."""

    sha256: Optional[str]
    name: Optional[str]
    version: Optional[str]
    stage: Optional[str]
    config_sha256: str
    first_t: float
    first_wall: float
    last_t: float = 0.0
    last_wall: float = 0.0
    decisions: int = 0
    sources: List[str] = field(default_factory=list)
    verdicts: Counter = field(default_factory=Counter)

    def key(self) -> Tuple:
        """Return what must stay the same within a period."""
        return (self.sha256, self.name, self.version, self.stage, self.config_sha256)

    def to_dict(self) -> Dict:
        """Return the period as plain data (``--json``)."""
        return {'sha256': self.sha256, 'name': self.name, 'version': self.version,
                'stage': self.stage, 'config_sha256': self.config_sha256,
                'from': {'t': self.first_t, 'wall_time': self.first_wall},
                'to': {'t': self.last_t, 'wall_time': self.last_wall},
                'decisions': self.decisions, 'sources': self.sources,
                'verdicts': dict(self.verdicts)}


def periods(report: verify.VerifyReport) -> List[Period]:
    """Return the periods of a verified trace, oldest first."""
    found: List[Period] = []
    for _, record in verify.read_records(report):
        if is_config(record):
            continue
        model = record.get('model') or {}
        current = Period(model.get('sha256'), model.get('name'), model.get('version'),
                         model.get('stage'), str(record.get('config_sha256')),
                         record['t'], record['wall_time'])
        if not found or found[-1].key() != current.key():
            found.append(current)
        period = found[-1]
        period.last_t, period.last_wall = record['t'], record['wall_time']
        period.decisions += 1
        period.verdicts[record['verdict']] += 1
        source = model.get('source')
        if source and source not in period.sources:
            period.sources.append(source)
    return found


def _wall(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]


def _cell(value: Optional[str], shown: Optional[int] = None) -> str:
    if value is None:
        return '-'
    return f'`{value[:shown]}`' if shown else value


def markdown(found: Sequence[Period]) -> str:
    """Return the periods as a Markdown table."""
    verdicts = [v.value for v in Verdict]
    lines = ['| from (UTC) | to (UTC) | s | model sha256 | name | version | stage | source | '
             'config sha256 | decisions | ' + ' | '.join(verdicts) + ' |',
             '|' + '---|' * (10 + len(verdicts))]
    for p in found:
        lines.append(
            f'| {_wall(p.first_wall)} | {_wall(p.last_wall)} | {p.last_t - p.first_t:.1f} | '
            f'{_cell(p.sha256, _SHOWN) if p.sha256 else "(none named)"} | {_cell(p.name)} | '
            f'{_cell(p.version)} | {_cell(p.stage) if p.sha256 else "-"} | '
            f'{", ".join(p.sources) or "-"} | {_cell(p.config_sha256, _SHOWN)} | '
            f'{p.decisions} | ' + ' | '.join(str(p.verdicts.get(v, 0)) for v in verdicts)
            + ' |')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``safety-gate models``: 0 for an intact trace, 1 if its integrity fails, 2 on errors."""
    parser = argparse.ArgumentParser(
        prog='safety-gate models',
        description='List which model was in charge of the decisions of a trace (sha256, '
                    'registry name, version and stage), from when to when, under which config '
                    'hash. Exit 0 for an intact trace, 1 if its integrity check fails (the '
                    'list is printed anyway), 2 on an error.')
    parser.add_argument('trace', nargs='+', type=Path, help='trace files, rotated ones too')
    parser.add_argument('--json', action='store_true', help='print JSON instead of Markdown')
    args = parser.parse_args(argv)
    try:
        report = verify.verify(args.trace)
        found = periods(report)
    except (OSError, EOFError) as exc:
        return user_error('models', str(exc))
    if args.json:
        print(json.dumps([p.to_dict() for p in found], indent=2))
    else:
        print(markdown(found))
    if not report.ok:
        print('trace integrity:\n' + verify.format_report(report), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
