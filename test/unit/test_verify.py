# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of trace verification: each kind of tampering is found at the right line."""

import gzip
import json
from pathlib import Path
import random

import pytest

from safety_gate import registry
from safety_gate.config import config_sha256, flatten, GateConfig, load_yaml
from safety_gate.trace_format import HashChain, sha256_hex
from safety_gate.trace_record import config_to_dict, is_decision, spi_to_dict
from safety_gate.trace_writer import TraceWriter
from safety_gate.verify import format_report, main, read_records, verify

CONFIG = config_sha256(GateConfig())
KEY = b'super-secret-trace-key-1234'


def write_trace(directory, count=10, key=None, config=CONFIG, unpack=True, **kwargs):
    """Write records seq 0..count-1 through the real writer; return the files oldest first.

    The writer gzips rotated files; ``unpack`` turns them back into plain files,
    which the tampering tests edit.
    """
    options = {'max_file_bytes': 10_000_000, 'max_files': 5, 'queue_size': 100_000}
    options.update(kwargs)
    path = directory / 'trace.jsonl'
    writer = TraceWriter(path, hmac_key=key, **options)
    for seq in range(count):
        writer.submit({'seq': seq, 'verdict': 'APPROVE', 'output': {'v': seq / 10, 'w': 0.0},
                       'config_sha256': config})
    assert writer.close()
    rotated = sorted(directory.glob('trace.jsonl.*.gz'), key=lambda p: -int(p.suffixes[-2][1:]))
    if unpack:
        for index, packed in enumerate(rotated):
            rotated[index] = packed.with_suffix('')
            rotated[index].write_bytes(gzip.decompress(packed.read_bytes()))
            packed.unlink()
    return rotated + [path]


def edit_lines(path, change):
    """Rewrite the file with change(list of lines) applied (lines keep their newline)."""
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b''.join(change(lines)))


def write_chain(path, records, lost_before=(), start=0):
    """Write the records linked as the writer links them, from the start'th on; return path.

    ``lost_before`` gives each record's count of records the writer lost before it.
    """
    chain = HashChain()
    lost = list(lost_before) + [0] * len(records)
    lines = [chain.link(record, lost[index]) + b'\n' for index, record in enumerate(records)]
    path.write_bytes(b''.join(lines[start:]))
    return path


def forge(line, **fields):
    """Return the trace line with its fields replaced, as a forger would write it."""
    record = json.loads(line)
    record.update(fields)
    return json.dumps(record, separators=(',', ':')).encode() + b'\n'


def found(report):
    """Return (kind, file name, line, seq) of every problem."""
    return [(p.kind, p.path.rsplit('/', 1)[-1], p.line, p.seq) for p in report.problems]


def test_a_clean_trace_verifies(tmp_path):
    files = write_trace(tmp_path)
    report = verify(files, known_configs={CONFIG})
    assert report.ok and report.records == 10
    assert (report.first_seq, report.last_seq, report.chain_starts) == (0, 9, 1)
    assert main([str(f) for f in files]) == 0


def test_an_edited_field_is_located(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: [
        line.replace(b'"v":0.4', b'"v":0.9') if n == 4 else line for n, line in enumerate(lines)])
    report = verify([path])
    assert found(report) == [('edited', 'trace.jsonl', 5, 4)]
    assert report.problems[0].detail == (
        f'its sha256 no longer matches prev_sha256 of the next record ({path}:6)')
    assert main([str(path)]) == 1


@pytest.mark.parametrize('edited', [4, 8])
def test_an_edited_seq_is_located_at_the_edited_record(tmp_path, edited):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: [
        line.replace(b'"seq":%d' % edited, b'"seq":40') if n == edited else line
        for n, line in enumerate(lines)])
    assert found(verify([path])) == [('edited', 'trace.jsonl', edited + 1, 40)]


def test_an_edited_last_record_is_found_only_with_hmac(tmp_path):
    [path] = write_trace(tmp_path, key=KEY)
    edit_lines(path, lambda lines: lines[:-1] + [lines[-1].replace(b'"v":0.9', b'"v":0.1')])
    assert verify([path]).ok  # the chain alone cannot protect its newest record
    assert found(verify([path], hmac_key=KEY)) == [('bad-hmac', 'trace.jsonl', 10, 9)]


