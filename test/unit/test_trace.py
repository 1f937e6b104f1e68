# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the trace writer: chain, rotation, restart, faults, NaN and draining."""

import hashlib
import json
import math
import os
from pathlib import Path
import stat
import threading
import time

import pytest

from safety_gate.config import GateConfig
from safety_gate.trace_file import default_trace_path, open_trace, read_last_line
from safety_gate.trace_format import GENESIS, hmac_hex
from safety_gate.trace_writer import TraceWriter
from safety_gate.verify import format_report, verify

ZERO_RETRY = 0.05


def record(seq, **extra):
    """Return a small decision-like record."""
    return {'seq': seq, 'verdict': 'APPROVE', 'output': {'v': 0.1 * seq, 'w': 0.0}, **extra}


def lines_of(*paths):
    """Return the raw lines (without newline) of the files, in the given order (.gz read)."""
    return [raw for path in paths for raw in open_trace(path).read().splitlines()]


def sha(raw):
    return hashlib.sha256(raw).hexdigest()


def write(path, seqs, **kwargs):
    """Write records with the given seqs through a fresh writer and close it."""
    options = {'max_file_bytes': 10_000_000, 'max_files': 5, 'queue_size': 10_000}
    options.update(kwargs)
    writer = TraceWriter(path, **options)
    for seq in seqs:
        assert writer.submit(record(seq))
    assert writer.close()
    return writer


def wait_for(condition, timeout=10.0):
    """Poll until condition() is true; fail after timeout seconds (a safety net only)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'condition not reached'
        time.sleep(0.005)


def char_device(path, minor):
    """Create a character device like /dev/null (minor 3) or /dev/full (7) at path."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (PermissionError, OSError) as exc:
        pytest.skip(f'cannot create a device node here: {exc}')
    return path


def test_every_line_names_the_hash_of_the_line_before(tmp_path):
    path = tmp_path / 'trace.jsonl'
    published = []
    writer = write(path, range(50), on_line=published.append)
    lines = lines_of(path)
    assert len(lines) == 50
    first = json.loads(lines[0])
    assert first['prev_sha256'] == GENESIS and first['chain_start'] is True
    for before, line in zip(lines, lines[1:]):
        rec = json.loads(line)
        assert rec['prev_sha256'] == sha(before)
        assert 'chain_start' not in rec and 'lost_before' not in rec
    assert [line.encode() for line in published] == lines
    stats = writer.stats()
    assert (stats.submitted, stats.written, stats.lost) == (50, 50, 0)
    assert stats.healthy and stats.last_sha256 == sha(lines[-1])
    assert stats.bytes_written == path.stat().st_size
    assert verify([path]).ok


def test_writer_fields_set_by_the_caller_are_replaced(tmp_path):
    path = tmp_path / 'trace.jsonl'
    writer = TraceWriter(path, 10_000_000, 5, 100)
    writer.submit(record(0, prev_sha256='f' * 64, hmac_sha256='x', lost_before=7))
    writer.close()
    rec = json.loads(lines_of(path)[0])
    assert rec['prev_sha256'] == GENESIS
    assert 'hmac_sha256' not in rec and 'lost_before' not in rec


def test_restart_extends_the_chain_and_marks_the_start(tmp_path):
    path = tmp_path / 'trace.jsonl'
    write(path, range(5))
    tail = lines_of(path)[-1]
    write(path, range(3))
    lines = lines_of(path)
    restart = json.loads(lines[5])
    assert restart['seq'] == 0 and restart['chain_start'] is True
    assert restart['prev_sha256'] == sha(tail)
    report = verify([path])
    assert report.ok, report.problems
    assert report.chain_starts == 2


def test_restart_after_a_torn_line_links_to_it(tmp_path):
    path = tmp_path / 'trace.jsonl'
    write(path, range(3))
    with open(path, 'ab') as file:
        file.write(b'{"seq":3,"verd')  # a crash in the middle of a write
    write(path, range(2))
    lines = lines_of(path)
    assert lines[3] == b'{"seq":3,"verd'
    assert json.loads(lines[4])['prev_sha256'] == sha(lines[3])
    problems = verify([path]).problems
    assert [(p.kind, p.line) for p in problems] == [('bad-json', 4)]


