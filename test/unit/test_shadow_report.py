# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""safety-gate shadow-report: the statistics and the go/no-go of a shadow candidate's traces."""

import json
import math

from harness.shadow_play import play_shadowed, write_trace
import pytest

from safety_gate import config, evidence
from safety_gate.kit.scenarios import shadow_report

SCRIPT = [(0.0, ('rearm',)), (0.02, ('drive', 30, 0.5, 0.1, 0.9))]
# During the drive, every few events: a candidate close to production (0.5, 0.1); and one
# while the gate is still latched, refused as production is.
CLOSE = {1: [('pair', 0.55, 0.08, 0.9)],
         **{index: [('pair', 0.55, 0.08, 0.9)] for index in range(40, 480, 6)}}
# The same, with an overspeed among every third pair, and one NaN.
WILD = {index: [('pair', 3.0 if index % 18 == 4 else 0.55, 0.08, 0.9)]
        for index in range(40, 480, 6)}
WILD[46] = [('pair', math.nan, 0.08, 0.9)]


@pytest.fixture
def traces(tmp_path):
    cfg = config.build({'require_reset_on_start': True})
    paths = []
    for name, candidates in (('close', CLOSE), ('wild', WILD)):
        path = tmp_path / name / 'trace.jsonl'
        path.parent.mkdir()
        write_trace(path, cfg, play_shadowed(cfg, SCRIPT, candidates).records)
        paths.append(path)
    return paths


def test_a_close_candidate_is_go_and_a_wild_one_no_go(traces, tmp_path, capsys):
    close, wild = traces
    out = tmp_path / 'report'
    assert shadow_report.main([str(close), '-o', str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith('GO:')
    assert shadow_report.main([str(close), str(wild), '--by', 'scenario', '-o', str(out)]) == 1
    text = (out / 'shadow_report.md').read_text()
    assert '**NO-GO**' in text and '## close' in text and '## wild' in text
    # An overspeed is refused, and authority comes back only after clean proposals.
    assert "Reasons of the candidate's own would-be interventions: HYSTERESIS" in text
    assert 'OVER_SPEED (' in text
    page = (out / 'shadow_report.html').read_text()
    assert page.count('<svg') == 2 and (out / 'plots' / '1.svg').exists()


def test_the_json_brings_the_go_no_go_rows_into_the_evidence(traces, tmp_path):
    for trace, verdict in zip(traces, ('GO', 'NO-GO')):
        out = tmp_path / trace.parent.name
        shadow_report.main([str(trace), '-o', str(out)])
        report = json.loads((out / 'shadow_report.json').read_text())
        assert report['verdict'] == verdict and report['slices'][0]['verdict'] == verdict
        applicable = [row for row in report['criteria'] if row['verdict'] != 'n/a']
        assert applicable and (verdict == 'GO') == all(
            row['verdict'] == 'GO' for row in applicable)
        document = tmp_path / f'{trace.parent.name}.md'
        assert evidence.main(['--shadow', str(out), '-o', str(document)]) == (
            0 if verdict == 'GO' else 1)
        text = document.read_text()
        assert f'**Verdict: {verdict}**' in text
        shadow_rows = [line for line in text.splitlines() if '| shadow |' in line]
        assert [line.split(' | ')[0].strip('| ') for line in shadow_rows] == sorted(
            (row['verdict'] for row in applicable), key=evidence.LEVELS.index, reverse=True)


def test_the_statistics_of_a_slice(traces):
    whole, (close, wild) = shadow_report.judge(shadow_report.read(traces, 'scenario'),
                                               shadow_report.Thresholds(min_decisions=10))
    assert (close.stats.decisions, wild.stats.decisions) == (len(CLOSE), len(WILD))
    assert close.stats.interventions == 1 and close.stats.excess == 0
    assert (close.stats.non_finite, wild.stats.non_finite) == (0, 1)
    assert shadow_report.go(close.criteria)
    assert close.stats.dv.peak == pytest.approx(0.05) and close.stats.dw.p95 == pytest.approx(
        0.02)
    overspeeds = sum(index % 18 == 4 for index in WILD)
    # The NaN is refused as over the envelope too.
    assert dict(wild.stats.reasons)['OVER_SPEED'] == overspeeds + 1
    assert wild.stats.excess > overspeeds
    assert wild.stats.dv.peak == pytest.approx(2.5)
    failing = {c.name for c in wild.criteria if c.ok is False}
    assert failing == {"candidate's own would-be interventions", '|dv| vs production p95',
                       'non-finite proposals'}
    assert whole.stats.decisions == len(CLOSE) + len(WILD) and whole.part.records == (
        close.part.records + wild.part.records)
    assert {c.name for c in close.criteria if c.ok is None} == {
        'lateral distance p95', 'longitudinal distance p95'}


def test_no_shadow_entries_is_no_go_for_lack_of_evidence(tmp_path, capsys):
    cfg = config.build({'require_reset_on_start': True})
    path = tmp_path / 'trace.jsonl'
    write_trace(path, cfg, play_shadowed(cfg, SCRIPT, {}).records)
    assert shadow_report.main([str(path), '-o', str(tmp_path / 'r')]) == 1
    assert 'candidate decisions' in capsys.readouterr().out
    assert shadow_report.main([str(tmp_path / 'missing.jsonl')]) == 2


def test_the_files_of_a_rotated_trace_are_one_slice(tmp_path):
    cfg = config.build({'require_reset_on_start': True})
    path = tmp_path / 'trace.jsonl'
    write_trace(path, cfg, play_shadowed(cfg, SCRIPT, CLOSE).records, max_file_bytes=100_000,
                max_files=100)
    files = sorted(tmp_path.glob('trace.jsonl*'), reverse=True)
    assert len(files) > 3
    (found,) = shadow_report.read(files, 'file')
    assert found.name == str(path) and not found.problems
    assert len(found.samples) == len(CLOSE)
