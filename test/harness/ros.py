# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Multi-process ROS test harness: nodes under test run as subprocesses.

:class:`NodeProcess` starts a node module with a params file and captures its
output (a :class:`~safety_gate.kit.world.process.ChildProcess`);
:class:`TestBench` is the test's own rclpy node that plays planner, vehicle,
operator and (optionally) simulator clock, and records everything the
gate publishes. Waiting is always on a condition with a generous timeout, so
the tests stay correct on a loaded machine; timing bounds are safety nets.
"""

from dataclasses import dataclass
import itertools
import math
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from rcl_interfaces.srv import GetParameters
from rclpy.context import Context
from rclpy.parameter import parameter_value_to_python
from rosgraph_msgs.msg import Clock
from safety_gate.config import NODE_NAME, write_params_file
from safety_gate.kit.world.process import ChildProcess, python_command
from safety_gate.kit.world.recorder import GATE_OUTPUTS, GateRecorder
from safety_gate.kit.world.ros_env import loopback_env
from safety_gate.kit.world.rosutil import (CLOCK_QOS, COMMAND_QOS, make_odom, make_twist,
                                           meta_json, SENSOR_QOS, stamp_from_ns, stamp_to_ns,
                                           twist_of)
from safety_gate.kit.world.sim_vehicle import Unicycle
from sensor_msgs.msg import Imu
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger

GATE_MODULE = 'safety_gate.node'
MANAGED_GATE_MODULE = 'safety_gate.lifecycle_node'
REPO = Path(__file__).resolve().parents[2]
UNLATCHED = {'require_reset_on_start': False}  # most tests start without the reset step
MODEL_SHA256 = 'ab' * 32
CDR_HEADER = b'\x00\x01\x00\x00'  # little-endian CDR encapsulation, before raw message bytes
DEFAULT_TIMEOUT = 10.0  # s: generous, so a loaded 2-core machine never flakes
FOLLOW = 'follow'  # odometry mode: a simulated vehicle follows the gate's latest output
SENSOR_HZ = 50.0
PROPOSAL_HZ = 10.0
CLOCK_HZ = 100.0
# The gate's planner inputs in twist mode, and in the trajectory modes.
TWIST_PLANNER_TOPICS = ('planner/cmd_vel', 'planner/meta')
PLAN_PLANNER_TOPICS = ('planner/trajectory', 'planner/reasoning', 'planner/meta')


def write_params(tmp_path: Path, overrides: Mapping[str, Any],
                 node_name: str = NODE_NAME) -> Path:
    """Write a new ROS params file for ``node_name`` from {dotted name: value}."""
    existing = len(list(Path(tmp_path).glob(f'{node_name}_params*.yaml')))
    return write_params_file(Path(tmp_path) / f'{node_name}_params{existing}.yaml', overrides,
                             node_name)


def launch_wheels_missing() -> Optional[str]:
    """Return why the ROS 2 launch tests cannot run here, or None if they can."""
    try:
        import launch_ros  # noqa: F401
        import launch_testing  # noqa: F401
        import ros2launch  # noqa: F401
    except ImportError as exc:
        return (f'the ROS 2 launch wheels are absent ({exc.name} is not installed; they are '
                'not on PyPI: `make test` installs them from ../shared/wheels/ros-jazzy-launch '
                'when that directory exists, a ROS 2 install has them)')
    return None


def skip_or_fail(missing: Optional[str]) -> None:
    """Skip the calling test module for the reason ``missing``; under CI=true, fail.

    A user's machine may lack what a test needs; CI must have everything.
    """
    import pytest
    if missing and os.environ.get('CI') == 'true':
        pytest.fail(f'CI=true: {missing}', pytrace=False)
    if missing:
        pytest.skip(missing, allow_module_level=True)


def require_launch_wheels() -> None:
    """Skip the calling test module without the launch wheels; under CI=true, fail."""
    skip_or_fail(launch_wheels_missing())


def source_prefix(scratch: Path) -> Path:
    """Return an ament prefix that installs this source checkout, as colcon would.

    The launch file finds the node and its default params file through the
    ament index, which a source checkout (a pip editable install) lacks; the
    share files are links into the checkout and the node runs this interpreter,
    so what runs is the code under test.
    """
    prefix = Path(scratch) / 'ament_prefix'
    share = prefix / 'share' / NODE_NAME
    index = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages'
    index.mkdir(parents=True)
    (index / NODE_NAME).touch()
    # Every share file setup.py installs, linked file by file: ros2 launch looks for
    # launch files without following directory links.
    shared = [path for directory in ('launch', 'config', 'scenarios', 'security')
              for path in (REPO / directory).rglob('*') if path.is_file()]
    for source in [REPO / 'package.xml', *shared]:
        target = share / source.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source)
    (prefix / 'lib' / NODE_NAME).mkdir(parents=True)
    for executable, module in (('safety_gate_node', 'safety_gate.node'),
                               ('safety_gate_lifecycle_node', 'safety_gate.lifecycle_node')):
        node = prefix / 'lib' / NODE_NAME / executable
        node.write_text(f'#!{sys.executable}\nimport sys\nfrom {module} import main\n'
                        'sys.exit(main())\n')
        node.chmod(0o755)
    return prefix


def launch_env(scratch: Path) -> dict:
    """Return a loopback environment in which launch finds this checkout's package."""
    domain = os.environ.get('ROS_DOMAIN_ID')  # the test's own nodes must see the gate
    env = loopback_env(scratch, int(domain) if domain else None)
    env['AMENT_PREFIX_PATH'] = os.pathsep.join(filter(None, [
        str(source_prefix(scratch)), sys.prefix, env.get('AMENT_PREFIX_PATH')]))
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(REPO), env.get('PYTHONPATH')]))
    return env


