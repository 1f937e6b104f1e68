# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Odometry and IMU plausibility, sample by sample and over time, and in the decisions."""

import math

from harness.core_driver import driving, Gate, TICK
import pytest

from safety_gate import config, sensors
from safety_gate.decision import Check, Command, Reason, Verdict, ZERO
from safety_gate.events import Estop, Imu, Odom, Reset
from safety_gate.sensors import SensorState

CFG = config.GateConfig()
IMU_PARAMS = {'imu.enabled': True, 'imu.disagreement_timeout': 0.25}
IMU_CFG = config.build(IMU_PARAMS)
NOW = 100.0
DT = 1 / 32
MOVING = Command(0.4, 0.0)


class Robot:
    """A sensor state fed sample by sample, with the gate's output held fixed."""

    def __init__(self, cfg=CFG, output=ZERO, now=NOW):
        self.cfg = cfg
        self.state = SensorState()
        self.output = output
        self.now = now
        self.command(output)

    def command(self, output: Command):
        self.output = output
        self.state = sensors.on_output(self.state, output, self.now, self.cfg)

    def odom(self, v=0.0, w=0.0, x=None, y=0.0, stamp=None, dt=DT, yaw=0.0):
        self.now += dt
        x = self.now * v if x is None else x
        sample = Odom(v, w, x, y, self.now if stamp is None else stamp, yaw)
        self.state = sensors.on_odom(self.state, sample, self.now, self.output, self.cfg)

    def imu(self, wz=0.0, stamp=None, dt=0.0):
        self.now += dt
        sample = Imu(wz, self.now if stamp is None else stamp)
        self.state = sensors.on_imu(self.state, sample, self.now, self.cfg)

    def faults(self, dt=0.0):
        return {c.reason for c in sensors.healthy(self.state, self.now + dt, self.cfg)}


def test_missing_odometry_is_a_fault_only_when_required():
    assert Robot().faults() == {Reason.ODOM_MISSING}
    assert Robot(config.build({'odom.required': False})).faults() == set()


def test_fresh_plausible_odometry_is_healthy():
    robot = Robot()
    robot.odom(0.5)
    robot.odom(0.5)
    assert robot.faults() == set()
    assert sensors.trusted_speed(robot.state, robot.now, CFG) == 0.5


@pytest.mark.parametrize('stamp_age, arrival_age, stale', [
    (0.25, 0.0, False), (0.25 + DT, 0.0, True), (0.0, 0.25, False), (0.0, 0.25 + DT, True)])
def test_odometry_is_stale_by_stamp_or_by_arrival(stamp_age, arrival_age, stale):
    robot = Robot()
    robot.odom(stamp=robot.now + DT - stamp_age)
    assert (Reason.ODOM_STALE in robot.faults(dt=arrival_age)) == stale
    assert (sensors.trusted_speed(robot.state, robot.now + arrival_age, CFG) is None) == stale


@pytest.mark.parametrize('field', ['v', 'w', 'x', 'y', 'stamp', 'yaw'])
@pytest.mark.parametrize('value', [math.nan, math.inf, -math.inf])
def test_non_finite_odometry_is_a_fault(field, value):
    robot = Robot()
    robot.odom(**{field: value})
    assert Reason.ODOM_NON_FINITE in robot.faults()
    assert sensors.trusted_speed(robot.state, robot.now, CFG) is None


@pytest.mark.parametrize('v, w, plausible', [
    (3.0, 0.0, True), (-3.0, 6.0, True), (3.0001, 0.0, False), (-3.0001, 0.0, False),
    (0.0, 6.0001, False), (0.0, -6.0001, False)])
def test_implausible_speed_is_a_fault(v, w, plausible):
    robot = Robot()
    robot.odom(v, w)
    assert (Reason.ODOM_IMPLAUSIBLE not in robot.faults()) == plausible


