# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Pure tests of the diagnostics status builders (safety_gate.diagnostics)."""

import dataclasses
import math

import pytest

from safety_gate import config, core, registry
from safety_gate.decision import Decision, Model, Reason, Verdict, ZERO
from safety_gate.diagnostics import (
    age, gate_status, Level, model_status, Status, status, timing_status, trace_status)
from safety_gate.sensors import SensorState
from safety_gate.trace_writer import TraceStats

MONITOR = config.build({}).monitor
COUNTS = {'APPROVE': 7, 'LIMIT': 3, 'FALLBACK': 2, 'ESTOP': 1}
NO_INTAKE = {'proposals_shed': 0, 'metas_shed': 0, 'proposals_missed': 0}
HEALTHY = TraceStats(submitted=10, written=10, lost=0, queue_depth=0, healthy=True,
                     stalled=False, last_error='', bytes_written=1000,
                     current_file='/log/trace.jsonl', last_sha256='0' * 64)


def decision(verdict, *reasons):
    """Return a decision with the given verdict and reasons (the rest is not reported)."""
    return Decision(t=0.0, trigger='tick', verdict=verdict, reasons=reasons, checks=(),
                    proposal=None, meta=None, output=ZERO)


def gate(verdict=Verdict.APPROVE, last=None, state=None, now=10.0):
    """Return the gate status for a gate with the test's counts and hashes."""
    state = state or core.GateState(latched=False)
    return gate_status(verdict, last, COUNTS, state, now, 'c' * 64, 'm' * 8,
                       {'cmd_vel': 1})


def timing(late=0.0, since_tick=0.01, intake=NO_INTAKE):
    """Return the timing status with a 0.1 s silence limit and two planner publishers."""
    return timing_status(late, 123.456, since_tick, 0.1, intake, 2, MONITOR)


def test_values_are_published_as_strings_in_order():
    built = status('n', Level.WARN, 'm', {'b': 1.5, 'a': None, 'c': 'x'})
    assert built == Status('n', Level.WARN, 'm', {'b': '1.5', 'a': 'None', 'c': 'x'})
    assert list(built.values) == ['b', 'a', 'c']
    assert [int(level) for level in Level] == [0, 1, 2]  # diagnostic_msgs' numbering


def test_age_is_rounded_and_never_for_nothing_received():
    assert age(10.0, 9.12345) == 0.877
    assert age(10.0, -math.inf) == 'never'


@pytest.mark.parametrize('verdict, level', [
    (Verdict.APPROVE, Level.OK), (Verdict.LIMIT, Level.WARN), (Verdict.FALLBACK, Level.WARN),
    (Verdict.ESTOP, Level.ERROR), (None, Level.WARN)])
def test_the_gate_level_follows_the_published_verdict(verdict, level):
    assert gate(verdict).level is level
    assert gate(verdict).values['verdict'] == (verdict or Verdict.FALLBACK).value


def test_the_gate_status_names_the_last_reasons_counts_and_input_ages():
    state = core.GateState(latched=False, latest_received=9.5,
                           sensors=SensorState(odom_received=9.98))
    built = gate(Verdict.FALLBACK, decision(Verdict.FALLBACK, Reason.ODOM_STALE,
                                            Reason.PROPOSAL_STALE), state)
    assert built.name == 'safety_gate: gate'
    assert built.message == 'FALLBACK: ODOM_STALE PROPOSAL_STALE'
    assert built.values == {
        'verdict': 'FALLBACK', 'reasons': 'ODOM_STALE PROPOSAL_STALE',
        'config_sha256': 'c' * 64, 'model_sha256': 'm' * 8,
        'decisions_approve': '7', 'decisions_limit': '3', 'decisions_fallback': '2',
        'decisions_estop': '1',
        'proposal_age_s': '0.5', 'odom_age_s': '0.02', 'imu_age_s': 'never',
        'incompatible_qos': '{"cmd_vel": 1}'}


def test_the_gate_message_is_the_bare_verdict_without_reasons():
    assert gate(Verdict.APPROVE, decision(Verdict.APPROVE)).message == 'APPROVE'
    assert gate(Verdict.APPROVE).values['reasons'] == ''