def _log_path(log_dir: Path, name: str) -> Path:
    """Return a log file name in ``log_dir`` that no earlier process of the test used."""
    return Path(log_dir) / f'{name}.{time.monotonic_ns()}.log'


class NodeProcess(ChildProcess):
    """A ROS node module running as a child process, output captured to a file."""

    def __init__(self, module: str, params_file: Optional[Path], log_dir: Path,
                 ros_args: Sequence[str] = (), env: Optional[Mapping[str, str]] = None) -> None:
        """Start ``python -m module --ros-args --params-file params_file *ros_args``.

        The child gets this process's environment with ``env`` merged over it.
        """
        args = ['-m', module, '--ros-args']
        if params_file is not None:
            args += ['--params-file', str(params_file)]
        super().__init__(module, python_command(*args, *ros_args), _log_path(log_dir, module),
                         {**os.environ, **(env or {})})


class LaunchProcess(ChildProcess):
    """``ros2 launch safety_gate safety_gate.launch.py`` as a child process."""

    def __init__(self, arguments: Mapping[str, Any], log_dir: Path,
                 env: Mapping[str, str]) -> None:
        """Start the launch with ``name:=value`` arguments in ``env`` (see :func:`launch_env`)."""
        cmd = [str(Path(sys.executable).parent / 'ros2'), 'launch', NODE_NAME,
               'safety_gate.launch.py', *(f'{k}:={v}' for k, v in arguments.items())]
        # Its own process group: a launch that will not stop is killed with its nodes.
        super().__init__('ros2_launch', cmd, _log_path(log_dir, 'ros2_launch'),
                         {**os.environ, **env}, start_new_session=True)

    def stop(self, sig: int = signal.SIGINT, timeout: float = DEFAULT_TIMEOUT) -> int:
        """Stop the launch (``sig``; after ``timeout`` SIGKILL to its process group)."""
        if self.alive():
            self.signal(sig)
            try:
                self.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever of the launch is left, a node it could not stop included
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self.popen.wait()


@dataclass(frozen=True)
class ReceivedCommand:
    """One cmd_vel message as received by the bench."""

    t: float  # time.monotonic() at receipt
    v: float
    w: float
    stamp_ns: Optional[int]  # None for Twist

    @property
    def is_zero(self) -> bool:
        """Return True for a stop command (both rates exactly zero)."""
        return self.v == 0.0 and self.w == 0.0


@dataclass(frozen=True)
class Received:
    """A decoded message with its time of receipt (time.monotonic())."""

    t: float
    data: Any


@dataclass(frozen=True)
class SentProposal:
    """A proposal the bench sent."""

    t: float  # time.monotonic() when sent
    stamp_ns: int
    v: float
    w: float
    confidence: Optional[float]


