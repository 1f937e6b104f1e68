# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``safety-gate`` command as a user meets it: a process, its exit code and its words.

Every user error is one line ``safety-gate COMMAND: error: ...`` with exit code 2
and no traceback; an empty trace verifies nothing; a reader that goes away
ends the output quietly (no ROS).
"""

import subprocess
import sys

from harness.event_scripts import FIXED_SCRIPT, play, records_of
import pytest
from safety_gate import config, trace_record, trace_writer
from safety_gate.cli import EXIT_BROKEN_PIPE, version


def run(*args, **kwargs):
    return subprocess.run([sys.executable, '-m', 'safety_gate.cli', *map(str, args)],
                          capture_output=True, text=True, timeout=60, **kwargs)


def assert_user_error(result, command, *words):
    assert result.returncode == 2, result
    assert 'Traceback' not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f'safety-gate {command}: error: '), lines
    assert all(word in lines[0] for word in words), lines


def write_gate_trace(path, cfg):
    """Write a trace as the node writes it: the config record, then the decisions."""
    sha = config.config_sha256(cfg)
    decisions = records_of(play(cfg, FIXED_SCRIPT), sha)
    for rec in decisions:
        rec['seq'] += 1
    with trace_writer.TraceWriter(path, 10**7, 1, len(decisions) + 2) as writer:
        writer.submit(trace_record.config_to_dict(0, 0.0, 0.0, config.flatten(cfg), sha))
        for rec in decisions:
            writer.submit(rec)
    return path


@pytest.fixture
def bad_yaml(tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text('safety_gate:\n  ros__parameters: [\n')
    return path


def test_an_unknown_command_is_named():
    result = run('verfy')
    assert result.returncode == 2 and "invalid choice: 'verfy'" in result.stderr, result
    result = run()
    assert result.returncode == 2 and 'required: COMMAND' in result.stderr, result


def test_version():
    result = run('--version')
    assert result.returncode == 0 and result.stdout.strip() == f'safety-gate {version()}'
    assert version()[0].isdigit()


@pytest.mark.parametrize('command', ['verify', 'replay'])
def test_a_missing_trace_is_one_line(tmp_path, command):
    assert_user_error(run(command, tmp_path / 'nope.jsonl'), command, 'nope.jsonl')


@pytest.mark.parametrize('command', ['verify', 'replay', 'scenarios'])
def test_a_config_that_is_not_yaml_is_one_line(tmp_path, bad_yaml, command):
    trace_path = write_gate_trace(tmp_path / 'trace.jsonl', config.build({}))
    args = ['--config', bad_yaml] + ([] if command == 'scenarios' else [trace_path])
    assert_user_error(run(command, *args), command, 'bad.yaml')


def test_an_empty_trace_verifies_nothing(tmp_path):
    empty = tmp_path / 'trace.jsonl'
    empty.write_text('')
    result = run('verify', empty)
    assert result.returncode == 1 and 'nothing to verify' in result.stdout, result
    assert run('replay', empty).returncode == 1


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    trace_path = write_gate_trace(tmp_path / 'trace.jsonl', config.build({}))
    # `replay ... | head`, with head already gone: the reader's end is closed at once.
    proc = subprocess.Popen([sys.executable, '-m', 'safety_gate.cli', 'replay', str(trace_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(60) == EXIT_BROKEN_PIPE, stderr
    assert stderr == ''


def test_check_config_shows_parameters_changes_and_hash(tmp_path):
    params = tmp_path / 'robot.yaml'
    params.write_text('safety_gate:\n  ros__parameters:\n    envelope:\n'
                      '      max_linear_speed: 0.8\n'
                      '/robot1/safety_gate:\n  ros__parameters:\n    rate_hz: 25.0\n')
    result = run('check-config', params)
    assert result.returncode == 0, result
    cfg = config.build({'envelope.max_linear_speed': 0.8})
    out = result.stdout
    assert f'config sha256: {config.config_sha256(cfg)}' in out
    assert 'not at their default: envelope.max_linear_speed = 0.8 (default 1.0)' in out
    assert out.count('\n  * ') == 1 and len(out.splitlines()) == len(config.defaults()) + 3
    namespaced = run('check-config', params, '--namespace', 'robot1')
    cfg = config.build({'envelope.max_linear_speed': 0.8, 'rate_hz': 25.0})
    assert f'config sha256: {config.config_sha256(cfg)}' in namespaced.stdout, namespaced


def test_check_config_refuses_what_the_node_refuses(tmp_path, bad_yaml):
    invalid = config.write_params_file(tmp_path / 'invalid.yaml', {})
    invalid.write_text('safety_gate:\n  ros__parameters:\n    confidence:\n'
                       '      threshold: 1.5\n')
    assert_user_error(run('check-config', invalid), 'check-config',
                      "'confidence.threshold' = 1.5", '[0.0, 1.0]')
    assert_user_error(run('check-config', bad_yaml), 'check-config', 'bad.yaml')
    assert_user_error(run('check-config', tmp_path / 'nope.yaml'), 'check-config', 'nope.yaml')
