# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``make demo``: a showcase subset of the scenario library, closed loop, with its report.

A test tool, not part of the safety function. Each scenario runs the real gate
node between the scripted planner and the simulated vehicle on sim time. The
demo shows approvals, a low-confidence fallback, a planner freeze, an overspeed
veto, an e-stop with a refused and then an accepted reset, and in trajectory
mode the logged backward sweep refused and a stop along the last plan; then what the
gate decided (by verdict and reason), where each trace is and whether it
verifies, the summary table and where the full report is.
"""

import argparse
from pathlib import Path
import sys
import time
from typing import Dict, List, Sequence, Tuple

from safety_gate import config, verify
from safety_gate.kit.scenarios import model, report, runner
from safety_gate.kit.scenarios.recording import Recording
from safety_gate.paths import config_file

SHOWCASE = ('low_confidence_burst', 'planner_freeze', 'overspeed', 'estop_reset',
            'trajectory_backward_sweep')
DEFAULT_REPORT_DIR = Path('reports') / 'demo'


def timeline(rec: Recording) -> List[str]:
    """Return one line per change of verdict or reasons and per operator action, in time order.

    Times are script seconds; the lines just before 0 show the start-up reset.
    """
    lines, last = [], None
    for d in sorted(rec.decisions, key=lambda d: d.t):
        key = (d.verdict, tuple(d.reasons))
        if key != last and d.t >= rec.t0 - 0.2:
            last = key
            lines.append((d.t, f'  {d.t - rec.t0:6.2f} s  {d.verdict:8s} '
                               f'{" ".join(d.reasons) or "-":36s} out v={d.v:+.2f} w={d.w:+.2f}'))
    for o in report.operator_lines(rec):
        lines.append((rec.t0 + o.t, f'  {o.t:6.2f} s  operator: {o.text}'))
    return [text for _, text in sorted(lines, key=lambda item: item[0])]


def decisions_by_reason(recordings: Sequence[Recording]) -> Dict[Tuple[str, str], int]:
    """Count decisions by (verdict, all its reasons): each decision counts once.

    The reasons are joined with ' + ' in the order the gate gave them; an
    approval has reason '-'.
    """
    counts: Dict[Tuple[str, str], int] = {}
    for rec in recordings:
        for d in rec.decisions:
            key = (d.verdict, ' + '.join(d.reasons) or '-')
            counts[key] = counts.get(key, 0) + 1
    return counts


def table(counts: Dict[Tuple[str, str], int]) -> List[str]:
    """Return the decisions-by-verdict-and-reasons table, with the total."""
    width = max([len('reasons')] + [len(reasons) for _, reasons in counts])
    lines = [f'  {"verdict":8s} {"reasons":{width}s} {"decisions":>9s}']
    for (verdict, reasons), count in sorted(counts.items()):
        lines.append(f'  {verdict:8s} {reasons:{width}s} {count:9d}')
    lines.append(f'  {"total":8s} {"":{width}s} {sum(counts.values()):9d}')
    return lines


def main(argv=None) -> int:
    """Run the showcase and print its summary; exit non-zero if a scenario failed."""
    parser = argparse.ArgumentParser(prog='python -m safety_gate.kit.scenarios.demo')
    parser.add_argument('--report', type=Path, default=DEFAULT_REPORT_DIR, metavar='DIR',
                        help=f'where the report, traces and logs go (default: '
                        f'{DEFAULT_REPORT_DIR})')
    args = parser.parse_args(argv)
    library = {s.id: s for s in model.load_library(runner.library_dir())}
    scenarios = [library[i] for i in SHOWCASE]
    config_path = config_file('safety_gate.yaml')
    print(f'safety_gate demo: {len(scenarios)} scenarios from the library, closed loop '
          f'(scripted planner -> gate -> simulated vehicle) on sim time '
          f'x{runner.DEFAULT_SIM_RATE:g}, DDS on loopback\n')
    started = time.monotonic()
    results = runner.run_suite(scenarios, config_path, args.report, runner.DEFAULT_SIM_RATE)
    recordings = {r.scenario.id: Recording.load(r.recording_path) for r in results
                  if r.recording_path is not None}
    for result in results:
        rec = recordings.get(result.scenario.id)
        if rec is None:
            continue
        print(f'\n{result.scenario.title} ({result.scenario.id}): verdict changes, '
              's after the first proposal')
        print('\n'.join(timeline(rec)))
    print('\nDecisions by verdict and reasons (all runs; each decision once):')
    print('\n'.join(table(decisions_by_reason(list(recordings.values())))))
    print('\nTraces (hash-chained JSONL, checked with safety-gate verify):')
    traces_ok = True
    for result in results:
        if result.trace_path is None:
            continue
        # The runner verified it after the run; verify here only what it could not read.
        verdict = result.trace if result.trace is not None else verify.verify(
            [result.trace_path])
        traces_ok &= verdict.ok
        print(f'  {result.trace_path}: {verdict.records} records, '
              f'{"OK" if verdict.ok else "FAILED"}')
    cfg_sha = config.config_sha256(config.load_yaml(config_path))
    info = report.SuiteInfo(str(config_path), cfg_sha, runner.DEFAULT_SIM_RATE, 'S0',
                            time.monotonic() - started)
    paths = report.write(results, info, args.report)
    print('\nSummary:\n')
    print(report.console_table(results))
    print(f'\nReport: {paths.html}\n        {paths.markdown}')
    print(f'The whole library ({len(library)} scenarios): safety-gate scenarios')
    return 0 if traces_ok and all(r.passed for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())
