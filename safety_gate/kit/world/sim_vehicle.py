# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A simulated unicycle vehicle for tests and demos.

A test tool, not part of the safety function.

It listens to ``cmd_vel``, follows it through a first-order actuation lag with
acceleration and rate limits at a fixed step (unicycle kinematics), and
publishes ``odom`` (and ``imu``) as the gate sees them, plus the true motion on
``sim_vehicle/ground_truth`` (nav_msgs/Odometry, reliable), which injected
faults never touch: it is what the scenario metrics call the actual motion.

Parameters (all optional):

* ``rate_hz`` (50.0): integration and publishing rate.
* ``max_accel`` (2.0 m/s^2), ``max_yaw_accel`` (4.0 rad/s^2): actuator limits.
* ``max_speed`` (3.0 m/s), ``max_yaw_rate`` (3.0 rad/s): what the drive can
  reach at all; above the gate's envelope on purpose, so a command the gate
  wrongly passes shows in the actual motion.
* ``tau`` (0.1 s): time constant of the actuation lag.
* ``cmd_timeout`` (0.5 s): a command older than this is treated as zero, as a
  real drive base does; 0 disables it.
* ``stamped`` (true): ``cmd_vel`` is TwistStamped, else Twist.
* ``publish_imu`` (true), ``imu_noise_std`` (0.0 rad/s), ``seed`` (0): the IMU
  yaw rate is the true yaw rate plus seeded gaussian noise.
* ``odom_noise_std`` (0.0): seeded gaussian noise on the odometry's speed (m/s)
  and yaw rate (rad/s); the ground truth stays exact.
* ``odom_lag`` (0.0 s): odometry arrives this late, with the stamp of the state
  it reports (a driver that stamps its measurements, behind a slow link);
  rounded to whole steps, none published until the first one is due.
* ``publish_clock`` (false), ``sim_rate`` (1.0), ``clock_start`` (1.0 s): drive
  ``/clock``. The vehicle then steps on a wall timer at ``rate_hz * sim_rate``,
  advances its own simulated time by ``1 / rate_hz`` per step, publishes it on
  ``/clock`` and stamps everything with it, so other nodes can run with
  ``use_sim_time`` true. The default start is not zero because a zero stamp
  often means "unset".

Faults are injected at runtime with a JSON std_msgs/String on
``sim_vehicle/fault``; keys are optional::

    {"odom": "ok" | "freeze" | "stop" | "jump", "jump_speed": 5.0, "imu_bias": 0.3,
     "position_variance": 0.5,
     "clock": "reset"}