@pytest.mark.parametrize('start, stop, missing', [
    (4, 5, '1 record (seq 4)'), (3, 5, '2 records (seq 3..4)'), (2, 6, '4 records (seq 2..5)')])
def test_removed_records_are_located_and_counted(tmp_path, start, stop, missing):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: lines[:start] + lines[stop:])
    report = verify([path])
    assert found(report) == [('removed', 'trace.jsonl', start + 1, stop)]
    assert report.problems[0].detail == f'missing before this record: {missing}'


def test_swapped_records_are_located(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: lines[:4] + [lines[5], lines[4]] + lines[6:])
    assert found(verify([path])) == [('reordered', 'trace.jsonl', 5, 5)]


def test_a_record_moved_far_is_located(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: lines[:2] + lines[3:7] + [lines[2]] + lines[7:])
    report = verify([path])
    assert found(report) == [('reordered', 'trace.jsonl', 3, 3)]
    assert report.problems[0].detail == f'comes before its predecessor seq 2 at {path}:7'


def test_swapping_the_last_two_records_is_found(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: lines[:8] + [lines[9], lines[8]])
    assert found(verify([path])) == [('reordered', 'trace.jsonl', 9, 9)]


@pytest.mark.parametrize('copied, chained', [
    (4, 5),  # links to record 4, beside its genuine successor
    (5, 7),  # same seq and prev_sha256 as the genuine record 5, which it precedes
])
def test_an_inserted_forgery_is_located(tmp_path, copied, chained):
    [path] = write_trace(tmp_path)
    line = forge(path.read_bytes().splitlines()[copied], output={'v': 5.0, 'w': 0.0})
    edit_lines(path, lambda lines: lines[:5] + [line] + lines[5:])
    report = verify([path])
    assert found(report) == [('inserted', 'trace.jsonl', 6, copied)]
    assert report.problems[0].detail == (
        f'a second successor of {path}:{copied} (the chained one is {path}:{chained})')


def test_an_inserted_block_of_chained_forgeries_is_located(tmp_path):
    [path] = write_trace(tmp_path)
    # the first forgery links to nothing, the second to the first: the chain runs past both
    first = forge(path.read_bytes().splitlines()[3], prev_sha256='f' * 64)
    second = forge(first, seq=4, prev_sha256=sha256_hex(first[:-1]))
    edit_lines(path, lambda lines: lines[:3] + [first, second] + lines[3:])
    report = verify([path])
    assert found(report) == [('inserted', 'trace.jsonl', 4, 3), ('inserted', 'trace.jsonl', 5, 4)]
    assert [p.detail for p in report.problems] == [
        'does not link to the record before it, which has its own successor',
        f'not in the hash chain ({path}:6 follows {path}:3)']


def test_a_forgery_after_a_duplicated_record_is_named_against_the_nearest_copy(tmp_path):
    [path] = write_trace(tmp_path)
    forged = forge(path.read_bytes().splitlines()[2], output={'v': 5.0, 'w': 0.0})
    edit_lines(path, lambda lines: lines[:2] + [lines[1], forged] + lines[2:])
    report = verify([path])
    assert found(report) == [('inserted', 'trace.jsonl', 3, 1), ('inserted', 'trace.jsonl', 4, 2)]
    assert [p.detail for p in report.problems] == [
        f'a second successor of {path}:1 (the chained one is {path}:2)',
        f'a second successor of {path}:3 (the chained one is {path}:5)']


def test_a_record_moved_before_a_duplicated_predecessor_names_the_nearest_copy(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: [lines[0], lines[2], lines[1], lines[1]] + lines[3:])
    report = verify([path])
    assert found(report)[0] == ('reordered', 'trace.jsonl', 2, 2)
    assert report.problems[0].detail == f'comes before its predecessor seq 1 at {path}:3'


def test_a_duplicated_record_is_located(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: lines[:5] + [lines[4]] + lines[5:])
    assert found(verify([path])) == [('inserted', 'trace.jsonl', 6, 4)]


