# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The offline SPI tools against an independent computation over the same records.

Small traces made by the core (``kit.bench.synthetic_trace``): two models, two
configurations, one trace rotated into gzip files and HMAC-signed. Every number
``safety-gate spi`` and ``safety-gate baseline`` give is recomputed here in
plain Python from the records read line by line, and the Parquet export gives
the same numbers as the JSONL.
"""

import json
import math
import random

from harness.event_scripts import records_of, Step
import numpy
import pytest

from safety_gate import baseline, config, export, fleet, spi, spi_report, trace_writer
from safety_gate.events import Tick
from safety_gate.kit.bench import synthetic_trace
from safety_gate.kit.world import fuzz
from safety_gate.kit.world.plan_fuzz import TRAJECTORY
from safety_gate.trace_file import open_trace
from safety_gate.trace_record import is_decision, is_spi

MODEL_A, MODEL_B = 'a' * 64, 'b' * 64
KEY = b'fleet key'


def dipping(t):
    """Confidence that dips below the gate's threshold now and then: refusals and hysteresis."""
    return 0.7 + 0.28 * math.sin(t * 1.3) * math.cos(t * 0.21)


@pytest.fixture(scope='module')
def fleet_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('fleet')
    base = {'require_reset_on_start': False, 'spi.window': 10.0, 'spi.min_samples': 20,
            'spi.intervention_rate_limit': 0.2}
    # Runs of odd lengths: no quantile falls on a sample, so interpolating shows.
    runs = [('depot', MODEL_A, 61.7, dipping, base, {}),
            ('highway', MODEL_B, 58.4, lambda t: dipping(1.7 * t) - 0.1,
             {**base, 'envelope.max_linear_speed': 0.8},
             {'max_file_bytes': 200_000, 'hmac_key': KEY})]
    paths = []
    for scenario, model, seconds, confidence, params, options in runs:
        (root / scenario).mkdir()
        synthetic_trace.write(root / scenario / 'trace.jsonl', config.build(params), seconds,
                              confidence, model, **options)
        paths += sorted((root / scenario).glob('trace.jsonl*'))
    return root, paths


def records(paths):
    found = []
    for path in paths:
        with open_trace(path) as lines:
            found += [(path, json.loads(line)) for line in lines]
    return found


def expected(paths, key):
    """Return the indicators per group, computed here from the records."""
    groups = {}
    for path, record in records(paths):
        if not is_decision(record) or record['trigger'] not in spi.PROPOSAL_TRIGGERS:
            continue
        groups.setdefault(key(path, record), []).append(record)
    found = {}
    for group, chosen in groups.items():
        refused = [r for r in chosen if r['verdict'] in ('FALLBACK', 'ESTOP')]
        confidences = [r['proposal']['confidence'] for r in chosen]
        reasons = {}
        for record in refused:
            for reason in set(record['reasons']):
                reasons[reason] = reasons.get(reason, 0) + 1
        histogram = [0] * spi.BINS
        for value in confidences:
            histogram[min(int(value * spi.BINS), spi.BINS - 1)] += 1
        found[group] = {
            'proposals': len(chosen), 'intervention_rate': len(refused) / len(chosen),
            'fallback_rate': {r: n / len(chosen) for r, n in reasons.items()},
            'confidence_mean': numpy.mean(confidences),
            **{f'confidence_p{q}': numpy.percentile(confidences, q) for q in (10, 50, 90)},
            'confidence_histogram': histogram}
    return found


def assert_matches(got, want):
    assert set(got) == set(want)
    for group, values in want.items():
        for name, value in values.items():
            assert got[group][name] == pytest.approx(value), (group, name)


@pytest.mark.parametrize('by, key', [
    ('model', lambda path, record: record['proposal']['model_sha256']),
    ('scenario', lambda path, record: path.parent.name),
    ('config', lambda path, record: record['config_sha256'])])
def test_the_indicators_per_group_match_an_independent_computation(fleet_dir, by, key):
    _, paths = fleet_dir
    want = expected(paths, key)
    assert all(values['intervention_rate'] > 0.05 for values in want.values()), want
    assert_matches(spi_report.summarise(paths, by)['groups'], want)


