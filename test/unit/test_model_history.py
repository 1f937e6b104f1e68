# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate models`` and replay over a trace with a registry and a model swap."""

import json

from harness.recorded_runs import RecordedRun

from safety_gate import cli, model_history, registry, replay, verify
from safety_gate.events import ConservativeRequest

PROD, CANARY = 'a' * 64, 'b' * 64
MODELS = registry.from_records([
    {'sha256': PROD, 'name': 'alpamayo-r1', 'version': '1.0', 'approved_by': 'board',
     'evidence': 'note', 'stage': 'production'},
    {'sha256': CANARY, 'name': 'alpamayo-r1', 'version': '1.1', 'approved_by': 'board',
     'evidence': 'note', 'stage': 'canary', 'envelope_scale': 0.5}], 'e' * 64)


def governed_trace(tmp_path):
    """Return a trace: unnamed, production, a swap to the canary, conservative mode."""
    run = RecordedRun({'provenance.required': True}, models=MODELS)
    run.cycles(2, 0.5)
    run.cycles(20, 0.5, model=PROD)
    run.cycles(20, 0.5, model=CANARY)
    run.feed(ConservativeRequest(True))
    run.cycles(5, 0.5, model=CANARY)
    return run.write_trace(tmp_path / 'trace.jsonl')


def test_the_periods_follow_the_model_in_charge_and_replay_is_exact(tmp_path):
    path = governed_trace(tmp_path)
    report = replay.replay([path])
    assert report.ok and report.records > 40 and not report.other_configs, (
        replay.format_report(report))
    found = model_history.periods(verify.verify([path]))
    assert [(p.sha256, p.version, p.stage) for p in found] == [
        (None, None, None), (PROD, '1.0', 'production'), (CANARY, '1.1', 'canary')]
    assert found[1].verdicts['APPROVE'] > 10 and found[1].sources == ['meta']
    assert found[2].verdicts['FALLBACK'] >= 1  # MODEL_CHANGED, then the hysteresis
    assert found[2].verdicts['LIMIT'] > 10
    assert found[1].last_t < found[2].first_t


def test_the_command_prints_markdown_or_json(tmp_path, capsys):
    path = governed_trace(tmp_path)
    assert cli.main(['models', str(path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith('| from (UTC) | to (UTC) |') and len(table) == 5
    assert '(none named)' in table[2] and '`aaaaaaaaaaaa`' in table[3]
    assert '| alpamayo-r1 | 1.1 | canary | meta |' in table[4]
    assert cli.main(['models', '--json', str(path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row['stage'] for row in rows] == [None, 'production', 'canary']


def test_a_broken_trace_still_lists_and_exits_1(tmp_path, capsys):
    path = governed_trace(tmp_path)
    lines = path.read_text().splitlines()
    path.write_text('\n'.join(lines[:5] + lines[6:]) + '\n')
    assert cli.main(['models', str(path)]) == 1
    assert '| canary |' in capsys.readouterr().out
    assert cli.main(['models', str(tmp_path / 'missing.jsonl')]) == 2