def test_a_line_of_garbage_is_located(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: lines[:3] + [b'not json at all\n'] + lines[3:])
    report = verify([path])
    assert found(report) == [('bad-json', 'trace.jsonl', 4, None)]
    assert str(report.problems[0]).startswith(f'{path}:4 seq ?: bad-json: not JSON (')


def test_a_cut_file_is_located(tmp_path):
    [path] = write_trace(tmp_path)
    data = path.read_bytes()
    cut = data.index(b'"seq":7') + 10
    path.write_bytes(data[:cut])
    assert found(verify([path])) == [('bad-json', 'trace.jsonl', 8, None)]


def test_problems_across_rotated_files_are_located(tmp_path):
    files = write_trace(tmp_path, count=120, max_file_bytes=10_000, max_files=4)
    assert [f.name for f in files] == ['trace.jsonl.2', 'trace.jsonl.1', 'trace.jsonl']
    shuffled = files[:]
    random.Random(7).shuffle(shuffled)
    clean = verify(shuffled)
    assert clean.ok and clean.files == files and clean.records == 120
    oldest, middle, _ = files
    middle_first_seq = json.loads(middle.read_bytes().splitlines()[0])['seq']
    edit_lines(middle, lambda lines: lines[:2] + lines[3:])
    edit_lines(oldest, lambda lines: lines[:-1] + [lines[-1].replace(b'APPROVE', b'FALLBACK')])
    report = verify(shuffled)
    assert report.files == files  # still ordered by rotation suffix
    assert found(report) == [
        ('edited', 'trace.jsonl.2', middle_first_seq, middle_first_seq - 1),
        ('removed', 'trace.jsonl.1', 3, middle_first_seq + 3)]


def test_a_restart_verifies_and_a_removed_run_tail_is_found(tmp_path):
    write_trace(tmp_path, count=5)
    [path] = write_trace(tmp_path, count=5)
    report = verify([path])
    assert report.ok and report.chain_starts == 2
    edit_lines(path, lambda lines: lines[:4] + lines[5:])
    report = verify([path])
    assert found(report) == [('removed', 'trace.jsonl', 5, 0)]
    assert report.problems[0].detail == (
        'this chain start does not link to the record before it: the end of the previous run '
        'was removed or its last record edited')


def test_a_removal_and_a_later_swap_are_reported_and_nothing_else(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: lines[:2] + lines[3:6] + [lines[7], lines[6]] + lines[8:])
    # the record before the removal, which nothing links to now, is no insertion
    assert found(verify([path])) == [
        ('removed', 'trace.jsonl', 3, 3), ('reordered', 'trace.jsonl', 6, 7)]


def test_an_unknown_config_is_reported_once_per_run(tmp_path):
    [path] = write_trace(tmp_path, config='a' * 64)
    report = verify([path], known_configs={CONFIG})
    assert found(report) == [('unknown-config', 'trace.jsonl', 1, 0)]
    assert str(report.problems[0]) == (
        f'{path}:1 seq 0: unknown-config: config_sha256 {"a" * 64} is not one of the given '
        f'configs (x10, through {path}:10 seq 9)')
    assert verify([path], known_configs={'a' * 64}).ok
    assert verify([path]).ok  # no known configs given: not checked


def test_records_without_a_config_hash_fail_when_configs_are_given(tmp_path):
    files = write_trace(tmp_path, count=3, config=None)
    assert verify(files).ok
    report = verify(files, known_configs={CONFIG})
    assert found(report) == [('unknown-config', 'trace.jsonl', 1, 0)]
    assert report.problems[0].count == 3 and report.problems[0].detail == 'no config_sha256'


def test_config_files_and_hashes_on_the_command_line(tmp_path):
    params = tmp_path / 'params.yaml'
    params.write_text('safety_gate:\n  ros__parameters:\n    rate_hz: 25.0\n')
    files = write_trace(tmp_path, config=config_sha256(load_yaml(params)))
    trace = str(files[-1])
    assert main([trace, '--config', str(params)]) == 0
    assert main([trace, '--config-hash', CONFIG]) == 1
    assert main([trace, '--config-hash', CONFIG, '--config', str(params)]) == 0