def test_rotation_compresses_keeps_the_chain_and_at_most_max_files(tmp_path):
    path = tmp_path / 'trace.jsonl'
    for stale in ('trace.jsonl.7', 'trace.jsonl.8.gz'):
        (tmp_path / stale).write_text('left over from a run with more files\n')
    write(path, range(400), max_file_bytes=10_000, max_files=3)
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith('.'))
    assert names == ['trace.jsonl', 'trace.jsonl.1.gz', 'trace.jsonl.2.gz']
    oldest_first = [tmp_path / 'trace.jsonl.2.gz', tmp_path / 'trace.jsonl.1.gz', path]
    for older, newer in zip(oldest_first, oldest_first[1:]):
        assert older.stat().st_size < 10_000 / 2  # compressed
        assert len(b'\n'.join(lines_of(older))) < 10_000
        first = json.loads(lines_of(newer)[0])
        assert first['prev_sha256'] == sha(lines_of(older)[-1])
    seqs = [json.loads(line)['seq'] for line in lines_of(*oldest_first)]
    assert seqs == list(range(seqs[0], 400))
    report = verify(list(reversed(oldest_first)))
    assert report.ok, report.problems
    assert report.files == oldest_first


def test_a_crash_before_compressing_leaves_a_trace_that_verifies_and_rotates(tmp_path):
    """A plain rotated file (compression cut short) verifies and rotates with the others."""
    path = tmp_path / 'trace.jsonl'
    write(path, range(200), max_file_bytes=10_000, max_files=4)
    packed = tmp_path / 'trace.jsonl.1.gz'
    (tmp_path / 'trace.jsonl.1').write_bytes(open_trace(packed).read())
    packed.unlink()
    write(path, range(100), max_file_bytes=10_000, max_files=4)
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith('.'))
    assert names == ['trace.jsonl', 'trace.jsonl.1.gz', 'trace.jsonl.2.gz', 'trace.jsonl.3']
    report = verify([tmp_path / name for name in names])
    assert report.ok and report.chain_starts in (1, 2), format_report(report)


def test_max_files_one_keeps_only_the_current_file(tmp_path):
    path = tmp_path / 'trace.jsonl'
    write(path, range(200), max_file_bytes=10_000, max_files=1)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith('.')] == ['trace.jsonl']
    assert verify([path]).ok


def test_queue_full_drops_are_counted_and_marked_on_the_next_record(tmp_path):
    path = tmp_path / 'trace.jsonl'
    entered, release = threading.Event(), threading.Event()

    def slow_publisher(line):
        entered.set()
        release.wait(10)

    writer = TraceWriter(path, 10_000_000, 5, queue_size=10, on_line=slow_publisher)
    assert writer.submit(record(0))
    assert entered.wait(10)  # the writer holds record 0; the queue is empty
    assert all(writer.submit(record(seq)) for seq in range(1, 11))
    assert not any(writer.submit(record(seq)) for seq in range(11, 16))
    assert writer.stats().lost == 5 and writer.stats().queue_depth == 10
    assert not writer.healthy
    release.set()
    wait_for(lambda: writer.stats().queue_depth == 0)
    # Drained, but no line in the file says that records are missing yet.
    assert not writer.healthy
    assert writer.submit(record(16))
    wait_for(lambda: writer.stats().written == 12)
    assert writer.healthy
    assert writer.close()
    stats = writer.stats()
    assert (stats.submitted, stats.written, stats.lost) == (17, 12, 5)
    lines = [json.loads(line) for line in lines_of(path)]
    assert [rec['seq'] for rec in lines] == list(range(11)) + [16]
    assert lines[-1]['lost_before'] == 5
    problems = verify([path]).problems
    assert [(p.kind, p.line, p.seq) for p in problems] == [('lost', 12, 16)]
    assert 'seq 11..15' in problems[0].detail


STALL = 0.2  # s: the writers' stall_timeout in the FIFO tests


