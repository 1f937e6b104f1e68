# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The test-only interface packages: built as upstream defines them, kept out of our package.

They import only in a child process started with their env (LD_LIBRARY_PATH
is read when a process starts), so each check runs one.
"""

import json
import os
import subprocess
import sys

from harness.interfaces import (interfaces_env, interfaces_missing, PACKAGES,
                                require_interfaces, SOURCES)
from harness.ros import DEFAULT_TIMEOUT, REPO
import pytest

# The fields of the upstream messages (autoware_msgs, autoware_internal_msgs), in order.
UPSTREAM_FIELDS = {
    'autoware_planning_msgs.msg.Trajectory': {
        'header': 'std_msgs/Header',
        'points': 'sequence<autoware_planning_msgs/TrajectoryPoint>'},
    'autoware_planning_msgs.msg.TrajectoryPoint': {
        'time_from_start': 'builtin_interfaces/Duration',
        'pose': 'geometry_msgs/Pose',
        'longitudinal_velocity_mps': 'float',
        'lateral_velocity_mps': 'float',
        'acceleration_mps2': 'float',
        'heading_rate_rps': 'float',
        'front_wheel_angle_rad': 'float',
        'rear_wheel_angle_rad': 'float'},
    'autoware_internal_debug_msgs.msg.StringStamped': {
        'stamp': 'builtin_interfaces/Time',
        'data': 'string'},
}
FIELDS_SCRIPT = """
import importlib, json, sys
fields = {}
for name in sys.argv[1:]:
    module, _, cls = name.rpartition('.')
    fields[name] = getattr(importlib.import_module(module), cls).get_fields_and_field_types()
print(json.dumps(fields))
"""


@pytest.fixture
def built():
    """Skip (fail under CI=true) unless `make interfaces` has built the packages."""
    require_interfaces()


def run_python(code, *args, env=None):
    return subprocess.run([sys.executable, '-c', code, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=6 * DEFAULT_TIMEOUT)


def test_the_packages_build_with_exactly_the_upstream_fields(built):
    result = run_python(FIELDS_SCRIPT, *UPSTREAM_FIELDS, env=interfaces_env())
    assert result.returncode == 0, result.stderr
    fields = json.loads(result.stdout)
    assert {name: list(f.items()) for name, f in fields.items()} == {
        name: list(f.items()) for name, f in UPSTREAM_FIELDS.items()}


def test_a_trajectory_crosses_a_publisher_with_the_interfaces_env(built):
    # The type support loads (a publisher needs it) and a 64-point message serializes.
    code = ('import rclpy\n'
            'from autoware_planning_msgs.msg import Trajectory, TrajectoryPoint\n'
            'from rclpy.serialization import deserialize_message, serialize_message\n'
            'rclpy.init()\n'
            'node = rclpy.create_node("interfaces_check")\n'
            'node.create_publisher(Trajectory, "interfaces_check", 10)\n'
            'msg = Trajectory(points=[TrajectoryPoint() for _ in range(64)])\n'
            'print(len(deserialize_message(serialize_message(msg), Trajectory).points))\n'
            'node.destroy_node()\n'
            'rclpy.shutdown()\n')
    result = run_python(code, env=interfaces_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['64']


def test_without_its_lib_on_ld_library_path_the_type_support_fails(built):
    # Why the tests run children: the Python import alone does not tell.
    env = interfaces_env()
    env['LD_LIBRARY_PATH'] = os.environ.get('LD_LIBRARY_PATH', '')
    result = run_python('from autoware_planning_msgs.msg import Trajectory\n'
                        'Trajectory.__class__.__import_type_support__()\n', env=env)
    assert result.returncode != 0
    assert 'UnsupportedTypeSupport' in result.stderr


def test_the_stand_in_without_their_lib_exits_saying_why(built):
    env = interfaces_env()
    env['LD_LIBRARY_PATH'] = os.environ.get('LD_LIBRARY_PATH', '')
    result = subprocess.run(
        [sys.executable, '-m', 'safety_gate.kit.world.alpamayo_standin'], capture_output=True,
        text=True, timeout=6 * DEFAULT_TIMEOUT, env={**os.environ, **env})
    assert result.returncode == 2
    assert "Could not import 'rosidl_typesupport_c'" in result.stderr
    assert 'LD_LIBRARY_PATH' in result.stderr and 'Traceback' not in result.stderr


def test_a_workspace_containing_the_repository_never_builds_them():
    assert (SOURCES / 'COLCON_IGNORE').exists()
    assert sorted(path.parent.name for path in SOURCES.glob('*/package.xml')) == sorted(PACKAGES)


def test_the_skip_reason_says_how_to_get_them(monkeypatch, tmp_path):
    import harness.interfaces
    monkeypatch.setattr(harness.interfaces, 'INSTALL', tmp_path / 'install')
    reason = interfaces_missing()
    assert ', '.join(PACKAGES) in reason
    assert 'make interfaces' in reason or 'absent here' in reason


# Runs the stand-in with the message packages hidden, whatever this machine has installed
# (a sourced Autoware workspace would otherwise provide them).
_WITHOUT_PACKAGES = """
import runpy, sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('autoware_planning_msgs', 'autoware_internal_debug_msgs'):
            raise ModuleNotFoundError(f'No module named {name!r}', name=name)
sys.meta_path.insert(0, Hide())
runpy.run_module('safety_gate.kit.world.alpamayo_standin', run_name='__main__')
"""


def test_the_stand_in_without_the_packages_exits_saying_how_to_get_them():
    result = subprocess.run(
        [sys.executable, '-c', _WITHOUT_PACKAGES], capture_output=True,
        text=True, timeout=6 * DEFAULT_TIMEOUT,
        env={**os.environ, 'PYTHONPATH': os.pathsep.join(
            filter(None, [str(REPO), os.environ.get('PYTHONPATH')]))})
    assert result.returncode == 2
    assert 'make interfaces' in result.stderr and 'LD_LIBRARY_PATH' in result.stderr
    assert 'Traceback' not in result.stderr
