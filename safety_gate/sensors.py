# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Sensor plausibility: odometry and IMU, each judged on arrival and over time.

A sample's own faults (non-finite, implausible, a jump, a backwards or future
stamp) are found when it arrives and stay with it until the next sample.
Time-based faults (stale, stuck, tracking, IMU disagreement) are judged at
decision time, because silence is itself the fault.
"""

from dataclasses import dataclass
import math
from typing import List, Optional

from safety_gate.config import GateConfig
from safety_gate.types import Check, Command, evolve, Imu, Odom, Reason


@dataclass(frozen=True)
class SensorState:
    """What the gate knows about the measured motion."""

    odom: Optional[Odom] = None
    odom_received: float = -math.inf
    odom_fault: Optional[Check] = None
    odom_changed_at: float = -math.inf
    moving_cmd_since: Optional[float] = None
    tracking_bad_since: Optional[float] = None
    imu: Optional[Imu] = None
    imu_received: float = -math.inf
    imu_finite: bool = True
    imu_bad_since: Optional[float] = None


def _odom_sample_fault(odom: Odom, prev: Optional[Odom], now: float,
                       cfg: GateConfig) -> Optional[Check]:
    values = (odom.v, odom.w, odom.x, odom.y, odom.stamp)
    if not all(math.isfinite(x) for x in values):
        return Check('odom.finite', False, 'non-finite', 'finite', Reason.ODOM_NON_FINITE)
    if odom.stamp - now > cfg.future_tolerance:
        return Check('odom.future', False, odom.stamp - now, cfg.future_tolerance,
                     Reason.ODOM_STAMP_IN_FUTURE)
    if abs(odom.v) > cfg.odom.max_speed or abs(odom.w) > cfg.odom.max_angular_speed:
        return Check('odom.plausible', False, [odom.v, odom.w],
                     [cfg.odom.max_speed, cfg.odom.max_angular_speed], Reason.ODOM_IMPLAUSIBLE)
    if prev is None or not math.isfinite(prev.stamp):
        return None
    dt = odom.stamp - prev.stamp
    if dt <= 0.0:
        return Check('odom.order', False, odom.stamp, prev.stamp, Reason.ODOM_STAMP_BACKWARDS)
    accel = abs(odom.v - prev.v) / dt if math.isfinite(prev.v) else 0.0
    if accel > cfg.odom.max_accel:
        return Check('odom.accel', False, accel, cfg.odom.max_accel, Reason.ODOM_ACCEL_JUMP)
    return None


def _since(started: Optional[float], now: float, condition: bool) -> Optional[float]:
    """Return when ``condition`` became continuously true, or None if it is false."""
    if not condition:
        return None
    return now if started is None else started


def on_odom(state: SensorState, odom: Odom, now: float, output: Command,
            cfg: GateConfig) -> SensorState:
    """Take a new odometry sample."""
    prev = state.odom
    fault = _odom_sample_fault(odom, prev, now, cfg)
    same = prev is not None and (odom.v, odom.w, odom.x, odom.y) == (
        prev.v, prev.w, prev.x, prev.y)
    tracking_bad = abs(output.v - odom.v) > cfg.odom.tracking_tolerance
    return evolve(
        state, odom=odom, odom_received=now, odom_fault=fault,
        odom_changed_at=state.odom_changed_at if same else now,
        tracking_bad_since=_since(state.tracking_bad_since, now, tracking_bad))


def on_imu(state: SensorState, imu: Imu, now: float, cfg: GateConfig) -> SensorState:
    """Take a new IMU sample and compare its yaw rate with odometry."""
    finite = math.isfinite(imu.wz) and math.isfinite(imu.stamp)
    disagree = (not finite or state.odom is None
                or not abs(imu.wz - state.odom.w) <= cfg.imu.yaw_rate_tolerance)
    return evolve(state, imu=imu, imu_received=now, imu_finite=finite,
                  imu_bad_since=_since(state.imu_bad_since, now, disagree))


def on_output(state: SensorState, output: Command, now: float, cfg: GateConfig) -> SensorState:
    """Note when commanded motion started, for the stuck-odometry check."""
    moving = abs(output.v) > cfg.odom.stuck_min_cmd
    if moving == (state.moving_cmd_since is not None):
        return state
    return evolve(state, moving_cmd_since=now if moving else None)


def _age(stamp: float, received: float, now: float) -> float:
    """Age by stamp or by arrival, whichever is older."""
    return max(now - stamp, now - received)


def odom_checks(state: SensorState, now: float, cfg: GateConfig) -> List[Check]:
    """Judge odometry at ``now``; all checks pass when odometry is not required."""
    odom_cfg = cfg.odom
    if not odom_cfg.required:
        return []
    if state.odom is None:
        return [Check('odom.present', False, None, 'required', Reason.ODOM_MISSING)]
    age = _age(state.odom.stamp, state.odom_received, now)
    checks = [Check('odom.age', age <= odom_cfg.timeout, age, odom_cfg.timeout,
                    Reason.ODOM_STALE)]
    if state.odom_fault is not None:
        checks.append(state.odom_fault)
    # Stuck: unchanged while motion is commanded (counted from when it was), or
    # unchanged while the odometry itself claims motion: a moving robot's pose
    # always changes, whatever the gate outputs during its fallback.
    claims_motion = abs(state.odom.v) > odom_cfg.stuck_min_cmd
    if state.moving_cmd_since is not None or claims_motion:
        since = (state.odom_changed_at if claims_motion
                 else max(state.odom_changed_at, state.moving_cmd_since))
        unchanged = now - since
        checks.append(Check('odom.stuck', unchanged <= odom_cfg.stuck_timeout, unchanged,
                            odom_cfg.stuck_timeout, Reason.ODOM_STUCK))
    if state.tracking_bad_since is not None:
        bad_for = now - state.tracking_bad_since
        checks.append(Check('odom.tracking', bad_for <= odom_cfg.tracking_timeout, bad_for,
                            odom_cfg.tracking_timeout, Reason.TRACKING_ERROR))
    return checks


def imu_checks(state: SensorState, now: float, cfg: GateConfig) -> List[Check]:
    """Judge the IMU at ``now``; nothing to judge when it is disabled."""
    imu_cfg = cfg.imu
    if not imu_cfg.enabled:
        return []
    if state.imu is None:
        return [Check('imu.present', False, None, 'enabled', Reason.IMU_MISSING)]
    if not state.imu_finite:
        return [Check('imu.finite', False, 'non-finite', 'finite', Reason.IMU_NON_FINITE)]
    age = _age(state.imu.stamp, state.imu_received, now)
    checks = [Check('imu.age', age <= imu_cfg.timeout, age, imu_cfg.timeout, Reason.IMU_STALE)]
    if state.imu_bad_since is not None:
        bad_for = now - state.imu_bad_since
        checks.append(Check('imu.yaw_rate', bad_for <= imu_cfg.disagreement_timeout, bad_for,
                            imu_cfg.disagreement_timeout, Reason.IMU_ODOM_DISAGREE))
    return checks


def trusted_speed(state: SensorState, now: float, cfg: GateConfig) -> Optional[float]:
    """Return the measured speed if the latest odometry is fresh and sane, else None."""
    odom = state.odom
    if odom is None or state.odom_fault is not None:
        return None
    if _age(odom.stamp, state.odom_received, now) > cfg.odom.timeout:
        return None
    return odom.v


def healthy(state: SensorState, now: float, cfg: GateConfig) -> List[Check]:
    """Return the failing sensor checks at ``now`` (empty when healthy)."""
    return [c for c in odom_checks(state, now, cfg) + imu_checks(state, now, cfg) if not c.ok]