class TestBench(GateRecorder):
    """The test's rclpy node: plays planner, vehicle, operator and clock, and records output.

    Timers inside the bench's own executor keep odometry and IMU (50 Hz, see
    :meth:`set_odom`), proposals (10 Hz, see :meth:`drive`) and optionally
    /clock (100 Hz) flowing while a test waits in :meth:`wait_for`; nothing
    runs in background threads. Everything the gate publishes is kept with its
    time of receipt (time.monotonic()).
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, context: Context, stamped: bool = True,
                 name: str = 'test_bench', namespace: str = '') -> None:
        """Create the bench node in ``context``; ``stamped`` picks TwistStamped over Twist."""
        twist_type = TwistStamped if stamped else Twist
        self.cmd: List[ReceivedCommand] = []
        self.decisions: List[Received] = []
        self.configs: List[Received] = []  # the config record a gate publishes when it starts
        self.spis: List[Received] = []  # the SPI records, from safety_gate/decision
        self.states: List[Received] = []
        self.diagnostics: List[Received] = []
        self.sent: List[SentProposal] = []
        super().__init__(name, context=context, namespace=namespace, twist_type=twist_type)
        self.stamped = stamped
        self.model_sha256 = MODEL_SHA256  # the meta's model_sha256
        node = self.node

        self.cmd_pub = node.create_publisher(twist_type, 'planner/cmd_vel', COMMAND_QOS)
        self.meta_pub = node.create_publisher(String, 'planner/meta', COMMAND_QOS)
        self.odom_pub = node.create_publisher(Odometry, 'odom', SENSOR_QOS)
        self.imu_pub = node.create_publisher(Imu, 'imu', SENSOR_QOS)
        self.estop_pub = node.create_publisher(Bool, 'safety_gate/estop', COMMAND_QOS)
        self.clock_pub = node.create_publisher(Clock, '/clock', CLOCK_QOS)
        self.reset_client = node.create_client(Trigger, 'safety_gate/reset')
        self.record(*GATE_OUTPUTS)

        self._proposal: Optional[Tuple[float, float, Iterator[Optional[float]]]] = None
        self._odom_mode: Union[str, Tuple[float, float], None] = FOLLOW
        self._imu_bias: Optional[float] = None
        # A vehicle with inertia: a perfect follower would stop within one sample
        # at an e-stop, which the gate rightly calls implausible odometry.
        self.vehicle = Unicycle()
        self._sensor_stamp_ns: Optional[int] = None
        self.last_odom_time: Optional[float] = None  # time.monotonic() of the last odometry
        self._sim_ns: Optional[int] = None  # set while the bench drives /clock
        self._clock_timer = None
        node.create_timer(1.0 / PROPOSAL_HZ, self._proposal_tick)
        node.create_timer(1.0 / SENSOR_HZ, self._sensor_tick)

    # ------------------------------------------------------------ waiting

    def wait_for(self, predicate: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT) -> bool:
        """Spin until ``predicate()`` is true or ``timeout`` passes; return whether it is."""
        return super().wait_for(predicate, timeout)

    def wait_for_discovery(self, timeout: float = 20.0,
                           planner: Sequence[str] = TWIST_PLANNER_TOPICS) -> bool:
        """Wait until the gate is matched on every topic the tests use and serves reset.

        ``planner``: the gate's planner inputs to wait for (its mode's).
        """
        node = self.node
        topics_out = (*planner, 'odom', 'safety_gate/estop')
        topics_in = ('cmd_vel', 'safety_gate/decision', 'safety_gate/state')
        return self.wait_for(
            lambda: (all(node.count_subscribers(t) for t in topics_out)
                     and all(node.count_publishers(t) for t in topics_in)
                     and self.reset_client.service_is_ready()), timeout)

    def wait_for_output(self, timeout: float = DEFAULT_TIMEOUT,
                        planner: Sequence[str] = TWIST_PLANNER_TOPICS) -> bool:
        """Wait for discovery and then for one fresh cmd_vel message from the gate."""
        if not self.wait_for_discovery(planner=planner):
            return False
        count = len(self.cmd)
        return self.wait_for(lambda: len(self.cmd) > count, timeout)

    def wait_for_cmd(self, v: float, w: float = 0.0, tolerance: float = 1e-6,
                     timeout: float = DEFAULT_TIMEOUT) -> bool:
        """Wait until the latest cmd_vel output is (v, w) within ``tolerance``."""
        return self.wait_for(lambda: self.cmd and abs(self.cmd[-1].v - v) <= tolerance
                             and abs(self.cmd[-1].w - w) <= tolerance, timeout)

    def wait_for_decision(self, predicate: Callable[[dict], bool], since: float,
                          timeout: float = DEFAULT_TIMEOUT) -> Optional[Received]:
        """Return the first decision received at or after ``since`` that satisfies ``predicate``.

        Waits up to ``timeout`` for it; returns None if none came.
        """
        def match() -> Optional[Received]:
            return next((r for r in self.decisions if r.t >= since and predicate(r.data)),
                        None)
        self.wait_for(lambda: match() is not None, timeout)
        return match()

    # ------------------------------------------------------------ time

    def now_ns(self) -> int:
        """Return the bench's time: the simulated time it drives, else its node clock."""
        if self._sim_ns is not None:
            return self._sim_ns
        return self.node.get_clock().now().nanoseconds

    def start_clock(self, start: Optional[float] = None) -> None:
        """Publish /clock at 100 Hz, from ``start`` seconds or where it stopped."""
        if start is not None:
            self._sim_ns = int(start * 1e9)
        elif self._sim_ns is None:
            raise ValueError('first start_clock() needs a start time')
        if self._clock_timer is None:
            self._clock_timer = self.node.create_timer(1.0 / CLOCK_HZ, self._clock_tick)

    def stop_clock(self) -> None:
        """Stop publishing /clock; simulated time stands still."""
        if self._clock_timer is not None:
            self.node.destroy_timer(self._clock_timer)
            self._clock_timer = None

    def jump_clock(self, delta: float) -> None:
        """Move simulated time by ``delta`` seconds and publish it at once."""
        self._sim_ns += int(delta * 1e9)
        self.clock_pub.publish(Clock(clock=stamp_from_ns(self._sim_ns)))

    def _clock_tick(self) -> None:
        # Fixed steps: under load simulated time runs slow, as a real simulator's does.
        self._sim_ns += int(1e9 / CLOCK_HZ)
        self.clock_pub.publish(Clock(clock=stamp_from_ns(self._sim_ns)))

    # ------------------------------------------------------------ publishing

    def publish_proposal(self, v: float, w: float, confidence: Optional[float] = 0.9,
                         stamp_ns: Optional[int] = None, reasoning: str = 'Lane clear ahead.',
                         meta: bool = True) -> SentProposal:
        """Publish planner/meta and then planner/cmd_vel with the same stamp (default: now)."""
        stamp = stamp_from_ns(self.now_ns() if stamp_ns is None else stamp_ns)
        if meta:
            self.meta_pub.publish(String(data=meta_json(stamp, confidence, self.model_sha256,
                                                        reasoning)))
        self.cmd_pub.publish(make_twist(self.stamped, v, w, stamp))
        sent = SentProposal(time.monotonic(), stamp_to_ns(stamp), v, w, confidence)
        self.sent.append(sent)
        return sent

    def drive(self, v: float, w: float = 0.0,
              confidence: Union[float, Sequence[float], None] = 0.9) -> None:
        """Publish proposal (v, w) at 10 Hz from now on.

        ``confidence`` may be a sequence, used in turn for successive proposals.
        """
        seq = confidence if isinstance(confidence, Sequence) else (confidence,)
        self._proposal = (v, w, itertools.cycle(seq))

    def stop_proposals(self) -> None:
        """Stop the 10 Hz proposals: the planner goes silent."""
        self._proposal = None

    def set_odom(self, mode: Union[str, Tuple[float, float], None] = FOLLOW) -> None:
        """Set what the 50 Hz odometry reports: FOLLOW, a fixed (v, w), or None (silent).

        FOLLOW reports the bench's simulated vehicle, which always follows the
        gate's latest output, whatever is reported.
        """
        self._odom_mode = mode

    def set_imu(self, bias: Optional[float]) -> None:
        """Publish the vehicle's yaw rate plus ``bias`` on imu at 50 Hz, or nothing if None."""
        self._imu_bias = bias

    def publish_odom(self, v: float, w: float, stamp_ns: Optional[int] = None) -> None:
        """Publish one odometry message reporting (v, w) at the vehicle's pose."""
        stamp = stamp_from_ns(self.now_ns() if stamp_ns is None else stamp_ns)
        self.odom_pub.publish(make_odom(stamp, self.vehicle.pose, v, w))
        self.last_odom_time = time.monotonic()

    def publish_estop(self, engaged: bool) -> None:
        """Publish on safety_gate/estop."""
        self.estop_pub.publish(Bool(data=engaged))

    def gate_parameters(self, names: Sequence[str],
                        timeout: float = DEFAULT_TIMEOUT) -> Dict[str, Any]:
        """Return {name: value} of the gate's parameters, asked over its parameter service."""
        client = self.node.create_client(GetParameters, 'safety_gate/get_parameters')
        try:
            if not self.wait_for(client.service_is_ready, timeout):
                raise TimeoutError('safety_gate/get_parameters is not served')
            future = client.call_async(GetParameters.Request(names=list(names)))
            if not self.wait_for(future.done, timeout):
                raise TimeoutError('safety_gate/get_parameters did not answer')
            return {name: parameter_value_to_python(value)
                    for name, value in zip(names, future.result().values)}
        finally:
            self.node.destroy_client(client)

    def call_reset(self, timeout: float = DEFAULT_TIMEOUT) -> Tuple[bool, str]:
        """Call safety_gate/reset and return (success, message)."""
        future = self.reset_client.call_async(Trigger.Request())
        if not self.wait_for(future.done, timeout):
            raise TimeoutError('safety_gate/reset did not answer')
        result = future.result()
        return result.success, result.message

    def _proposal_tick(self) -> None:
        if self._proposal is not None:
            v, w, confidence = self._proposal
            self.publish_proposal(v, w, next(confidence))

    def _sensor_tick(self) -> None:
        stamp_ns = self.now_ns()
        previous, self._sensor_stamp_ns = self._sensor_stamp_ns, stamp_ns
        # A sensor reports each instant once: under simulated time two wall ticks
        # can fall within one /clock step.
        if stamp_ns == previous:
            return
        dt = 0.0 if previous is None else max(0.0, (stamp_ns - previous) / 1e9)
        last = self.cmd[-1] if self.cmd else None
        target = (last.v, last.w) if last and math.isfinite(last.v + last.w) else (0.0, 0.0)
        vehicle = self.vehicle
        vehicle.step(*target, dt)
        if self._odom_mode == FOLLOW:
            self.publish_odom(vehicle.v, vehicle.w, stamp_ns)
        elif self._odom_mode is not None:
            self.publish_odom(*self._odom_mode, stamp_ns=stamp_ns)
        if self._imu_bias is not None:
            imu = Imu()
            imu.header.stamp = stamp_from_ns(stamp_ns)
            imu.header.frame_id = 'base_link'
            imu.angular_velocity.z = vehicle.w + self._imu_bias
            self.imu_pub.publish(imu)

    # ------------------------------------------------------------ recording

    def on_command(self, msg: Union[Twist, TwistStamped]) -> None:
        """Keep a cmd_vel message as a :class:`ReceivedCommand`."""
        twist = twist_of(msg)
        stamp_ns = stamp_to_ns(msg.header.stamp) if isinstance(msg, TwistStamped) else None
        self.cmd.append(ReceivedCommand(time.monotonic(), twist.linear.x, twist.angular.z,
                                        stamp_ns))

    def on_decision(self, record: dict) -> None:
        """Keep a decision record."""
        self.decisions.append(Received(time.monotonic(), record))

    def on_config(self, record: dict) -> None:
        """Keep a config record."""
        self.configs.append(Received(time.monotonic(), record))

    def on_spi(self, record: dict) -> None:
        """Keep an SPI record."""
        self.spis.append(Received(time.monotonic(), record))

    def on_state(self, state: dict) -> None:
        """Keep a state message."""
        self.states.append(Received(time.monotonic(), state))

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        """Keep a diagnostics array."""
        self.diagnostics.append(Received(time.monotonic(), msg))

    # ------------------------------------------------------------ queries

    def decisions_after(self, record: Received) -> List[dict]:
        """Return the decision records the gate made after ``record`` (by sequence number)."""
        return [r.data for r in self.decisions if r.data['seq'] > record.data['seq']]

    def decisions_since(self, t: float) -> List[dict]:
        """Return the decision records received at or after monotonic time ``t``."""
        return [r.data for r in self.decisions if r.t >= t]

    def cmd_since(self, t: float) -> List[ReceivedCommand]:
        """Return the cmd_vel messages received at or after monotonic time ``t``."""
        return [c for c in self.cmd if c.t >= t]
