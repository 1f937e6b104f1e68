# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Trajectory mode's part of the core: what it remembers, checks, commands and falls back to.

``core`` keeps the order of a decision and calls in here when
``planner.input`` is not ``twist``. A plan is judged once, when it arrives
(``plan_checks.judge``); while it is the approved one, every tick checks the
vehicle against it and that stopping within what is left of it is still
feasible, and the command is sampled from it (``plan_tracking``). A plan
that was refused keeps its failing checks until the next plan. The fallback
stops along the approved path (``plan_fallback``); without one the core's
own ramp applies.
"""

from dataclasses import dataclass
import math
from typing import List, Optional, Tuple

from safety_gate import plan_checks, plan_fallback, plan_tracking
from safety_gate.config import GateConfig
from safety_gate.decision import Check, Command, evolve, Reason
from safety_gate.ego_motion import Pose, pose_at, relative_pose, vehicle_in_plan_frame
from safety_gate.events import Odom, Plan
from safety_gate.plan_profile import Profile

# Odometry poses kept to place plans: one per _POSE_SPACING s at most (and the
# newest), so the history covers 10 s, longer than a plan is followed (stamped
# 3.35 s before it arrives, then followed for its 6.4 s), at any odometry rate.
# Kept by count alone, 200 Hz odometry covered 2.6 s and every such plan was
# PLAN_EGO_UNKNOWN. Odometry up to 100 Hz is kept whole; faster, thinned to
# 125 Hz, which moves an interpolated pose by millimetres at the envelope's speeds.
_POSE_SPACING = 0.008
_POSES_KEPT = 1280


@dataclass(frozen=True)
class PlanState:
    """What trajectory mode remembers between steps."""

    poses: Tuple[Tuple[float, Pose], ...] = ()
    latest: Optional[Plan] = None
    latest_profile: Optional[Profile] = None
    latest_checks: Tuple[Check, ...] = ()
    approved: Optional[Plan] = None
    approved_profile: Optional[Profile] = None
    stop: Optional[plan_fallback.Stop] = None


def active(cfg: GateConfig) -> bool:
    """Return True if the planner sends plans (``planner.input`` is not ``twist``)."""
    return cfg.planner.input != 'twist'


def on_odom(state: PlanState, odom: Odom) -> PlanState:
    """Keep the pose of a finite odometry sample newer than the last one kept."""
    values = (odom.stamp, odom.x, odom.y, odom.yaw, odom.v)
    if not all(math.isfinite(value) for value in values) or (
            state.poses and odom.stamp <= state.poses[-1][0]):
        return state
    kept = state.poses
    if len(kept) >= 2 and kept[-1][0] - kept[-2][0] < _POSE_SPACING:
        kept = kept[:-1]  # kept only while newest: too close to the one before it
    poses = kept + ((odom.stamp, Pose(odom.x, odom.y, odom.yaw)),)
    return evolve(state, poses=poses[-_POSES_KEPT:])


def _vehicle(state: PlanState, odom: Optional[Odom], stamp: float,
             cfg: GateConfig) -> Optional[plan_checks.Ego]:
    if odom is None or not state.poses:
        return None
    # A plan stamped after the newest odometry (on publishing) is placed at the
    # newest pose while that is fresh: older odometry fails its own check.
    placed = vehicle_in_plan_frame(state.poses, stamp, state.poses[-1][1], cfg.odom.timeout)
    return None if placed is None else plan_checks.Ego(placed, odom.v)


def _previous(state: PlanState, stamp: float, cfg: GateConfig) -> Optional[plan_checks.Previous]:
    if state.approved is None:
        return None
    return placed(state.poses, state.approved, state.approved_profile, stamp, cfg,
                  stopping=state.stop is not None)


def placed(poses: Tuple[Tuple[float, Pose], ...], plan: Plan, prof: Profile, stamp: float,
           cfg: GateConfig, stopping: bool = False) -> Optional[plan_checks.Previous]:
    """Return ``plan`` as the one to compare a plan stamped ``stamp`` with, or None.

    None when the odometry ``poses`` cannot place both stamps, so the two
    frames cannot be related.
    """
    hold = cfg.odom.timeout  # as in _vehicle
    before, after = pose_at(poses, plan.stamp, hold), pose_at(poses, stamp, hold)
    if before is None or after is None:
        return None
    return plan_checks.Previous(prof, plan.stamp, relative_pose(before, after), stopping)


def on_plan(state: PlanState, plan: Plan, odom: Optional[Odom], now: float,
            previous_stamp: Optional[float], reset_time: Optional[float],
            cfg: GateConfig) -> PlanState:
    """Judge a new plan once, against the vehicle now and the approved plan."""
    found, prof = plan_checks.judge(plan, now, _vehicle(state, odom, plan.stamp, cfg),
                                    _previous(state, plan.stamp, cfg), cfg)
    if previous_stamp is not None:
        found.append(Check('plan.order', plan.stamp > previous_stamp, plan.stamp,
                           previous_stamp, Reason.STAMP_NOT_INCREASING))
    if reset_time is not None:
        found.append(Check('plan.after_reset', plan.stamp > reset_time, plan.stamp,
                           reset_time, Reason.PROPOSAL_BEFORE_RESET))
    return evolve(state, latest=plan, latest_profile=prof, latest_checks=tuple(found))


def checks(state: PlanState, odom: Optional[Odom], now: float, fresh: bool,
           cfg: GateConfig) -> List[Check]:
    """Return the plan checks of a decision: on arrival, or on a tick."""
    latest = state.latest
    if latest is None:
        return [Check('plan.present', False, None, 'required', Reason.NO_PROPOSAL)]
    if fresh or latest is not state.approved:
        return list(state.latest_checks)
    prof, age = state.approved_profile, now - latest.stamp
    vehicle = _vehicle(state, odom, latest.stamp, cfg)
    if vehicle is None:
        return [Check('plan.ego', False, 'unknown', 'odometry at the stamp and now',
                      Reason.PLAN_EGO_UNKNOWN)]
    return plan_checks.ego(prof, age, vehicle, cfg) + [
        plan_tracking.remaining_stop_feasible(prof, age, vehicle.speed, cfg)]


def approve(state: PlanState, now: float, fresh: bool, cfg: GateConfig) -> Tuple[PlanState,
                                                                                 Command]:
    """Return the state and the command for now when the decision approves."""
    if fresh:
        state = evolve(state, approved=state.latest, approved_profile=state.latest_profile)
    state = evolve(state, stop=None)
    return state, plan_tracking.command(state.approved_profile, now - state.approved.stamp, cfg)


def fallback(state: PlanState, output: Command, now: float, dt: float,
             cfg: GateConfig) -> Optional[Tuple[PlanState, Command]]:
    """Return the state and the next command of the stop along the approved path.

    None without an approved plan: the core's own ramp applies then.
    """
    if state.approved is None:
        return None
    stop = state.stop
    if stop is None:
        stop = plan_fallback.start(state.approved_profile, now - state.approved.stamp,
                                   output.v, cfg)
    elif stop.speed > abs(output.v):
        # The output was slowed outside the stop (the envelope guard, an internal
        # error's ramp): the stop goes on from there, never back up to its own speed.
        stop = evolve(stop, speed=abs(output.v))
    stop, command = plan_fallback.step(stop, dt, cfg)
    return evolve(state, stop=stop), command
