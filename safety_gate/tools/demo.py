# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``make demo``: the gate closed-loop with a scripted planner and a simulated vehicle.

A test tool, not part of the safety function. It shows an approval, a
low-confidence fallback, a planner freeze, and an e-stop with a refused and
then an accepted reset, then prints what the gate decided and where the
trace is.
"""

import argparse
from pathlib import Path
import sys
import tempfile
from typing import List

from safety_gate import verify
from safety_gate.tools.closed_loop import Action, decisions_by_reason, Run, run

SCRIPT = {
    'confidence': 0.9,
    'loop': False,
    'segments': [[4.0, 0.6, 0.0], [4.0, 0.5, 0.4], [12.0, 0.6, 0.0]],
    'faults': [
        {'t_start': 5.0, 't_end': 6.5, 'kind': 'low_confidence', 'value': 0.3},
        {'t_start': 9.0, 't_end': 10.5, 'kind': 'freeze'},
    ],
}
ACTIONS = [
    Action(13.0, 'estop', True),
    Action(13.5, 'reset'),          # refused: the e-stop input is still engaged
    Action(14.0, 'estop', False),
    Action(15.0, 'reset'),          # accepted: motion resumes on the next fresh proposal
]
DURATION_S = 18.0


def timeline(result: Run) -> List[str]:
    """One line per change of verdict or reasons, in planner time."""
    lines, last = [], None
    for record in result.decisions:
        key = (record['verdict'], tuple(record['reasons']))
        if key != last:
            last = key
            out = record['output']
            lines.append(f'  {record["received"] - result.t0:6.2f} s  {record["verdict"]:8s} '
                         f'{" ".join(record["reasons"]) or "-":40s} '
                         f'out v={out["v"]:+.2f} w={out["w"]:+.2f}')
    return lines


def table(result: Run) -> List[str]:
    """Decisions counted by verdict and reason."""
    counts = decisions_by_reason(result)
    lines = [f'  {"verdict":8s} {"reason":26s} {"decisions":>9s}']
    for (verdict, reason), count in sorted(counts.items()):
        lines.append(f'  {verdict:8s} {reason:26s} {count:9d}')
    return lines


def main(argv=None) -> int:
    """Run the demo and print its summary; exit non-zero if the run itself failed."""
    parser = argparse.ArgumentParser(prog='python -m safety_gate.tools.demo')
    parser.add_argument('--workdir', type=Path, help='where logs and the trace go')
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix='safety_gate_demo_'))
    print(f'safety_gate demo: planner -> gate -> simulated vehicle, {DURATION_S:.0f} s, '
          f'DDS on loopback, logs in {workdir}')
    print('  0-9 s cruise and curve, 5-6.5 s low confidence, 9-10.5 s planner freeze,')
    print('  13 s e-stop, 13.5 s reset (refused), 14 s e-stop released, 15 s reset')

    def progress(elapsed: float) -> None:
        print(f'\r  running {elapsed:4.1f} / {DURATION_S:.0f} s', end='', flush=True)

    result = run(SCRIPT, DURATION_S, workdir, actions=ACTIONS, progress=progress)
    print('\n\nTimeline (s after the first proposal):')
    print('\n'.join(timeline(result)))
    print('\nResets:')
    for t, kind, message in result.actions:
        if kind == 'reset':
            print(f'  {t - result.t0:6.2f} s  {message}')
    print('\nDecisions by verdict and reason:')
    print('\n'.join(table(result)))
    report = verify.verify([result.trace_path])
    print(f'\nTrace: {result.trace_path} ({len(result.decisions)} records received on '
          f'safety_gate/decision)')
    print(f'  safety-gate verify: {"OK" if report.ok else "FAILED"}')
    if not report.ok:
        print(verify.format_report(report))
    ok = result.gate_exit_code == 0 and report.ok and result.decisions
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
