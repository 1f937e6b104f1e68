# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The gate's trace says what it ran with, and the tools agree with the node on the hash.

The gate runs as a process, started as the demo and the scenario runner start
it: the shipped params file plus a second file with the run's own trace path.
"""

import json
import subprocess
import sys
import time

from harness.ros import GATE_MODULE, NodeProcess, UNLATCHED, write_params
from safety_gate.paths import config_file
from safety_gate.trace_file import open_trace
from safety_gate.trace_record import is_config

SHIPPED = config_file('safety_gate.yaml')


def cli(*args):
    return subprocess.run([sys.executable, '-m', 'safety_gate.cli', *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def run_gate(bench, tmp_path, params_file, ros_args=()):
    """Run a gate behind the bench's planner until it approves, then stop it cleanly.

    A latched gate is reset first, once its odometry is fresh.
    """
    gate = NodeProcess(GATE_MODULE, params_file, tmp_path, ros_args=ros_args)
    try:
        count = len(bench.decisions)
        bench.drive(0.3)
        assert bench.wait_for_output(), gate.output()
        deadline = time.monotonic() + 10.0
        while not bench.call_reset()[0] and time.monotonic() < deadline:
            bench.spin_for(0.1)
        assert bench.wait_for(lambda: any(r.data['verdict'] == 'APPROVE'
                                          for r in bench.decisions[count:])), gate.output()
    finally:
        assert gate.stop() == 0, gate.output()
    return gate


def records(path):
    with open_trace(path) as lines:
        return [json.loads(line) for line in lines]


def test_the_trace_verifies_and_replays_from_itself(bench, tmp_path):
    trace = tmp_path / 'runs' / 'x' / 'trace.jsonl'
    run_file = write_params(tmp_path, {'trace.path': str(trace)})
    run_gate(bench, tmp_path, SHIPPED, ['--params-file', str(run_file)])
    # Where the trace goes is not part of the configuration under test.
    result = cli('verify', trace, '--config', SHIPPED)
    assert result.returncode == 0, result.stdout

    # A restart with a -p override: the trace records the override itself.
    run_gate(bench, tmp_path, SHIPPED, ['--params-file', str(run_file),
                                        '-p', 'envelope.max_linear_speed:=0.8'])
    heads = [r for r in records(trace) if is_config(r)]
    assert [r['config']['envelope.max_linear_speed'] for r in heads] == [1.0, 0.8]
    assert [r['chain_start'] for r in heads] == [True, True]
    assert heads[1]['config']['trace.path'] == str(trace)
    replayed = cli('replay', trace)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert ' 0 differ' in replayed.stdout
    assert cli('verify', trace).returncode == 0
    result = cli('verify', trace, '--config', SHIPPED)
    assert result.returncode == 1 and 'unknown-config' in result.stdout, result.stdout


def test_check_config_gives_the_hash_the_node_runs_with(bench, tmp_path):
    trace = tmp_path / 'trace.jsonl'
    params_file = write_params(tmp_path, {**UNLATCHED, 'trace.path': str(trace),
                                          'envelope.max_linear_speed': 0.8})
    checked = cli('check-config', params_file)
    assert checked.returncode == 0, checked
    sha = checked.stdout.rsplit('config sha256: ', 1)[1].strip()
    gate = run_gate(bench, tmp_path, params_file)
    assert f'config sha256 {sha[:12]}' in gate.output()
    assert bench.states and {s.data['config_sha256'] for s in bench.states} == {sha}
    assert {r['config_sha256'] for r in records(trace)} == {sha}