def test_hmac_with_the_right_key_passes_and_a_wrong_key_fails(tmp_path):
    [path] = write_trace(tmp_path, key=KEY)
    assert verify([path], hmac_key=KEY).ok
    report = verify([path], hmac_key=b'another key')
    assert found(report) == [('bad-hmac', 'trace.jsonl', 1, 0)]
    assert report.problems[0].count == 10
    assert report.problems[0].detail == 'hmac_sha256 does not match (wrong key or changed record)'


def test_a_stripped_hmac_fails(tmp_path):
    [path] = write_trace(tmp_path, key=KEY)

    def strip(lines):
        record = json.loads(lines[3])
        del record['hmac_sha256']
        lines[3] = json.dumps(record, separators=(',', ':')).encode() + b'\n'
        return lines

    edit_lines(path, strip)
    assert found(verify([path], hmac_key=KEY)) == [
        ('bad-hmac', 'trace.jsonl', 4, 3), ('edited', 'trace.jsonl', 4, 3)]


def test_an_unsigned_trace_fails_when_a_key_is_given(tmp_path):
    [path] = write_trace(tmp_path)
    report = verify([path], hmac_key=KEY)
    assert found(report) == [('bad-hmac', 'trace.jsonl', 1, 0)]
    assert report.problems[0].detail == 'no hmac_sha256 as the last field'


