# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Exported messages deserialise with ROS 2's own type support, Autoware's included.

``safety-gate export`` serialises with rosbags' type store, without ROS. A
child process with the test-only interface packages (``make interfaces``)
reads every CDR message of the MCAP file with ``rclpy.serialization`` and
the generated message classes; each must equal what mcap-ros2-support
decodes from the same bytes, field by field.
"""

import json
import os
import subprocess
import sys

from harness.exports import MISSING, read_mcap
from harness.interfaces import interfaces_env, require_interfaces
from harness.recorded_runs import trajectory_run, twist_run
from harness.ros import DEFAULT_TIMEOUT, skip_or_fail
import pytest
from safety_gate import export


def _ros_reader_missing():
    try:
        import rosidl_runtime_py  # noqa: F401
    except ImportError:
        return ('rosidl_runtime_py is not installed: it is not on PyPI, and `make test` installs '
                'it with the launch wheels of ../shared (LAUNCH_WHEELS)')
    return None


skip_or_fail(MISSING or _ros_reader_missing())

ROS_READER = """
import json, sys
from mcap.reader import make_reader
from rclpy.serialization import deserialize_message
from rosidl_runtime_py.convert import message_to_ordereddict
from rosidl_runtime_py.utilities import get_message
found = {}
with open(sys.argv[1], 'rb') as file:
    for schema, channel, message in make_reader(file).iter_messages(log_time_order=False):
        if channel.message_encoding == 'cdr':
            decoded = deserialize_message(message.data, get_message(schema.name))
            found.setdefault(channel.topic, []).append(
                [message.log_time, message_to_ordereddict(decoded)])
print(json.dumps(found))
"""
RUNS = {'twist': twist_run, 'path': lambda: trajectory_run('path'),
        'autoware_trajectory': lambda: trajectory_run('autoware_trajectory')}


@pytest.mark.parametrize('run', RUNS)
def test_ros_reads_every_exported_message_as_written(tmp_path, run):
    require_interfaces()
    trace = RUNS[run]().write_trace(tmp_path / 'trace.jsonl')
    out = tmp_path / 'out.mcap'
    assert export.main([str(trace), '--mcap', str(out)]) == 0
    result = subprocess.run([sys.executable, '-c', ROS_READER, str(out)], capture_output=True,
                            text=True, timeout=6 * DEFAULT_TIMEOUT,
                            env={**os.environ, **interfaces_env()})
    assert result.returncode == 0, result.stderr
    by_ros = json.loads(result.stdout)
    by_mcap_ros2 = {topic: messages for topic, messages in read_mcap(out).items()
                    if topic not in export.JSON_SCHEMAS}
    assert sorted(by_ros) == sorted(by_mcap_ros2)
    for topic, messages in by_mcap_ros2.items():
        assert by_ros[topic] == json.loads(json.dumps(messages)), topic
