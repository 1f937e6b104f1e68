# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The README's examples work: the example planner is approved and the example vehicle moves.

The gate and both examples run as separate processes over loopback DDS, as
README.md, "Connect your planner", tells an integrator to run them.
"""

import json
import math
import os
from pathlib import Path
import time

from harness.ros import NodeProcess, UNLATCHED

EXAMPLES = Path(__file__).resolve().parents[2] / 'examples'
TIMEOUT = 30.0  # s: generous, for a loaded 2-core machine
# What examples/planner.py proposes.
PLANNED = {'v': 0.3, 'w': 0.2, 'confidence': 0.9, 'model_sha256': 'example'}


def start_example(name: str, log_dir: Path) -> NodeProcess:
    """Run ``examples/<name>.py`` as a child process, as ``python examples/<name>.py`` does."""
    path = os.pathsep.join(filter(None, [str(EXAMPLES), os.environ.get('PYTHONPATH')]))
    return NodeProcess(name, None, log_dir, env={'PYTHONPATH': path})


def trace_records(path: Path) -> list:
    """Return the decision records written so far (a line still being written is skipped)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            break
    return [record for record in records if 'verdict' in record]


def approved_as_planned(record: dict) -> bool:
    """Return whether the gate passed the example planner's proposal through unchanged."""
    proposal, output = record['proposal'] or {}, record['output']
    return (record['verdict'] == 'APPROVE' and proposal.get('confidence') == PLANNED['confidence']
            and proposal.get('model_sha256') == PLANNED['model_sha256']
            and math.isclose(output['v'], PLANNED['v'])
            and math.isclose(output['w'], PLANNED['w']))


def odometry_positions(records: list) -> list:
    """Return the (x, y) of every odometry sample the gate consumed, in order."""
    return [(event['x'], event['y']) for record in records
            for event in record.get('events', ()) if event['type'] == 'odom']


def test_example_planner_is_approved_and_example_vehicle_moves(start_gate, tmp_path):
    gate = start_gate(UNLATCHED)
    examples = [start_example('vehicle', tmp_path), start_example('planner', tmp_path)]
    trace = tmp_path / 'trace0.jsonl'
    try:
        deadline = time.monotonic() + TIMEOUT
        approved = []
        while not approved and time.monotonic() < deadline:
            time.sleep(0.2)
            approved = [r for r in trace_records(trace) if approved_as_planned(r)]
        logs = '\n'.join(p.output() for p in [gate, *examples])
        assert approved, f'the gate never approved the example planner\n{logs}'

        # Approval holds: every proposal decided after the first approval is approved.
        time.sleep(2.0)
        records = trace_records(trace)
        first = next(i for i, r in enumerate(records) if approved_as_planned(r))
        later = [r for r in records[first:] if r['trigger'] == 'proposal']
        assert len(later) >= 10, later
        assert all(r['verdict'] == 'APPROVE' for r in later), [
            (r['verdict'], r['reasons']) for r in later if r['verdict'] != 'APPROVE']

        # The vehicle drove the approved output: its pose moved forward and turned left.
        x, y = odometry_positions(records)[-1]
        assert x > 0.2 and y > 0.0, (x, y)
        assert 'x=' in examples[0].output()
    finally:
        codes = [process.stop() for process in examples]
    assert codes == [0, 0], '\n'.join(p.output() for p in examples)
