# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A trace replays: records through JSON and back reproduce every decision.

Each record holds the events consumed since the previous decision; feeding
them through ``core.step`` from the initial state must give no decision until
the record's last event, and then the recorded one. A step that decides more
than once (a waiting proposal refused as superseded, then the new one) gives
one record per decision, the later ones without events. The shipped replay
(``safety_gate.replay``) must reproduce every decision too, record by record
and from a trace file.
"""

import dataclasses
import json
import random

from harness.event_scripts import (
    FIXED_SCRIPT, play, PROPERTY_SETTINGS, records_of, scenarios, Step)
from hypothesis import given
import pytest

from safety_gate import config, core, replay, trace_format, trace_record, trace_writer
from safety_gate.decision import Check, Clamp, Command, Decision, Reason, Verdict
from safety_gate.events import Meta, Odom, Proposal, Tick
from safety_gate.kit.world import fuzz
from safety_gate.kit.world.plan_fuzz import TRAJECTORY

INTERNAL_ERROR = Reason.INTERNAL_ERROR.value


def through_json(rec):
    line = trace_format.encode_record(rec)
    assert b'\n' not in line
    return json.loads(line)


def assert_replays(cfg, steps):
    """Replay the JSON-decoded records of ``steps`` and compare every decision.

    Event by event (a failed step's event decides nothing: the internal error
    does), and through the shipped ``replay._replay_record``, each from its
    own state.
    """
    state = shipped = core.initial_state(cfg)
    queued = shipped_queued = ()
    records = [through_json(rec) for rec in records_of(steps)]
    assert len(records) == sum(len(step.decisions) for step in steps)
    for rec in records:
        recorded = trace_record.record_summary(rec)
        shipped, decision, shipped_queued = replay._replay_record(shipped, shipped_queued, rec,
                                                                  cfg)
        assert decision is not None, rec['seq']
        assert trace_record.decision_summary(decision) == recorded, ('shipped replay', rec['seq'])
        events = trace_record.record_events(rec)
        if not events:
            decision, queued = queued[0], queued[1:]
            assert trace_record.decision_summary(decision) == recorded, rec['seq']
            continue
        failed = INTERNAL_ERROR in rec['reasons']
        for now, event in events[:-1]:
            state, decisions, _ = core.step(state, event, now, cfg)
            assert decisions == (), (rec['seq'], event)
        if failed:
            state, decisions, _ = core.internal_error(state, rec['t'], cfg, rec['trigger'],
                                                      '')
        else:
            now, event = events[-1]
            state, decisions, _ = core.step(state, event, now, cfg)
        decision, queued = decisions[0], decisions[1:]
        assert trace_record.decision_summary(decision) == recorded, rec['seq']


def assert_events_survive(steps):
    """Events read back from JSON equal the originals, NaN for NaN (compared by repr).

    A record carries the events up to its decision, so the trace ends with
    the last step that decided.
    """
    last = max(index for index, step in enumerate(steps) if step.decisions)
    originals = [(step.now, step.event) for step in steps[:last + 1]]
    decoded = [event for rec in map(through_json, records_of(steps))
               for event in trace_record.record_events(rec)]
    assert [repr(event) for event in decoded] == [repr(event) for event in originals]


def test_a_fixed_trace_with_non_finite_values_replays(tmp_path):
    cfg = config.build({'require_reset_on_start': False, 'trace.required': True})
    steps = play(cfg, FIXED_SCRIPT)
    assert any(len(step.decisions) == 2 for step in steps)
    records = records_of(steps, config.config_sha256(cfg))
    texts = [trace_format.encode_record(rec) for rec in records]
    assert any(b'"NaN"' in text for text in texts)
    assert any(b'"-Infinity"' in text for text in texts)
    assert_replays(cfg, steps)
    # The whole shipped path: a trace file written by the gate's writer, replayed.
    path = tmp_path / 'trace.jsonl'
    with trace_writer.TraceWriter(path, 10**7, 1, len(records) + 1) as writer:
        assert all(writer.submit(rec) for rec in records)
    report = replay.replay([path], cfg)
    assert report.ok and report.records == len(records), replay.format_report(report)
    assert report.other_configs == 0 and not report.gaps, replay.format_report(report)


def test_a_trace_replays_from_its_own_config_record(tmp_path, capsys):
    """No --config needed: the config record at the chain start says what to replay with.

    --config replaces it, and the report shows both hashes.
    """
    cfg = config.build({'require_reset_on_start': False, 'envelope.max_linear_speed': 0.4})
    sha = config.config_sha256(cfg)
    decisions = records_of(play(cfg, FIXED_SCRIPT), sha)
    for rec in decisions:
        rec['seq'] += 1
    head = trace_record.config_to_dict(0, 0.0, 0.0, config.flatten(cfg), sha)
    path = tmp_path / 'trace.jsonl'
    with trace_writer.TraceWriter(path, 10**7, 1, len(decisions) + 2) as writer:
        assert all(writer.submit(rec) for rec in [head] + decisions)
    report = replay.replay([path])
    assert report.ok and report.records == len(decisions), replay.format_report(report)
    assert replay.main([str(path)]) == 0
    other = config.write_params_file(tmp_path / 'other.yaml', {'require_reset_on_start': True})
    assert replay.main([str(path), '--config', str(other)]) == 1
    out = capsys.readouterr().out
    assert f'the trace ran with:\n    {path}:1: {sha}' in out, out


def test_a_trace_without_config_record_needs_config(tmp_path, capsys):
    path = tmp_path / 'trace.jsonl'
    with trace_writer.TraceWriter(path, 10**7, 1, 10) as writer:
        writer.submit(records_of(play(config.build({}), FIXED_SCRIPT[:3]))[0])
    assert replay.main([str(path)]) == 2
    assert 'no config record before this decision' in capsys.readouterr().err


def test_a_fixed_trace_keeps_its_events_exactly():
    steps = play(config.build({'require_reset_on_start': False}), FIXED_SCRIPT)
    assert_events_survive(steps)


@PROPERTY_SETTINGS
# Half the invariants test's length: a replay steps the core twice per event,
# and the limit-reaching templates are long.
@given(scenarios(max_size=100))
def test_a_random_trace_replays_to_the_same_decisions(scenario):
    cfg, script = scenario
    assert_replays(cfg, play(cfg, script))


@pytest.mark.parametrize('seed', range(6))
def test_a_trajectory_mode_fuzz_episode_replays_to_the_same_decisions(seed):
    """Every decision of a trajectory-mode fuzz episode replays exactly.

    Random plans (broken ones too), sensor and operator faults, clock jumps
    and internal errors.
    """
    cfg = TRAJECTORY.config(random.Random(seed))
    steps = []

    def observe(now, event, result):
        # An injected internal error stands for a tick whose step raised, as in records_of.
        steps.append(Step(now, Tick() if event is None else event, result.decisions))
    fuzz.run_episode(random.Random(seed), 3000, TRAJECTORY, observe=observe)
    assert any(d.trigger == 'plan' for step in steps for d in step.decisions)
    assert_replays(cfg, steps)
    assert_events_survive(steps)


# ---------------------------------------------------------------- the record fields (trace.md)

T = 100.0


def test_a_decision_record_holds_what_trace_md_lists():
    meta = Meta(T - 0.01, 0.75, 'm' * 64, 'the road bends left')
    check = Check('envelope.speed', False, 1.5, 1.0, Reason.OVER_SPEED)
    decision = Decision(T, 'proposal', Verdict.FALLBACK, (Reason.OVER_SPEED,), (check,),
                        Proposal(1.5, -0.25, T - 0.01), meta, Command(0.5, -0.25),
                        (Clamp.LINEAR_DECEL,))
    record = trace_record.decision_to_dict(decision, 3, ((T, Tick()),), 1.7e9, 42.0, 'c' * 64,
                                           {'events_dropped': 2})
    assert record == {
        'seq': 3, 't': T, 'wall_time': 1.7e9, 'trigger': 'proposal', 'verdict': 'FALLBACK',
        'reasons': ['OVER_SPEED'],
        'checks': [{'name': 'envelope.speed', 'ok': False, 'value': 1.5, 'limit': 1.0,
                    'reason': 'OVER_SPEED'}],
        'proposal': {'v': 1.5, 'w': -0.25, 'stamp': T - 0.01, 'stamped': True,
                     'confidence': 0.75, 'model_sha256': 'm' * 64,
                     'reasoning': 'the road bends left', 'meta_error': None},
        'output': {'v': 0.5, 'w': -0.25}, 'clamps': ['LINEAR_DECEL'], 'latency_us': 42.0,
        'config_sha256': 'c' * 64, 'events': [{'type': 'tick', 't': T, 'late': 0.0}],
        'events_dropped': 2}
    without_meta = trace_record.decision_to_dict(
        dataclasses.replace(decision, meta=None), 3, (), 0.0, 0.0, '')['proposal']
    assert without_meta == {'v': 1.5, 'w': -0.25, 'stamp': T - 0.01, 'stamped': True,
                            'confidence': None, 'model_sha256': None, 'reasoning': None,
                            'meta_error': 'missing'}


def test_a_config_record_holds_seq_times_every_parameter_and_the_hash():
    flat = {'rate_hz': 50.0}
    assert trace_record.config_to_dict(0, T, 1.5e9, flat, 'c' * 64) == {
        'seq': 0, 't': T, 'wall_time': 1.5e9, 'config': flat, 'config_sha256': 'c' * 64}


def test_a_record_without_events_reads_back_none_and_an_older_odom_gets_its_default_yaw():
    # The second decision of one step has no events; traces from before Odom.yaw lack it.
    assert trace_record.record_events({'seq': 2}) == []
    older = {'type': 'odom', 't': T, 'v': 0.5, 'w': 0.0, 'x': 1.0, 'y': 2.0, 'stamp': T}
    assert trace_record.event_from_dict(older) == (T, Odom(0.5, 0.0, 1.0, 2.0, T, 0.0))
