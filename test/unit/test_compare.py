# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Change control: a candidate configuration replayed against recorded driving.

The trace is made by the core (``kit.bench.synthetic_trace``) with a
confidence that dips below the threshold now and then. A stricter threshold
must lose the approvals of every proposal between the two thresholds (and
gain none); a looser one must gain approvals and lose none; the trace's own
configuration changes nothing.
"""

import json
import math

import pytest

from safety_gate import compare, config
from safety_gate.kit.bench import synthetic_trace
from safety_gate.trace_record import is_decision

PARAMS = {'require_reset_on_start': False}
MODEL = 'e' * 64


@pytest.fixture(scope='module')
def trace(tmp_path_factory):
    path = tmp_path_factory.mktemp('compare') / 'trace.jsonl'
    synthetic_trace.write(path, config.build(PARAMS), 40.0,
                          lambda t: 0.62 + 0.3 * math.sin(t * 0.9), MODEL)
    return path


def params_file(tmp_path, name, **overrides):
    return config.write_params_file(tmp_path / name, {**PARAMS, **overrides})


def run(tmp_path, trace, *options):
    out = tmp_path / 'compare.md'
    code = compare.main([str(trace), *options, '-o', str(out)])
    return code, json.loads(out.with_suffix('.json').read_text()), out.read_text()


def test_the_trace_own_config_changes_nothing(tmp_path, trace):
    own = params_file(tmp_path, 'own.yaml')
    code, result, text = run(tmp_path, trace, '--config', str(own))
    assert code == 0 and result['changes'] == [] and result['decisions'] > 2000
    assert '- decisions compared:' in text and text.endswith('none\n')
    code, again, _ = run(tmp_path, trace, '--config', str(own), '--baseline-config', str(own))
    assert code == 0 and again['changes'] == []


def test_a_stricter_threshold_loses_every_approval_between_the_thresholds(tmp_path, trace):
    strict = params_file(tmp_path, 'strict.yaml', **{'confidence.threshold': 0.6})
    code, result, text = run(tmp_path, trace, '--config', str(strict))
    assert code == 1 and result['gained'] == 0 and result['lost'] > 0
    lost = {(c['where'], c['seq']) for c in result['changes']
            if c['before']['verdict'] in compare.APPROVALS
            and c['after']['verdict'] not in compare.APPROVALS}
    assert len(lost) == result['lost']
    between = set()
    for number, line in enumerate(trace.read_text().splitlines(), start=1):
        record = json.loads(line)
        if (is_decision(record) and record['trigger'] == 'proposal'
                and record['verdict'] in compare.APPROVALS
                and 0.5 <= record['proposal']['confidence'] < 0.6):
            between.add((f'{trace}:{number}', record['seq']))
    assert between and between <= lost
    counted = {(r['model'], r['reason']): r['decisions'] for r in result['approvals_lost']}
    assert counted[(MODEL, 'LOW_CONFIDENCE')] >= len(between)
    rows = [line for line in text.splitlines() if line.startswith(f'| {trace}:')]
    assert len(rows) == len(result['changes'])


def test_a_looser_threshold_gains_approvals_and_loses_only_to_the_open_loop(tmp_path, trace):
    """What it loses, it loses because the recorded vehicle stood while the candidate drove."""
    loose = params_file(tmp_path, 'loose.yaml', **{'confidence.threshold': 0.3,
                                                   'confidence.recover_threshold': 0.3})
    code, result, text = run(tmp_path, trace, '--config', str(loose))
    assert code == 1 and result['gained'] > 0
    reasons = {r['reason'] for r in result['approvals_gained']}
    assert reasons <= {'LOW_CONFIDENCE', 'HYSTERESIS'} and 'LOW_CONFIDENCE' in reasons
    lost = {r['reason'] for r in result['approvals_lost']}
    assert lost <= compare.OPEN_LOOP | {'HYSTERESIS'}, lost
    assert 'open loop' in text
