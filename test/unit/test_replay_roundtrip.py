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
import math
import random

from harness.event_scripts import (
    FIXED_SCRIPT, play, PROPERTY_SETTINGS, records_of, scenarios, Step)
from harness.recorded_runs import RecordedRun
from harness.shadow_play import play_shadowed, write_trace
from hypothesis import given
import pytest

from safety_gate import (
    config, core, registry, replay, trace_format, trace_record, trace_writer, verify)
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


# The configuration of the traces the command is run on.
SLOW = {'require_reset_on_start': False, 'envelope.max_linear_speed': 0.4}


def own_config_trace(tmp_path, params=SLOW):
    """Write the fixed script's trace after its config record, as the node does; return both."""
    cfg = config.build(params)
    path = tmp_path / 'trace.jsonl'
    decisions = records_of(play(cfg, FIXED_SCRIPT))
    write_trace(path, cfg, decisions)
    return path, decisions


def error_line(capsys):
    """Return the one line a user error printed (its form as test_cli.py sees it in a process)."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('safety-gate replay: error: '), lines
    return lines[0]


def test_a_trace_replays_from_its_own_config_record(tmp_path, capsys):
    """No --config needed: the config record at the chain start says what to replay with.

    --config replaces it, and the report shows both hashes.
    """
    path, decisions = own_config_trace(tmp_path)
    sha = config.config_sha256(config.build(SLOW))
    report = replay.replay([path])
    assert report.ok and report.records == len(decisions), replay.format_report(report)
    assert replay.main([str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f'replayed {len(decisions)} records (0 of SPIs): 0 differ'
    assert '--config' not in out and 'another config_sha256' not in out, out
    assert 'trace integrity' not in out, out
    other = config.write_params_file(tmp_path / 'other.yaml', {'require_reset_on_start': True})
    assert replay.main([str(path), '--config', str(other)]) == 1
    out = capsys.readouterr().out
    other_sha = config.config_sha256(config.load_yaml(other))
    assert (f'replayed with --config, sha256 {other_sha}; the trace ran with:\n'
            f'    {path}:1: {sha}') in out, out
    assert (f'  {len(decisions)} records name another config_sha256 than the one replayed with'
            in out.splitlines()), out


def test_a_trace_without_config_record_needs_config(tmp_path, capsys):
    path = tmp_path / 'trace.jsonl'
    with trace_writer.TraceWriter(path, 10**7, 1, 10) as writer:
        writer.submit(records_of(play(config.build({}), FIXED_SCRIPT[:3]))[0])
    assert replay.main([str(path)]) == 2
    assert error_line(capsys) == (
        f'safety-gate replay: error: {path}:1: no config record before this decision (the '
        'trace starts mid-chain): give --config FILE')


def test_a_config_record_that_does_not_load_here_is_named(tmp_path, capsys):
    path = tmp_path / 'trace.jsonl'
    head = trace_record.config_to_dict(0, 0.0, 0.0, {'rate_hz': 'fast'}, 'c' * 64)
    with trace_writer.TraceWriter(path, 10**7, 1, 10) as writer:
        writer.submit(head)
    assert replay.main([str(path)]) == 2
    line = error_line(capsys)
    assert line.startswith(f'safety-gate replay: error: {path}:1: the config record does not '
                           'load here (') and line.endswith('): give --config FILE'), line


def test_a_config_that_does_not_load_is_one_line_naming_it(tmp_path, capsys):
    path, _ = own_config_trace(tmp_path)
    bad = tmp_path / 'bad.yaml'
    bad.write_text('safety_gate:\n  ros__parameters: [\n')
    assert replay.main([str(path), '--config', str(bad)]) == 2
    assert error_line(capsys).startswith(f'safety-gate replay: error: --config {bad}: ')


def test_a_config_whose_baseline_cannot_be_read_is_refused_by_name(tmp_path, capsys):
    # Refused up front, as the gate would not start with it and a config record naming it
    # does not replay: it used to end in a traceback at the first limit judged or SPI record.
    path, _ = own_config_trace(tmp_path)
    missing = tmp_path / 'missing.yaml'
    other = config.write_params_file(tmp_path / 'other.yaml', {
        **SLOW, 'spi.baseline_file': str(missing), 'spi.baseline_sha256': '0' * 64})
    assert replay.main([str(path), '--config', str(other)]) == 2
    assert error_line(capsys) == ('safety-gate replay: error: the config to replay with: '
                                  f'spi.baseline_file {missing}: No such file or directory')


def test_a_command_line_without_a_trace_is_refused_by_name(capsys):
    with pytest.raises(SystemExit) as exited:
        replay.main([])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert 'safety-gate replay: error: the following arguments are required: trace' in err, err


def test_the_namespace_picks_the_params_files_section_as_the_launch_file_does(tmp_path, capsys):
    path, _ = own_config_trace(tmp_path)
    params = tmp_path / 'robot1.yaml'
    params.write_text('/robot1/safety_gate:\n  ros__parameters:\n'
                      '    require_reset_on_start: false\n'
                      '    envelope:\n      max_linear_speed: 0.4\n')
    assert replay.main([str(path), '--config', str(params)]) == 2
    assert 'applies nothing to /safety_gate:' in error_line(capsys)
    assert replay.main([str(path), '--config', str(params), '--namespace', 'robot1']) == 0


def test_a_config_replays_with_the_registry_it_names_beside_it(tmp_path, capsys, monkeypatch):
    """A relative provenance.registry_file is read beside the params file, as the node reads it.

    Under provenance.required a model only the registry knows drives: replayed
    without that registry, every one of its proposals would be refused.
    """
    model = 'a' * 64
    here = tmp_path / 'params'
    here.mkdir()
    (here / 'models.yaml').write_text(
        'models:\n- {sha256: %s, name: r1, version: "1.0", approved_by: board,\n'
        '   evidence: note, stage: production}\n' % model)
    models = registry.load(str(here / 'models.yaml'))
    params = {'require_reset_on_start': False, 'provenance.required': True,
              'provenance.registry_file': 'models.yaml'}
    run = RecordedRun(params, models=models)
    assert {d.verdict for d in run.cycles(3, 0.5, model=model)} == {Verdict.APPROVE}
    path = run.write_trace(tmp_path / 'trace.jsonl')
    params_file = config.write_params_file(here / 'robot.yaml', params)
    monkeypatch.chdir(tmp_path)
    assert replay.main([str(path), '--config', str(params_file)]) == 0
    sha = config.config_sha256(run.cfg, models.sha256)
    out = capsys.readouterr().out
    assert f'replayed with --config, sha256 {sha}; ' in out and 'another' not in out, out
    report = replay.replay([path])  # with the registry the config record holds
    assert report.ok and not report.other_configs, replay.format_report(report)
    # Two writer sessions without their config records (a trace from before them, or
    # rotated files without the chain start's): each session from the initial state,
    # with the registry of --config.
    sessions = tmp_path / 'sessions.jsonl'
    for _ in range(2):
        with trace_writer.TraceWriter(sessions, 10**7, 1, len(run.steps) + 1) as writer:
            assert all(writer.submit(rec) for rec in records_of(run.steps, sha))
    assert replay.main([str(sessions), '--config', str(params_file)]) == 0, (
        capsys.readouterr().out)
    # The newest of rotated files alone (no chain start, no config record): from the
    # initial state as well, with the registry of --config.
    rotated = tmp_path / 'rotated.jsonl'
    write_trace(rotated, run.cfg, records_of(run.steps, sha), max_file_bytes=1500,
                max_files=100)
    assert '"chain_start"' not in rotated.read_text().splitlines()[0]
    report = replay.replay([rotated], run.cfg, models)
    assert 'MODEL_NOT_APPROVED' not in replay.format_report(report), (
        replay.format_report(report))


def test_a_trace_that_replays_but_does_not_verify_fails_and_says_why(tmp_path, capsys):
    path, decisions = own_config_trace(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    # A field replay does not read, edited: every decision still replays.
    assert '"wall_time":0,' in lines[2]
    lines[2] = lines[2].replace('"wall_time":0,', '"wall_time":1,', 1)
    path.write_text(''.join(lines))
    assert replay.main([str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f'replayed {len(decisions)} records (0 of SPIs): 0 differ\n'), out
    integrity = verify.verify([path])
    assert not integrity.ok
    assert out.endswith(f'\ntrace integrity:\n{verify.format_report(integrity)}\n'), out


def test_a_decision_replayed_otherwise_is_reported_with_its_place_and_both_decisions(tmp_path):
    path, decisions = own_config_trace(tmp_path)
    latched = config.build({**SLOW, 'require_reset_on_start': True})
    first = replay.replay([path], latched).differences[0]
    assert (first.where, first.seq) == (f'{path}:2', 1)
    assert first.recorded == trace_record.record_summary(through_json(decisions[0]))
    assert first.replayed['verdict'] == 'ESTOP', first.replayed
    assert 'LATCHED_ON_START' in first.replayed['reasons'], first.replayed


def test_text_in_place_of_a_recorded_number_is_a_difference_not_a_crash(tmp_path):
    # Only the writer's spellings of non-finite floats read back as numbers: other text
    # there (an edited or foreign record) stays as recorded, for the report to show.
    cfg = config.build(SLOW)
    records = records_of(play(cfg, FIXED_SCRIPT))
    records[0]['output']['v'] = 'fast'
    path = tmp_path / 'trace.jsonl'
    write_trace(path, cfg, records)
    (differs,) = replay.replay([path]).differences
    assert (differs.where, differs.recorded['output']['v']) == (f'{path}:2', 'fast')


def test_records_after_lost_inputs_or_records_are_named_as_gaps(tmp_path):
    # events_dropped: the node's intake shed inputs; lost_before: the writer lost records.
    path, decisions = own_config_trace(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    for line, field in ((3, '"events_dropped":2,'), (5, '"lost_before":1,')):
        lines[line - 1] = lines[line - 1].replace('"wall_time":0,', f'"wall_time":0,{field}', 1)
    path.write_text(''.join(lines))
    report = replay.replay([path])
    assert report.gaps == [f'{path}:{line}: inputs were lost before this record'
                           for line in (3, 5)], report.gaps
    assert f'  gap: {path}:3: inputs were lost before this record' in (
        replay.format_report(report).splitlines())


def test_each_record_is_replayed_with_the_config_in_force_and_the_state_after_it(tmp_path):
    path, decisions = own_config_trace(tmp_path)
    cfg = config.build(SLOW)
    steps = list(replay.replay_records(verify.verify([path])))
    assert len(steps) == len(decisions) + 1
    head = steps[0]
    assert (head.where, head.cfg, head.decision) == (f'{path}:1', cfg, None)
    assert head.state == core.initial_state(cfg)
    assert all(step.cfg == cfg and step.decision is not None for step in steps[1:])


@pytest.mark.parametrize('failed', ['convert', 'tick'])
def test_a_failed_step_replays_after_the_events_before_it(tmp_path, failed):
    """The events before a failure were stepped; a failed step consumed its own, not replayed.

    A message that did not convert made no event; a tick whose step raised
    is its record's last event. Before it here: odometry and a command
    waiting for its meta, which the meta after the failure decides.
    """
    run = RecordedRun()
    run.cycles(3, 0.3)
    run.advance()
    run.feed(Proposal(0.3, 0.0, run.now))
    held = len(run.steps)
    last = max(index for index, step in enumerate(run.steps) if step.decisions)
    events = [(step.now, step.event) for step in run.steps[last + 1:held]]
    assert [type(event) for _, event in events] == [Odom, Proposal]
    if failed == 'tick':
        events.append((run.now, Tick()))
    failure = core.internal_error(run.state, run.now, run.cfg, failed, 'raised')
    run.state = failure.state
    (decided,) = run.feed(Meta(run.now, 0.9)).decisions
    assert decided.trigger == 'proposal', decided  # the waiting one, decided by its meta
    records = records_of(run.steps[:held])
    for decision, its_events in ((failure.decisions[0], events),
                                 (decided, [(run.now, run.steps[-1].event)])):
        records.append(trace_record.decision_to_dict(decision, len(records), its_events, 0, 0,
                                                     'x'))
    path = tmp_path / 'trace.jsonl'
    write_trace(path, run.cfg, records)
    report = replay.replay([path])
    assert report.ok and report.records == len(records), replay.format_report(report)
    *_, replayed, _ = replay.replay_records(verify.verify([path]))
    assert (replayed.decision.trigger, replayed.decision.t) == (failed, failure.decisions[0].t)
    # The trace keeps the failure, not the exception: the check says the failure was replayed.
    assert replayed.decision.checks == (
        Check('internal', False, 'replayed', 'no exception', Reason.INTERNAL_ERROR),)


def test_a_record_that_decides_nothing_under_another_config_differs_with_nothing(tmp_path):
    # In trajectory mode a velocity command is no input: its records decide nothing.
    path, _ = own_config_trace(tmp_path)
    plans = config.build({**SLOW, 'planner.input': 'path'})
    report = replay.replay([path], plans)
    unreplayed = [diff for diff in report.differences if diff.replayed is None]
    assert unreplayed and all(diff.recorded['verdict'] for diff in unreplayed)
    assert 'replayed null' in replay.format_report(report, limit=len(report.differences))


def test_the_records_after_a_lost_one_replay(tmp_path):
    # The writer lost the second record of a step that decided twice (it has no events
    # of its own): the next record is replayed from its events, not from what is queued.
    path = tmp_path / 'trace.jsonl'
    cfg = config.build({'require_reset_on_start': False})
    records = records_of(play(cfg, FIXED_SCRIPT))
    second = next(index for index, rec in enumerate(records) if not rec['events'])
    write_trace(path, cfg, records[:second] + records[second + 1:])
    report = replay.replay([path])
    assert not report.differences, replay.format_report(report)


def test_a_record_whose_earlier_event_decides_in_the_replay_differs(tmp_path):
    # Two records joined into one, as if the gate had not recorded the first decision:
    # the joined record's events decide twice in the replay, the gate recorded once.
    cfg = config.build({'require_reset_on_start': False})
    records = records_of(play(cfg, FIXED_SCRIPT))
    summary = trace_record.record_summary
    first = next(index for index, (rec, after) in enumerate(zip(records, records[1:]))
                 if rec['events'] and after['events'] and summary(rec) != summary(after))
    joined = records[first + 1]
    joined['events'] = records[first]['events'] + joined['events']
    path = tmp_path / 'trace.jsonl'
    write_trace(path, cfg, records[:first] + records[first + 1:])
    report = replay.replay([path])
    assert [diff.seq for diff in report.differences] == [first + 1], (
        replay.format_report(report))


def test_the_newest_rotated_file_alone_replays_with_config_from_the_initial_state(tmp_path):
    # Its chain start and config record are in an older file (deleted, or not given): with
    # --config the replay starts from the gate's initial state and says what then differs.
    cfg = config.build({'require_reset_on_start': False})
    steps = play_shadowed(cfg, FIXED_SCRIPT, {}).steps
    last = max(index for index, step in enumerate(steps) if step.decisions)
    records = play_shadowed(cfg, FIXED_SCRIPT, {last: [('pair', 0.2, 0.0, 0.9)]}).records
    path = tmp_path / 'trace.jsonl'
    write_trace(path, cfg, records, max_file_bytes=4000, max_files=100)
    newest = path.read_text().splitlines()
    assert 0 < len(newest) < len(records) and '"chain_start"' not in newest[0]
    report = replay.replay([path], cfg)
    assert report.records == len(newest) and report.shadow_entries == 2, (
        replay.format_report(report))
    # The candidate starts from its initial state too: its entries replay, not fail.
    assert not any("'error'" in repr(d.replayed) for d in report.differences), (
        replay.format_report(report))


def differing(count):
    """Return the report of ``count`` records that all replayed to another verdict."""
    return replay.ReplayReport(records=count, differences=[
        replay.Difference(f'trace.jsonl:{seq + 2}', seq + 1, {'verdict': 'APPROVE'},
                          {'verdict': 'FALLBACK'}) for seq in range(count)])


@pytest.mark.parametrize('count', [20, 21])
def test_the_report_shows_twenty_differences_and_counts_the_rest(count):
    lines = replay.format_report(differing(count)).splitlines()
    assert lines[0] == f'replayed {count} records (0 of SPIs): {count} differ'
    assert lines[1] == ('  trace.jsonl:2 seq 1: recorded {"verdict": "APPROVE"}, '
                        'replayed {"verdict": "FALLBACK"}')
    assert len(lines) == 21 + (count > 20) and lines[20].startswith('  trace.jsonl:21 seq 20:')
    assert lines[21:] == ([] if count == 20 else ['  ... 1 more'])


# ---------------------------------------------------------------- shadow entries

# Before production events 1, 6 and 12 of FIXED_SCRIPT: a candidate pair, a command
# without stamp (decided at once) and an extreme pair.
CANDIDATES = {1: [('pair', 0.2, 0.0, 0.9)], 6: [('bare', 0.3, 0.0)],
              12: [('pair', 40.0, 0.0, 0.9)]}


def shadowed_trace(tmp_path, edit):
    """Write the trace of FIXED_SCRIPT with CANDIDATES beside it, ``edit``ed; return its path."""
    cfg = config.build({'require_reset_on_start': False})
    records = play_shadowed(cfg, FIXED_SCRIPT, CANDIDATES).records
    edit(records)
    path = tmp_path / 'trace.jsonl'
    write_trace(path, cfg, records)
    return path


def first_decided(records):
    """Return the first record with a shadow entry that decided, and the entry's index."""
    return next((record, index) for record in records
                for index, entry in enumerate(record.get('shadow', ())) if entry['decisions'])


