# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""One decision per scenario, picked and explained for the report.

The most telling decision of a run: the first intervention that counts for
its earliest fault window (the gate's reaction), or, in a run without one, the
first approval of a fresh proposal or plan from the middle of the run on. It is
shown as its record, as the recording keeps it, and in sentences built from
its checks by ``safety_gate.explain``, the words the gate's own log uses.
"""

import json
from typing import Any, Dict, List, NamedTuple, Optional

from safety_gate import explain
from safety_gate.decision import Reason
from safety_gate.kit.scenarios.metrics import counted_span, first_intervention, Metrics
from safety_gate.kit.scenarios.recording import DecisionSample, Recording
from safety_gate.trace_record import record_checks

# What each verdict does with the proposal, completing "FALLBACK means ...". A
# latch (ESTOP) or a superseded proposal has no failing check of its own.
_EFFECT = {
    'FALLBACK': 'the gate does not pass the proposal but publishes its fallback, which '
                'slows down from the last output',
    'ESTOP': 'the output is zero',
}
_LIMITED_BY = 'a reduced envelope (conservative mode or a canary model)'


class Sample(NamedTuple):
    """The decision picked and why it was."""

    decision: DecisionSample
    why: str


def pick(rec: Recording, metrics: Metrics) -> Optional[Sample]:
    """Return the most telling decision of a run that has records; None if it has none."""
    decisions = sorted((d for d in rec.decisions if d.record is not None), key=lambda d: d.t)
    for window in sorted(metrics.windows, key=lambda w: w.start):
        first = first_intervention(counted_span(decisions, window.start, window.end))
        if first is not None:
            return Sample(first, f'the first intervention for the fault {window.kind} '
                                 f'({window.start - rec.t0:.2f} s): the reaction')
    # Mid-run, where the vehicle cruises: the first approvals only start the ramp.
    middle = (rec.t0 + rec.end) / 2
    fresh = next((d for d in decisions if d.t >= middle and d.verdict == 'APPROVE'
                  and d.record.get('trigger') in ('proposal', 'plan')), None)
    if fresh is not None:
        return Sample(fresh, 'the first approval of a fresh proposal from the middle of the run')
    return None


def _num(value: Any) -> str:
    return f'{value:.2f}' if isinstance(value, float) else str(value)


def sentences(sample: DecisionSample, t0: float) -> List[str]:
    """Return a few sentences that say what the decision was and why."""
    record = sample.record
    checks = record_checks(record)
    failed = [c for c in checks if not c.ok]
    out = [f'At {sample.t - t0:.2f} s (script time) the gate decided {record["verdict"]} '
           f'(decision {record["seq"]}, trigger {record["trigger"]}).']
    if record['verdict'] == 'APPROVE':
        clamps = record.get('clamps') or []
        out.append(f'All {len(checks)} checks passed, so the proposal went through' + (
            f', rate-limited ({", ".join(clamps)}).' if clamps else '.'))
    elif record['verdict'] == 'LIMIT':
        out.append(f'No check refused the proposal; it went through clamped into {_LIMITED_BY}. '
                   'Its reasons:')
        out += [f'{text}.' for text in explain.sentences(
            [Reason(r) for r in record['reasons']], checks)]
    else:
        out.append(f'{len(failed)} of its {len(checks)} checks failed; {record["verdict"]} '
                   f'means {_EFFECT[record["verdict"]]}. Its reasons:')
        out += [f'{text}.' for text in explain.sentences(
            [Reason(r) for r in record['reasons']], checks)]
    proposal = record.get('proposal')
    proposed = '' if proposal is None else (
        f' for the proposed v {_num(proposal["v"])} m/s, w {_num(proposal["w"])} rad/s')
    confidence = sample.confidence
    judged = '' if confidence is None else f' (confidence {confidence:g})'
    output = record['output']
    out.append(f'Published: v {_num(output["v"])} m/s, w {_num(output["w"])} rad/s'
               f'{proposed}{judged}.')
    return out


def record_json(record: Dict[str, Any]) -> str:
    """Return a record as JSON: one member a line, one check a line."""
    lines = []
    for key, value in record.items():
        if key == 'checks':
            inner = ',\n'.join(f'  {json.dumps(c)}' for c in value)
            lines.append(f' "checks": [\n{inner}\n ]')
        else:
            lines.append(f' {json.dumps(key)}: {json.dumps(value)}')
    return '{\n' + ',\n'.join(lines) + '\n}'
