# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The safety performance indicators, their limits and actions, and the core honouring them.

Each indicator against an independent computation, each limit with each
action, the rolling window, the baseline, the SPI records in a trace.

The decisions fed to :func:`spi.observe` are built by hand, so each indicator is
checked against what the test computes itself from the same inputs (numpy's
quantiles of the confidences, the textbook PSI formula).
"""

import dataclasses
import hashlib
import json
import math
import random

from harness.core_driver import CONFIDENT, driving, Gate, reset
import numpy
import pytest

from safety_gate import config, diagnostics, replay, spi, trace_record, trace_writer, verify
from safety_gate.decision import Check, Command, Decision, Model, Reason, Verdict
from safety_gate.events import Estop, Meta, Reset
from safety_gate.kit.bench import synthetic_trace
import yaml

MODEL = 'a' * 64


def decision(verdict=Verdict.APPROVE, reasons=(), confidence=0.9, trigger='proposal',
             model=MODEL, checks=(), v=0.0):
    meta = Meta(0.0, confidence, model)
    return Decision(0.0, trigger, verdict, tuple(reasons), tuple(checks), None, meta,
                    Command(v, 0.0), model=Model(model, 'meta'))


def spi_config(**params):
    return config.build({f'spi.{name}': value for name, value in params.items()}).spi


def feed(decisions, cfg, start=0.0, dt=0.1, measured=None, state=None):
    """Observe each decision at its own time, ``dt`` apart; return the state."""
    state = spi.SpiState() if state is None else state
    for index, one in enumerate(decisions):
        state = spi.observe(state, [one], measured, start + index * dt, cfg)
    return state


def current(state, cfg):
    return spi.snapshot(state, cfg)['models'][state.model]


def test_each_indicator_matches_an_independent_computation():
    rng = random.Random(14)
    cfg = spi_config(window=1000.0)
    confidences = [rng.random() for _ in range(400)]
    refused = [c < 0.3 for c in confidences]
    shifts = [rng.uniform(0.0, 2.0) for _ in confidences]
    starts = [rng.uniform(0.0, 1.0) for _ in confidences]
    outputs = [rng.uniform(0.0, 1.0) for _ in confidences]
    decisions = [
        decision(Verdict.FALLBACK if bad else Verdict.APPROVE,
                 (Reason.LOW_CONFIDENCE, Reason.PLAN_SHIFT) if bad else (), c,
                 checks=(Check('plan.shift_lateral', True, s, 1.0, Reason.PLAN_SHIFT),
                         Check('plan.start', True, e, 1.0, Reason.PLAN_START_FAR)), v=v)
        for c, bad, s, e, v in zip(confidences, refused, shifts, starts, outputs)]
    # A tick adds only a tracking sample, never a proposal.
    decisions.append(decision(trigger='tick', confidence=0.0))
    state = feed(decisions, cfg, measured=0.25)
    got = current(state, cfg)
    assert got['proposals'] == got['confidence_n'] == len(confidences)
    assert got['t'] == pytest.approx(0.1 * len(confidences))  # the tick, the last decision
    assert got['intervention_rate'] == pytest.approx(sum(refused) / len(refused))
    assert got['fallback_rate'] == pytest.approx({'LOW_CONFIDENCE': sum(refused) / 400,
                                                  'PLAN_SHIFT': sum(refused) / 400})
    assert got['confidence_mean'] == pytest.approx(numpy.mean(confidences), abs=1e-6)
    # The quantiles come from a histogram of 20 bins: within one bin of the exact ones.
    for q in (10, 50, 90):
        assert got[f'confidence_p{q}'] == pytest.approx(
            numpy.percentile(confidences, q), abs=1 / spi.BINS)
    assert got['confidence_histogram'] == list(numpy.histogram(
        numpy.minimum(confidences, 1 - 1e-12), bins=spi.BINS, range=(0, 1))[0])
    assert got['plan_shift'] == pytest.approx(numpy.mean(shifts), abs=1e-6)
    assert got['ego_start'] == pytest.approx(numpy.mean(starts), abs=1e-6)
    # |previous output - measured 0.25| at every decision but the first (none before it).
    assert got['tracking_error'] == pytest.approx(
        numpy.mean([abs(v - 0.25) for v in outputs]), abs=1e-6)
    assert got['psi'] is None


def test_the_confidences_on_the_ends_of_0_to_1_count_in_the_end_bins():
    # The top bin is closed, [0.95, 1]: a certain planner's 1.0 is no bin of its own.
    state = feed([decision(confidence=1.0), decision(confidence=0.0)], spi_config())
    assert current(state, spi_config())['confidence_histogram'] == (
        [1] + [0] * (spi.BINS - 2) + [1])


def test_quantiles_interpolate_within_their_bin():
    histogram = [0] * spi.BINS
    histogram[10] = 4  # every sample in [0.5, 0.55)
    assert spi.quantile(histogram, 0.5) == pytest.approx(0.525)
    assert spi.quantile(histogram, 0.25) == pytest.approx(0.5125)
    assert spi.quantile([0] * spi.BINS, 0.5) is None


def test_a_quantile_is_where_the_cumulative_count_reaches_it():
    # The 0.5 quantile of samples in [0, 0.05) and [0.5, 0.55), two each, is
    # the top of the lower bin: the smallest confidence with half the samples below it.
    histogram = [0] * spi.BINS
    histogram[0] = histogram[10] = 2
    assert spi.quantile(histogram, 0.5) == pytest.approx(0.05)


def test_psi_is_the_textbook_index_and_zero_against_itself():
    actual = [5, 0, 10, 85] + [0] * (spi.BINS - 4)
    expected_shares = [0.25] * 4 + [0.0] * (spi.BINS - 4)
    floor = 1e-4
    textbook = sum((max(a / 100, floor) - max(e, floor)) * math.log(
        max(a / 100, floor) / max(e, floor)) for a, e in zip(actual, expected_shares))
    assert spi.psi(actual, expected_shares) == pytest.approx(textbook)
    assert spi.psi(actual, [a / 100 for a in actual]) == pytest.approx(0.0)


def test_the_window_forgets_what_left_it_and_its_totals_stay_exact():
    cfg = spi_config(window=10.0)
    rng = random.Random(3)
    state = spi.SpiState()
    for step in range(2000):
        state = spi.observe(state, [decision(confidence=rng.random())], None, step * 0.05, cfg)
        (_, window), = state.models
        assert len(window.buckets) <= spi.BUCKETS
        summed = [sum(counts) for counts in zip(*(b[1] for b in window.buckets))]
        assert list(window.totals) == summed
    # 10 s at 20 decisions a second, less at most the bucket being filled.
    assert 190 <= current(state, cfg)['proposals'] <= 200


def test_a_clock_stepped_back_starts_the_window_afresh():
    cfg = spi_config(window=10.0)
    state = feed([decision()] * 50, cfg, start=100.0)
    state = spi.observe(state, [decision()], None, 50.0, cfg)
    assert current(state, cfg)['proposals'] == 1


def test_each_model_has_its_own_window_and_the_one_in_charge_decides():
    cfg = spi_config(min_samples=10, confidence_mean_limit=0.5)
    state = feed([decision(confidence=0.1, model='b' * 64)] * 20, cfg)
    assert spi.drift(state) == 'warn'
    state = feed([decision(confidence=0.9)] * 20, cfg, start=10.0, state=state)
    assert spi.drift(state) == 'none'
    assert set(spi.snapshot(state, cfg)['models']) == {'b' * 64, MODEL}


def test_observing_no_decisions_keeps_the_model_in_charge_and_its_alarms():
    cfg = spi_config(min_samples=10, confidence_mean_limit=0.5)
    state = feed([decision(confidence=0.1)] * 20, cfg)
    kept = spi.observe(state, [], None, 2.5, cfg)
    assert (kept.model, spi.drift(kept)) == (MODEL, 'warn')


def test_decisions_without_a_model_count_under_the_empty_key_and_ticks_open_no_window():
    # docs/drift.md: an empty key when a decision has none; a tick with no measured
    # speed adds nothing, so no window is opened for the model it names
    cfg = spi_config()
    tick = decision(trigger='tick', model='b' * 64)
    state = feed([dataclasses.replace(decision(), model=None), tick], cfg)
    published = spi.snapshot(state, cfg)
    assert published['model'] == 'b' * 64 and set(published['models']) == {''}


def test_the_windows_of_the_models_seen_longest_ago_are_dropped_beyond_max_models():
    cfg = spi_config()
    names = [f'{index:064x}' for index in range(spi.MAX_MODELS + 1)]
    state = feed([decision(model=name) for name in names], cfg)
    assert list(spi.snapshot(state, cfg)['models']) == names[1:]


# (limit name, value giving an alarm, value giving none, how a decision carries the value)
CROSSINGS = {
    'intervention_rate': (0.5, 0.3, lambda bad: decision(
        Verdict.FALLBACK if bad else Verdict.APPROVE, (Reason.ODOM_STALE,) if bad else ())),
    'fallback_rate': (0.5, 0.3, lambda bad: decision(
        Verdict.FALLBACK if bad else Verdict.APPROVE, (Reason.ODOM_STALE,) if bad else ())),
    'confidence_mean': (0.5, 0.3, lambda bad: decision(confidence=0.2 if bad else 0.9)),
    'confidence_p10': (0.5, 0.0, lambda bad: decision(confidence=0.2 if bad else 0.9)),
    'psi': (0.2, 0.0, lambda bad: decision(confidence=0.05 if bad else 0.95)),
    'plan_shift': (0.5, 0.3, lambda bad: decision(checks=(Check(
        'plan.shift_lateral', True, 1.0 if bad else 0.1, 1.0, Reason.PLAN_SHIFT),))),
    'ego_start': (0.5, 0.3, lambda bad: decision(checks=(Check(
        'plan.start', True, 1.0 if bad else 0.1, 1.0, Reason.PLAN_START_FAR),))),
    'tracking_error': (0.5, 0.3, lambda bad: decision(v=1.0 if bad else 0.0)),
}


def baseline_file(tmp_path, histogram):
    path = tmp_path / 'baseline.yaml'
    path.write_text(spi.baseline_yaml(histogram, ['test']))
    return {'baseline_file': str(path),
            'baseline_sha256': hashlib.sha256(path.read_bytes()).hexdigest()}


@pytest.mark.parametrize('name', sorted(CROSSINGS))
@pytest.mark.parametrize('action', ['warn', 'conservative', 'withdraw'])
def test_each_limit_raises_its_action_once_min_samples_are_in_the_window(
        tmp_path, name, action):
    limit, share_ok, make = CROSSINGS[name]
    params = {f'{name}_limit': limit, f'{name}_action': action, 'min_samples': 50}
    if name == 'psi':
        params.update(baseline_file(tmp_path, [0] * (spi.BINS - 1) + [100]))
    cfg = spi_config(**params)
    # Decisions with and without the fault mixed: the share with it stays inside the limit.
    healthy = [make(index % 10 < 10 * share_ok) for index in range(200)]
    assert spi.drift(feed(healthy, cfg, measured=0.0)) == 'none'
    state = feed([make(True) for _ in range(49)], cfg, measured=0.0)
    assert spi.drift(state) == 'none', 'an alarm before min_samples proposals'
    state = spi.observe(state, [make(True)], 0.0, 5.0, cfg)
    assert spi.drift(state) == action, current(state, cfg)
    (alarm,) = state.alarms
    assert (alarm.limit, alarm.action) == (limit, action)


def test_an_indicator_on_its_limit_raises_no_alarm():
    # Alarm above a limit (below, for the confidence): on it is not past it.
    cfg = spi_config(min_samples=10, intervention_rate_limit=0.5, confidence_mean_limit=0.5,
                     intervention_rate_action='withdraw', confidence_mean_action='withdraw')
    state = feed([decision(Verdict.FALLBACK if index % 2 else Verdict.APPROVE,
                           (Reason.ODOM_STALE,) if index % 2 else (), confidence=0.5)
                  for index in range(20)], cfg)
    assert (current(state, cfg)['intervention_rate'], current(state, cfg)['confidence_mean']) == (
        0.5, 0.5)
    assert spi.drift(state) == 'none'


@pytest.mark.parametrize('milder, severer', [('warn', 'conservative'),
                                             ('conservative', 'withdraw')])
def test_the_most_severe_of_two_alarms_sets_the_drift_action(milder, severer):
    cfg = spi_config(min_samples=10, intervention_rate_limit=0.5, confidence_mean_limit=0.5,
                     intervention_rate_action=milder, confidence_mean_action=severer)
    both = feed([decision(Verdict.FALLBACK, (Reason.ODOM_STALE,), confidence=0.1)] * 20, cfg)
    assert len(both.alarms) == 2
    assert spi.drift(both) == severer


def test_a_withdrawal_latches_and_the_others_follow_the_indicator():
    for action, after in (('warn', 'none'), ('conservative', 'none'), ('withdraw', 'withdraw')):
        cfg = spi_config(min_samples=10, window=10.0, confidence_mean_limit=0.5,
                         confidence_mean_action=action)
        state = feed([decision(confidence=0.1)] * 20, cfg)
        assert spi.drift(state) == action
        state = feed([decision(confidence=0.9)] * 200, cfg, start=20.0, state=state)
        assert spi.drift(state) == after
    assert spi.drift(spi.reset(state)) == 'none'


def test_the_baseline_is_pinned_by_its_hash(tmp_path):
    pinned = baseline_file(tmp_path, [1] * spi.BINS)
    assert sum(spi.load_baseline(pinned['baseline_file'], pinned['baseline_sha256'])) == (
        pytest.approx(1.0))
    # The pin `safety-gate baseline` prints for the file it wrote.
    assert spi.file_sha256(pinned['baseline_file']) == pinned['baseline_sha256']
    with pytest.raises(spi.BaselineError, match='has sha256'):
        spi.load_baseline(pinned['baseline_file'], '0' * 64)
    (tmp_path / 'bad.yaml').write_text('confidence_histogram: [1, 2]\n')
    bad = str(tmp_path / 'bad.yaml')
    with pytest.raises(spi.BaselineError, match='20 counts'):
        spi.load_baseline(bad, hashlib.sha256((tmp_path / 'bad.yaml').read_bytes()).hexdigest())
    with pytest.raises(spi.BaselineError, match='No such file'):
        spi.load_baseline(str(tmp_path / 'missing.yaml'), '0' * 64)


def test_a_baseline_file_says_how_many_samples_from_which_runs():
    histogram = list(range(spi.BINS))
    assert yaml.safe_load(spi.baseline_yaml(histogram, ['run1/trace.jsonl', 'fleet.parquet'])) == {
        'bins': spi.BINS, 'confidence_histogram': histogram, 'samples': sum(histogram),
        'sources': ['run1/trace.jsonl', 'fleet.parquet']}


def test_the_snapshot_gives_the_psi_against_the_pinned_baseline(tmp_path):
    shares = [1] * spi.BINS
    cfg = spi_config(**baseline_file(tmp_path, shares))
    state = feed([decision(confidence=0.95)] * 10, cfg)
    histogram = current(state, cfg)['confidence_histogram']
    assert current(state, cfg)['psi'] == pytest.approx(
        spi.psi(histogram, [1 / spi.BINS] * spi.BINS))


def test_a_psi_limit_without_baseline_is_refused():
    with pytest.raises(config.ConfigError, match='spi.psi_limit = 0.2: needs spi.baseline_file'):
        config.build({'spi.psi_limit': 0.2})


# ---------------------------------------------------------------- through the core

WITHDRAW_ON_LOW_CONFIDENCE = {'spi.min_samples': 20, 'spi.confidence_mean_limit': 0.7,
                              'spi.confidence_mean_action': 'withdraw',
                              'confidence.threshold': 0.3, 'confidence.recover_threshold': 0.3}


def test_the_core_sets_drift_and_a_withdrawal_refuses_authority_until_a_reset():
    gate = driving(0.5, params=WITHDRAW_ON_LOW_CONFIDENCE)
    assert gate.state.drift == 'none'
    # Confidence 0.5 passes the gate's threshold, but drags the mean below the SPI limit.
    for _ in range(60):
        decided = gate.cycle(0.5, confidence=0.5)
        if gate.state.drift != 'none':
            break
    assert gate.state.drift == 'withdraw'
    assert decided.verdict is Verdict.APPROVE  # the decision that raised it is not undone
    after = gate.cycle(0.5, confidence=CONFIDENT)
    assert after.verdict is Verdict.FALLBACK and Reason.DRIFT_WITHDRAWN in after.reasons
    gate.cycles(20, 0.5)
    assert gate.decisions[-1].reasons == (Reason.DRIFT_WITHDRAWN,)
    result = gate.feed(Reset())
    assert result.reply == (True, 'cleared the drift withdrawal')
    assert gate.state.drift == 'none'
    assert current(gate.state.spi, gate.cfg.spi)['proposals'] == 0  # the windows start afresh
    gate.cycles(5, 0.5)
    assert gate.decisions[-1].verdict is Verdict.APPROVE


def test_without_limits_the_core_decides_as_before_and_only_counts():
    limited, plain = Gate(WITHDRAW_ON_LOW_CONFIDENCE), Gate()
    for gate in (limited, plain):
        gate.drive(0.5)
        gate.cycles(30, 0.5, confidence=0.5)
    assert plain.state.drift == 'none'
    assert current(plain.state.spi, plain.cfg.spi)['confidence_mean'] < 0.7
    assert limited.summaries() != plain.summaries()


def test_a_latched_gate_reset_still_clears_a_withdrawal():
    gate = driving(0.5, params=WITHDRAW_ON_LOW_CONFIDENCE)
    gate.cycles(40, 0.5, confidence=0.5)
    assert gate.state.drift == 'withdraw'
    gate.decide(Estop(True))
    reset(gate)
    assert gate.state.drift == 'none'
    assert current(gate.state.spi, gate.cfg.spi)['proposals'] == 0


# ---------------------------------------------------------------- in the trace

DRIFT_PARAMS = {'require_reset_on_start': False, 'spi.window': 30.0, 'spi.min_samples': 50,
                'spi.confidence_mean_limit': 0.7, 'spi.confidence_mean_action': 'warn'}


def drift_trace(tmp_path, params=DRIFT_PARAMS, seconds=60.0):
    path = tmp_path / 'trace.jsonl'
    cfg = config.build(params)
    synthetic_trace.write(path, cfg, seconds, synthetic_trace.drifting(10.0, 40.0))
    return path


def test_a_trace_with_spi_records_replays_exactly_and_a_changed_snapshot_is_found(tmp_path):
    path = drift_trace(tmp_path)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    spis = [r for r in records if trace_record.is_spi(r)]
    assert len(spis) >= 60
    drifts = [r['spi']['drift'] for r in spis]
    assert 'warn' in drifts and drifts[0] == 'none'
    report = replay.replay([path])
    assert report.ok and report.spi_records == len(spis), replay.format_report(report)
    assert verify.verify([path]).decisions == len(records) - len(spis) - 1
    # The same records with one indicator changed (and chained again) no longer replay.
    tampered = next(r for r in spis if r['spi']['drift'] == 'warn')
    snapshot = json.loads(json.dumps(tampered['spi']))
    tampered['spi']['models']['cd' * 32]['confidence_mean'] += 1e-9
    again = tmp_path / 'tampered.jsonl'
    with trace_writer.TraceWriter(again, 10**9, 1, len(records) + 1) as writer:
        for record in records:
            writer.submit(record)
    report = replay.replay([again])
    assert [d.seq for d in report.differences] == [tampered['seq']], replay.format_report(report)
    (found,) = report.differences
    assert found.where == f'{again}:{records.index(tampered) + 1}'
    assert (found.recorded, found.replayed) == (tampered['spi'], snapshot)


def test_an_spi_record_is_stamped_like_a_decision_and_names_its_config():
    snapshot = spi.snapshot(spi.SpiState(), spi_config())
    assert trace_record.spi_to_dict(7, 12.5, 1.7e9, snapshot, 'c' * 64) == {
        'seq': 7, 't': 12.5, 'wall_time': 1.7e9, 'spi': snapshot, 'config_sha256': 'c' * 64}


@pytest.mark.parametrize('action, level', [('warn', diagnostics.Level.WARN),
                                           ('conservative', diagnostics.Level.WARN),
                                           ('withdraw', diagnostics.Level.ERROR)])
def test_the_diagnostics_status_follows_the_action(action, level):
    cfg = spi_config(min_samples=10, confidence_mean_limit=0.5, confidence_mean_action=action)
    assert diagnostics.spi_status(spi.snapshot(spi.SpiState(), cfg)).level is (
        diagnostics.Level.OK)
    status = diagnostics.spi_status(spi.snapshot(feed([decision(confidence=0.2)] * 10, cfg),
                                                 cfg))
    assert status.level is level
    assert status.message == f'drift {action}: confidence_mean 0.2 (limit 0.5, {action})'
    assert status.values['confidence_mean'] == '0.2' and status.values['drift'] == action
