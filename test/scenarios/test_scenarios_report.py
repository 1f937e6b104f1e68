# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The scenario report from synthetic results: tables, plots, JSON, before/after (no ROS)."""

import json
import math
import xml.etree.ElementTree as ElementTree

from harness.synthetic_recordings import (chattering, correct_gate, ESTOP_ACTIONS, ESTOP_FAULT,
                                          estop_gate, LOW_CONFIDENCE, record, scenario)
import pytest
from safety_gate.config import GateConfig
from safety_gate.kit.scenarios import metrics, report, runner
from safety_gate.kit.scenarios.model import Severity
from safety_gate.kit.scenarios.path_plot import path_plot, placed_plans
from safety_gate.kit.scenarios.recording import DecisionSample, PlanSample, PoseSample, Recording

CFG = GateConfig()
INFO = report.SuiteInfo('config/safety_gate.yaml', 'ab' * 32, 2.0, 'S2', 12.0)


def result(tmp_path, faults, rec, name, severity='S2', **extra):
    sc = scenario(faults, **extra).copy(update={'id': name, 'severity': Severity(severity)})
    workdir = tmp_path / 'runs' / name
    workdir.mkdir(parents=True)
    rec.save(workdir / 'recording.json')
    found = metrics.measure(sc, rec, CFG)
    return runner.Result(sc, metrics.Outcome(metrics.judge(sc, found, CFG)), found, workdir,
                         5.0, 2.0, CFG, workdir / 'recording.json', workdir / 'trace.jsonl')


def results(tmp_path):
    return [
        result(tmp_path, [LOW_CONFIDENCE], record(correct_gate), 'good'),
        result(tmp_path, [LOW_CONFIDENCE], record(chattering), 'chatty', severity='S3'),
        result(tmp_path, [ESTOP_FAULT], record(estop_gate, actions=ESTOP_ACTIONS), 'stop',
               resets=[2.5, 4.0]),
        runner.Result(scenario([]).copy(update={'id': 'broken'}),
                      metrics.Outcome(error='TimeoutError: no gate'), None, tmp_path, 1.0),
    ]


def test_the_report_has_every_part(tmp_path):
    found = results(tmp_path)
    paths = report.write(found, INFO, tmp_path)
    md = paths.markdown.read_text()
    assert '| scenario | S | E | result |' in md
    assert '| [good](#good) | S2 | E3 | **PASS** | 0 | 0.02 | 0.70 | 100 | 0.50 | 0 |' in md
    assert '**FAIL**' in md and '**ERROR**' in md
    assert '- low_confidence @2s: chatter: 1 (required <= 0)' in md
    assert '2.50 s: reset refused' in md and '4.00 s: reset accepted' in md
    assert '![good](plots/good.svg)' in md
    for name in ('good', 'chatty', 'stop'):
        svg = (tmp_path / 'plots' / f'{name}.svg').read_text()
        root = ElementTree.fromstring(svg)  # well-formed, standalone
        assert root.tag.endswith('svg')
        assert 'low_confidence' in svg or 'estop' in svg
    assert not (tmp_path / 'plots' / 'broken.svg').exists()
    page = paths.html.read_text()
    assert page.count('<svg ') == 3 and '<img' not in page and 'http' not in page.replace(
        'http://www.w3.org/2000/svg', '')
    assert 'id="good-clip1"' in page and 'id="chatty-clip1"' in page  # unique clip ids
    summary = json.loads(paths.summary.read_text())
    assert [s['status'] for s in summary['scenarios']] == ['PASS', 'FAIL', 'PASS', 'ERROR']
    assert summary['scenarios'][0]['metrics']['resume_s'] == 0.5


def test_the_console_table_and_the_release_gate(tmp_path):
    found = results(tmp_path)
    table = report.console_table(found)
    assert table.splitlines()[0].startswith('scenario')
    assert 'chatty' in table and 'FAIL' in table
    assert [r.scenario.id for r in runner.blocking(found, Severity.S3)] == ['chatty']
    assert [r.scenario.id for r in runner.blocking(found, Severity.S2)] == ['chatty', 'broken']


def test_a_baseline_adds_a_before_after_table(tmp_path):
    found = results(tmp_path)
    baseline = report.summary(found, INFO)
    baseline['scenarios'][1]['status'] = 'PASS'
    paths = report.write(found, INFO, tmp_path / 'after', baseline)
    md = paths.markdown.read_text()
    assert '## Before / after' in md
    assert '| chatty | S3 | PASS → FAIL |' in md
    assert 'Before / after' in paths.html.read_text()


def test_a_plan_is_drawn_from_where_the_vehicle_was_at_its_stamp():
    rec = Recording('xy', t0=1.0, end=3.0)
    rec.poses = [PoseSample(1.0, 0.0, 0.0, 0.0), PoseSample(2.0, 1.0, 2.0, math.pi / 2)]
    rec.plans = [PlanSample(2.05, 2.0, [(0.0, 0.0, 0.0), (0.1, 1.0, 0.0),
                                        (0.2, math.nan, 0.0)])]
    rec.decisions = [DecisionSample(1.0, 'APPROVE', [], 0.5, 0.0)]
    (_, points), = placed_plans(rec)
    assert points[0] == pytest.approx((1.0, 2.0))
    assert points[1] == pytest.approx((1.0, 3.0))  # 1 m ahead of a vehicle facing +y
    assert math.isnan(points[2][0])
    svg = path_plot(rec, [(1.5, 2.5)], 'xy')
    ElementTree.fromstring(svg)
    assert '#9467bd' in svg and '1 of 1 plans drawn' in svg  # in the fault window