@pytest.mark.parametrize('change, level, message', [
    ({}, Level.OK, 'ok'),
    ({'lost': 3}, Level.WARN, '3 records lost'),
    ({'lost': 3, 'healthy': False}, Level.ERROR,
     'trace file not writable, or records lost and not yet marked in it'),
    ({'healthy': False, 'stalled': True}, Level.ERROR,
     'trace writer stalled: no write completed for trace.stall_timeout'),
])
def test_the_trace_status_is_an_error_while_unhealthy_and_a_warning_after_a_loss(
        change, level, message):
    built = trace_status(dataclasses.replace(HEALTHY, **change), '/log/trace.jsonl')
    assert (built.name, built.level, built.message) == ('safety_gate: trace', level, message)


def test_the_trace_status_values_say_off_without_a_file():
    stats = dataclasses.replace(HEALTHY, last_error='cannot open trace')
    assert trace_status(stats, None).values == {
        'path': 'off', 'written': '10', 'lost': '0', 'queue_depth': '0',
        'last_error': 'cannot open trace'}


def test_the_timing_status_reports_the_period_maxima_and_the_intake():
    built = timing(late=0.00123, intake={'proposals_shed': 0, 'metas_shed': 0,
                                         'proposals_missed': 4})
    assert (built.name, built.level, built.message) == ('safety_gate: timing', Level.OK,
                                                        'on time')
    assert built.values == {
        'tick_late_max_s': '0.0012', 'decision_latency_max_us': '123.5',
        'seconds_since_tick': '0.01', 'proposals_shed': '0', 'metas_shed': '0',
        'proposals_missed': '4', 'planner_publishers': '2'}


def test_a_late_tick_warns_then_is_an_overrun():
    warn = timing(late=(MONITOR.warn_late + MONITOR.max_late) / 2)
    assert warn.level is Level.WARN and warn.message.startswith('watchdog tick')
    overrun = timing(late=MONITOR.max_late + 0.001)
    assert overrun.level is Level.ERROR and overrun.message.endswith('(GATE_OVERRUN)')


def test_shedding_warns_and_names_both_counts():
    built = timing(intake={'proposals_shed': 5, 'metas_shed': 2, 'proposals_missed': 0})
    assert built.level is Level.WARN
    assert built.message == 'shed 5 proposals and 2 metas beyond monitor.max_proposal_rate'


def test_a_stopped_node_clock_is_an_error_whatever_else_happens():
    built = timing(late=MONITOR.max_late + 1.0, since_tick=0.2,
                   intake={'proposals_shed': 5, 'metas_shed': 0, 'proposals_missed': 0})
    assert (built.level, built.message) == (Level.ERROR,
                                            'node clock not advancing (CLOCK_STALLED)')
    assert timing(since_tick=0.1).level is Level.OK  # at the limit: not yet


def test_the_model_status_names_the_model_its_entry_and_the_hashing_progress():
    models = registry.from_records([{
        'sha256': 'a' * 64, 'name': 'alpamayo-r1', 'version': '1.1', 'approved_by': 'b',
        'evidence': 'e', 'stage': 'canary', 'envelope_scale': 0.5}], 'r' * 64)
    cfg = config.build({'provenance.required': True}).provenance
    known = dataclasses.replace(decision(Verdict.LIMIT, Reason.MODEL_CANARY),
                                model=Model('a' * 64, 'meta', 'alpamayo-r1', '1.1', 'canary'))
    built = model_status(known, models, cfg, None)
    assert (built.name, built.level, built.message) == (
        'safety_gate: model', Level.OK, 'alpamayo-r1 1.1 (canary)')
    assert built.values['stage'] == 'canary' and built.values['registry_entries'] == '1'
    hashing = model_status(None, models, cfg, (2**29, 2**31))
    assert hashing.level is Level.WARN and hashing.message == 'hashing the model files: 25 %'
    assert hashing.values['files_total_bytes'] == str(2**31)
    refused = dataclasses.replace(decision(Verdict.FALLBACK, Reason.MODEL_NOT_APPROVED),
                                  model=Model('c' * 64, 'announcement'))
    built = model_status(refused, models, cfg, None)
    assert built.level is Level.ERROR and built.message == 'no authority: MODEL_NOT_APPROVED'
    assert model_status(None, models, cfg, None).message == 'no model named'