def test_a_writer_blocked_on_a_fifo_nobody_reads_is_unhealthy(tmp_path):
    fifo = tmp_path / 'trace.jsonl'
    os.mkfifo(fifo)
    # A reader exists (so open() succeeds) but never reads: writes block once
    # the pipe is full, and no error ever comes.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        writer = TraceWriter(fifo, 10_000_000, 5, 1000, stall_timeout=STALL)
        assert writer.healthy
        padding = 'x' * 1000
        for seq in range(200):  # about 200 kB, several times a pipe's capacity
            writer.submit(record(seq, padding=padding))
        blocked = time.monotonic()
        wait_for(lambda: not writer.healthy, STALL + 2.0)
        assert time.monotonic() - blocked < STALL + 2.0
        assert writer.stats().stalled and writer.stats().lost == 0
        drained = []
        wait_for(lambda: _drain(reader, drained) and writer.stats().written == 200)
        wait_for(lambda: writer.healthy)
        assert writer.close()
    finally:
        os.close(reader)
    assert [json.loads(line)['seq'] for line in b''.join(drained).splitlines()] == list(
        range(200))


def _drain(fd, into):
    """Read what the pipe holds into ``into``; return True (a wait_for condition helper)."""
    try:
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return True
            into.append(chunk)
    except BlockingIOError:
        return True


