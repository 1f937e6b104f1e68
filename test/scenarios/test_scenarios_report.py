# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The scenario report from synthetic results: tables, plots, JSON, before/after (no ROS).

One test opens a report in a real browser (Debian's ``chromium``, headless) to
see the page's script run and answer a user's hover, click and drag; it skips
where chromium is not installed, and fails so under CI=true (CI's machine has it).
"""

import html
import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

from harness.ros import skip_or_fail
from harness.synthetic_recordings import (chattering, correct_gate, ESTOP_ACTIONS, ESTOP_FAULT,
                                          estop_gate, LOW_CONFIDENCE, low_confidence, record,
                                          scenario, T0)
import pytest
from safety_gate.config import GateConfig
from safety_gate.kit.scenarios import explorer, metrics, report, runner, sample_decision
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
        result(tmp_path, [LOW_CONFIDENCE], record(correct_gate, confidence=low_confidence),
               'good'),
        result(tmp_path, [LOW_CONFIDENCE], record(chattering, confidence=low_confidence),
               'chatty', severity='S3'),
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


# ---------------------------------------------------------------- what the gate does, seen

SVG_NS = '{http://www.w3.org/2000/svg}'
LIMITS = {'speed': 1.0, 'reverse': 0.3, 'yaw': 1.5, 'confidence': 0.5, 'recover': 0.6}


def drawn(rec, name='p', windows=()):
    """Return the root element of a run's time plot."""
    found = metrics.Metrics((), tuple(windows), 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                            len(rec.decisions))
    return ElementTree.fromstring(report.plot(rec, found, LIMITS, 6.0, name))


def x_of(root, t):
    """Return where script time ``t`` is drawn, from the mapping the root element carries."""
    t0, t1, x0, x1 = (float(root.get(k)) for k in ('data-t0', 'data-t1', 'data-x0', 'data-x1'))
    return x0 + (t - t0) / (t1 - t0) * (x1 - x0)


def panel(root, label):
    return next(g for g in root.iter(f'{SVG_NS}g')
                if g.get('class') == 'panel' and g.get('data-label') == label)


def y_of(group, value):
    y0, y1, top, height = (float(group.get(k)) for k in ('data-y0', 'data-y1', 'data-top',
                                                         'data-height'))
    return top + height - (value - y0) / (y1 - y0) * height


def test_the_confidence_judged_is_drawn_against_both_thresholds():
    root = drawn(record(correct_gate, confidence=low_confidence))
    lane = panel(root, 'confidence')
    lines = {line.get('class'): line for line in lane.iter(f'{SVG_NS}line')}
    assert float(lines['threshold'].get('y1')) == pytest.approx(y_of(lane, 0.5), abs=0.05)
    assert lines['threshold'].get('stroke-dasharray') is None
    assert float(lines['recover'].get('y1')) == pytest.approx(y_of(lane, 0.6), abs=0.05)
    assert lines['recover'].get('stroke-dasharray')
    confidence, = [p for p in lane.iter(f'{SVG_NS}polyline')
                   if p.get('data-series') == 'confidence']
    points = [tuple(map(float, xy.split(','))) for xy in confidence.get('points').split()]
    low = [x for x, y in points if y == pytest.approx(y_of(lane, 0.3), abs=0.05)]
    assert min(low) == pytest.approx(x_of(root, 2.0), abs=0.1)  # drops as the fault starts
    assert max(low) == pytest.approx(x_of(root, 3.5), abs=0.1)
    assert all(y == pytest.approx(y_of(lane, 0.9), abs=0.05) for x, y in points
               if x < x_of(root, 1.99))


def test_no_confidence_lane_where_no_confidence_was_judged():
    root = drawn(record(correct_gate))
    assert [g.get('data-label') for g in root.iter(f'{SVG_NS}g') if g.get('class') == 'panel'
            ] == ['speed v', 'yaw rate w']


def test_the_operators_actions_are_marked_on_the_time_axis():
    root = drawn(record(estop_gate, actions=ESTOP_ACTIONS))
    marks = [line for line in root.iter(f'{SVG_NS}line') if line.get('class') == 'operator']
    assert [float(m.get('x1')) for m in marks] == pytest.approx(
        [x_of(root, t) for t in (2.0, 2.5, 3.0, 4.0)], abs=0.05)
    assert [m.find(f'{SVG_NS}title').text for m in marks] == [
        '2.00 s: e-stop pressed', '2.50 s: reset refused (the e-stop input is still engaged)',
        '3.00 s: e-stop released', '4.00 s: reset accepted (reset)']
    labels = [t for t in root.iter(f'{SVG_NS}text') if t.get('class') == 'operator']
    assert [t.text for t in labels] == ['e-stop', 'reset ✗', 'release', 'reset ✓']
    assert [float(t.get('data-t')) for t in labels] == [2.0, 2.5, 3.0, 4.0]


def test_the_odometry_stays_visible_where_it_matches_the_actual_motion():
    root = drawn(record(correct_gate))
    speed = panel(root, 'speed v')
    lines = list(speed.iter(f'{SVG_NS}polyline'))
    order = [p.get('data-series') for p in lines]
    actual = next(p for p in lines if p.get('data-series') == 'actual')
    odometry = next(p for p in lines if p.get('data-series') == 'odometry')
    assert actual.get('points') == odometry.get('points')  # the same samples here
    # Drawn after (over) the wider actual line, and dashed so that it shows through.
    assert order.index('odometry') > order.index('actual')
    assert float(odometry.get('stroke-width')) < float(actual.get('stroke-width'))
    assert odometry.get('stroke-dasharray')


def test_the_page_embeds_every_decision_and_the_script_that_shows_them(tmp_path):
    found = results(tmp_path)
    page = report.write(found, INFO, tmp_path).html.read_text()
    data = re.findall(r'<script type="application/json" class="decisions">(.*?)</script>', page)
    assert len(data) == 3  # one per plot
    good = json.loads(data[0])
    rec = Recording.load(found[0].recording_path)
    assert len(good['decisions']) == len(rec.decisions)
    assert list(good['fields']) == list(explorer.FIELDS)
    row = dict(zip(good['fields'], good['decisions'][0]))
    assert row['t'] == pytest.approx(rec.decisions[0].t - T0)
    assert [good['checks'][i][0] for i, _, _ in row['checks']] == ['proposal.age', 'confidence']
    low = dict(zip(good['fields'], next(d for d in good['decisions'] if 'LOW_CONFIDENCE' in d[4])))
    assert [ok for _, ok, _ in low['checks']] == [1, 0]
    assert good['proposals'][low['proposal']]['confidence'] == 0.3
    assert "setAttribute('data-interactive', 'ready')" in page
    assert '.tz * { vector-effect: non-scaling-stroke; }' in page


def test_a_record_cannot_close_the_script_element_it_is_embedded_in():
    rec = record(correct_gate)
    rec.decisions[0].record['proposal']['reasoning'] = '</script><script>alert(1)</script>'
    text = explorer.data_script(rec)
    assert text.count('</script>') == 1
    body = text[len('<script type="application/json" class="decisions">'):-len('</script>')]
    assert json.loads(body)['proposals'][0]['reasoning'].startswith('</script>')


def test_the_sample_decision_is_the_reaction_to_the_first_fault(tmp_path):
    good = results(tmp_path)[0]
    rec = Recording.load(good.recording_path)
    sample = sample_decision.pick(rec, good.metrics)
    assert sample.decision.t == pytest.approx(T0 + 2.02)
    assert 'low_confidence' in sample.why
    lines = sample_decision.sentences(sample.decision, rec.t0)
    assert lines[0] == ('At 2.02 s (script time) the gate decided FALLBACK (decision 126, '
                        'trigger tick).')
    assert 'LOW_CONFIDENCE (confidence 0.3 is below 0.5).' in lines
    assert lines[-1].endswith('(confidence 0.3).')
    md = report.markdown([good], INFO, tmp_path, {'good': rec})
    block = md.split('Sample decision, ', 1)[1].split('```json\n', 1)[1].split('\n```', 1)[0]
    assert json.loads(block) == sample.decision.record
    assert 'events' not in json.loads(block) and 'prev_sha256' not in json.loads(block)


def test_without_a_fault_the_sample_is_an_approval_mid_run(tmp_path):
    def approving(s):
        return 'APPROVE', [], 0.6, 0.0
    nominal = result(tmp_path, [], record(approving, duration=2.0), 'nominal', duration=2.0)
    rec = Recording.load(nominal.recording_path)
    sample = sample_decision.pick(rec, nominal.metrics)
    assert sample.decision.t == pytest.approx(T0 + 1.0)  # on a proposal, mid-run
    assert sample.decision.record['trigger'] == 'proposal'
    assert sample_decision.sentences(sample.decision, rec.t0)[1] == (
        'All 1 checks passed, so the proposal went through.')


# Appended to a copy of the page, after its own script: hover, click and drag over the first
# plot as a user would, and leave what the page showed in attributes of <body> for --dump-dom.
USER = """<script>
var svg = document.querySelector('svg.timeplot'), d = svg.dataset;
function at(t) {
  var p = svg.createSVGPoint();
  p.x = +d.x0 + (t - d.t0) / (d.t1 - d.t0) * (d.x1 - d.x0);
  p.y = +d.top + 100;
  p = p.matrixTransform(svg.getScreenCTM());
  return {clientX: p.x, clientY: p.y, bubbles: true};
}
function act(kind, t) { svg.dispatchEvent(new MouseEvent(kind, at(t))); }
act('mousemove', 2.51);
document.body.setAttribute('data-hover', document.getElementById('hover').textContent);
act('mousedown', 2.51);
act('mouseup', 2.51);
document.body.setAttribute('data-clicked', document.querySelector('pre.decision').textContent);
act('mousedown', 2.0);
act('mousemove', 3.0);
act('mouseup', 3.0);
document.body.setAttribute('data-zoomed', svg.querySelector('g.tz').getAttribute('transform'));
</script></body>"""


def test_the_page_script_runs_in_a_browser(tmp_path):
    skip_or_fail(None if shutil.which('chromium') else (
        "Debian's chromium is not installed (apt-get install chromium); it opens a report to "
        'check that the page script runs'))
    planned = record(correct_gate, confidence=low_confidence)  # a trajectory run's stacked plot
    planned.poses = [PoseSample(T0 + k / 10, 0.06 * k, 0.0, 0.0) for k in range(60)]
    planned.plans = [PlanSample(T0 + 1.0, T0 + 1.0, [(k / 10, 0.06 * k, 0.0) for k in range(20)])]
    found = results(tmp_path) + [result(tmp_path, [LOW_CONFIDENCE], planned, 'planned')]
    page = report.write(found, INFO, tmp_path).html
    used = tmp_path / 'used.html'
    used.write_text(page.read_text().replace('</body>', USER))
    dom = subprocess.run(
        ['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--dump-dom',
         used.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=True).stdout
    assert 'data-interactive="ready"' in dom
    assert '<div id="hover"' in dom
    assert dom.count('class="plot-tools"') == 4 and dom.count('<pre class="decision">') == 4

    def shown(name):
        return html.unescape(re.search(f'{name}="([^"]*)"', dom).group(1))
    hover = shown('data-hover').splitlines()
    # Mouse events carry whole pixels: 8 ms of script time here.
    hovered = float(re.fullmatch(r't = ([\d.]+) s', hover[0]).group(1))
    assert hovered == pytest.approx(2.51, abs=0.009)
    assert hover[1].startswith('speed v (m/s): proposed 0.60, actual ')
    assert 'confidence: confidence 0.30' in hover
    assert hover[-1] == 'decision 150: FALLBACK LOW_CONFIDENCE'
    clicked = shown('data-clicked')
    assert re.match(r'Decision in force at 2\.5\d\d s \(script time\):\n', clicked)
    seen = json.loads(clicked.split('\n', 1)[1])  # the decision at 2.50 s
    assert (seen['seq'], seen['verdict'], seen['reasons']) == (150, 'FALLBACK', ['LOW_CONFIDENCE'])
    assert {'name': 'confidence', 'ok': False, 'value': 0.3, 'limit': 0.5,
            'reason': 'LOW_CONFIDENCE'} in seen['checks']
    # Dragged from 2 to 3 s: the 6.7 s drawn now fill the plot's width.
    scale = float(re.search(r'scale\(([\d.]+),1\)', shown('data-zoomed')).group(1))
    assert scale == pytest.approx(6.7, rel=0.01)