@pytest.mark.parametrize('jump, plausible', [(15.0 * DT, True), (16.0 * DT, False)])
def test_a_speed_jump_faster_than_max_accel_is_a_fault(jump, plausible):
    robot = Robot()
    robot.odom(0.25)
    robot.odom(0.25 - jump)
    assert (Reason.ODOM_ACCEL_JUMP not in robot.faults()) == plausible


@pytest.mark.parametrize('back', [0.0, DT])
def test_a_repeated_or_backwards_stamp_is_a_fault(back):
    robot = Robot()
    robot.odom()
    robot.odom(stamp=robot.now - DT - back)
    assert Reason.ODOM_STAMP_BACKWARDS in robot.faults()


@pytest.mark.parametrize('ahead, plausible', [(1 / 16, True), (1 / 16 + DT, False)])
def test_a_stamp_in_the_future_is_a_fault(ahead, plausible):
    # exactly on the tolerance is not (a tolerance exact in binary, at a time that is too)
    robot = Robot(config.build({'future_tolerance': 1 / 16}))
    robot.odom(stamp=robot.now + DT + ahead)
    assert (Reason.ODOM_STAMP_IN_FUTURE not in robot.faults()) == plausible


@pytest.mark.parametrize('bad', [math.nan, math.inf, -math.inf])
def test_a_sample_fault_lasts_until_the_next_good_sample(bad):
    # the good sample is no speed jump from the bad one: nothing is measured against it,
    # however low the acceleration limit
    robot = Robot(config.build({'odom.max_accel': 0.5}))
    robot.odom(bad)
    assert Reason.ODOM_NON_FINITE in robot.faults(dt=0.2)
    robot.odom(dt=0.2)
    assert robot.faults() == set()


def unchanged_odometry(robot: Robot, duration: float, v=0.0):
    """Identical samples from now on, for ``duration`` seconds."""
    robot.odom(v, x=1.0, dt=0.0)
    for _ in range(round(duration / DT)):
        robot.odom(v, x=1.0)


@pytest.mark.parametrize('moving_for, stuck', [(0.5, False), (0.5 + DT, True)])
def test_odometry_unchanged_while_motion_is_commanded_is_stuck(moving_for, stuck):
    robot = Robot(output=MOVING)
    unchanged_odometry(robot, moving_for)
    assert (Reason.ODOM_STUCK in robot.faults()) == stuck


def test_stuck_time_counts_from_when_motion_was_commanded():
    robot = Robot()
    unchanged_odometry(robot, 10.0)
    robot.command(MOVING)
    unchanged_odometry(robot, 0.5)
    assert Reason.ODOM_STUCK not in robot.faults()
    robot.odom(0.0, x=1.0)
    assert Reason.ODOM_STUCK in robot.faults()


def test_odometry_unchanged_after_the_commanded_motion_ended_is_not_stuck():
    robot = Robot(output=MOVING)
    robot.command(ZERO)
    unchanged_odometry(robot, 2.0)
    assert Reason.ODOM_STUCK not in robot.faults()


@pytest.mark.parametrize('moving_for, stuck', [(0.5, False), (0.5 + DT, True)])
def test_unchanged_odometry_that_claims_motion_is_stuck_whatever_the_gate_commands(
        moving_for, stuck):
    # A moving robot's pose changes, even while the gate's fallback commands nothing.
    robot = Robot()
    unchanged_odometry(robot, moving_for, v=MOVING.v)
    assert (Reason.ODOM_STUCK in robot.faults()) == stuck


def test_unchanged_odometry_that_claims_motion_is_stuck_from_when_it_last_changed():
    robot = Robot()
    unchanged_odometry(robot, 0.25, v=MOVING.v)
    assert Reason.ODOM_STUCK not in robot.faults()
    robot.command(MOVING)  # counted from the last change, not from this command
    for _ in range(round(0.25 / DT) + 1):
        robot.odom(MOVING.v, x=1.0)
    assert Reason.ODOM_STUCK in robot.faults()


