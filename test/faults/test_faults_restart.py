# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Gate restarts and shutdowns: a restarted gate comes up latched; SIGTERM/SIGINT end in zero.

One trace file runs through three gate processes while the planner keeps
driving: the first is killed mid-run (SIGKILL), the second stopped with
SIGTERM, the third with SIGINT. Each new gate must output only zero until
the operator's reset, whatever the planner sends; each signal must end with
a final zero on cmd_vel and exit code 0; the trace must verify as one chain
with a chain start per process.
"""

import signal
import time

from harness.faults import Campaign, read_trace, SLACK, trace_loss
import pytest
from safety_gate.config import GateConfig
from safety_gate.trace_record import is_decision

CFG = GateConfig()
V = 0.5
RESTART = 'gate process killed mid-run (SIGKILL) and restarted'
SHUTDOWN = 'gate stopped by SIGTERM / SIGINT while driving'
QUEUED_AT_KILL = 5  # records a SIGKILL may take from the writer's queue: "a handful"


def _start_driving(bench, gate, started):
    """Wait for a gate started at wall time ``started``: latched until reset, then moving.

    Wall time tells the new gate's messages from those of the one before it
    that the bench may still be receiving: decision records carry ``wall_time``
    and the commands are stamped with the node clock.
    """
    def decisions():
        return [r.data for r in bench.decisions if r.data['wall_time'] >= started]

    assert bench.wait_for_output(), gate.output()
    # A second of decisions, however long the decision topic takes to match.
    assert bench.wait_for(lambda: len(decisions()) >= CFG.rate_hz), gate.output()
    outputs = [c for c in bench.cmd if c.stamp_ns >= started * 1e9]
    assert outputs and all(c.is_zero for c in outputs), 'moved before the reset'
    moving = [r for r in decisions()
              if r['verdict'] != 'ESTOP' or 'LATCHED_ON_START' not in r['reasons']]
    assert not moving, [(r['seq'], r['trigger'], r['verdict'], r['reasons'],
                         r['config_sha256'][:12]) for r in moving]
    assert bench.wait_for(lambda: [s for s in bench.states
                                   if s.data['t'] >= started and s.data['verdict'] == 'ESTOP'])
    assert bench.call_reset()[0] is True
    assert bench.wait_for_cmd(V), (bench.cmd[-1], gate.output())


def _unrecorded(commands, last_record, restarted):
    """Count the killed gate's cmd_vel outputs after its last recorded decision.

    The gate stamps each command with its node clock right after deciding, so
    the commands stamped from that decision's ``t`` on (within the float
    rounding of ``t``) are its own output and those of decisions it never
    recorded; the restarted gate stamps its commands from ``restarted`` (wall
    time, as the node clock) on.
    """
    last_ns = last_record['t'] * 1e9 - 1e3
    after = [c for c in commands if last_ns <= c.stamp_ns < restarted * 1e9]
    return max(0, len(after) - 1)


@pytest.mark.ros
@pytest.mark.slow
def test_restart_comes_up_latched_and_signals_end_in_zero(bench, start_gate, tmp_path):
    trace = tmp_path / 'trace.jsonl'
    params = {'trace.path': str(trace)}  # require_reset_on_start keeps its default: true
    campaign = Campaign(bench, CFG)
    bench.drive(V)
    started = time.time()
    gate = start_gate(params)
    _start_driving(bench, gate, started)

    killed = time.monotonic()
    gate.signal(signal.SIGKILL)
    assert gate.wait() == -signal.SIGKILL
    restarted = started = time.time()
    gate = start_gate(params)
    _start_driving(bench, gate, started)
    campaign.case(RESTART, 'SIGKILL, restart', killed, None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        assert bench.cmd[-1].v == V, bench.cmd[-1]
        stopped = time.monotonic()
        gate.signal(sig)
        assert bench.wait_for(lambda: gate.returncode is not None), gate.output()
        assert gate.returncode == 0, gate.output()
        bench.spin_for(0.3)
        final = bench.cmd_since(stopped)[-1]
        assert final.is_zero, bench.cmd_since(stopped)[-5:]
        last = bench.decisions[-1].data
        assert last['trigger'] == 'shutdown' and last['output'] == {'v': 0.0, 'w': 0.0}, last
        first_zero = next(c for c in bench.cmd_since(stopped) if c.is_zero)
        assert first_zero.t - stopped <= 0.5 + SLACK
        campaign.case(SHUTDOWN, signal.Signals(sig).name, stopped, first_zero.t - stopped)
        if sig == signal.SIGTERM:
            started = time.time()
            gate = start_gate(params)
            _start_driving(bench, gate, started)

    # One chain across the three processes; what the killed gate output is in it.
    report, records = read_trace([trace])
    assert report.chain_starts == 3
    second_start = next(i for i, r in enumerate(records) if i and r.get('chain_start'))
    last_decision = next(r for r in reversed(records[:second_start]) if is_decision(r))
    unrecorded = _unrecorded(bench.cmd, last_decision, restarted)
    lost, problems = trace_loss(report, records)
    campaign.finish(gate, [], counted_lost=lost + unrecorded)
    # A SIGKILL during a write leaves that line cut (the restarted writer ends it, and verify
    # reports it): it is the record in flight, counted in ``unrecorded`` below.
    cut = [p for p in problems if ': bad-json: ' in p]
    assert len(cut) <= 1 and not [p for p in problems if p not in cut], problems
    # The gate publishes a command before its background writer has written the
    # record, so a SIGKILL takes the records still queued with it (docs/parameters.md:
    # "a handful at most"); one or two on this bench, more on a loaded host.
    assert unrecorded <= QUEUED_AT_KILL, (
        f'{unrecorded} outputs of the killed gate are not in its trace')
    assert lost == 0, lost
