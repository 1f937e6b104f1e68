# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The launch file under the real ``ros2 launch`` and ``launch_test``, as an integrator runs it.

Each test starts ``ros2 launch safety_gate safety_gate.launch.py`` as a process
(this checkout on the ament index, DDS on loopback) and checks what the gate
runs with, or how the launch ends. Without the launch wheels (not on PyPI)
the module skips; under CI=true it fails instead.
"""

import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import time

from harness.ros import (launch_env, LaunchProcess, REPO, require_launch_wheels, TestBench,
                         UNLATCHED, write_params)
import pytest
from safety_gate import config
import yaml

require_launch_wheels()

pytestmark = [pytest.mark.ros]

NAMESPACE = 'robot1'
# Interpreter, launch and rclpy start-up on a loaded 2-core host: a safety net.
TIMEOUT = 60.0
_STARTED = re.compile(r'process started with pid \[(\d+)\]')


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def launch(tmp_path):
    """Return ``start(params_file, **arguments) -> LaunchProcess``; stopped at teardown."""
    env = launch_env(tmp_path)
    started = []

    def start(params_file: Path, **arguments) -> LaunchProcess:
        process = LaunchProcess({'params_file': params_file, **arguments}, tmp_path, env)
        started.append(process)
        return process

    yield start
    for process in started:
        code = process.stop()
        print(f'--- ros2 launch exit code {code}, output:\n{process.output()}')


def _wait_until(predicate, timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture(scope='module')
def namespaced_gate(ros_context, tmp_path_factory):
    """Launch a gate in robot1 from a file with bare, dotted and namespaced, nested keys."""
    scratch = tmp_path_factory.mktemp('namespaced')
    # The bare section's nested `envelope` comes first: merged unflattened, the
    # namespaced value landed in it, ahead of the bare dotted key, which then won.
    params = _write(scratch / 'robot1.yaml', {
        'safety_gate': {'ros__parameters': {
            'envelope': {'max_angular_speed': 1.2}, 'envelope.max_linear_speed': 0.8,
            'use_sim_time': True,
            'trace.path': str(scratch / 'trace.jsonl')}},
        '/robot1/safety_gate': {'ros__parameters': {'envelope': {'max_linear_speed': 0.9}}},
    })
    process = LaunchProcess({'params_file': params, 'namespace': NAMESPACE}, scratch,
                            launch_env(scratch))
    bench = TestBench(ros_context, namespace=NAMESPACE)
    try:
        values = bench.gate_parameters(['envelope.max_linear_speed', 'envelope.max_angular_speed',
                                        'use_sim_time'], TIMEOUT)
    finally:
        bench.destroy()
        code = process.stop()
        print(f'--- ros2 launch exit code {code}, output:\n{process.output()}')
    return values, params, scratch / 'trace.jsonl'


def test_the_namespaced_section_wins_over_a_dotted_bare_key(namespaced_gate):
    values, _, _ = namespaced_gate
    assert values['envelope.max_linear_speed'] == 0.9
    assert values['envelope.max_angular_speed'] == 1.2


def test_use_sim_time_comes_from_the_params_file_unless_given(namespaced_gate):
    values, _, _ = namespaced_gate
    assert values['use_sim_time'] is True


def test_an_explicit_use_sim_time_overrides_the_params_file(ros_context, launch, tmp_path):
    params = _write(tmp_path / 'sim.yaml', {'safety_gate': {'ros__parameters': {
        'use_sim_time': True, 'trace.path': str(tmp_path / 'trace.jsonl')}}})
    launch(params, use_sim_time='false')
    bench = TestBench(ros_context)
    try:
        assert bench.gate_parameters(['use_sim_time'], TIMEOUT) == {'use_sim_time': False}
    finally:
        bench.destroy()


def test_the_trajectory_remaps_rename_the_gates_topics(ros_context, launch, tmp_path):
    params = _write(tmp_path / 'path.yaml', {'safety_gate': {'ros__parameters': {
        'planner.input': 'path', 'trace.path': str(tmp_path / 'trace.jsonl')}}})
    launch(params, planner_trajectory_topic='/alpamayo/predicted_trajectory',
           planner_reasoning_topic='/alpamayo/reasoning', trajectory_topic='/gated/trajectory')
    bench = TestBench(ros_context)
    node = bench.node
    try:
        assert bench.wait_for(lambda: (
            node.count_subscribers('/alpamayo/predicted_trajectory')
            and node.count_subscribers('/alpamayo/reasoning')
            and node.count_publishers('/gated/trajectory')), TIMEOUT)
        assert node.count_subscribers('/planner/trajectory') == 0
        assert node.count_publishers('/safety_gate/trajectory') == 0
    finally:
        bench.destroy()


def test_verify_with_the_namespace_knows_the_launched_gates_config(namespaced_gate):
    _, params, trace = namespaced_gate
    assert trace.exists() and trace.stat().st_size > 0
    command = [sys.executable, '-m', 'safety_gate.cli', 'verify', str(trace),
               '--config', str(params)]
    namespaced = subprocess.run(command + ['--namespace', NAMESPACE], capture_output=True,
                                text=True, timeout=TIMEOUT)
    assert namespaced.returncode == 0, namespaced.stdout + namespaced.stderr
    bare = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    assert bare.returncode == 1 and 'unknown-config' in bare.stdout, bare.stdout + bare.stderr


@pytest.mark.parametrize('sections, expected', [
    ({'safety_gate': {'envelope.max_linear_speed': 0.8}},
     "section 'safety_gate' has no 'ros__parameters'"),
    ({'safety_gate': {'ros_parameters': {'rate_hz': 30.0}}},
     "section 'safety_gate' has no 'ros__parameters'"),
    ({'gate': {'ros__parameters': {'rate_hz': 30.0}}},
     "applies nothing to /safety_gate: its sections are 'gate'"),
], ids=['no-ros__parameters', 'ros_parameters-typo', 'no-matching-section'])
def test_a_params_file_that_would_not_apply_ends_the_launch(launch, tmp_path, sections,
                                                            expected):
    params = _write(tmp_path / 'params.yaml', sections)
    process = launch(params)
    code = process.wait(TIMEOUT)
    output = process.output()
    assert code != 0, output
    assert str(params) in output and expected in output, output
    assert 'process started' not in output, output


def test_a_refused_configuration_ends_the_launch_with_an_error(launch, tmp_path):
    params = write_params(tmp_path, {'confidence.threshold': 1.5,
                                     'trace.path': str(tmp_path / 'trace.jsonl')})
    process = launch(params)
    code = process.wait(TIMEOUT)
    output = process.output()
    assert code != 0, output
    assert "invalid parameter 'confidence.threshold' = 1.5" in output, output
    assert 'safety_gate exited with code 2: it refused its configuration' in output, output


def test_a_gate_that_dies_ends_the_launch_with_an_error(launch, tmp_path):
    process = launch(write_params(tmp_path, {'trace.path': str(tmp_path / 'trace.jsonl')}))
    assert _wait_until(lambda: _STARTED.search(process.output())), process.output()
    os.kill(int(_STARTED.search(process.output()).group(1)), signal.SIGKILL)
    code = process.wait(TIMEOUT)
    output = process.output()
    assert code != 0, output
    assert 'safety_gate exited with code -9' in output, output


def test_respawn_restarts_a_dead_gate_latched(ros_context, launch, tmp_path):
    process = launch(write_params(tmp_path, {'trace.path': str(tmp_path / 'trace.jsonl')}),
                     respawn='true', respawn_delay='0.5')
    assert _wait_until(lambda: _STARTED.search(process.output())), process.output()
    os.kill(int(_STARTED.search(process.output()).group(1)), signal.SIGKILL)
    assert _wait_until(lambda: len(_STARTED.findall(process.output())) == 2), process.output()
    bench = TestBench(ros_context)
    try:
        assert bench.wait_for(lambda: any(s.data.get('verdict') == 'ESTOP'
                                          for s in bench.states), TIMEOUT), process.output()
    finally:
        bench.destroy()
    assert process.returncode is None, process.output()


def test_respawn_does_not_repeat_a_refused_configuration(launch, tmp_path):
    process = launch(write_params(tmp_path, {**UNLATCHED, 'rate_hz': 0.0}),
                     respawn='true', respawn_delay='0.5')
    code = process.wait(TIMEOUT)
    output = process.output()
    assert code != 0, output
    assert len(_STARTED.findall(output)) == 1, output


def test_show_args_lists_respawn(tmp_path):
    shown = subprocess.run([str(Path(sys.executable).parent / 'ros2'), 'launch',
                            config.NODE_NAME, 'safety_gate.launch.py', '--show-args'],
                           env=launch_env(tmp_path), capture_output=True, text=True,
                           timeout=TIMEOUT)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    for argument in ("'respawn'", "'respawn_delay'", "'use_sim_time'",
                     "'planner_trajectory_topic'", "'planner_reasoning_topic'",
                     "'planner_reasoning_stamped_topic'", "'trajectory_topic'"):
        assert argument in shown.stdout, shown.stdout
    assert 'require_reset_on_start' in shown.stdout


def test_the_launch_test_runs_under_launch_test(tmp_path):
    launch_test = Path(sys.executable).parent / 'launch_test'
    launch_file = REPO / 'test' / 'launch' / 'test_safety_gate_launch.py'
    run = subprocess.run([str(launch_test), str(launch_file)],
                         env=launch_env(tmp_path), capture_output=True, text=True,
                         timeout=4 * TIMEOUT)
    assert run.returncode == 0, run.stdout + run.stderr


def _ros2(env, *arguments) -> subprocess.CompletedProcess:
    """Run the ros2 CLI until it finds the node (each run discovers the graph anew)."""
    def run():
        runs.append(subprocess.run(
            [str(Path(sys.executable).parent / 'ros2'), *arguments,
             *(['--no-daemon'] if arguments[0] == 'param' else [])],
            env=env, capture_output=True, text=True, timeout=TIMEOUT))
        return 'Node not found' not in runs[-1].stderr

    runs = []
    assert _wait_until(run), runs[-1].stdout + runs[-1].stderr
    return runs[-1]


def test_the_ros2_cli_reads_and_calls_the_launched_gate(launch, tmp_path):
    params = write_params(tmp_path, {'envelope.max_linear_speed': 0.8})
    launch(params, namespace=NAMESPACE)
    cli = tmp_path / 'cli'
    cli.mkdir()
    env = launch_env(cli)  # the same domain as the launch's, its own ROS_HOME
    node = f'/{NAMESPACE}/{config.NODE_NAME}'

    got = _ros2(env, 'param', 'get', node, 'envelope.max_linear_speed')
    assert got.stdout.strip() == 'Double value is: 0.8', got.stdout + got.stderr

    described = _ros2(env, 'param', 'describe', node, 'confidence.recover_count')
    assert described.returncode == 0, described.stdout + described.stderr
    for line in ('Type: integer', 'Read only: true', 'Min value: 1', 'Max value: 1000'):
        assert line in described.stdout, described.stdout

    refused = _ros2(env, 'param', 'set', node, 'envelope.max_linear_speed', '2.0')
    assert 'read-only' in refused.stdout + refused.stderr, refused.stdout + refused.stderr

    # Latched on start (the default): the operator's reset is the one service it offers.
    reset = _ros2(env, 'service', 'call', f'{node}/reset', 'std_srvs/srv/Trigger')
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert 'std_srvs.srv.Trigger_Response(success=' in reset.stdout, reset.stdout


def test_the_managed_gate_is_brought_up_and_down_through_its_services(launch, tmp_path):
    params = write_params(tmp_path, {**UNLATCHED, 'envelope.max_linear_speed': 0.8})
    process = launch(params, namespace=NAMESPACE, lifecycle='true')
    cli = tmp_path / 'cli'
    cli.mkdir()
    env = launch_env(cli)
    node = f'/{NAMESPACE}/{config.NODE_NAME}'

    def change_state(transition: int) -> str:
        run = _ros2(env, 'service', 'call', f'{node}/change_state',
                    'lifecycle_msgs/srv/ChangeState', f'{{transition: {{id: {transition}}}}}')
        assert run.returncode == 0, run.stdout + run.stderr
        return run.stdout

    # configure, activate, deactivate, cleanup, then shutdown from unconfigured
    for transition in (1, 3, 4, 2):
        assert 'success=True' in change_state(transition), process.output()
    assert 'success=False' in change_state(4)  # nothing to deactivate: refused
    assert 'success=True' in change_state(5)
    assert process.wait(TIMEOUT) == 0, process.output()
    output = process.output()
    assert 'configured: config sha256' in output and 'safety_gate up' in output, output
    assert 'deactivated: final zero published' in output, output