@pytest.mark.parametrize('commanded', [
    Command(0.1, 0.1), Command(-0.1, -0.1), Command(0.0, 0.1), Command(0.0, 0.0)])
def test_odometry_is_never_stuck_at_or_below_the_minimum_command(commanded):
    robot = Robot(output=commanded)
    unchanged_odometry(robot, 2.0)
    assert Reason.ODOM_STUCK not in robot.faults()


@pytest.mark.parametrize('moving_for, stuck', [(0.5, False), (0.5 + DT, True)])
def test_odometry_unchanged_while_turning_on_the_spot_is_stuck(moving_for, stuck):
    robot = Robot(output=Command(0.0, 1.5))
    unchanged_odometry(robot, moving_for)
    assert (Reason.ODOM_STUCK in robot.faults()) == stuck


def test_a_turn_on_the_spot_is_seen_by_its_heading_alone():
    robot = Robot(output=Command(0.0, 1.5))
    for _ in range(64):
        robot.odom(0.0, 1.5, x=1.0, yaw=robot.now * 1.5)
    assert robot.faults() == set()


def test_changing_odometry_is_not_stuck():
    robot = Robot(output=MOVING)
    for _ in range(64):
        robot.odom(MOVING.v)
    assert robot.faults() == set()


@pytest.mark.parametrize('measured, duration, tracking_error', [
    (0.0, 1.0, False), (0.0, 1.0 + DT, True), (1.125, 1.0 + DT, False), (-0.1, 1.0 + DT, True),
    # Faster than commanded is as much a tracking error as slower.
    (1.25, 1.0, False), (1.25, 1.0 + DT, True)])
def test_output_and_measured_speed_may_disagree_only_briefly(measured, duration, tracking_error):
    robot = Robot(config.build({'odom.stuck_timeout': 10.0}), output=Command(0.625, 0.0))
    robot.odom(measured)
    for _ in range(round(duration / DT)):
        robot.odom(measured)
    assert (Reason.TRACKING_ERROR in robot.faults()) == tracking_error


def test_the_tracking_timer_restarts_once_they_agree():
    robot = Robot(output=Command(0.5, 0.0))
    for _ in range(31):
        robot.odom(0.0, x=robot.now)
    robot.odom(0.4, x=robot.now)
    for _ in range(31):
        robot.odom(0.0, x=robot.now)
    assert robot.faults() == set()


def test_the_imu_is_not_judged_when_disabled():
    robot = Robot()
    robot.odom()
    robot.imu(math.nan)
    assert robot.faults() == set()


ODOM_W = 0.25


def imu_robot(cfg=IMU_CFG) -> Robot:
    robot = Robot(cfg)
    robot.odom(0.0, ODOM_W)
    return robot


def test_missing_imu_is_a_fault_when_enabled():
    assert imu_robot().faults() == {Reason.IMU_MISSING}


def test_a_fresh_agreeing_imu_is_healthy():
    robot = imu_robot()
    robot.imu(ODOM_W + 0.5)
    assert robot.faults() == set()


@pytest.mark.parametrize('wz, stamp', [(math.nan, NOW), (math.inf, NOW), (ODOM_W, math.nan)])
def test_a_non_finite_imu_sample_is_a_fault(wz, stamp):
    robot = imu_robot()
    robot.imu(wz, stamp=stamp)
    # The check as the decision records it (docs/trace.md): the sample has no value to show.
    assert sensors.imu_checks(robot.state, robot.now, robot.cfg) == [
        Check('imu.finite', False, 'non-finite', 'finite', Reason.IMU_NON_FINITE)]


@pytest.mark.parametrize('age, stale', [(0.25, False), (0.25 + DT, True)])
def test_an_old_imu_sample_is_stale(age, stale):
    robot = imu_robot()
    robot.imu(ODOM_W, stamp=robot.now - age)
    assert (Reason.IMU_STALE in robot.faults()) == stale


