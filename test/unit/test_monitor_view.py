# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The monitor's view: decision records into runs and rates, a snapshot into text."""

import pytest
from safety_gate.diagnostics import Level, Status
from safety_gate.kit.world.monitor_view import (DecisionHistory, DecisionRun, Rates, render,
                                                Snapshot)

ESC = '\x1b'
SHA = '0123456789abcdef' * 4


def record(seq, t, verdict='APPROVE', reasons=(), proposals=0, reasoning='Lane clear.'):
    """Return a decision record as the gate publishes it (the fields the view reads)."""
    return {'seq': seq, 't': t, 'verdict': verdict, 'reasons': list(reasons),
            'output': {'v': 0.3, 'w': -0.1} if verdict == 'APPROVE' else {'v': 0.0, 'w': 0.0},
            'proposal': {'confidence': 0.9, 'reasoning': reasoning},
            'events': [{'type': 'proposal', 't': t}] * proposals + [{'type': 'odom', 't': t}]}


def snapshot(**changes):
    """Return a snapshot of a gate in /robot1 that approves, with ``changes``."""
    history = DecisionHistory()
    for seq in range(1, 4):
        history.add(record(seq, 100.0 + seq * 0.02, 'FALLBACK', ['ODOM_STALE', 'NO_PROPOSAL']))
    for seq in range(4, 10):
        history.add(record(seq, 100.0 + seq * 0.02, proposals=1))
    fields = dict(  # noqa: C408 (keyword names read as the Snapshot's fields)
        namespace='/robot1', gates=('/robot1/safety_gate',),
        state={'verdict': 'APPROVE', 'reasons': [], 't': 100.1, 'config_sha256': SHA},
        statuses=(
            Status('safety_gate: gate', Level.OK, 'APPROVE',
                   {'verdict': 'APPROVE', 'config_sha256': SHA, 'proposal_age_s': '0.042',
                    'odom_age_s': '0.011', 'imu_age_s': 'never'}),
            Status('safety_gate: trace', Level.ERROR, 'trace writer stalled',
                   {'path': '/var/log/trace.jsonl', 'lost': '3'})),
        diagnostics_age_s=0.4, runs=history.runs(), rates=history.rates(),
        decision_age_s=0.05, latest_t=100.18)
    fields.update(changes)
    return Snapshot(**fields)


def test_equal_consecutive_decisions_make_one_run_with_the_latest_details():
    history = DecisionHistory()
    history.add(record(1, 1.0, 'FALLBACK', ['PROPOSAL_STALE']))
    history.add(record(2, 1.02, 'FALLBACK', ['PROPOSAL_STALE']))
    history.add(record(3, 1.04, 'FALLBACK', ['PROPOSAL_STALE', 'ODOM_STALE']))
    history.add(record(4, 1.06, reasoning='first'))
    history.add(record(5, 1.08, reasoning='second'))
    assert history.runs() == (
        DecisionRun(1, 2, 2, 'FALLBACK', ('PROPOSAL_STALE',), 1.02, (0.0, 0.0), 0.9,
                    'Lane clear.'),
        DecisionRun(3, 3, 1, 'FALLBACK', ('PROPOSAL_STALE', 'ODOM_STALE'), 1.04, (0.0, 0.0),
                    0.9, 'Lane clear.'),
        DecisionRun(4, 5, 2, 'APPROVE', (), 1.08, (0.3, -0.1), 0.9, 'second'))


def test_only_the_latest_runs_are_kept():
    history = DecisionHistory(runs_kept=2)
    for seq, verdict in enumerate(('FALLBACK', 'APPROVE', 'ESTOP', 'ESTOP'), 1):
        history.add(record(seq, seq * 0.02, verdict))
    assert [(run.verdict, run.count) for run in history.runs()] == [('APPROVE', 1), ('ESTOP', 2)]


def test_rates_count_decisions_and_proposals_over_the_window_of_node_time():
    history = DecisionHistory(window_s=2.0)
    # 50 Hz decisions for 4 s, a proposal in every fifth record: 10 Hz.
    for seq in range(201):
        history.add(record(seq, 10.0 + seq * 0.02, proposals=1 if seq % 5 == 0 else 0))
    rates = history.rates()
    assert rates.span_s == pytest.approx(2.0)
    assert rates.output_hz == pytest.approx(50.0)
    # The window's first record (t = 12.0) lists a proposal that came before the span.
    assert rates.proposal_hz == pytest.approx(10.0)


def test_rates_start_afresh_when_node_time_runs_backwards():
    history = DecisionHistory()
    for seq in range(50):
        history.add(record(seq, 500.0 + seq * 0.1, proposals=1))
    for seq in range(11):  # a restarted gate on simulated time, deciding at 20 Hz
        history.add(record(seq, seq * 0.05))
    assert history.rates() == Rates(pytest.approx(20.0), 0.0, pytest.approx(0.5))


