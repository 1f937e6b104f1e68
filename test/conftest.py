# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Shared pytest setup: one loopback ROS domain, the level markers and the ROS fixtures.

The environment is set at import time, before rclpy is imported or initialised
anywhere in the test process, so the test process and every node it starts
share one random ROS_DOMAIN_ID confined to 127.0.0.1.
"""

import os
from pathlib import Path
import tempfile

from safety_gate.kit.world.ros_env import loopback_env

# Before rclpy is imported: the middleware library reads part of its environment
# (RMW_IMPLEMENTATION) when it loads, the rest when rclpy is initialised.
os.environ.update(loopback_env(Path(tempfile.mkdtemp(prefix='safety_gate_test_'))))

from harness.ros import (  # noqa: E402, I100
    GATE_MODULE, MANAGED_GATE_MODULE, NodeProcess, TestBench, write_params)
import pytest  # noqa: E402
import rclpy  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.signals import SignalHandlerOptions  # noqa: E402

TEST_DIR = Path(__file__).resolve().parent
# One folder per level, each a marker (`pytest -m unit`).
LEVELS = ('unit', 'node', 'faults', 'scenarios', 'launch', 'interop', 'lint')
# Levels whose every test starts ROS 2 processes; elsewhere the ros_context fixture tells.
ROS_LEVELS = ('node', 'interop')


def pytest_collection_modifyitems(items):
    """Mark each test with its level, the folder it is in, and every test using ROS with ``ros``.

    setup.cfg registers these markers.
    """
    for item in items:
        if TEST_DIR not in item.path.parents:
            continue
        level = item.path.relative_to(TEST_DIR).parts[0]
        if level in LEVELS:
            item.add_marker(getattr(pytest.mark, level))
        # launch_testing items have no fixturenames.
        uses_ros = 'ros_context' in getattr(item, 'fixturenames', ())
        if level in ROS_LEVELS or uses_ros:
            item.add_marker(pytest.mark.ros)


@pytest.fixture(scope='session')
def ros_context():
    """Return an rclpy context for the whole session, shut down at its end."""
    context = Context()
    # No rclpy signal handlers: Ctrl-C must stay pytest's.
    rclpy.init(context=context, signal_handler_options=SignalHandlerOptions.NO)
    yield context
    rclpy.shutdown(context=context)


@pytest.fixture
def bench(ros_context, request):
    """Return a TestBench node for one test (indirect parameter: stamped, default True)."""
    test_bench = TestBench(ros_context, stamped=getattr(request, 'param', True))
    yield test_bench
    test_bench.destroy()


def _gates(tmp_path, module: str):
    """Yield ``start(overrides) -> NodeProcess`` running ``module``; stop them all after."""
    started = []

    def start(overrides=None):
        params = {'trace.path': str(tmp_path / f'trace{len(started)}.jsonl')}
        params.update(overrides or {})
        process = NodeProcess(module, write_params(tmp_path, params), tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        code = process.stop()
        print(f'--- {module} exit code {code}, output:\n{process.output()}')


@pytest.fixture
def start_gate(tmp_path):
    """Return ``start(overrides) -> NodeProcess`` that runs the gate with those parameters.

    Each gate writes its trace under the test's tmp_path; every gate still
    running at teardown is stopped and its output printed (pytest shows it
    when the test fails).
    """
    yield from _gates(tmp_path, GATE_MODULE)


@pytest.fixture
def start_managed_gate(tmp_path):
    """Return ``start(overrides) -> NodeProcess`` running the managed (lifecycle) gate."""
    yield from _gates(tmp_path, MANAGED_GATE_MODULE)
