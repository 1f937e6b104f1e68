# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Sensor plausibility: odometry and IMU, each judged on arrival and over time.

A sample's own faults (non-finite, implausible, a jump, a backwards or future
stamp) are found when it arrives and stay with it until the next sample.
Time-based faults (stale, stuck, tracking, IMU disagreement) are judged at
decision time, because silence is itself the fault.

Stuck odometry and a tracking error can only be observed while motion is
commanded, and the fallback they cause removes that motion. So once raised
they are held (``on_output`` notes the odometry sample they fired on) until
the odometry is seen healthy: for ODOM_STUCK a fault-free sample that differs
from the frozen one, for TRACKING_ERROR a fault-free sample that differs from
the one it fired on and agrees with the output. An operator reset
(:func:`rearm`) releases a held fault and re-arms the check. Without the hold
a persistent fault would hand authority back and take it again every few
seconds.
"""

from dataclasses import dataclass
import math
from typing import List, Optional, Tuple

from safety_gate.config import GateConfig, OdomConfig
from safety_gate.decision import Check, Command, evolve, Reason
from safety_gate.events import Imu, Odom


@dataclass(frozen=True)
class SensorState:
    """What the gate knows about the measured motion."""

    odom: Optional[Odom] = None
    odom_received: float = -math.inf
    odom_fault: Optional[Check] = None
    odom_changed_at: float = -math.inf
    moving_cmd_since: Optional[float] = None
    tracking_bad_since: Optional[float] = None
    # The odometry values a held ODOM_STUCK or TRACKING_ERROR fired on.
    stuck_held: Optional[Tuple[float, ...]] = None
    tracking_held: Optional[Tuple[float, ...]] = None
    imu: Optional[Imu] = None
    imu_received: float = -math.inf
    imu_fault: Optional[Check] = None
    imu_bad_since: Optional[float] = None


def _values(odom: Odom) -> Tuple[float, ...]:
    """Return what changes when the robot moves: speeds, position and heading."""
    return (odom.v, odom.w, odom.x, odom.y, odom.yaw)


def _moving(v: float, w: float, cfg: OdomConfig) -> bool:
    return abs(v) > cfg.stuck_min_cmd or abs(w) > cfg.stuck_min_yaw_rate


def _odom_sample_fault(odom: Odom, prev: Optional[Odom], now: float,
                       cfg: GateConfig) -> Optional[Check]:
    if not all(math.isfinite(x) for x in _values(odom) + (odom.stamp,)):
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
    values = _values(odom)
    same = prev is not None and values == _values(prev)
    tracking_bad = (abs(output.v - odom.v) > cfg.odom.tracking_tolerance
                    or abs(output.w - odom.w) > cfg.odom.tracking_yaw_tolerance)
    sound = fault is None
    stuck_held = state.stuck_held
    if stuck_held is not None and sound and values != stuck_held:
        stuck_held = None
    tracking_held = state.tracking_held
    if (tracking_held is not None and sound and values != tracking_held
            and not tracking_bad):
        tracking_held = None
    return evolve(
        state, odom=odom, odom_received=now, odom_fault=fault,
        odom_changed_at=state.odom_changed_at if same else now,
        tracking_bad_since=_since(state.tracking_bad_since, now, tracking_bad),
        stuck_held=stuck_held, tracking_held=tracking_held)


def on_imu(state: SensorState, imu: Imu, now: float, cfg: GateConfig) -> SensorState:
    """Take a new IMU sample and compare its yaw rate with odometry."""
    fault = None
    if not (math.isfinite(imu.wz) and math.isfinite(imu.stamp)):
        fault = Check('imu.finite', False, 'non-finite', 'finite', Reason.IMU_NON_FINITE)
    elif imu.stamp - now > cfg.future_tolerance:
        fault = Check('imu.future', False, imu.stamp - now, cfg.future_tolerance,
                      Reason.IMU_STAMP_IN_FUTURE)
    disagree = (fault is not None or state.odom is None
                or not abs(imu.wz - state.odom.w) <= cfg.imu.yaw_rate_tolerance)
    return evolve(state, imu=imu, imu_received=now, imu_fault=fault,
                  imu_bad_since=_since(state.imu_bad_since, now, disagree))


def on_output(state: SensorState, output: Command, now: float, cfg: GateConfig) -> SensorState:
    """Hold a motion-observable fault raised at ``now``; note when commanded motion started."""
    changes = {}
    if state.odom is not None:
        values = _values(state.odom)
        stuck = _stuck_check(state, now, cfg.odom)
        if state.stuck_held is None and stuck is not None and not stuck.ok:
            changes['stuck_held'] = values
        tracking = _tracking_check(state, now, cfg.odom)
        if state.tracking_held is None and tracking is not None and not tracking.ok:
            changes['tracking_held'] = values
    moving = _moving(output.v, output.w, cfg.odom)
    if moving != (state.moving_cmd_since is not None):
        changes['moving_cmd_since'] = now if moving else None
    return evolve(state, **changes) if changes else state


def held_faults(state: SensorState) -> List[Reason]:
    """Return the motion-observable faults being held until the odometry is seen healthy."""
    return ([Reason.ODOM_STUCK] if state.stuck_held is not None else []) + (
        [Reason.TRACKING_ERROR] if state.tracking_held is not None else [])


def rearm(state: SensorState) -> SensorState:
    """Release held faults (an operator's reset); the checks start over from now."""
    return evolve(state, stuck_held=None, tracking_held=None, moving_cmd_since=None,
                  tracking_bad_since=None)


def _age(stamp: float, received: float, now: float) -> float:
    """Age by stamp or by arrival, whichever is older."""
    return max(now - stamp, now - received)


def _stuck_check(state: SensorState, now: float, cfg: OdomConfig) -> Optional[Check]:
    if state.stuck_held is not None:
        return Check('odom.stuck', False, 'held', 'odometry changes', Reason.ODOM_STUCK)
    # Unchanged while motion is commanded (counted from when it was), or
    # unchanged while the odometry itself claims motion: a moving robot's pose
    # or heading always changes, whatever the gate outputs during its fallback.
    claims_motion = _moving(state.odom.v, state.odom.w, cfg)
    if state.moving_cmd_since is None and not claims_motion:
        return None
    since = (state.odom_changed_at if claims_motion
             else max(state.odom_changed_at, state.moving_cmd_since))
    unchanged = now - since
    return Check('odom.stuck', unchanged <= cfg.stuck_timeout, unchanged, cfg.stuck_timeout,
                 Reason.ODOM_STUCK)


def _tracking_check(state: SensorState, now: float, cfg: OdomConfig) -> Optional[Check]:
    if state.tracking_held is not None:
        return Check('odom.tracking', False, 'held', 'odometry changes and agrees',
                     Reason.TRACKING_ERROR)
    if state.tracking_bad_since is None:
        return None
    bad_for = now - state.tracking_bad_since
    return Check('odom.tracking', bad_for <= cfg.tracking_timeout, bad_for,
                 cfg.tracking_timeout, Reason.TRACKING_ERROR)


def _odom_judgement(state: SensorState, now: float, cfg: GateConfig) -> List[Check]:
    odom_cfg = cfg.odom
    if state.odom is None:
        return [Check('odom.present', False, None, 'required', Reason.ODOM_MISSING)]
    age = _age(state.odom.stamp, state.odom_received, now)
    checks = [Check('odom.age', age <= odom_cfg.timeout, age, odom_cfg.timeout,
                    Reason.ODOM_STALE)]
    if state.odom_fault is not None:
        checks.append(state.odom_fault)
    for check in (_stuck_check(state, now, odom_cfg), _tracking_check(state, now, odom_cfg)):
        if check is not None:
            checks.append(check)
    return checks


def odom_checks(state: SensorState, now: float, cfg: GateConfig) -> List[Check]:
    """Judge odometry at ``now``; all checks pass when odometry is not required."""
    return _odom_judgement(state, now, cfg) if cfg.odom.required else []


def imu_checks(state: SensorState, now: float, cfg: GateConfig) -> List[Check]:
    """Judge the IMU at ``now``; nothing to judge when it is disabled."""
    imu_cfg = cfg.imu
    if not imu_cfg.enabled:
        return []
    if state.imu is None:
        return [Check('imu.present', False, None, 'enabled', Reason.IMU_MISSING)]
    if state.imu_fault is not None:
        return [state.imu_fault]
    age = _age(state.imu.stamp, state.imu_received, now)
    checks = [Check('imu.age', age <= imu_cfg.timeout, age, imu_cfg.timeout, Reason.IMU_STALE)]
    if state.imu_bad_since is not None:
        bad_for = now - state.imu_bad_since
        checks.append(Check('imu.yaw_rate', bad_for <= imu_cfg.disagreement_timeout, bad_for,
                            imu_cfg.disagreement_timeout, Reason.IMU_ODOM_DISAGREE))
    return checks


def trusted_speed(state: SensorState, now: float, cfg: GateConfig) -> Optional[float]:
    """Return the measured speed if every odometry check passes at ``now``, else None.

    A sensor that is itself failing (stale, a bad sample, stuck, not tracking)
    must never set where the fallback ramp starts.
    """
    if any(not c.ok for c in _odom_judgement(state, now, cfg)):
        return None
    return state.odom.v


def healthy(state: SensorState, now: float, cfg: GateConfig) -> List[Check]:
    """Return the failing sensor checks at ``now`` (empty when healthy)."""
    return [c for c in odom_checks(state, now, cfg) + imu_checks(state, now, cfg) if not c.ok]