# The tolerance (0.5) and the offsets are exact in binary: an offset on it is exactly on it.
@pytest.mark.parametrize('offset, duration, disagree', [
    (0.625, 0.25, False), (0.625, 0.25 + DT, True), (IMU_CFG.imu.yaw_rate_tolerance, 1.0, False)])
def test_imu_and_odometry_yaw_rates_may_disagree_only_briefly(offset, duration, disagree):
    # Disagree: further apart than the tolerance; on it they agree, however long.
    robot = imu_robot()
    robot.imu(ODOM_W + offset)
    for _ in range(round(duration / DT)):
        robot.odom(0.0, ODOM_W)
        robot.imu(ODOM_W + offset)
    assert (Reason.IMU_ODOM_DISAGREE in robot.faults()) == disagree


# ---------------------------------------------------------------- in the decisions


def _silence(gate):
    gate.now += 0.25


@pytest.mark.parametrize('odom, reason', [
    (lambda gate: gate.odom(math.nan), Reason.ODOM_NON_FINITE),
    (lambda gate: gate.odom(3.5), Reason.ODOM_IMPLAUSIBLE),
    (lambda gate: gate.odom(0.5 + 16.0 * TICK), Reason.ODOM_ACCEL_JUMP),
    (lambda gate: gate.odom(stamp=gate.now - TICK), Reason.ODOM_STAMP_BACKWARDS),
    (lambda gate: gate.odom(stamp=gate.now + 0.1), Reason.ODOM_STAMP_IN_FUTURE),
    (_silence, Reason.ODOM_STALE),
], ids=lambda value: value.value if isinstance(value, Reason) else '')
def test_a_sensor_fault_makes_the_next_decision_fall_back(odom, reason):
    gate = driving()
    gate.follow = False
    gate.now += TICK
    odom(gate)
    decision = gate.propose(0.5)
    assert decision.verdict is Verdict.FALLBACK
    assert reason in decision.reasons


def test_stuck_odometry_in_the_loop_falls_back():
    gate = driving()
    gate.follow = False
    decisions = []
    for k in range(round(0.5 / TICK) + 2):
        gate.now += TICK
        gate.odom(0.5, x=1.0)
        decisions.append(gate.propose(0.5) if k % 4 == 3 else gate.tick())
    assert Reason.ODOM_STUCK not in decisions[-2].reasons
    assert decisions[-1].reasons == (Reason.ODOM_STUCK,)


def test_imu_disagreement_in_the_loop_falls_back():
    gate = Gate({'imu.enabled': True})
    gate.imu_bias = 0.0
    gate.drive(0.5, 0.5)
    gate.imu_bias = 0.6
    start = gate.now
    gate.cycles(3, 0.5, 0.5)
    first = next(d for d in gate.decisions if Reason.IMU_ODOM_DISAGREE in d.reasons)
    assert 0.3 < first.t - (start + TICK) <= 0.3 + TICK
    assert first.verdict is Verdict.FALLBACK


@pytest.mark.parametrize('ahead, plausible', [(1 / 16, True), (1 / 16 + DT, False)])
def test_an_imu_stamp_in_the_future_is_a_fault(ahead, plausible):
    # A stamp further ahead than the tolerance: one exactly on it (a tolerance exact in
    # binary, at a time that is too) is not.
    robot = imu_robot(config.build({**IMU_PARAMS, 'future_tolerance': 1 / 16}))
    robot.imu(ODOM_W, stamp=robot.now + ahead)
    assert (Reason.IMU_STAMP_IN_FUTURE not in robot.faults()) == plausible


@pytest.mark.parametrize('measured_w, duration, tracking_error', [
    (1.0, 1.0 + DT, False), (0.5, 1.0, False), (0.5, 1.0 + DT, True), (-1.5, 1.0 + DT, True),
    (2.0, 1.0 + DT, False), (2.125, 1.0, False), (2.125, 1.0 + DT, True)])
