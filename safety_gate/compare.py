# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate compare --config NEW.yaml [--baseline-config OLD.yaml] TRACE...``: change control.

Replays the recorded inputs of real driving (:mod:`safety_gate.replay`) under a
candidate configuration and reports every decision that changes against the
baseline: the decisions as recorded, or as replayed under ``--baseline-config``.
An approval is a decision that actuates the proposal (APPROVE, or LIMIT:
clamped into a reduced envelope). Approvals lost are counted by the reasons that
refuse them now, approvals gained by the reasons that refused them before,
both per model hash; every changed decision is listed. Open loop: the inputs
are those recorded, not what the vehicle would have done after another
decision: a candidate that drives where the recorded vehicle stood finds the
odometry stuck or not tracking (:data:`OPEN_LOOP`), which the report marks.
Writes Markdown (``-o``, default ``compare.md``) and its numbers as JSON
beside it.
"""

import argparse
from collections import Counter
import json
from pathlib import Path
import sys
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from safety_gate import replay, verify
from safety_gate.config import config_sha256, GateConfig, load_yaml, NAMESPACE_HELP
from safety_gate.decision import Verdict
from safety_gate.errors import user_error
from safety_gate.trace_record import decision_summary, is_decision, record_summary
import yaml


APPROVALS = (Verdict.APPROVE.value, Verdict.LIMIT.value)
# Reasons that compare the measured motion with the output: replayed open loop under another
# configuration they fire where the recorded vehicle did not do what the candidate commanded.
OPEN_LOOP = frozenset({'ODOM_STUCK', 'TRACKING_ERROR'})


def _model(record: Dict[str, Any]) -> str:
    return ((record.get('model') or {}).get('sha256')
            or (record.get('proposal') or {}).get('model_sha256') or '')


def _decisions(integrity: verify.VerifyReport,
               cfg: Optional[GateConfig]) -> Iterator[Tuple[str, dict, Optional[dict]]]:
    """Yield (where, record, its decision under ``cfg``; the recorded one if None)."""
    if cfg is None:
        for where, record in verify.read_records(integrity):
            if is_decision(record):
                yield where, record, record_summary(record)
        return
    for step in replay.replay_records(integrity, cfg):
        if is_decision(step.record):
            yield step.where, step.record, (None if step.decision is None
                                            else decision_summary(step.decision))


def compare(paths: Sequence[Path], candidate: GateConfig,
            baseline: Optional[GateConfig] = None) -> Dict[str, Any]:
    """Return the decisions that differ between the baseline and ``candidate``, counted."""
    integrity = verify.verify(paths)
    lost: Counter = Counter()
    gained: Counter = Counter()
    changes: List[Dict[str, Any]] = []
    decisions = 0
    for (where, record, before), (_, _, after) in zip(_decisions(integrity, baseline),
                                                      _decisions(integrity, candidate)):
        decisions += 1
        if before == after:
            continue
        model = _model(record)
        was, now = _approved(before), _approved(after)
        if was and not now:
            lost.update((model, reason) for reason in (after or {}).get('reasons', ['none']))
        elif now and not was:
            gained.update((model, reason) for reason in (before or {}).get('reasons', ['none']))
        changes.append({'where': where, 'seq': record['seq'], 't': record['t'],
                        'trigger': record['trigger'], 'model': model,
                        'before': before, 'after': after})
    return {
        'candidate_sha256': config_sha256(candidate),
        'baseline_sha256': None if baseline is None else config_sha256(baseline),
        'trace_configs': integrity.configs, 'trace_ok': integrity.ok, 'decisions': decisions,
        'approvals_lost': _counted(lost), 'approvals_gained': _counted(gained),
        'lost': sum(_approved(c['before']) and not _approved(c['after']) for c in changes),
        'gained': sum(_approved(c['after']) and not _approved(c['before']) for c in changes),
        'changes': changes,
    }


def _approved(summary: Optional[dict]) -> bool:
    """Return True for a decision that actuates the proposal: APPROVE, or LIMIT (clamped)."""
    return summary is not None and summary['verdict'] in APPROVALS


def _counted(counter: Counter) -> List[Dict[str, Any]]:
    return [{'model': model, 'reason': reason, 'decisions': count}
            for (model, reason), count in sorted(counter.items())]


def _decided(summary: Optional[dict]) -> str:
    if summary is None:
        return 'nothing decided'
    reasons = ' '.join(summary['reasons'])
    return summary['verdict'] + (f' {reasons}' if reasons else '')


def markdown(result: Dict[str, Any]) -> str:
    """Return the comparison as Markdown: the summary, the counts, every changed decision."""
    against = (f'`{result["baseline_sha256"]}` (replayed)' if result['baseline_sha256']
               else 'the decisions as recorded (' + ', '.join(
                   f'`{sha}`' for sha in result['trace_configs']) + ')')
    lines = ['# Configuration change against recorded driving', '',
             f'- candidate config: `{result["candidate_sha256"]}`',
             f'- baseline: {against}',
             f'- decisions compared: {result["decisions"]}; changed: {len(result["changes"])}; '
             f'approvals lost: {result["lost"]}; approvals gained: {result["gained"]}',
             '- trace integrity: ' + ('ok' if result['trace_ok'] else
                                      'PROBLEMS (see safety-gate verify)'),
             '- replayed open loop: the recorded inputs, not what the vehicle would have done; '
             'a reason marked (open loop) fired because the recorded vehicle did not follow '
             "the candidate's output", '']
    for title, key, why in (('Approvals lost', 'approvals_lost', 'refused now for'),
                            ('Approvals gained', 'approvals_gained', 'refused before for')):
        lines += [f'## {title}', '']
        rows = result[key]
        lines += (['| model | ' + why + ' | decisions |', '|---|---|---|']
                  + [f'| `{r["model"][:16] or "(none)"}` | `{r["reason"]}`'
                     + (' (open loop)' if r['reason'] in OPEN_LOOP else '')
                     + f' | {r["decisions"]} |' for r in rows]) if rows else ['none']
        lines.append('')
    lines += ['## Every changed decision', '']
    if result['changes']:
        lines += ['| where | seq | t | trigger | model | before | after |',
                  '|---|---|---|---|---|---|---|']
        lines += [f'| {c["where"]} | {c["seq"]} | {c["t"]:.3f} | {c["trigger"]} | '
                  f'`{c["model"][:16]}` | {_decided(c["before"])} | {_decided(c["after"])} |'
                  for c in result['changes']]
    else:
        lines.append('none')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``safety-gate compare``: 0 nothing changes, 1 some decision changes, 2 an error."""
    parser = argparse.ArgumentParser(
        prog='safety-gate compare', description='Replay recorded traces under a candidate '
        'configuration and report every decision that changes. Exit 0 when none does, 1 '
        'when some do, 2 on an error.')
    parser.add_argument('traces', nargs='+', type=Path, metavar='TRACE')
    parser.add_argument('--config', type=Path, required=True, metavar='NEW.yaml',
                        help='the candidate params file')
    parser.add_argument('--baseline-config', type=Path, metavar='OLD.yaml',
                        help='replay the baseline under this params file (default: the '
                             'decisions as recorded)')
    parser.add_argument('--namespace', default='', metavar='NS', help=NAMESPACE_HELP)
    parser.add_argument('-o', '--out', type=Path, default=Path('compare.md'))
    args = parser.parse_args(argv)
    try:
        candidate = load_yaml(args.config, args.namespace)
        old = (None if args.baseline_config is None
               else load_yaml(args.baseline_config, args.namespace))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return user_error('compare', str(exc))
    try:
        result = compare(args.traces, candidate, old)
    except (OSError, EOFError, replay.ReplayError) as exc:
        return user_error('compare', str(exc))
    args.out.write_text(markdown(result))
    args.out.with_suffix('.json').write_text(json.dumps(result, indent=1) + '\n')
    print(f'{result["decisions"]} decisions: {len(result["changes"])} change, '
          f'{result["lost"]} approvals lost, {result["gained"]} gained; wrote {args.out}')
    return 1 if result['changes'] else 0


if __name__ == '__main__':
    sys.exit(main())
