# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Trace storage faults: an unwritable directory, a full disk, a disk that fills mid-run, a stall.

With ``trace.required`` the gate fails closed (FALLBACK, TRACE_UNAVAILABLE);
without it control goes on under an ERROR diagnostic. Either way every lost
record is counted, in diagnostics and, once the disk works again, in the
file itself (``lost_before``), and the hash chain stays intact.

The tests run as root, which ignores directory permissions, so the faults
are ones root cannot bypass: a path through a regular file (ENOTDIR/EEXIST),
``/dev/full`` (ENOSPC), and a file-size limit set on the running gate
(``RLIMIT_FSIZE``: EFBIG, the disk filling up at a chosen moment). A FIFO
nobody reads gives no error at all: the writer just blocks, from ``open``
on, and must count as unhealthy after ``trace.stall_timeout``.
"""

import json
import os
import resource
import time

from harness.faults import (
    approved, approved_after, Campaign, diagnostic, has_reason, reaction, SLACK, start_campaign,
    trace_lines)
from harness.ros import UNLATCHED
import pytest
from safety_gate.config import GateConfig
from safety_gate.trace_record import is_decision

CFG = GateConfig()
V = 0.5
TRACE = 'safety_gate: trace'
STARTUP = 'trace storage broken at start (unwritable directory, /dev/full)'
MIDRUN = 'trace storage fills up mid-run (EFBIG), then recovers'
WARN, ERROR = 1, 2


def _trace_errors(bench, since):
    return [(level, values) for _, level, _, values in diagnostic(bench, TRACE, since)
            if level == ERROR]


def _wait_for_counted_loss(bench, since, gate):
    """Wait for two ERROR trace diagnostics whose lost count grows; return the last."""
    assert bench.wait_for(lambda: len(_trace_errors(bench, since)) >= 2, 10.0), gate.output()
    errors = _trace_errors(bench, since)
    first, last = int(errors[0][1]['lost']), int(errors[-1][1]['lost'])
    assert 0 < first < last, errors
    return errors[-1][1]


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.parametrize('required', [False, True], ids=['optional', 'required'])
def test_broken_trace_storage_at_start(bench, start_gate, tmp_path, required):
    (tmp_path / 'blocker').write_text('a regular file where a directory should be')
    campaign = Campaign(bench, CFG)
    bench.drive(V)
    for name, path in (('unwritable directory', tmp_path / 'blocker' / 'trace.jsonl'),
                       ('disk full (/dev/full)', '/dev/full')):
        started = time.monotonic()
        gate = start_gate({**UNLATCHED, 'trace.path': str(path), 'trace.required': required})
        assert bench.wait_for_output(), gate.output()
        values = _wait_for_counted_loss(bench, started, gate)
        assert values['last_error'], values
        if required:
            bench.spin_for(0.5)
            assert not [r for r in bench.decisions_since(started) if approved(r)], name
            latest = bench.decisions[-1].data
            assert 'TRACE_UNAVAILABLE' in latest['reasons'], latest
            assert bench.cmd[-1].is_zero, bench.cmd[-1]
        else:
            assert bench.wait_for_cmd(V), (name, bench.cmd[-1], gate.output())
            assert not [r for r in bench.decisions_since(started)
                        if 'TRACE_UNAVAILABLE' in r['reasons']], name
        campaign.case(STARTUP, f'{name}, trace.required {required}', started, None)
        campaign.finish(gate, [], storage_healthy=False, counted_lost=int(values['lost']))
        campaign.cases.clear()


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.parametrize('required', [False, True], ids=['optional', 'required'])
def test_disk_fills_up_mid_run(bench, start_gate, tmp_path, required):
    gate, trace, campaign = start_campaign(bench, start_gate, tmp_path, CFG,
                                           {'trace.required': required})
    bench.drive(V)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for_cmd(V), (bench.cmd[-1:], gate.output())

    pid = gate.pid
    unlimited = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    injected = time.monotonic()
    size = trace.stat().st_size
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, unlimited[1]))
    values = _wait_for_counted_loss(bench, injected, gate)
    assert 'File too large' in values['last_error'], values
    seconds = None
    if required:
        decision, seconds = reaction(bench, injected, has_reason('TRACE_UNAVAILABLE'))
        assert decision is not None, gate.output()
        assert seconds is not None and seconds <= 3.0 / CFG.rate_hz + SLACK, seconds
        bench.spin_for(0.3)
        assert not [r for r in bench.decisions_after(decision) if approved(r)]
    else:
        assert not [r for r in bench.decisions_since(injected)
                    if 'TRACE_UNAVAILABLE' in r['reasons']]
        assert bench.cmd[-1].v == V, bench.cmd[-1]

    restored = time.monotonic()
    resource.prlimit(pid, resource.RLIMIT_FSIZE, unlimited)
    # Healthy again; the loss stays reported (WARN) for good.
    assert bench.wait_for(lambda: any(level == WARN for _, level, _, _ in diagnostic(
        bench, TRACE, restored + 1.0)), 10.0), gate.output()
    if required:
        assert bench.wait_for_decision(approved_after(decision), restored, 10.0)
    assert bench.wait_for_cmd(V), bench.cmd[-1]
    bench.spin_for(1.1)  # a diagnostics period after the last write
    counted = int(diagnostic(bench, TRACE, restored + 1.0)[-1][3]['lost'])
    campaign.case(MIDRUN, f'trace.required {required}', injected, seconds)
    lost, problems = campaign.finish(gate, [trace], storage_healthy=False)

    # The file itself says where and how many: one gap, marked, chain intact.
    assert not problems, problems
    assert lost == counted > 0, (lost, counted)
    marked = [r for r in trace_lines([trace]) if r.get('lost_before')]
    assert len(marked) == 1 and marked[0]['lost_before'] == counted, marked


@pytest.mark.ros
def test_a_trace_nobody_reads_fails_closed(bench, start_gate, tmp_path):
    fifo = tmp_path / 'trace.fifo'
    os.mkfifo(fifo)
    gate = start_gate({**UNLATCHED, 'trace.path': str(fifo), 'trace.required': True})
    bench.drive(V)
    assert bench.wait_for_output(), gate.output()
    started = time.monotonic()
    bench.spin_for(2.0)
    assert len(bench.cmd_since(started)) >= 0.8 * CFG.rate_hz * 2.0, 'not publishing at rate'
    assert all(c.is_zero for c in bench.cmd), 'moved without a trace'
    stalled = [message for _, level, message, _ in diagnostic(bench, TRACE, started)
               if level == ERROR]
    assert stalled and 'stalled' in stalled[-1], stalled

    # A reader at last: the records held back come out, and none was an approval.
    attached = time.time()
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    data = bytearray()

    def approved_after_attach():
        try:
            while True:
                chunk = os.read(reader, 65536)
                if not chunk:
                    break
                data.extend(chunk)
        except BlockingIOError:
            pass
        return any(r['verdict'] == 'APPROVE' for r in _complete_records(data))
    try:
        assert bench.wait_for(approved_after_attach, 20.0), gate.output()
    finally:
        gate.stop()
        os.close(reader)
    records = _complete_records(data)
    before = [r for r in records if r['wall_time'] < attached]
    assert before and not [r for r in before if r['verdict'] == 'APPROVE']
    proposals = [r for r in before if r['trigger'] == 'proposal']
    assert proposals and all('TRACE_UNAVAILABLE' in r['reasons'] for r in proposals)


def _complete_records(data: bytes):
    """Return the decision records among the complete lines (a chain starts with its config)."""
    records = [json.loads(line) for line in bytes(data).split(b'\n')[:-1] if line.strip()]
    return [r for r in records if is_decision(r)]