def test_output_and_measured_yaw_rate_may_disagree_only_briefly(measured_w, duration,
                                                                tracking_error):
    robot = Robot(output=Command(0.0, 1.5))
    for _ in range(round(duration / DT) + 1):
        robot.odom(0.0, measured_w, x=1.0, yaw=robot.now * measured_w)
    assert (Reason.TRACKING_ERROR in robot.faults()) == tracking_error


@pytest.mark.parametrize('fault', ['stale', 'stuck', 'tracking', 'sample'])
def test_failing_odometry_never_sets_the_ramp_start(fault):
    robot = Robot(output=Command(0.5, 0.0))
    robot.odom(0.25)
    if fault == 'stale':
        robot.now += 0.25 + DT
    elif fault == 'stuck':
        unchanged_odometry(robot, 0.5 + DT, v=0.0)
    elif fault == 'tracking':
        for _ in range(40):
            robot.odom(-0.25)
    else:
        robot.odom(math.nan)
    assert robot.faults()
    assert sensors.trusted_speed(robot.state, robot.now, CFG) is None


def test_frozen_odometry_while_turning_on_the_spot_falls_back_within_stuck_timeout():
    gate = driving(0.0, 1.5)
    gate.follow = False
    frozen_at = gate.now
    for k in range(round(1.0 / TICK)):
        gate.now += TICK
        gate.odom(0.0, 1.5, x=gate.x, yaw=gate.yaw)  # fresh stamps, nothing else moves
        decision = gate.propose(0.0, 1.5) if k % 4 == 3 else gate.tick()
        if Reason.ODOM_STUCK in decision.reasons:
            break
    assert Reason.ODOM_STUCK in decision.reasons
    assert decision.t - frozen_at <= CFG.odom.stuck_timeout + 2 * TICK
    assert decision.verdict is Verdict.FALLBACK


RATE = 0.02  # s: the watchdog at 50 Hz; the planner proposes every fifth tick (10 Hz)


def frozen_then_live(gate: Gate, frozen_for: float, live_for: float):
    """Odometry frozen at standstill, then a robot that follows; 0.2 m/s proposals throughout.

    The robot moved a little while its odometry was frozen, so live odometry
    differs from the frozen sample. Return the decisions of each phase.
    """
    phases = []
    for duration, frozen in ((frozen_for, True), (live_for, False)):
        start = len(gate.decisions)
        gate.x = 0.0 if frozen else 0.05
        for k in range(round(duration / RATE)):
            gate.now += RATE
            if frozen:
                gate.odom(0.0, 0.0, x=0.0, yaw=0.0)
            else:
                gate.x += gate.output.v * RATE
                gate.odom(gate.output.v, gate.output.w, x=gate.x, yaw=0.0)
            if k % 5 == 4:
                gate.propose(0.2)
            else:
                gate.tick()
        phases.append(gate.decisions[start:])
    return phases


def test_frozen_odometry_holds_the_fallback_without_chatter_until_it_moves_again():
    # Stuck odometry is only seen under commanded motion, which the fallback
    # removes: without the hold the gate approved again every 2.4 s.
    gate = Gate(follow=False)
    frozen, live = frozen_then_live(gate, 10.0, 3.0)
    stuck = next(i for i, d in enumerate(frozen) if Reason.ODOM_STUCK in d.reasons)
    assert frozen[stuck].verdict is Verdict.FALLBACK
    assert all(d.verdict is Verdict.FALLBACK and Reason.ODOM_STUCK in d.reasons
               for d in frozen[stuck:])
    # Moving odometry releases the hold; authority comes back through the hysteresis.
    approved = next(d for d in live if d.verdict is Verdict.APPROVE)
    assert approved.t - live[0].t >= gate.cfg.confidence.min_dwell
    assert sum(d.trigger == 'proposal' and d.t < approved.t
               for d in live) >= gate.cfg.confidence.recover_count - 1
    assert Reason.ODOM_STUCK not in live[-1].reasons