def test_a_candidate_step_that_failed_on_the_gate_is_skipped_by_the_replay(tmp_path):
    """An entry with ``error`` left the candidate's state as it was, and decided nothing.

    Run again, its event would decide (here the same event as the entry after
    it, which did): the replay must skip it, not judge it.
    """
    def fail_once(records):
        record, index = first_decided(records)
        record['shadow'].insert(index, {**record['shadow'][index], 'decisions': [],
                                        'error': "RuntimeError('injected')"})
    report = replay.replay([shadowed_trace(tmp_path, fail_once)])
    # The candidates' five events (two pairs and a command), and the failed one.
    assert report.ok and report.shadow_entries == 6, replay.format_report(report)
    assert '  with 6 shadow (candidate) entries' in replay.format_report(report).splitlines()


def test_each_writer_session_starts_the_candidate_afresh_too(tmp_path):
    # Two sessions without config records, replayed with --config: at each chain start
    # the candidate restarts from its initial state, as the node's shadow did.
    cfg = config.build({'require_reset_on_start': False})
    sha = config.config_sha256(cfg)
    path = tmp_path / 'sessions.jsonl'
    for _ in range(2):
        records = play_shadowed(cfg, FIXED_SCRIPT, CANDIDATES).records
        for record in records:
            record['config_sha256'] = sha
        with trace_writer.TraceWriter(path, 10**7, 1, len(records) + 1) as writer:
            assert all(writer.submit(record) for record in records)
    report = replay.replay([path], cfg)
    assert report.ok and report.shadow_entries == 10, replay.format_report(report)