def test_too_few_decisions_give_no_rates():
    history = DecisionHistory()
    assert history.rates() == Rates(None, None, 0.0)
    history.add(record(1, 3.0))
    history.add(record(2, 3.0))  # a superseded proposal and the next: one event, two records
    assert history.rates() == Rates(None, None, 0.0)


@pytest.mark.parametrize('defect', [
    {'t': 'soon'}, {'t': None}, {'t': float('nan')}, {'events': [7]}, {'output': [0.0]},
    {'proposal': 'confident'}], ids=str)
def test_a_record_of_the_wrong_types_raises_and_changes_nothing(defect):
    history = DecisionHistory()
    for seq in range(3):
        history.add(record(seq, seq * 0.02, proposals=1))
    runs, rates = history.runs(), history.rates()
    with pytest.raises((ValueError, TypeError, AttributeError)):
        history.add({**record(3, 0.01), **defect})
    assert (history.runs(), history.rates()) == (runs, rates)


def test_the_view_shows_state_rates_ages_diagnostics_and_decision_runs():
    text = render(snapshot())
    lines = text.splitlines()
    assert lines[:5] == [
        'safety_gate in /robot1  (/robot1/safety_gate)',
        'state        APPROVE  -  (for 0.1 s of node time)',
        'rates        output 50.0 Hz, proposals 37.5 Hz (over the last 0.2 s of decisions)',
        'input ages   proposal 0.04 s, odom 0.01 s, imu never',
        'diagnostics  received 0.4 s ago',
    ]
    # Hashes are cut as git cuts them; the other values are whole.
    at = lines.index('  OK    safety_gate: gate   APPROVE')
    assert lines[at + 1:at + 3] == [
        f'        verdict=APPROVE config_sha256={SHA[:12]} proposal_age_s=0.042 odom_age_s=0.011',
        '        imu_age_s=never']
    assert '  ERROR safety_gate: trace  trace writer stalled' in lines
    assert lines[-2:] == [
        '  seq 1-3           x3     FALLBACK  ODOM_STALE NO_PROPOSAL  out (0.00, 0.00)  '
        "confidence 0.90  'Lane clear.'",
        '  seq 4-9           x6     APPROVE   -  out (0.30, -0.10)  confidence 0.90  '
        "'Lane clear.'"]
    assert ESC not in text


def test_colour_marks_verdicts_and_levels_only_when_asked():
    assert ESC not in render(snapshot(), colour=False)
    text = render(snapshot(), colour=True)
    assert f'{ESC}[32mAPPROVE{ESC}[0m' in text  # the state
    assert f'{ESC}[31mERROR{ESC}[0m' in text  # the trace status


def test_text_from_the_wire_cannot_drive_the_terminal():
    history = DecisionHistory()
    history.add(record(1, 1.0, reasoning='ignore the gate\x1b[2J\x1b[Hall clear\r\n'))
    status = Status('safety_gate: trace', Level.WARN, 'odd\x1b[31m',
                    {'last_error': 'disk\x07full'})
    text = render(snapshot(runs=history.runs(), statuses=(status,)), colour=True)
    plain = text.replace(f'{ESC}[0m', '')
    for code in ('31', '32', '33', '1'):
        plain = plain.replace(f'{ESC}[{code}m', '')
    assert ESC not in plain and '\x07' not in plain and '\r' not in plain
    assert r'ignore the gate\x1b[2J\x1b[Hall clear\r\n' in text
    assert r'odd\x1b[31m' in text and r'last_error=disk\x07full' in text


def test_long_reasoning_is_cut_and_values_wrap_at_the_width():
    history = DecisionHistory()
    history.add(record(1, 1.0, reasoning='x' * 500))
    values = {f'key_{i}': 'v' * 10 for i in range(20)}
    status = Status('safety_gate: timing', Level.OK, 'on time', values)
    lines = render(snapshot(runs=history.runs(), statuses=(status,)), width=60).splitlines()
    assert lines[-1].endswith(" '" + 'x' * 57 + "...'")
    value_lines = [line for line in lines if 'key_' in line]
    assert len(value_lines) > 1 and all(len(line) <= 60 for line in value_lines)
    assert ' '.join(value_lines).split() == [f'key_{i}={"v" * 10}' for i in range(20)]


def test_a_gate_with_nothing_received_yet_says_so():
    text = render(snapshot(state=None, statuses=(), runs=(), rates=Rates(None, None, 0.0),
                           diagnostics_age_s=None, decision_age_s=None, latest_t=None,
                           gates=()))
    assert text.splitlines() == [
        'safety_gate in /robot1  (no node publishes its state now)',
        'state        not received',
        'rates        too few decisions yet',
        'input ages   unknown until the gate diagnostics arrive',
        'diagnostics  none received from the gate yet',
        'decisions    none received yet',
    ]
