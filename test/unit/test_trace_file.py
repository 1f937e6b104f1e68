# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the trace without a writer thread: the rotating file and the line format.

``safety_gate.trace_file`` and ``safety_gate.trace_format``; the writer thread
that joins them is tested in test_trace.py.
"""

import gzip
import json
import math

import pytest

from safety_gate.trace_file import IncompleteWrite, open_trace, TraceFile
from safety_gate.trace_format import (
    encode_record, GENESIS, HashChain, hmac_hex, HMAC_MEMBER, load_hmac_key, sha256_hex, sign_line,
    split_signature)

LINE_BYTES = 25  # every test line with its newline: four fill the 100-byte limit


def line(number):
    """Return a line of LINE_BYTES - 1 bytes that names its number."""
    return f'{{"seq":{number:04d},"pad":"{"x" * 3}"}}'.encode()


def opened(path, max_file_bytes=100, max_files=5):
    """Return a claimed and open trace file at ``path``; a reported problem fails the test."""
    trace = TraceFile(path, max_file_bytes, max_files, pytest.fail)
    trace.claim()
    trace.open_for_append()
    return trace


def names(directory):
    """Return the visible file names in ``directory``, sorted."""
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith('.'))


def test_the_file_rotates_when_the_next_line_would_pass_the_limit(tmp_path):
    path = tmp_path / 'trace.jsonl'
    assert {len(line(n)) + 1 for n in range(5)} == {LINE_BYTES}
    trace = opened(path)
    trace.write([line(n) for n in range(4)])  # exactly 100 bytes: still one file
    assert names(tmp_path) == ['trace.jsonl'] and path.stat().st_size == 100
    trace.write([line(4)])
    trace.close()
    assert names(tmp_path) == ['trace.jsonl', 'trace.jsonl.1.gz']
    assert open_trace(tmp_path / 'trace.jsonl.1.gz').read().splitlines() == [
        line(n) for n in range(4)]
    assert path.read_bytes() == line(4) + b'\n'
    assert trace.bytes_written == 5 * LINE_BYTES


def test_a_rotated_file_is_replaced_by_its_gzip_copy(tmp_path):
    path = tmp_path / 'trace.jsonl'
    trace = opened(path)
    trace.write([line(n) for n in range(6)])
    trace.close()
    packed = tmp_path / 'trace.jsonl.1.gz'
    assert not (tmp_path / 'trace.jsonl.1').exists()
    with gzip.open(packed, 'rb') as file:
        assert file.read() == b''.join(line(n) + b'\n' for n in range(4))
    assert packed.read_bytes()[4:8] == b'\0\0\0\0'  # no timestamp: same bytes every time


def test_rotation_keeps_max_files_and_removes_older_ones(tmp_path):
    path = tmp_path / 'trace.jsonl'
    for stale in ('trace.jsonl.2', 'trace.jsonl.3', 'trace.jsonl.7', 'trace.jsonl.8.gz'):
        (tmp_path / stale).write_bytes(b'left over from a run with more files\n')
    (tmp_path / 'other.jsonl.1.gz').write_bytes(b'not part of this trace\n')
    trace = opened(path, max_files=3)
    trace.write([line(n) for n in range(20)])  # five files' worth
    trace.close()
    assert names(tmp_path) == [
        'other.jsonl.1.gz', 'trace.jsonl', 'trace.jsonl.1.gz', 'trace.jsonl.2.gz']
    kept = [tmp_path / 'trace.jsonl.2.gz', tmp_path / 'trace.jsonl.1.gz', path]
    assert b''.join(open_trace(p).read() for p in kept) == b''.join(
        line(n) + b'\n' for n in range(8, 20))


def test_max_files_one_keeps_only_the_current_file(tmp_path):
    path = tmp_path / 'trace.jsonl'
    trace = opened(path, max_files=1)
    trace.write([line(n) for n in range(9)])
    trace.close()
    assert names(tmp_path) == ['trace.jsonl']
    assert path.read_bytes() == line(8) + b'\n'


def test_opening_ends_a_last_line_cut_by_a_crash(tmp_path):
    path = tmp_path / 'trace.jsonl'
    path.write_bytes(line(0) + b'\n' + b'{"seq":1,"cu')
    trace = opened(path, max_file_bytes=10_000)
    trace.write([line(2)])
    trace.close()
    assert path.read_bytes() == line(0) + b'\n' + b'{"seq":1,"cu\n' + line(2) + b'\n'


def test_reopening_after_a_failed_write_drops_the_torn_tail(tmp_path):
    path = tmp_path / 'trace.jsonl'
    trace = opened(path, max_file_bytes=10_000)
    trace.write([line(0)])
    with open(path, 'ab') as file:
        file.write(b'{"seq":1,"torn')  # what a write cut by ENOSPC leaves behind
    trace.abandon()
    assert not trace.is_open
    trace.open_for_append()
    trace.write([line(2)])
    trace.close()
    assert path.read_bytes() == line(0) + b'\n' + line(2) + b'\n'


def test_a_failed_rotation_says_how_many_lines_reached_the_file(tmp_path):
    directory = tmp_path / 'logs'
    directory.mkdir()
    trace = opened(directory / 'trace.jsonl')
    directory.rename(tmp_path / 'moved')  # the open file stays writable, rotation fails
    with pytest.raises(IncompleteWrite) as failure:
        trace.write([line(n) for n in range(6)])
    assert failure.value.done == 4 and isinstance(failure.value.cause, FileNotFoundError)
    assert not trace.is_open
    assert (tmp_path / 'moved' / 'trace.jsonl').stat().st_size == 100


def test_last_line_reads_the_current_file_then_the_rotated_ones(tmp_path):
    path = tmp_path / 'trace.jsonl'
    trace = TraceFile(path, 100, 5, pytest.fail)
    assert trace.last_line() is None
    (tmp_path / 'trace.jsonl.1.gz').write_bytes(gzip.compress(line(0) + b'\n' + line(1) + b'\n'))
    assert trace.last_line() == line(1)
    (tmp_path / 'trace.jsonl.1').write_bytes(line(2) + b'\n')
    assert trace.last_line() == line(2)
    path.write_bytes(b'')
    assert trace.last_line() == line(2)
    path.write_bytes(line(3) + b'\n' + b'{"cut')
    assert trace.last_line() == b'{"cut'


def test_a_second_claim_on_the_same_trace_is_refused(tmp_path):
    path = tmp_path / 'trace.jsonl'
    first = opened(path)
    second = TraceFile(path, 100, 5, pytest.fail)
    with pytest.raises(OSError, match='in use by another trace writer'):
        second.claim()
    first.close()
    second.claim()
    second.close()


# ---------------------------------------------------------------- the line format


def test_a_record_is_one_compact_utf8_line_with_non_finite_numbers_named():
    record = {'r': 'caf\u00e9', 'v': math.nan, 'w': [math.inf, -math.inf, 1.5]}
    assert encode_record(record) == (
        '{"r":"caf\u00e9","v":"NaN","w":["Infinity","-Infinity",1.5]}'.encode())
    assert math.isnan(record['v'])  # the caller's record is untouched


def test_text_with_no_utf8_form_is_escaped_and_reads_back_the_same():
    record = {'r': 'caf\u00e9 \ud800'}
    assert json.loads(encode_record(record)) == record


def test_the_chain_starts_at_genesis_marks_its_start_and_counts_lost_records():
    chain = HashChain()
    first = chain.link({'seq': 0, 'lost_before': 9, 'prev_sha256': 'f' * 64}, lost_before=0)
    second = chain.link({'seq': 1}, lost_before=3)
    assert json.loads(first) == {'seq': 0, 'prev_sha256': GENESIS, 'chain_start': True}
    assert json.loads(second) == {'seq': 1, 'prev_sha256': sha256_hex(first), 'lost_before': 3}


def test_only_a_top_level_last_member_counts_as_the_signature():
    signed = sign_line(b'k', b'{"seq":0}')
    assert split_signature(signed) == (b'{"seq":0}', hmac_hex(b'k', b'{"seq":0}').encode())
    fake = '"' + '0' * 64 + '"'
    nested = f'{{"seq":0,"a":{{"x":1,"hmac_sha256":{fake}}}}}'.encode()
    in_text = json.dumps({'seq': 0, 'r': f',"hmac_sha256":{fake}}}'},
                         separators=(',', ':')).encode()
    assert split_signature(nested) is None and split_signature(in_text) is None
    # The member alone signs no record.
    assert split_signature(HMAC_MEMBER + b'0' * 64 + b'"}') is None


def test_load_hmac_key_from_file_or_environment(tmp_path, monkeypatch):
    monkeypatch.delenv('SAFETY_GATE_TRACE_HMAC_KEY', raising=False)
    assert load_hmac_key('') is None
    monkeypatch.setenv('SAFETY_GATE_TRACE_HMAC_KEY', 'from-env')
    assert load_hmac_key('') == b'from-env'
    key_file = tmp_path / 'key'
    key_file.write_bytes(b'from-file\n')
    assert load_hmac_key(str(key_file)) == b'from-file'
    key_file.write_bytes(b'\n')
    with pytest.raises(ValueError, match='is empty') as empty:
        load_hmac_key(str(key_file))
    assert str(key_file) in str(empty.value)
    with pytest.raises(OSError):
        load_hmac_key(str(tmp_path / 'missing'))


@pytest.mark.parametrize('content, key', [
    (b'key', b'key'), (b'key\n', b'key'), (b'key\r\n', b'key'), (b'key\n\n', b'key\n')])
def test_the_key_file_loses_one_trailing_newline_only(tmp_path, content, key):
    key_file = tmp_path / 'key'
    key_file.write_bytes(content)
    assert load_hmac_key(str(key_file)) == key