def test_a_reset_releases_a_held_stuck_fault_at_standstill_and_rearms_the_check():
    gate = Gate(follow=False)
    frozen_then_live(gate, 3.0, 0.0)
    assert Reason.ODOM_STUCK in gate.tick(RATE).reasons
    result = gate.feed(Reset())
    assert result.reply[0] is True and 'ODOM_STUCK' in result.reply[1]
    assert Reason.ODOM_STUCK not in result.decisions[-1].reasons
    assert not gate.state.latched
    # Re-armed: commanded motion with still-frozen odometry raises it again.
    frozen, _ = frozen_then_live(gate, 3.0, 0.0)
    assert Reason.ODOM_STUCK in frozen[-1].reasons


def test_a_latched_gate_with_a_held_stuck_fault_is_reset_once():
    gate = Gate(follow=False)
    frozen_then_live(gate, 3.0, 0.0)
    gate.feed(Estop(True))
    gate.feed(Estop(False))
    result = gate.feed(Reset())
    assert result.reply[0] is True
    assert result.decisions[-1].reasons == (Reason.NO_PROPOSAL,)


def test_the_first_stuck_fallback_ramps_from_the_last_output_not_the_frozen_speed():
    gate = driving(0.5)
    gate.follow = False
    for v in (0.25, 0.0):  # the odometry winds down to zero, then freezes
        gate.now += TICK
        gate.odom(v, 0.0, x=1.0, yaw=0.0)
    decisions = []
    for k in range(round(1.0 / TICK)):
        gate.now += TICK
        gate.odom(0.0, 0.0, x=1.0, yaw=0.0)
        decisions.append(gate.propose(0.5) if k % 4 == 3 else gate.tick())
    first = next(d for d in decisions if Reason.ODOM_STUCK in d.reasons)
    before = decisions[decisions.index(first) - 1]
    assert before.verdict is Verdict.APPROVE and before.output.v == 0.5
    assert first.output.v == pytest.approx(0.5 - CFG.fallback.decel * TICK)


def test_a_reset_releases_both_held_faults_and_restarts_both_timers():
    held = SensorState(stuck_held=(0.0, 0.0, 1.0, 0.0), tracking_held=(0.5, 0.0),
                       moving_cmd_since=1.0, tracking_bad_since=2.0)
    rearmed = sensors.rearm(held)
    assert (rearmed.stuck_held, rearmed.tracking_held) == (None, None)
    assert (rearmed.moving_cmd_since, rearmed.tracking_bad_since) == (None, None)


def sample_fault(**odom):
    robot = Robot()
    robot.odom(0.0)
    robot.odom(**odom)
    return robot


def held_after(output, samples, x_of):
    """Return a robot at rest under ``output`` for ``samples`` odometry samples at ``x_of(i)``."""
    robot = Robot(output=output)
    for index in range(samples):
        robot.odom(0.0, x=x_of(index))
    robot.command(output)
    return robot


TRACKING_HELD = Check('odom.tracking', False, 'held', 'odometry changes and agrees',
                      Reason.TRACKING_ERROR)


@pytest.mark.parametrize('sample, held', [
    ({'x': 40.0}, False),  # sound, changed, agrees with the output: released
    ({'w': 0.75, 'x': 40.0}, True),  # changed, but disagrees
    ({'x': 40.0, 'stamp': NOW + 10.0}, True),  # changed and agrees, but a faulty sample
    ({'x': 39.0}, True)])  # agrees, but the odometry is as it was held
def test_a_held_tracking_error_is_released_only_by_a_sound_sample_that_changed_and_agrees(
        sample, held):
    robot = held_after(Command(1.0, 0.0), 40, float)
    assert TRACKING_HELD in sensors.odom_checks(robot.state, robot.now, robot.cfg)
    robot.command(ZERO)  # the fallback has stopped
    robot.odom(**sample)
    assert (TRACKING_HELD in sensors.odom_checks(robot.state, robot.now, robot.cfg)) == held


