# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Start the gate through its installed launch file and drive it end to end.

launch and launch_testing are not on PyPI, so the pip venv skips this test; a
ROS 2 install runs it under `colcon test` once the package is built.
"""

import math
from pathlib import Path
import tempfile
import unittest

import pytest

pytest.importorskip('launch_testing')
pytest.importorskip('launch_ros')

from ament_index_python.packages import get_package_share_directory  # noqa: E402, I100
from launch import LaunchDescription  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import rclpy  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.signals import SignalHandlerOptions  # noqa: E402
from rosharness import TestBench, write_params  # noqa: E402


def _installed_launch_file():
    try:
        share = get_package_share_directory('safety_gate')
    except (LookupError, OSError):  # not in the ament index, or no AMENT_PREFIX_PATH
        return None
    return Path(share) / 'launch' / 'safety_gate.launch.py'


LAUNCH_FILE = _installed_launch_file()
# A namespace: rcl alone would not apply a file's `safety_gate:` section to
# /robot1/safety_gate, so the gate would start latched and this test would fail.
NAMESPACE = 'robot1'


@pytest.mark.launch_test
@pytest.mark.ros
@pytest.mark.skipif(LAUNCH_FILE is None,
                    reason='safety_gate is not installed in an ament prefix (colcon build)')
def generate_test_description():
    """Include the installed launch file, namespaced, with a params file that needs no reset."""
    scratch = Path(tempfile.mkdtemp(prefix='safety_gate_launch_test_'))
    params = write_params(scratch, {'require_reset_on_start': False,
                                    'trace.path': str(scratch / 'trace.jsonl')})
    gate = IncludeLaunchDescription(PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
                                    launch_arguments={'params_file': str(params),
                                                      'namespace': NAMESPACE}.items())
    return LaunchDescription([gate, launch_testing.actions.ReadyToTest()])


class TestLaunchedGate(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.context = Context()
        rclpy.init(context=cls.context, signal_handler_options=SignalHandlerOptions.NO)
        cls.bench = TestBench(cls.context, namespace=NAMESPACE)

    @classmethod
    def tearDownClass(cls):
        cls.bench.destroy()
        rclpy.shutdown(context=cls.context)

    def test_confident_proposal_reaches_cmd_vel(self):
        bench = self.bench
        self.assertTrue(bench.wait_for_discovery(), 'the launched gate never matched the bench')
        bench.drive(0.2)
        nominal = bench.wait_for(
            lambda: any(s.data.get('verdict') == 'APPROVE' for s in bench.states))
        self.assertTrue(nominal, f'states seen: {[s.data for s in bench.states]}')
        self.assertTrue(bench.wait_for(lambda: bench.cmd and bench.cmd[-1].v > 0.0),
                        'no approved motion on cmd_vel')
        self.assertTrue(all(math.isfinite(c.v) and math.isfinite(c.w) for c in bench.cmd))


@launch_testing.post_shutdown_test()
class TestGateShutdown(unittest.TestCase):

    def test_exit_code(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
