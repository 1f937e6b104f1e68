# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The shadow stage: a candidate planner judged by the same core, never actuated.

A candidate planner publishes beside the production one (``shadow.*``). Its
proposals, plans, metas and reasoning are judged by ``core.step`` in a state
of their own, :class:`ShadowState`, and what the gate would have decided is
traced, never published to an actuator.

The vehicle, its e-stop, its sensors and the clock are the production
gate's: before each candidate event the candidate's state takes them from the
production state of that moment (:data:`_SHARED`, the odometry poses in
trajectory mode, and an accepted reset), so the candidate is judged on the
same sensor, e-stop and clock events without them being fed twice, and the
odometry's tracking and stuck checks keep comparing the vehicle with the
command it really received. What the candidate keeps of its own is what it
proposed: its proposals, metas, pairing, stamp order, authority, its
would-be output and, in trajectory mode, its plans.

The candidate is judged as it would be with full authority: the provenance
checks (approval, model change, stage, weight files) decide who may actuate,
and a shadow candidate never does, so its configuration leaves them out
(:func:`candidate_config`) and its registry is empty. Its model hash is
traced with every shadow decision for the rollout review to match against the
registry.

The production state is only read here: nothing the candidate sends can
reach it, so candidate traffic cannot change a production decision.
"""

from dataclasses import dataclass
import math
from typing import NamedTuple, Optional, Tuple

from safety_gate import core, hysteresis, plan_checks, plan_mode
from safety_gate.config import GateConfig
from safety_gate.decision import Decision, evolve, Verdict
from safety_gate.events import Event, Meta, Plan, Proposal, Reasoning, Tick

# What the candidate is judged on but does not own: the production gate's view
# of the vehicle, its e-stop and the gate's own health.
_SHARED = ('latched', 'latch_reason', 'estop_input', 'estop_seen', 'trace_ok', 'clock_stalled',
           'sensors', 'conservative_request')
# The events a candidate planner sends (ticks reach the shadow only through :func:`due`).
CANDIDATE_EVENTS = (Proposal, Plan, Meta, Reasoning)
# Decisions that judge a candidate plan just received, which is then its latest.
_PLAN_TRIGGERS = ('plan', 'pairing_timeout')


@dataclass(frozen=True)
class ShadowState:
    """The candidate's gate state and the newest model hash its metas named."""

    gate: core.GateState
    cfg: GateConfig
    model_sha256: str = ''


@dataclass(frozen=True)
class Disagreement:
    """How far the candidate is from the production planner when a decision is made.

    ``output_dv``/``output_dw``: the candidate's would-be output against the
    production gate's output (m/s, rad/s). Command mode: ``proposal_dv`` and
    ``proposal_dw`` against the production planner's latest proposal.
    Trajectory mode: ``lateral`` (m, the largest distance of the candidate's
    points from the production plan over their common time) and
    ``longitudinal`` (m, signed, the candidate's point for now ahead of the
    production plan's). None where there is nothing to compare with.
    """

    output_dv: float
    output_dw: float
    proposal_dv: Optional[float] = None
    proposal_dw: Optional[float] = None
    lateral: Optional[float] = None
    longitudinal: Optional[float] = None


@dataclass(frozen=True)
class ShadowDecision:
    """What the gate would have decided for the candidate, and against what."""

    decision: Decision
    model_sha256: str
    production_verdict: Verdict
    disagreement: Disagreement


class ShadowResult(NamedTuple):
    """What one shadow step returns: the candidate's state and its decisions."""

    state: ShadowState
    decisions: Tuple[ShadowDecision, ...] = ()


def candidate_config(cfg: GateConfig) -> GateConfig:
    """Return ``cfg`` without the provenance checks, which only decide who may actuate."""
    return cfg.copy(update={'provenance': cfg.provenance.copy(
        update={'required': False, 'model_files': ''})})


def initial_state(cfg: GateConfig) -> ShadowState:
    """Return the candidate's state at start: the production gate's initial state."""
    return ShadowState(core.initial_state(cfg), candidate_config(cfg))


def due(shadow: ShadowState, now: float, cfg: GateConfig) -> bool:
    """Return True when a watchdog tick would decide the candidate's waiting proposal.

    Only then does a tick reach the shadow: the candidate has no output to keep alive.
    """
    pending = shadow.gate.pending
    return pending is not None and now - pending.received >= cfg.confidence.pairing_wait


def step(shadow: ShadowState, event: Event, now: float, production: core.GateState,
         cfg: GateConfig) -> ShadowResult:
    """Judge one candidate event (or a :func:`due` tick) at ``now`` beside ``production``."""
    if not isinstance(event, CANDIDATE_EVENTS + (Tick,)):
        raise TypeError(f'{type(event).__name__} is not a candidate event')
    result = core.step(_joined(shadow.gate, production), event, now, shadow.cfg)
    model = shadow.model_sha256
    if isinstance(event, Meta) and event.model_sha256:
        model = event.model_sha256
    decisions = tuple(
        ShadowDecision(decision, _model_of(decision, model), production.verdict,
                       _disagreement(decision, result.state, production, now, cfg))
        for decision in result.decisions)
    return ShadowResult(ShadowState(result.state, shadow.cfg, model), decisions)


def _joined(gate: core.GateState, production: core.GateState) -> core.GateState:
    """Return the candidate's state with the production gate's view of the world."""
    shared = {name: getattr(production, name) for name in _SHARED}
    plans = evolve(gate.plans, poses=production.plans.poses)
    if production.reset_time != gate.reset_time:
        shared['reset_time'] = production.reset_time
        # An accepted reset voids what came before it, for the candidate as
        # core._on_reset does for production. (None: production's clock jumped
        # back, which the candidate's own step notices and forgets the past for.)
        if production.reset_time is not None:
            shared.update(latest=None, latest_meta=None, authority=hysteresis.FRESH)
            plans = plan_mode.PlanState(poses=production.plans.poses)
    return evolve(gate, plans=plans, **shared)


def _model_of(decision: Decision, model: str) -> str:
    meta = decision.meta
    return meta.model_sha256 if meta is not None and meta.model_sha256 else model


def _disagreement(decision: Decision, candidate: core.GateState, production: core.GateState,
                  now: float, cfg: GateConfig) -> Disagreement:
    output = decision.output
    found = Disagreement(abs(output.v - production.output.v),
                         abs(output.w - production.output.w))
    proposal, reference = decision.proposal, production.latest
    if proposal is not None and reference is not None:
        return evolve(found, proposal_dv=abs(proposal.v - reference.v),
                      proposal_dw=abs(proposal.w - reference.w))
    if plan_mode.active(cfg) and decision.trigger in _PLAN_TRIGGERS:
        offsets = _plan_offsets(candidate.plans, production.plans, now, cfg)
        if offsets is not None:
            return evolve(found, lateral=offsets[0], longitudinal=offsets[1])
    return found


def _plan_offsets(candidate: plan_mode.PlanState, production: plan_mode.PlanState, now: float,
                  cfg: GateConfig) -> Optional[Tuple[float, float]]:
    """Return (lateral, longitudinal) of the candidate's latest plan from production's."""
    plan, prof = candidate.latest, candidate.latest_profile
    if prof is None or production.latest_profile is None:
        return None
    reference = plan_mode.placed(production.poses, production.latest,
                                 production.latest_profile, plan.stamp, cfg)
    if reference is None:
        return None
    offsets = plan_checks.plan_offsets(prof, plan.stamp, now - plan.stamp, reference)
    if offsets is None or not all(math.isfinite(value) for value in offsets):
        return None
    return offsets