def test_the_key_never_appears_in_the_output(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv('SAFETY_GATE_TRACE_HMAC_KEY', raising=False)
    [path] = write_trace(tmp_path, key=KEY)
    right, wrong = tmp_path / 'right.key', tmp_path / 'wrong.key'
    right.write_bytes(KEY + b'\n')
    wrong.write_bytes(b'wrong-' + KEY)
    assert main([str(path), '--hmac-key-file', str(right)]) == 0
    assert main([str(path), '--hmac-key-file', str(wrong)]) == 1
    monkeypatch.setenv('SAFETY_GATE_TRACE_HMAC_KEY', KEY.decode())
    assert main([str(path)]) == 0
    edit_lines(path, lambda lines: lines[:2] + lines[3:])
    assert main([str(path)]) == 1
    out = capsys.readouterr()
    assert 'bad-hmac' in out.out and 'removed' in out.out
    assert KEY.decode() not in out.out + out.err


def test_the_report_names_every_problem_with_its_location(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: lines[:4] + lines[5:])
    text = format_report(verify([path]))
    assert 'FAILED: 1 problem(s)' in text
    assert f'{path}:5 seq 5: removed: missing before this record: 1 record (seq 4)' in text


@pytest.mark.parametrize('argv, message', [
    ([], 'the following arguments are required: TRACE'),
    (['{dir}/missing.jsonl'], "No such file or directory: '{dir}/missing.jsonl'"),
    (['{trace}', '--config-hash', 'abc'], "--config-hash 'abc' is not 64 hex digits"),
    (['{trace}', '--config', '{dir}/missing.yaml'], '--config {dir}/missing.yaml: '),
    (['{trace}', '--hmac-key-file', '{dir}/missing.key'],
     "cannot read the HMAC key: [Errno 2] No such file or directory: '{dir}/missing.key'")])
def test_usage_errors_exit_2_with_one_line_naming_the_problem(tmp_path, capsys, argv, message):
    [path] = write_trace(tmp_path)
    names = {'dir': tmp_path, 'trace': path}
    assert main([arg.format(**names) for arg in argv]) == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith('safety-gate verify: error: ')
    assert message.format(**names) in error


def test_the_usage_line_names_every_option(capsys):
    assert main([]) == 2
    usage = ' '.join(capsys.readouterr().err.split())
    assert usage.startswith(
        'usage: safety-gate verify [-h] [--config-hash HEX] [--config FILE] [--namespace NS] '
        '[--hmac-key-file FILE] TRACE [TRACE ...] ')
    assert main(['--help']) == 0
    assert capsys.readouterr().out.startswith('usage: safety-gate verify ')


def test_the_report_sums_up_a_trace_and_says_whether_hmacs_were_checked(
        tmp_path, capsys, monkeypatch):
    monkeypatch.delenv('SAFETY_GATE_TRACE_HMAC_KEY', raising=False)
    [path] = write_trace(tmp_path, key=KEY)
    key_file = tmp_path / 'key'
    key_file.write_bytes(KEY)
    summary = [
        'trace: 1 file(s), 10 records (10 decisions), first seq 0, last seq 9, 1 chain start(s)',
        f'  file: {path}', f'  tip sha256: {sha256_hex(path.read_bytes().splitlines()[-1])}']
    assert main([str(path), '--hmac-key-file', str(key_file)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == summary + ['  hmac: checked']
    assert out[-1] == 'OK: no problems found'
    assert main([str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == summary + ['  hmac: not checked']
    assert '  note: 10 records carry hmac_sha256 but no key was given: HMACs not checked' in out


def test_a_trace_without_records_fails_with_nothing_to_verify(tmp_path, capsys):
    path = tmp_path / 'trace.jsonl'
    path.write_bytes(b'')
    assert main([str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == 'trace: 1 file(s), 0 records (0 decisions), no seq, 0 chain start(s)'
    assert out[-1] == 'FAILED: nothing to verify: no decision records'


def test_the_records_the_writer_lost_are_reported_lost(tmp_path):
    records = [{'seq': seq} for seq in (0, 1, 2, 5, 6)]
    path = write_chain(tmp_path / 'trace.jsonl', records, lost_before=[0, 0, 0, 2])
    report = verify([path])
    assert found(report) == [('lost', 'trace.jsonl', 4, 5)]
    assert report.problems[0].detail == 'the writer lost 2 records (seq 3..4)'


def test_records_lost_before_the_oldest_given_record_are_reported_lost(tmp_path):
    records = [{'seq': seq} for seq in (0, 1, 2, 5, 6)]
    path = write_chain(tmp_path / 'trace.jsonl', records, lost_before=[0, 0, 0, 2], start=3)
    report = verify([path])
    assert found(report) == [('lost', 'trace.jsonl', 1, 5)]
    assert report.problems[0].detail == 'the writer lost 2 record(s) before it'


def test_config_files_are_read_as_the_launch_file_reads_them(tmp_path, capsys):
    # the section for the namespaced gate, and a model registry beside the params file
    params = tmp_path / 'params.yaml'
    params.write_text('/robot1/safety_gate:\n  ros__parameters:\n'
                      '    provenance.registry_file: models.yaml\n')
    models = Path(__file__).parents[2] / 'config' / 'model_registry.yaml'
    (tmp_path / 'models.yaml').write_bytes(models.read_bytes())
    cfg = load_yaml(params, 'robot1')
    trace = str(write_trace(tmp_path, config=config_sha256(
        cfg, registry.load(str(tmp_path / 'models.yaml')).sha256))[-1])
    assert main([trace, '--config', str(params), '--namespace', 'robot1']) == 0
    assert main([trace, '--config', str(params)]) == 2
    assert 'applies nothing to /safety_gate:' in capsys.readouterr().err


def test_is_decision_counts_what_verify_counts_as_decisions(tmp_path):
    records = [config_to_dict(0, 0.0, 0.0, flatten(GateConfig()), CONFIG),
               {'seq': 1, 'verdict': 'APPROVE'},
               spi_to_dict(2, 0.1, 0.1, {}, CONFIG), {'seq': 3, 'verdict': 'FALLBACK'}]
    report = verify([write_chain(tmp_path / 'trace.jsonl', records)])
    assert [is_decision(record) for _, record in read_records(report)] == [
        False, True, False, True]
    assert report.decisions == 2


@pytest.mark.parametrize('drop', [0, 3, 9])
def test_a_removed_line_anywhere_and_the_limits_at_both_ends(tmp_path, drop):
    [path] = write_trace(tmp_path, key=KEY)
    edit_lines(path, lambda lines: lines[:drop] + lines[drop + 1:])
    report = verify([path], hmac_key=KEY)
    if drop == 9:
        assert report.ok  # a cut at the tail matches a trace that ended there
    elif drop == 0:
        assert report.notes[0] == (f'the trace starts mid-chain at {path}:1 seq 1: older '
                                   'records were rotated away or not given')
    else:
        assert found(report) == [('removed', 'trace.jsonl', drop + 1, drop + 1)]


@pytest.mark.parametrize('seqs', [(0, 1, 2, 5, 6), (0, 1, 2, 5)])
def test_skipped_seq_numbers_in_an_intact_chain_are_reported(tmp_path, seqs):
    path = tmp_path / 'trace.jsonl'
    writer = TraceWriter(path, 10_000_000, 5, 100)
    for seq in seqs:
        writer.submit({'seq': seq})
    writer.close()
    report = verify([path])
    assert found(report) == [('bad-seq', 'trace.jsonl', 4, 5)]
    assert report.problems[0].detail == 'seq 5 follows seq 2 although the hash chain is intact'


def test_a_removed_run_start_is_located(tmp_path):
    write_trace(tmp_path, count=5)
    [path] = write_trace(tmp_path, count=5)
    edit_lines(path, lambda lines: lines[:5] + lines[6:])
    report = verify([path])
    assert found(report) == [('removed', 'trace.jsonl', 6, 1)]
    assert report.problems[0].detail == (
        'seq goes back from 4 to 1 and the record this one links to is missing (the start of '
        'a later run was removed)')


def test_an_unlinked_fresh_chain_in_the_middle_is_reported(tmp_path):
    first, second = tmp_path / 'a', tmp_path / 'b'
    first.mkdir()
    second.mkdir()
    [old] = write_trace(first, count=3)
    [new] = write_trace(second, count=3)
    old.write_bytes(old.read_bytes() + new.read_bytes())
    report = verify([old])
    assert found(report) == [('removed', 'trace.jsonl', 4, 0)]
    assert report.problems[0].detail == (
        f'a new chain starts here without linking to the record before it ({old}:3): earlier '
        'records were removed or the trace files were replaced between runs')


def test_a_removal_after_the_first_record_of_a_mid_chain_trace_is_a_removal(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: [lines[1]] + lines[3:])
    assert found(verify([path])) == [('removed', 'trace.jsonl', 2, 3)]


RECORD = b'{"prev_sha256":"%s","seq":%s}'


@pytest.mark.parametrize('bad, detail', [
    (b'', 'empty line'),
    (b'[1,2]', 'not a JSON object'),
    (b'{"seq":3}', 'no valid prev_sha256'),
    (RECORD % (b'A' * 64, b'3'), 'no valid prev_sha256'),
    (RECORD % (b'0' * 63, b'3'), 'no valid prev_sha256'),
    (RECORD % (b'0' * 64, b'-1'), 'no valid seq'),
    (RECORD % (b'0' * 64, b'true'), 'no valid seq'),
    (RECORD % (b'0' * 64, b'"3"'), 'no valid seq')])
def test_a_line_that_is_no_trace_record_is_located_and_named(tmp_path, bad, detail):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: lines[:3] + [bad + b'\n'] + lines[3:])
    report = verify([path])
    assert found(report) == [('bad-json', 'trace.jsonl', 4, None)]
    assert report.problems[0].detail == detail


def test_a_problem_after_a_line_of_garbage_is_still_found(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: lines[:3] + [b'not json at all\n'] + lines[3:6] + lines[7:])
    assert found(verify([path])) == [
        ('bad-json', 'trace.jsonl', 4, None), ('removed', 'trace.jsonl', 8, 7)]


def test_the_first_record_moved_to_the_end_is_reordered(tmp_path):
    [path] = write_trace(tmp_path)
    edit_lines(path, lambda lines: lines[1:] + lines[:1])
    assert found(verify([path]))[0] == ('reordered', 'trace.jsonl', 1, 1)


def test_a_restart_whose_seq_is_not_0_is_reported(tmp_path):
    path = write_chain(tmp_path / 'trace.jsonl', [{'seq': seq} for seq in range(3)])
    restart = HashChain()
    restart.resume_after(path.read_bytes().splitlines()[-1])
    path.write_bytes(path.read_bytes() + restart.link({'seq': 3}, 0) + b'\n')
    report = verify([path])
    assert found(report) == [('bad-seq', 'trace.jsonl', 4, 3)]
    assert report.problems[0].detail == 'a chain start must have seq 0, not 3'


@pytest.mark.parametrize('lost, kind, detail', [
    (0, 'removed', 'missing before this record: 3 records (seq 0..2)'),
    (3, 'lost', 'the writer lost 3 records (seq 0..2)')])
def test_a_fresh_chain_that_starts_after_seq_0_is_missing_its_first_records(
        tmp_path, lost, kind, detail):
    path = write_chain(tmp_path / 'trace.jsonl', [{'seq': 3}, {'seq': 4}], lost_before=[lost])
    report = verify([path])
    assert found(report) == [(kind, 'trace.jsonl', 1, 3)]
    assert report.problems[0].detail == detail


def test_decisions_must_name_the_config_record_in_force(tmp_path):
    config_record = config_to_dict(0, 0.0, 0.0, flatten(GateConfig()), CONFIG)
    records = [config_record, {'seq': 1, 'config_sha256': CONFIG},
               {'seq': 2, 'config_sha256': 'b' * 64}]
    path = write_chain(tmp_path / 'trace.jsonl', records)
    # a corrupt line in between does not end the check
    edit_lines(path, lambda lines: lines[:2] + [b'not json\n'] + lines[2:])
    # a restart without a config record (an older gate) leaves no config in force
    restart = HashChain()
    restart.resume_after(path.read_bytes().splitlines()[-1])
    path.write_bytes(path.read_bytes() + restart.link({'seq': 0, 'config_sha256': 'c' * 64}, 0)
                     + b'\n')
    report = verify([path])
    assert report.configs == [CONFIG]
    assert found(report) == [
        ('bad-json', 'trace.jsonl', 3, None), ('unknown-config', 'trace.jsonl', 4, 2)]
    assert report.problems[1].detail == (
        f'config_sha256 {"b" * 64} is not that of the config record at {path}:1')


def test_a_config_record_whose_parameters_were_edited_is_reported(tmp_path):
    params = dict(flatten(GateConfig()), rate_hz=1.0)
    records = [config_to_dict(0, 0.0, 0.0, params, CONFIG), {'seq': 1, 'config_sha256': CONFIG}]
    report = verify([write_chain(tmp_path / 'trace.jsonl', records)])
    assert found(report) == [('bad-config', 'trace.jsonl', 1, 0)]
    assert report.problems[0].detail == (
        'config_sha256 is not the hash of the parameters in this record (edited, or written '
        'by another version)')


def test_a_complete_last_record_without_its_newline_verifies(tmp_path):
    # the chain hashes a line without its newline, so a missing last newline changes nothing
    [path] = write_trace(tmp_path)
    path.write_bytes(path.read_bytes()[:-1])
    report = verify([path])
    assert report.ok and report.records == 10
    assert report.last_sha256 == sha256_hex(path.read_bytes().splitlines()[-1])


@pytest.mark.parametrize('lost_before', ['2', 2.0, [2]])
def test_a_lost_before_that_is_no_count_is_no_recorded_loss(tmp_path, lost_before):
    records = [{'seq': seq} for seq in range(5)]
    path = write_chain(tmp_path / 'trace.jsonl', records, lost_before=[0, 0, lost_before],
                       start=2)
    report = verify([path])
    assert found(report) == []
    assert report.notes[0] == (f'the trace starts mid-chain at {path}:1 seq 2: older records '
                               'were rotated away or not given')


@pytest.mark.parametrize('config', [[CONFIG], {'sha256': CONFIG}, 5])
def test_a_config_hash_that_is_no_string_is_an_unknown_config(tmp_path, config):
    # before, a list or object here made verify fail with a TypeError instead of a report
    path = write_chain(tmp_path / 'trace.jsonl', [{'seq': 0, 'config_sha256': config}])
    report = verify([path], known_configs={CONFIG})
    assert found(report) == [('unknown-config', 'trace.jsonl', 1, 0)]
    assert report.problems[0].detail == f'config_sha256 {config} is not one of the given configs'


@pytest.mark.parametrize('params', [[1, 2], 'rate_hz=1.0', None])
def test_a_config_record_whose_parameters_are_no_object_is_reported(tmp_path, params):
    record = dict(config_to_dict(0, 0.0, 0.0, flatten(GateConfig()), CONFIG), config=params)
    decision = {'seq': 1, 'config_sha256': CONFIG}
    report = verify([write_chain(tmp_path / 'trace.jsonl', [record, decision])])
    assert found(report) == [('bad-config', 'trace.jsonl', 1, 0)]


def rename(files, names):
    """Rename the files to the names, given in the same order; return the new paths."""
    parked = [path.rename(path.with_name(f'parked{index}')) for index, path in enumerate(files)]
    return [path.rename(path.with_name(name)) for path, name in zip(parked, names)]


def test_files_are_ordered_along_the_hash_chain_whatever_their_names_say(tmp_path):
    files = write_trace(tmp_path, count=120, max_file_bytes=10_000, max_files=4)
    # oldest first, named as if newest first
    files = rename(files, ['trace.jsonl', 'trace.jsonl.1', 'trace.jsonl.2'])
    for given in (files, files[::-1], [files[1], files[2], files[0]]):
        report = verify(given)
        assert report.ok and report.files == files


def test_files_the_chain_cannot_order_are_ordered_by_rotation_suffix_then_name(tmp_path):
    first, second = tmp_path / 'a', tmp_path / 'b'
    first.mkdir()
    second.mkdir()
    oldest, middle, newest = write_trace(first, count=120, max_file_bytes=10_000, max_files=4,
                                         unpack=False)
    assert oldest.name == 'trace.jsonl.2.gz'
    middle.unlink()  # the chain no longer links the oldest file to the newest
    [other] = write_trace(second, count=3)
    expected = [oldest, newest, other]
    for given in (expected, expected[::-1], [newest, other, oldest]):
        assert verify(given).files == expected


def test_files_whose_chain_loops_back_are_ordered_once_each(tmp_path):
    lines = write_chain(tmp_path / 'all', [{'seq': seq} for seq in range(4)]).read_bytes()
    lines = lines.splitlines(keepends=True)
    # the third file ends in the first file's last line, which links on to the second file
    files = [tmp_path / name for name in ('a', 'b', 'c')]
    for path, content in zip(files, [lines[:2], lines[2:3], lines[3:] + lines[1:2]]):
        path.write_bytes(b''.join(content))
    assert verify(files[::-1]).files == files


def test_a_problem_inside_a_run_of_another_is_reported_too(tmp_path):
    [path] = write_trace(tmp_path, key=KEY)
    edit_lines(path, lambda lines: lines[:4] + lines[5:])
    report = verify([path], hmac_key=b'another key')
    assert found(report) == [('bad-hmac', 'trace.jsonl', 1, 0), ('removed', 'trace.jsonl', 5, 5)]
    assert report.problems[0].count == 9


FRESH = 'the trace starts at the beginning of a fresh chain'
NO_CONFIG = ('no config record (the files start mid-chain, or a gate before config records '
             'wrote them): config_sha256 checked only against --config')


@pytest.mark.parametrize('key, hmac_key, notes', [
    (None, None, [FRESH, NO_CONFIG]),
    (KEY, KEY, [FRESH, NO_CONFIG]),
    (KEY, None,
     [FRESH, NO_CONFIG, '10 records carry hmac_sha256 but no key was given: HMACs not checked'])])
def test_the_notes_say_where_the_trace_starts_and_what_was_not_checked(
        tmp_path, key, hmac_key, notes):
    [path] = write_trace(tmp_path, key=key)
    assert verify([path], hmac_key=hmac_key).notes == notes


def test_a_trace_with_a_config_record_has_no_note_of_a_missing_one(tmp_path):
    records = [config_to_dict(0, 0.0, 0.0, flatten(GateConfig()), CONFIG),
               {'seq': 1, 'config_sha256': CONFIG}]
    assert verify([write_chain(tmp_path / 'trace.jsonl', records)]).notes == [FRESH]


def test_read_records_passes_over_every_line_that_is_no_record(tmp_path):
    [path] = write_trace(tmp_path, count=4)
    edit_lines(path, lambda lines: lines[:1] + [b'not json\n', b'{"note":1}\n', b'"seq"\n']
               + lines[1:])
    report = verify([path])
    assert [where for where, _ in read_records(report)] == [
        f'{path}:{number}' for number in (1, 5, 6, 7)]
