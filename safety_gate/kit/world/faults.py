# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Fault-campaign evidence: each fault case records its outcome; one table sums them up.

A test tool, not part of the safety function.

The fault tests (``test/faults/test_faults_*.py``) and the core fuzzer call
:func:`record` for every case they run. It appends one JSON line to
``$SAFETY_GATE_EVIDENCE_DIR/evidence.jsonl`` and does nothing when that
variable is unset, so ordinary test runs write nothing. Then::

    SAFETY_GATE_EVIDENCE_DIR=/tmp/evidence python -m pytest test/faults/test_faults_*.py
    python -m safety_gate.kit.world.faults /tmp/evidence

prints the README's evidence table: per fault class the cases tried, the
unsafe outputs, the trace records lost and the reaction time's p99 (nearest
rank, so with fewer than 100 cases it is the slowest case). The exit code is 1
if any output was unsafe or a record was lost on healthy storage.
"""

import argparse
import json
import math
import os
from pathlib import Path
import sys
from typing import Dict, List, Optional, Sequence

EVIDENCE_DIR_ENV = 'SAFETY_GATE_EVIDENCE_DIR'
EVIDENCE_FILE = 'evidence.jsonl'


def record(fault_class: str, case: str, unsafe: int, lost: Optional[int],
           reaction_s: Optional[float], cases: int = 1, storage_healthy: bool = True) -> None:
    """Append one fault case to the evidence file, if ``$SAFETY_GATE_EVIDENCE_DIR`` is set.

    ``unsafe`` counts outputs that broke the invariant, ``lost`` the trace
    records lost (None: not measured), ``reaction_s`` the time from the fault
    to the gate's protective output (None: no reaction expected). ``cases``
    counts cases summed into this one line (the fuzzer's steps).
    """
    directory = os.environ.get(EVIDENCE_DIR_ENV)
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    line = json.dumps({'fault_class': fault_class, 'case': case, 'cases': cases,
                       'unsafe': unsafe, 'lost': lost, 'reaction_s': reaction_s,
                       'storage_healthy': storage_healthy})
    with open(Path(directory) / EVIDENCE_FILE, 'a', encoding='utf-8') as file:
        file.write(line + '\n')


def load(directory: Path) -> List[dict]:
    """Return the recorded cases in ``directory``, oldest first."""
    path = Path(directory) / EVIDENCE_FILE
    with open(path, encoding='utf-8') as file:
        return [json.loads(line) for line in file if line.strip()]


def p99(values: Sequence[float]) -> Optional[float]:
    """Return the nearest-rank 99th percentile, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def summarise(cases: List[dict]) -> List[Dict[str, object]]:
    """Return one row per fault class, in the order the classes were first recorded."""
    rows: Dict[str, Dict[str, object]] = {}
    reactions: Dict[str, List[float]] = {}
    for case in cases:
        row = rows.setdefault(case['fault_class'], {
            'fault_class': case['fault_class'], 'cases': 0, 'unsafe': 0, 'lost': None,
            'storage_healthy': True})
        row['cases'] += case['cases']
        row['unsafe'] += case['unsafe']
        if case['lost'] is not None:
            row['lost'] = (row['lost'] or 0) + case['lost']
        row['storage_healthy'] = row['storage_healthy'] and case['storage_healthy']
        if case['reaction_s'] is not None:
            reactions.setdefault(case['fault_class'], []).append(case['reaction_s'])
    for name, row in rows.items():
        row['reaction_p99_s'] = p99(reactions.get(name, []))
    return list(rows.values())


def table(rows: List[Dict[str, object]]) -> str:
    """Return the rows as the README's Markdown table."""
    lines = ['| fault class | cases | unsafe outputs | records lost | reaction p99 |',
             '|---|---:|---:|---:|---:|']
    for row in rows:
        lost = '-' if row['lost'] is None else str(row['lost'])
        if row['lost'] is not None and not row['storage_healthy']:
            lost += ' (storage failed; counted)'
        reaction = row['reaction_p99_s']
        reaction_text = '-' if reaction is None else f'{reaction * 1e3:.0f} ms'
        lines.append(f'| {row["fault_class"]} | {row["cases"]} | {row["unsafe"]} | {lost} '
                     f'| {reaction_text} |')
    return '\n'.join(lines)


def failures(rows: List[Dict[str, object]]) -> List[str]:
    """Return the rows that break the campaign's rules: unsafe outputs, loss on healthy storage."""
    found = []
    for row in rows:
        if row['unsafe']:
            found.append(f'{row["fault_class"]}: {row["unsafe"]} unsafe outputs')
        if row['lost'] and row['storage_healthy']:
            found.append(f'{row["fault_class"]}: {row["lost"]} records lost on healthy storage')
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print the evidence table for a directory of recorded cases."""
    parser = argparse.ArgumentParser(
        prog='python -m safety_gate.kit.world.faults',
        description='Print the fault-campaign evidence table from the cases the fault tests '
                    f'recorded (run them with {EVIDENCE_DIR_ENV}=DIR).')
    parser.add_argument('directory', type=Path, help=f'the {EVIDENCE_DIR_ENV} of the run')
    args = parser.parse_args(argv)
    try:
        rows = summarise(load(args.directory))
    except (OSError, ValueError, KeyError) as exc:
        print(f'faults: cannot read the evidence in {args.directory}: {exc!r}', file=sys.stderr)
        return 2
    print(table(rows))
    problems = failures(rows)
    for problem in problems:
        print(f'FAILED: {problem}', file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