def test_the_drift_changes_are_those_the_gates_recorded(fleet_dir):
    _, paths = fleet_dir
    want = []
    for run in ('depot', 'highway'):
        before = 'none'
        ordered = sorted((r for p, r in records(paths) if p.parent.name == run and is_spi(r)),
                         key=lambda r: (r['wall_time'], r['seq']))
        for record in ordered:
            if record['spi']['drift'] != before:
                want.append((run, record['seq'], record['spi']['drift']))
            before = record['spi']['drift']
    assert want, 'the fixture raises no alarm'
    got = [(change['file'].split('/')[-2], change['seq'], change['drift'])
           for change in spi_report.summarise(paths, 'model')['drift_changes']]
    assert sorted(got) == sorted(want)


def test_a_parquet_export_gives_the_same_numbers(fleet_dir, tmp_path):
    _, paths = fleet_dir
    out = tmp_path / 'fleet.parquet'
    assert export.main([*map(str, paths), '--parquet', str(out)]) == 0
    rows = sum(1 for _ in records(paths))
    assert fleet.connect([out]).execute('SELECT count(*) FROM records').fetchone()[0] == rows
    for by in ('model', 'scenario'):
        from_json = spi_report.summarise(paths, by)
        from_parquet = spi_report.summarise([out], by)
        assert from_parquet['drift_changes'] == from_json['drift_changes']
        assert_matches(from_parquet['groups'], from_json['groups'])
    assert export.main([str(paths[0]), '--parquet', str(out)]) == 2  # never overwritten


def test_the_baseline_is_the_histogram_and_the_gate_reads_it(fleet_dir, tmp_path, capsys):
    _, paths = fleet_dir
    out = tmp_path / 'baseline.yaml'
    assert baseline.main([*map(str, paths), '-o', str(out), '--model', MODEL_A]) == 0
    want = expected(paths, lambda path, record: record['proposal']['model_sha256'])[MODEL_A]
    sha = spi.file_sha256(out)
    assert f'spi.baseline_sha256: {sha}' in capsys.readouterr().out
    total = sum(want['confidence_histogram'])
    assert spi.load_baseline(str(out), sha) == pytest.approx(
        [count / total for count in want['confidence_histogram']])
    summary = spi_report.summarise(paths, 'model', spi.load_baseline(str(out), sha))
    assert summary['groups'][MODEL_A]['psi'] == pytest.approx(0.0)
    assert summary['groups'][MODEL_B]['psi'] > 0.0


def test_the_report_is_written_and_a_tampered_trace_fails_verify(fleet_dir, tmp_path,
                                                                 monkeypatch):
    root, paths = fleet_dir
    depot = sorted((root / 'depot').glob('trace.jsonl*'))
    out = tmp_path / 'report'
    assert spi_report.main([*map(str, depot), '--by', 'hour', '-o', str(out), '--verify']) == 0
    assert '<svg' in (out / 'spi.html').read_text()
    assert '| group | proposals |' in (out / 'spi.md').read_text()
    highway = [str(p) for p in paths if p.parent.name == 'highway']
    monkeypatch.setenv('SAFETY_GATE_TRACE_HMAC_KEY', 'another key')
    assert spi_report.main([*highway, '-o', str(out), '--verify']) == 1
    monkeypatch.setenv('SAFETY_GATE_TRACE_HMAC_KEY', KEY.decode())
    assert spi_report.main([*highway, '-o', str(out), '--verify']) == 0


def test_plan_and_ego_consistency_of_a_trajectory_mode_trace(tmp_path):
    """The means of the measured plan.shift_lateral and plan.start values of the plans."""
    cfg = TRAJECTORY.config(random.Random(0))
    steps = []

    def observe(now, event, result):
        steps.append(Step(now, Tick() if event is None else event, result.decisions))
    fuzz.run_episode(random.Random(0), 3000, TRAJECTORY, observe=observe)
    path = tmp_path / 'plans' / 'trace.jsonl'
    path.parent.mkdir()
    written = records_of(steps, config.config_sha256(cfg))
    with trace_writer.TraceWriter(path, 10**9, 1, len(written) + 1) as writer:
        for record in written:
            writer.submit(record)
    shifts, starts = [], []
    for record in written:
        if record['trigger'] in spi.PROPOSAL_TRIGGERS:
            for check in record['checks']:
                if check['name'] == 'plan.shift_lateral':
                    shifts.append(check['value'])
                elif check['name'] == 'plan.start' and isinstance(check['value'], float):
                    starts.append(check['value'])
    assert shifts and starts
    (values,) = spi_report.summarise([path], 'scenario')['groups'].values()
    assert values['plan_shift'] == pytest.approx(numpy.mean(shifts))
    assert values['ego_start'] == pytest.approx(numpy.mean(starts))
