# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Start the gate through its launch file and drive it end to end.

Runs under ``launch_test``, pytest and ``colcon test`` alike: the module finds
the harness package in test/, confines DDS to loopback unless the environment
already chose, and puts this checkout's package on the ament index (see
``harness.ros.source_prefix``). Without the launch wheels it skips (CI=true: fails).
"""

import math
import os
from pathlib import Path
import sys
import tempfile
import unittest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.ros import require_launch_wheels  # noqa: E402, I100

require_launch_wheels()

from harness.ros import launch_env, REPO, TestBench, write_params  # noqa: E402, I100
from launch import LaunchDescription  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import pytest  # noqa: E402
import rclpy  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.signals import SignalHandlerOptions  # noqa: E402

LAUNCH_FILE = REPO / 'launch' / 'safety_gate.launch.py'
# A namespace: rcl alone would not apply a file's `safety_gate:` section to
# /robot1/safety_gate, so the gate would start latched and this test would fail.
NAMESPACE = 'robot1'


@pytest.mark.launch_test
@pytest.mark.ros
def generate_test_description():
    """Include the launch file, namespaced, with a params file that needs no reset.

    The environment is set here, not at import: pytest's launch_testing plugin
    imports every test module while collecting.
    """
    scratch = Path(tempfile.mkdtemp(prefix='safety_gate_launch_test_'))
    env = launch_env(scratch)
    if 'ROS_AUTOMATIC_DISCOVERY_RANGE' in os.environ:  # pytest's conftest confined it already
        os.environ['AMENT_PREFIX_PATH'] = env['AMENT_PREFIX_PATH']
    else:
        os.environ.update(env)
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