def test_opening_a_fifo_without_a_reader_neither_blocks_nor_counts_as_healthy(tmp_path):
    fifo = tmp_path / 'trace.jsonl'
    os.mkfifo(fifo)
    built = []
    builder = threading.Thread(target=lambda: built.append(TraceWriter(
        fifo, 10_000_000, 5, 100, stall_timeout=STALL)), daemon=True)
    builder.start()
    builder.join(STALL + 5.0)
    reader = None
    try:
        assert built, 'the constructor blocked in open()'
        writer = built[0]
        assert not writer.healthy and writer.stats().stalled
        writer.submit(record(0))
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open() returns at last
        drained = []
        wait_for(lambda: _drain(reader, drained) and writer.stats().written == 1)
        wait_for(lambda: writer.healthy)
        assert writer.close()
    finally:
        # Lets a writer stuck in open() (the defect this test looks for) go.
        os.close(reader if reader is not None else os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    assert json.loads(b''.join(drained))['seq'] == 0


def test_unwritable_directory_is_counted_lost_without_raising(tmp_path):
    blocker = tmp_path / 'not_a_dir'
    blocker.write_text('a regular file where the trace directory should be')
    published = []
    writer = TraceWriter(blocker / 'trace.jsonl', 10_000_000, 5, 100, on_line=published.append)
    stats = writer.stats()
    assert not stats.healthy and 'not_a_dir' in stats.last_error
    assert all(writer.submit(record(seq)) for seq in range(5))
    assert writer.close()
    stats = writer.stats()
    assert (stats.written, stats.lost, stats.healthy) == (0, 5, False)
    assert [json.loads(line)['seq'] for line in published] == list(range(5))


def test_writing_recovers_when_the_fault_clears(tmp_path):
    blocker = tmp_path / 'logs'
    blocker.write_text('blocks the directory')
    path = blocker / 'trace.jsonl'
    writer = TraceWriter(path, 10_000_000, 5, 100, retry_interval=ZERO_RETRY)
    for seq in range(3):
        writer.submit(record(seq))
    wait_for(lambda: writer.stats().lost == 3)
    blocker.unlink()
    seq = 3
    deadline = time.monotonic() + 10
    while writer.stats().written == 0 and time.monotonic() < deadline:
        writer.submit(record(seq))
        seq += 1
        time.sleep(ZERO_RETRY)
    assert writer.close()
    stats = writer.stats()
    assert stats.healthy and stats.written > 0
    assert stats.lost + stats.written == stats.submitted == seq
    lines = [json.loads(line) for line in lines_of(path)]
    assert lines[0]['seq'] == stats.lost and lines[0]['lost_before'] == stats.lost
    assert [rec['seq'] for rec in lines] == list(range(stats.lost, seq))
    assert [(p.kind, p.line) for p in verify([path]).problems] == [('lost', 1)]


def test_disk_full_is_counted_lost_and_reported(tmp_path):
    full = char_device(tmp_path / 'full', 7)
    writer = TraceWriter(full, 10_000, 5, 100)
    for seq in range(3):
        writer.submit(record(seq))
    assert writer.close()
    stats = writer.stats()
    assert (stats.written, stats.lost, stats.healthy) == (0, 3, False)
    assert 'No space left' in stats.last_error


def test_a_device_is_never_rotated(tmp_path):
    null = char_device(tmp_path / 'null', 3)
    writer = write(null, range(500), max_file_bytes=10_000, max_files=2)
    assert writer.stats().written == 500 and writer.stats().healthy
    assert sorted(p.name for p in tmp_path.iterdir()) == ['null']
    assert stat.S_ISCHR(null.stat().st_mode)


def test_a_failed_write_leaves_no_torn_line(tmp_path):
    path = tmp_path / 'trace.jsonl'
    writer = TraceWriter(path, 10_000_000, 5, 100, retry_interval=ZERO_RETRY)
    writer.submit(record(0))
    wait_for(lambda: writer.stats().written == 1)
    good_size = path.stat().st_size
    with open(path, 'ab') as file:
        file.write(b'{"seq":1,"torn')  # what a write cut by ENOSPC leaves behind
    writer._fail('simulated ENOSPC')  # the writer's own reaction to that error
    time.sleep(2 * ZERO_RETRY)
    writer.submit(record(1))
    assert writer.close()
    lines = lines_of(path)
    assert len(lines) == 2 and path.stat().st_size > good_size
    assert json.loads(lines[1])['prev_sha256'] == sha(lines[0])
    assert verify([path]).ok


def test_a_second_writer_on_the_same_file_is_refused(tmp_path):
    path = tmp_path / 'trace.jsonl'
    first = TraceWriter(path, 10_000_000, 5, 100)
    second = TraceWriter(path, 10_000_000, 5, 100)
    try:
        assert first.stats().healthy
        assert not second.stats().healthy
        assert 'in use by another trace writer' in second.stats().last_error
    finally:
        second.close()
        first.close()


def test_non_finite_values_are_kept_as_names(tmp_path):
    path = tmp_path / 'trace.jsonl'
    proposal = {'v': math.nan, 'w': math.inf, 'limits': [-math.inf, 1.5]}
    writer = TraceWriter(path, 10_000_000, 5, 100)
    writer.submit(record(0, proposal=proposal))
    writer.close()
    line = lines_of(path)[0]
    assert b'"proposal":{"v":"NaN","w":"Infinity","limits":["-Infinity",1.5]}' in line
    kept = json.loads(line)['proposal']
    assert math.isnan(float(kept['v'])) and float(kept['w']) == math.inf
    assert proposal['v'] != proposal['v']  # the caller's record is untouched
    assert verify([path]).ok


def test_text_that_is_not_utf8_encodable_is_escaped(tmp_path):
    path = tmp_path / 'trace.jsonl'
    writer = TraceWriter(path, 10_000_000, 5, 100)
    writer.submit(record(0, reasoning='caf\u00e9 \ud800'))
    writer.submit(record(1, reasoning='caf\u00e9'))
    writer.close()
    lines = lines_of(path)
    assert json.loads(lines[0])['reasoning'] == 'caf\u00e9 \ud800'
    assert 'caf\u00e9'.encode() in lines[1]  # readable UTF-8 when possible
    assert verify([path]).ok


def test_an_unserialisable_record_is_lost_not_fatal(tmp_path):
    path = tmp_path / 'trace.jsonl'
    writer = TraceWriter(path, 10_000_000, 5, 100)
    writer.submit(record(0))
    writer.submit(record(1, bad=object()))
    writer.submit(record(2))
    writer.close()
    stats = writer.stats()
    assert (stats.written, stats.lost) == (2, 1)
    assert 'not JSON-serialisable' in stats.last_error
    assert json.loads(lines_of(path)[1])['lost_before'] == 1


def test_close_drains_everything_and_is_idempotent(tmp_path):
    path = tmp_path / 'trace.jsonl'
    writer = TraceWriter(path, 10_000_000, 5, 10_000)
    for seq in range(5000):
        assert writer.submit(record(seq))
    assert writer.close()
    assert writer.close()
    assert len(lines_of(path)) == 5000 and writer.stats().written == 5000
    assert not writer.submit(record(5000))
    assert writer.stats().lost == 1


def test_without_a_file_records_are_still_chained_and_handed_on():
    published = []
    writer = TraceWriter(None, 0, 0, 100, hmac_key=b'key', on_line=published.append)
    for seq in range(3):
        writer.submit(record(seq))
    writer.close()
    assert len(published) == 3
    assert json.loads(published[0])['prev_sha256'] == GENESIS
    assert json.loads(published[2])['prev_sha256'] == sha(published[1].encode())
    stats = writer.stats()
    assert stats.current_file is None and stats.healthy and stats.written == 3


def test_the_hmac_is_the_last_field_and_signs_the_rest(tmp_path):
    path = tmp_path / 'trace.jsonl'
    writer = TraceWriter(path, 10_000_000, 5, 100, hmac_key=b'secret')
    writer.submit(record(0))
    writer.close()
    line = lines_of(path)[0]
    mac = json.loads(line)['hmac_sha256']
    member = b',"hmac_sha256":"' + mac.encode() + b'"}'
    assert line.endswith(member)
    assert mac == hmac_hex(b'secret', line[:-len(member)] + b'}')


def test_a_failing_publisher_does_not_stop_the_trace(tmp_path):
    path = tmp_path / 'trace.jsonl'

    def broken(line):
        raise RuntimeError('publisher gone')

    writer = write(path, range(3), on_line=broken)
    assert len(lines_of(path)) == 3 and writer.stats().healthy
    assert 'publisher gone' in writer.stats().last_error


def test_a_burst_of_1kb_records_is_written_whole_and_in_order(tmp_path):
    # Throughput is measured and held to its target by the benchmark
    # (safety_gate.kit.bench, the trace writer row); this is its correctness.
    path = tmp_path / 'trace.jsonl'
    writer = TraceWriter(path, 50_000_000, 10, 100_000, hmac_key=b'key')
    pad = 'r' * 900
    for seq in range(20_000):
        writer.submit(record(seq, reasoning=pad))
    assert writer.close(timeout=60)
    assert writer.stats().written == 20_000 and writer.stats().lost == 0
    with open(path, 'rb') as lines:
        assert [json.loads(line)['seq'] for line in lines] == list(range(20_000))


def test_read_last_line_handles_long_and_unterminated_lines(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'a\n' + b'x' * 200_000 + b'\n')
    assert read_last_line(path) == (b'x' * 200_000, True)
    path.write_bytes(b'a\nbc')
    assert read_last_line(path) == (b'bc', False)
    path.write_bytes(b'')
    assert read_last_line(path) == (None, True)


@pytest.mark.parametrize('env, expected', [
    ({'ROS_LOG_DIR': '/var/log/ros', 'ROS_HOME': '/h'}, '/var/log/ros'),
    ({'ROS_LOG_DIR': '', 'ROS_HOME': '/h'}, '/h/log'),
    ({'ROS_HOME': '~/rh'}, '/home/me/rh/log'),
    ({}, '/home/me/.ros/log'),
    ({'ROS_LOG_DIR': '~/logs'}, '/home/me/logs'),
])
def test_default_trace_path_follows_the_rcl_logging_rules(monkeypatch, env, expected):
    for name in ('ROS_LOG_DIR', 'ROS_HOME'):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv('HOME', '/home/me')
    assert default_trace_path() == Path(expected) / 'safety_gate' / 'trace.jsonl'
    assert default_trace_path('/given') == Path('/given/safety_gate/trace.jsonl')


# Trace growth measured with the defaults (README "Decision trace"), in MB per hour.
MEASURED_MB_PER_H = {'idle gate': 139, 'behind a 10 Hz planner': 338}


@pytest.mark.parametrize('case', MEASURED_MB_PER_H)
def test_the_default_retention_keeps_a_working_day(case):
    trace_cfg = GateConfig().trace
    kept_mb = trace_cfg.max_files * trace_cfg.max_file_bytes / 1e6
    assert kept_mb / MEASURED_MB_PER_H[case] >= 8.0
