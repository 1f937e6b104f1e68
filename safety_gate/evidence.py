# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate evidence``: one go/no-go document from the reports a release review has.

Each input is optional and only what is given is judged: the candidate
configuration (``--config``: its hash), the model registry (``--registry``:
its entries, and every model the SPIs saw checked against it), the scenario
report (``--scenarios``: ``summary.json`` of ``safety-gate scenarios``), the
change-control comparison (``--compare``: the JSON ``safety-gate compare``
writes beside its Markdown), the fleet's SPIs (``--spi``: ``spi.json`` of
``safety-gate spi``) and the shadow stage (``--shadow``: ``shadow_report.json``
of ``safety-gate shadow-report``). Each finding is GO, REVIEW (a person must
sign it off) or NO-GO; the document's verdict is the worst of them.
"""

import argparse
import json
from pathlib import Path
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

from safety_gate.compare import OPEN_LOOP
from safety_gate.config import config_sha256, load_yaml, NAMESPACE_HELP
from safety_gate.errors import user_error
import yaml

LEVELS = ('GO', 'REVIEW', 'NO-GO')
# A PSI above this is a large shift of the confidence distribution (the usual reading).
PSI_LARGE = 0.25

Finding = Tuple[str, str, str]  # (level, topic, what)


def _json(path: Path, name: str) -> Dict[str, Any]:
    return json.loads((path / name if path.is_dir() else path).read_text())


def scenarios(summary: Dict[str, Any]) -> List[Finding]:
    """Judge a scenario summary: any scenario not PASS is NO-GO."""
    failed = [s for s in summary['scenarios'] if s['status'] != 'PASS']
    found = [('NO-GO', 'scenarios', f'`{s["id"]}` {s["status"]}' + (
        f': {s["error"]}' if s.get('error') else '')) for s in failed]
    return found or [('GO', 'scenarios', f'all {len(summary["scenarios"])} pass '
                      f'(config `{summary.get("config_sha256", "?")}`)')]


def comparison(result: Dict[str, Any]) -> List[Finding]:
    """Judge a comparison: gained approvals and lost ones not from the open loop need review."""
    found = []
    if not result['trace_ok']:
        found.append(('NO-GO', 'compare', 'the compared traces do not verify'))
    for row in result['approvals_gained']:
        found.append(('REVIEW', 'compare', f'{row["decisions"]} approvals gained that '
                      f'`{row["reason"]}` refused (model `{row["model"][:16]}`)'))
    for row in result['approvals_lost']:
        if row['reason'] not in OPEN_LOOP | {'HYSTERESIS'}:
            found.append(('REVIEW', 'compare', f'{row["decisions"]} approvals lost to '
                          f'`{row["reason"]}` (model `{row["model"][:16]}`)'))
    return found or [('GO', 'compare', f'{result["decisions"]} recorded decisions: no approval '
                      'gained, none lost but to the open loop')]


def indicators(summary: Dict[str, Any], registry: Optional[Dict[str, Any]]) -> List[Finding]:
    """Judge the fleet SPIs: recorded drift actions, a large PSI, models not in the registry."""
    found = []
    for change in summary['drift_changes']:
        if change['drift'] != 'none':
            level = 'NO-GO' if change['drift'] == 'withdraw' else 'REVIEW'
            found.append((level, 'spi', f'drift action {change["drift"]} recorded in '
                          f'{change["file"]} seq {change["seq"]}'))
    for group, values in summary['groups'].items():
        if values.get('psi') is not None and values['psi'] > PSI_LARGE:
            found.append(('REVIEW', 'spi', f'{summary["by"]} `{group[:16]}`: PSI '
                          f'{values["psi"]:.3f} > {PSI_LARGE} against the baseline'))
    if registry is not None and summary['by'] == 'model':
        known = {entry.get('sha256') for entry in registry.get('models', [])}
        found += [('NO-GO', 'registry', f'model `{group[:16] or "(none)"}` drove in the SPI '
                   'traces and is not in the registry')
                  for group in summary['groups'] if group not in known]
    return found or [('GO', 'spi', f'{len(summary["groups"])} {summary["by"]} group(s): no '
                      'drift action recorded, no large PSI')]


def shadow(report: Dict[str, Any]) -> List[Finding]:
    """Take the shadow report's pooled go/no-go rows: a NO-GO row is a NO-GO finding.

    A row that does not apply (n/a) is left out.
    """
    return [(row['verdict'], 'shadow', f'{row["criterion"]}: {row["measured"]} '
             f'(limit {row["limit"]})') for row in report['criteria']
            if row['verdict'] != 'n/a']


def document(findings: List[Finding], facts: List[str]) -> str:
    """Return the go/no-go Markdown: verdict, facts, then every finding, worst first."""
    verdict = max((level for level, _, _ in findings), key=LEVELS.index, default='GO')
    ordered = sorted(findings, key=lambda f: -LEVELS.index(f[0]))
    return '\n'.join(['# Release evidence', '', f'**Verdict: {verdict}**', '', *facts, '',
                      '| level | topic | finding |', '|---|---|---|',
                      *[f'| {level} | {topic} | {what} |' for level, topic, what in ordered]]
                     ) + '\n'


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``safety-gate evidence``: 0 GO, 1 REVIEW or NO-GO, 2 on an error."""
    parser = argparse.ArgumentParser(
        prog='safety-gate evidence', description='Combine config hash, model registry, '
        'scenario results, the change-control comparison, fleet SPIs and the shadow stage '
        'into one go/no-go document. Exit 0 for GO, 1 for REVIEW or NO-GO, 2 on an error.')
    parser.add_argument('--config', type=Path, metavar='NEW.yaml', help='the candidate config')
    parser.add_argument('--namespace', default='', metavar='NS', help=NAMESPACE_HELP)
    parser.add_argument('--registry', type=Path, metavar='FILE',
                        help='the model registry (provenance.registry_file)')
    parser.add_argument('--scenarios', type=Path, metavar='DIR',
                        help="safety-gate scenarios' report directory or its summary.json")
    parser.add_argument('--compare', type=Path, metavar='compare.json',
                        help='the JSON safety-gate compare wrote')
    parser.add_argument('--spi', type=Path, metavar='DIR',
                        help="safety-gate spi's report directory or its spi.json")
    parser.add_argument('--shadow', type=Path, metavar='DIR',
                        help="safety-gate shadow-report's output directory or its "
                        'shadow_report.json')
    parser.add_argument('-o', '--out', type=Path, default=Path('evidence.md'))
    args = parser.parse_args(argv)
    findings: List[Finding] = []
    facts: List[str] = []
    try:
        if args.config is not None:
            facts.append(f'- candidate config `{args.config}`: sha256 '
                         f'`{config_sha256(load_yaml(args.config, args.namespace))}`')
        registry = None
        if args.registry is not None:
            registry = yaml.safe_load(args.registry.read_text()) or {}
            facts.append(f'- model registry `{args.registry}`:')
            facts += [f'  - `{e.get("sha256", "?")[:16]}` {e.get("name")} {e.get("version")}, '
                      f'stage {e.get("stage")}, approved by {e.get("approved_by")}'
                      for e in registry.get('models', [])]
        if args.scenarios is not None:
            findings += scenarios(_json(args.scenarios, 'summary.json'))
        if args.compare is not None:
            result = _json(args.compare, 'compare.json')
            facts.append(f'- compared against recorded driving: candidate '
                         f'`{result["candidate_sha256"]}`, {result["decisions"]} decisions')
            findings += comparison(result)
        if args.spi is not None:
            findings += indicators(_json(args.spi, 'spi.json'), registry)
        if args.shadow is not None:
            report = _json(args.shadow, 'shadow_report.json')
            facts.append(f'- shadow stage: {report["verdict"]} over {len(report["slices"])} '
                         f'slice(s), {report["decisions"]} candidate decisions')
            findings += shadow(report)
    except (OSError, ValueError, KeyError, AttributeError, yaml.YAMLError) as exc:
        return user_error('evidence', f'{type(exc).__name__}: {exc}')
    if not (findings or facts):
        return user_error('evidence', 'nothing to judge: give --config, --registry, '
                          '--scenarios, --compare, --spi or --shadow')
    text = document(findings, facts)
    args.out.write_text(text)
    print(text, end='')
    return 0 if text.count('**Verdict: GO**') else 1


if __name__ == '__main__':
    sys.exit(main())
