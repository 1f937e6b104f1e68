# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A trace the running gate wrote exports whole, and each of its records fits the schema.

The gate runs as a process behind the bench's planner and odometry;
``safety-gate export`` runs as the command; the outputs are read back with
the readers of ``harness.exports``, which validate every record against the
JSON Schema the MCAP file carries. The records the node builds (wall time,
latency, intake notes, converted events) are the ones the schema must fit.
"""

import json
import subprocess
import sys

from harness.exports import MISSING, read_bag, read_mcap
from harness.ros import skip_or_fail, UNLATCHED
from safety_gate.trace_record import is_decision, is_spi

skip_or_fail(MISSING)


def test_a_gate_trace_exports_whole_to_mcap_and_rosbag2(bench, start_gate, tmp_path):
    gate = start_gate(UNLATCHED)
    bench.drive(0.3, 0.1)
    assert bench.wait_for(lambda: any(r.data['verdict'] == 'APPROVE'
                                      for r in bench.decisions)), gate.output()
    bench.stop_proposals()  # the planner goes silent: the fallback
    assert bench.wait_for(lambda: bench.decisions[-1].data['verdict'] == 'FALLBACK')
    assert gate.stop() == 0, gate.output()

    trace, out, bag = tmp_path / 'trace0.jsonl', tmp_path / 'run.mcap', tmp_path / 'bag'
    result = subprocess.run(
        [sys.executable, '-m', 'safety_gate.cli', 'export', str(trace), '--mcap', str(out),
         '--rosbag2', str(bag)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

    records = [json.loads(line) for line in trace.read_bytes().splitlines()]
    decisions = [record for record in records if is_decision(record)]
    found = read_mcap(out)
    assert [message for _, message in found['/safety_gate/config']] == records[:1]
    assert [message for _, message in found['/safety_gate/decision']] == decisions
    # One a second: a short run may have none.
    assert [message for _, message in found.get('/safety_gate/spi', [])] == [
        record for record in records if is_spi(record)]
    outputs = [(t, message['twist']['linear']['x'], message['twist']['angular']['z'])
               for t, message in found['/safety_gate/output/cmd_vel']]
    assert outputs == [(round(r['t'] * 1e9), r['output']['v'], r['output']['w'])
                       for r in decisions]
    proposals = [event for record in decisions for event in record['events']
                 if event['type'] == 'proposal']
    assert proposals
    assert [(t, message['twist']['linear']['x'], message['twist']['angular']['z'])
            for t, message in found['/safety_gate/proposal/cmd_vel']] == [
        (round(event['t'] * 1e9), 0.3, 0.1) for event in proposals]
    assert read_bag(bag)[0] == found