def imu_sample(*yaw_rates, stamp=None):
    """Return the IMU robot after one IMU sample per yaw rate, DT apart."""
    robot = imu_robot()
    for index, wz in enumerate(yaw_rates):
        robot.imu(wz, stamp=stamp, dt=DT if index else 0.0)
    return robot


ODOM, IMU = CFG.odom, IMU_CFG.imu
# (robot, the check it must show): a fault as the decision records it (docs/trace.md), with
# what was measured and the limit, so a report can say what went wrong.
SENSOR_CHECKS = {
    'missing': (lambda: Robot(),
                Check('odom.present', False, None, 'required', Reason.ODOM_MISSING)),
    'fresh': (lambda: sample_fault(v=0.0),
              Check('odom.age', True, 0.0, ODOM.timeout, Reason.ODOM_STALE)),
    'non-finite': (lambda: sample_fault(v=math.nan),
                   Check('odom.finite', False, 'non-finite', 'finite', Reason.ODOM_NON_FINITE)),
    'future': (lambda: sample_fault(stamp=NOW + 2 * DT + 1.0),
               Check('odom.future', False, 1.0, CFG.future_tolerance,
                     Reason.ODOM_STAMP_IN_FUTURE)),
    'implausible': (lambda: sample_fault(v=4.0),
                    Check('odom.plausible', False, [4.0, 0.0],
                          [ODOM.max_speed, ODOM.max_angular_speed], Reason.ODOM_IMPLAUSIBLE)),
    'backwards': (lambda: sample_fault(stamp=NOW),
                  Check('odom.order', False, NOW, NOW + DT, Reason.ODOM_STAMP_BACKWARDS)),
    'jump': (lambda: sample_fault(v=1.0),
             Check('odom.accel', False, 1.0 / DT, ODOM.max_accel, Reason.ODOM_ACCEL_JUMP)),
    'stuck held': (lambda: held_after(MOVING, 20, lambda index: 1.0),
                   Check('odom.stuck', False, 'held', 'odometry changes', Reason.ODOM_STUCK)),
    'tracking held': (lambda: held_after(Command(1.0, 0.0), 40, float),
                      Check('odom.tracking', False, 'held', 'odometry changes and agrees',
                            Reason.TRACKING_ERROR)),
    'unchanged': (lambda: held_after(MOVING, 3, lambda index: 1.0),
                  Check('odom.stuck', True, 2 * DT, ODOM.stuck_timeout, Reason.ODOM_STUCK)),
    'not tracking': (lambda: held_after(Command(1.0, 0.0), 3, float),
                     Check('odom.tracking', True, 2 * DT, ODOM.tracking_timeout,
                           Reason.TRACKING_ERROR)),
    'imu missing': (imu_robot,
                    Check('imu.present', False, None, 'enabled', Reason.IMU_MISSING)),
    'imu fresh': (lambda: imu_sample(ODOM_W),
                  Check('imu.age', True, 0.0, IMU.timeout, Reason.IMU_STALE)),
    'imu future': (lambda: imu_sample(ODOM_W, stamp=NOW + DT + 1.0),
                   Check('imu.future', False, 1.0, CFG.future_tolerance,
                         Reason.IMU_STAMP_IN_FUTURE)),
    'imu disagrees': (lambda: imu_sample(ODOM_W + 0.625, ODOM_W + 0.625),
                      Check('imu.yaw_rate', True, DT, IMU.disagreement_timeout,
                            Reason.IMU_ODOM_DISAGREE)),
}


@pytest.mark.parametrize('case', SENSOR_CHECKS)
def test_a_sensor_check_records_what_it_measured_and_its_limit(case):
    make, expected = SENSOR_CHECKS[case]
    robot = make()
    judged = (sensors.odom_checks(robot.state, robot.now, robot.cfg)
              + sensors.imu_checks(robot.state, robot.now, robot.cfg))
    assert expected in judged, judged