``freeze`` republishes the last odometry values with fresh stamps, ``stop``
publishes no odometry, ``jump`` adds ``jump_speed`` (default 5 m/s) to the
reported speed of the next message only; ``imu_bias`` (rad/s) is added to the
IMU yaw rate until changed; ``position_variance`` (m^2) is the x and y
variance of the odometry's pose covariance until changed (0: not filled).
``clock: reset`` sends ``/clock`` back to ``clock_start``, as a simulator
reset does (only with ``publish_clock``); the vehicle keeps moving, so the
clock is the only thing that changes.
"""

from collections import deque
from dataclasses import dataclass
import json
import math
import random
from typing import Optional, Tuple, Union

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rosgraph_msgs.msg import Clock as ClockMsg
from safety_gate.kit.world.rosutil import (advance_pose, CLOCK_QOS, COMMAND_QOS, make_odom,
                                           RECORD_QOS, run_node, SENSOR_QOS, stamp_from_ns,
                                           twist_of)
from sensor_msgs.msg import Imu
from std_msgs.msg import String

ODOM_FAULTS = ('ok', 'freeze', 'stop', 'jump')
CLOCK_FAULTS = ('reset',)
JUMP_SPEED = 5.0  # m/s: far beyond any plausible acceleration of this vehicle


def approach(value: float, target: float, tau: float, max_rate: float, dt: float) -> float:
    """Advance a first-order lag toward ``target`` by ``dt`` with its rate capped."""
    rate = (target - value) / max(tau, dt)
    return value + max(-max_rate, min(max_rate, rate)) * dt


def _saturate(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))


@dataclass
class Unicycle:
    """Unicycle kinematics behind a first-order actuation lag with acceleration limits."""

    max_accel: float = 2.0
    max_yaw_accel: float = 4.0
    tau: float = 0.1
    v: float = 0.0
    w: float = 0.0
    pose: Tuple[float, float, float] = (0.0, 0.0, 0.0)
    max_speed: float = 3.0
    max_yaw_rate: float = 3.0

    def step(self, v_cmd: float, w_cmd: float, dt: float) -> None:
        """Follow the command (v_cmd, w_cmd) for ``dt`` seconds."""
        v_cmd = _saturate(v_cmd, self.max_speed)
        w_cmd = _saturate(w_cmd, self.max_yaw_rate)
        self.v = approach(self.v, v_cmd, self.tau, self.max_accel, dt)
        self.w = approach(self.w, w_cmd, self.tau, self.max_yaw_accel, dt)
        self.pose = advance_pose(self.pose, self.v, self.w, dt)


class SimVehicle(Node):
    """The simulated vehicle node."""

    def __init__(self) -> None:
        super().__init__('sim_vehicle')
        p = {name: self.declare_parameter(name, default).value for name, default in (
            ('rate_hz', 50.0), ('max_accel', Unicycle.max_accel),
            ('max_yaw_accel', Unicycle.max_yaw_accel), ('tau', Unicycle.tau),
            ('max_speed', Unicycle.max_speed), ('max_yaw_rate', Unicycle.max_yaw_rate),
            ('cmd_timeout', 0.5), ('stamped', True), ('publish_imu', True),
            ('imu_noise_std', 0.0), ('seed', 0), ('odom_noise_std', 0.0), ('odom_lag', 0.0),
            ('publish_clock', False),
            ('sim_rate', 1.0), ('clock_start', 1.0))}
        self._dt = 1.0 / p['rate_hz']
        self._vehicle = Unicycle(max_accel=p['max_accel'], max_yaw_accel=p['max_yaw_accel'],
                                 tau=p['tau'], max_speed=p['max_speed'],
                                 max_yaw_rate=p['max_yaw_rate'])
        self._cmd_timeout = p['cmd_timeout']
        self._noise_std = p['imu_noise_std']
        self._odom_noise_std = p['odom_noise_std']
        self._rng = random.Random(p['seed'])
        # The measured odometry of the last steps; the oldest is the one published.
        self._measured = deque(maxlen=1 + max(0, round(p['odom_lag'] / self._dt)))

        self._cmd = (0.0, 0.0)
        self._elapsed = 0.0  # simulated seconds since start, for the command age
        self._cmd_time = -math.inf
        self._odom_fault = 'ok'
        self._jump_speed = JUMP_SPEED
        self._imu_bias = 0.0
        self._position_variance = 0.0  # m^2, in the odometry's pose covariance
        self._last_odom: Optional[Odometry] = None

        self.create_subscription(TwistStamped if p['stamped'] else Twist, 'cmd_vel',
                                 self._on_cmd, COMMAND_QOS)
        self.create_subscription(String, 'sim_vehicle/fault', self._on_fault, 10)
        self._odom_pub = self.create_publisher(Odometry, 'odom', SENSOR_QOS)
        self._truth_pub = self.create_publisher(Odometry, 'sim_vehicle/ground_truth',
                                                RECORD_QOS)
        self._imu_pub = (self.create_publisher(Imu, 'imu', SENSOR_QOS)
                         if p['publish_imu'] else None)
        if p['publish_clock']:
            self._clock_pub = self.create_publisher(ClockMsg, '/clock', CLOCK_QOS)
            self._clock_start_ns = self._sim_ns = int(p['clock_start'] * 1e9)
            # Steady wall timer: the node's own clock may follow the /clock we publish.
            self.create_timer(self._dt / p['sim_rate'], self._step,
                              clock=Clock(clock_type=ClockType.STEADY_TIME))
        else:
            self._clock_pub = None
            self.create_timer(self._dt, self._step)

    def _on_cmd(self, msg: Union[Twist, TwistStamped]) -> None:
        twist = twist_of(msg)
        cmd = (twist.linear.x, twist.angular.z)
        if not all(math.isfinite(x) for x in cmd):
            # A drive controller rejects such a command; integrating it would
            # leave the simulated state NaN for good.
            self.get_logger().warning(f'ignored non-finite cmd_vel {cmd}',
                                      throttle_duration_sec=1.0)
            return
        self._cmd = cmd
        self._cmd_time = self._elapsed

    def _on_fault(self, msg: String) -> None:
        try:
            fault = json.loads(msg.data)
            odom = fault.get('odom', self._odom_fault)
            bias = float(fault.get('imu_bias', self._imu_bias))
            variance = float(fault.get('position_variance', self._position_variance))
            jump = float(fault.get('jump_speed', JUMP_SPEED))
            clock = fault.get('clock')
            if odom not in ODOM_FAULTS or not all(
                    math.isfinite(x) for x in (bias, jump, variance)):
                raise ValueError(f'odom must be one of {ODOM_FAULTS}, imu_bias, jump_speed and '
                                 'position_variance finite')
            if clock is not None and (clock not in CLOCK_FAULTS or self._clock_pub is None):
                raise ValueError(f'clock must be one of {CLOCK_FAULTS}, with publish_clock')
        except (ValueError, TypeError, AttributeError) as exc:
            self.get_logger().warning(f'ignored fault {msg.data!r}: {exc}')
            return
        self._odom_fault, self._imu_bias, self._jump_speed = odom, bias, jump
        self._position_variance = variance
        if clock == 'reset':
            self._sim_ns = self._clock_start_ns
        self.get_logger().info(f'fault: odom={odom} imu_bias={bias} clock={clock}')

    def _step(self) -> None:
        dt = self._dt
        self._elapsed += dt
        commanded = (self._cmd if self._cmd_timeout <= 0.0
                     or self._elapsed - self._cmd_time <= self._cmd_timeout else (0.0, 0.0))
        self._vehicle.step(*commanded, dt)

        if self._clock_pub is not None:
            self._sim_ns += int(dt * 1e9)
            stamp = stamp_from_ns(self._sim_ns)
            self._clock_pub.publish(ClockMsg(clock=stamp))
        else:
            stamp = self.get_clock().now().to_msg()
        vehicle = self._vehicle
        truth = make_odom(stamp, vehicle.pose, vehicle.v, vehicle.w)
        self._truth_pub.publish(truth)
        noise = self._odom_noise_std
        self._measured.append(truth if noise <= 0.0 else make_odom(
            stamp, vehicle.pose, vehicle.v + self._rng.gauss(0.0, noise),
            vehicle.w + self._rng.gauss(0.0, noise)))
        if len(self._measured) == self._measured.maxlen:
            measured = self._measured[0]
            self._publish_odom(measured.header.stamp, measured)
        if self._imu_pub is not None:
            imu = Imu()
            imu.header.stamp = stamp
            imu.header.frame_id = 'base_link'
            imu.orientation_covariance[0] = -1.0  # no orientation estimate
            imu.angular_velocity.z = (self._vehicle.w + self._imu_bias
                                      + self._rng.gauss(0.0, self._noise_std))
            self._imu_pub.publish(imu)

    def _publish_odom(self, stamp: Time, truth: Odometry) -> None:
        """Publish the odometry of this step; ``truth`` is it when no fault changes it.

        ``truth`` is the measurement due now (``odom_lag`` old, with noise).
        Publishing serialises a message at once, so that message may be kept
        as the last odometry, and restamped in place while frozen.
        """
        if self._odom_fault == 'stop':
            return
        vehicle = self._vehicle
        if self._odom_fault == 'freeze' and self._last_odom is not None:
            msg = self._last_odom
            msg.header.stamp = stamp
        elif self._odom_fault == 'jump':
            self._odom_fault = 'ok'
            msg = make_odom(stamp, vehicle.pose, vehicle.v + self._jump_speed, vehicle.w)
        else:
            msg = self._last_odom = truth
        msg.pose.covariance[0] = msg.pose.covariance[7] = self._position_variance
        self._odom_pub.publish(msg)


def main(args=None) -> int:
    """Run the simulated vehicle (console script ``safety_gate_sim_vehicle``)."""
    return run_node(SimVehicle, args)


if __name__ == '__main__':
    raise SystemExit(main())