def test_a_candidate_event_the_shadow_cannot_judge_is_a_difference_naming_the_error(tmp_path):
    edited = []

    def odometry_instead(records):
        record, index = first_decided(records)
        entry = record['shadow'][index]
        entry['event'] = trace_record.event_to_dict(entry['event']['t'],
                                                    Odom(0.1, 0.0, 0.0, 0.0, 0.0))
        edited.append(record)
    path = shadowed_trace(tmp_path, odometry_instead)
    seq = edited[0]['seq']  # numbered as written, after the config record on line 1
    report = replay.replay([path])
    assert not report.ok
    found = next(diff for diff in report.differences if 'shadow' in diff.recorded)
    assert (found.where, found.seq) == (f'{path}:{seq + 1}', seq)
    assert {'error': "TypeError('Odom is not a candidate event')"} in found.replayed['shadow']


def test_a_deactivation_replays_after_the_events_held_since_the_record_before(tmp_path):
    """The gate's last record (node.deactivate_gate) holds the events since the one before.

    Here a non-finite odometry reading, then a candidate judged after it and
    refused for it: the replay steps the reading before the candidate's entry
    and the shutdown, as the gate did.
    """
    cfg = config.build({'require_reset_on_start': False})
    # Three drive cycles of 16 events, then the reading: the candidate comes after event 49.
    script = [(0.0, ('drive', 3, 0.5, 0.0, 0.9)),
              (0.02, ('odom', math.inf, 0.0, math.nan, 0.0))]
    records = play_shadowed(cfg, script, {49: [('pair', 0.5, 0.0, 0.9)]}, shutdown=True).records
    last = records[-1]
    assert last['trigger'] == 'shutdown' and [e['at'] for e in last['shadow']] == [1, 1]
    assert last['shadow'][-1]['decisions'][0]['reasons'] == ['ODOM_NON_FINITE']
    path = tmp_path / 'trace.jsonl'
    write_trace(path, cfg, records)
    report = replay.replay([path])
    assert report.ok and report.records == len(records), replay.format_report(report)
    *_, step = replay.replay_records(verify.verify([path]))
    assert step.decision.t == last['t'] and step.decision.reasons == (Reason.SHUTDOWN,)
    # Had an event of that record decided here, the replay would not be the gate's.
    last['events'].append(trace_record.event_to_dict(last['t'], Tick()))
    write_trace(tmp_path / 'decided.jsonl', cfg, records)
    assert not replay.replay([tmp_path / 'decided.jsonl']).ok
    # Deactivated right after a decision: a record without events, and nothing queued.
    records = play_shadowed(cfg, script[:1], {}, shutdown=True).records
    assert records[-1]['trigger'] == 'shutdown' and records[-1]['events'] == []
    write_trace(tmp_path / 'at_once.jsonl', cfg, records)
    assert replay.replay([tmp_path / 'at_once.jsonl']).ok


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
