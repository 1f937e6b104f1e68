# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The decision core: one pure step from (state, event, time) to (state, decision).

No ROS here. The node converts messages into the events of
``safety_gate.events``, calls :func:`step` with the node clock's time and
publishes what comes back; replay and the scenario tools call the same
function, so the same events at the same times give the same decisions.

Order of a decision, fixed here and nowhere else:
latch and e-stop input -> proposal validity -> confidence -> envelope veto -> sensor
plausibility -> clock and trace health -> hysteresis -> output (rate-limited
approval, or fallback ramp, or zero) -> envelope guard.

In trajectory mode (``planner.input`` not ``twist``) the proposal is a plan,
and ``safety_gate.plan_mode`` gives its checks (in place of validity and the
envelope veto), the approved command (sampled from the approved plan) and
the fallback (a stop along the approved path); the order is the same.

Every proposal is decided exactly once, and never after a newer one: a stamped
proposal (or plan) waiting for its meta is decided as refused (``SUPERSEDED``)
the moment another one arrives, so one event can give two decisions, and
the stamp order is judged when a proposal is decided, against the newest
stamp decided so far.
"""

from dataclasses import dataclass
import math
from typing import List, NamedTuple, Optional, Tuple, Union

from safety_gate import (
    checks, conservative, fallback, hysteresis, limits, plan_mode, provenance, registry,
    sensors, spi)
from safety_gate.config import EnvelopeConfig, GateConfig
from safety_gate.decision import (
    Check, Clamp, Command, Decision, evolve, Model, Reason, Verdict, ZERO)
from safety_gate.events import (
    ClockStall, ConservativeRequest, Estop, Event, Imu, Meta, ModelAnnouncement,
    ModelFilesHashed, Odom, Plan, Proposal, Reasoning, Reset, Tick, TraceHealth)
from safety_gate.hysteresis import Authority
from safety_gate.registry import Registry
from safety_gate.sensors import SensorState
from safety_gate.spi import SpiState

# Metas kept for pairing with a command that arrives after them: a few planner
# periods, so a burst cannot grow memory.
_METAS_KEPT = 16
# The error of a meta that missed its pairing window.
_LATE = 'late: arrived after confidence.pairing_wait'


@dataclass(frozen=True)
class Pending:
    """A stamped proposal (twist mode) or plan (trajectory mode) waiting for its meta."""

    proposal: Union[Proposal, Plan]
    received: float

    def command(self) -> Optional[Proposal]:
        """Return the proposal a decision names (a plan is in the trace as its event)."""
        return self.proposal if isinstance(self.proposal, Proposal) else None


@dataclass(frozen=True)
class GateState:
    """Everything the core remembers between steps."""

    latched: bool
    latch_reason: Reason = Reason.LATCHED_ON_START
    # None until the first message: unknown, which counts as engaged when the
    # e-stop is required (estop.required or a heartbeat).
    estop_input: Optional[bool] = None
    estop_seen: float = -math.inf
    reset_time: Optional[float] = None
    last_now: float = -math.inf
    clock_jumped: bool = False
    clock_stalled: bool = False
    # The newest plausible stamp of a proposal decided so far: the order reference.
    decided_stamp: Optional[float] = None
    latest: Optional[Proposal] = None
    latest_meta: Optional[Meta] = None
    latest_received: float = -math.inf
    pending: Optional[Pending] = None
    metas: Tuple[Tuple[Meta, float], ...] = ()
    authority: Authority = hysteresis.FRESH
    sensors: SensorState = SensorState()
    trace_ok: bool = True
    output: Command = ZERO
    output_t: Optional[float] = None
    verdict: Verdict = Verdict.FALLBACK
    plans: plan_mode.PlanState = plan_mode.PlanState()
    # provenance: the approved models, what the planner announced, the gate's
    # own hash of the weight files (None while hashing), the model decided last
    registry: Registry = registry.EMPTY
    announced: Optional[ModelAnnouncement] = None
    files: Optional[ModelFilesHashed] = None
    model_sha256: str = ''
    # conservative mode: out of it while granted; the operator's request; the
    # triggers that fired last; the drift action (set by safety_gate.spi)
    conservative_mode: Authority = conservative.FULL
    conservative_request: bool = False
    conservative_reasons: Tuple[Reason, ...] = ()
    drift: str = 'none'
    spi: SpiState = SpiState()  # the indicators behind ``drift``


class StepResult(NamedTuple):
    """What one step returns: its decisions in order; ``reply`` answers a Reset.

    The reply is (accepted, message); the message says why, not whether:
    ``accepted`` is the whether, and the node's log line and the Trigger
    response carry it.
    """

    state: GateState
    decisions: Tuple[Decision, ...] = ()
    reply: Optional[Tuple[bool, str]] = None


def initial_state(cfg: GateConfig, models: Registry = registry.EMPTY) -> GateState:
    """Return the state at start: latched when ``require_reset_on_start``, output zero.

    ``models`` is the model registry the configuration names (its file, loaded).
    """
    return GateState(latched=cfg.require_reset_on_start, registry=models)


def step(state: GateState, event: Event, now: float, cfg: GateConfig) -> StepResult:
    """Consume one event at node time ``now``."""
    refused = ()
    if now < state.last_now:
        state, refused = _forget_the_past(state, now, cfg)
    state = evolve(state, last_now=now)
    handler = _HANDLERS[type(event)]
    result = handler(state, event, now, cfg)
    if refused:
        result = StepResult(result.state, refused + result.decisions, result.reply)
    if result.state.clock_jumped:
        # A jump must be visible at once, whatever event revealed it (only an
        # output clears the flag, and a refused pending proposal is no output).
        jump_state, decision = _decide(result.state, now, cfg, 'clock_jump')
        result = StepResult(jump_state, result.decisions + (decision,), result.reply)
    if result.decisions:
        result = _observed(result, now, cfg)
    return result


def _observed(result: StepResult, now: float, cfg: GateConfig) -> StepResult:
    """Fold the step's decisions into the SPIs; their limits set the drift action."""
    state = result.state
    odom = state.sensors.odom
    indicators = spi.observe(state.spi, result.decisions, None if odom is None else odom.v,
                             now, cfg.spi)
    return StepResult(evolve(state, spi=indicators, drift=spi.drift(indicators)),
                      result.decisions, result.reply)


def internal_error(state: GateState, now: float, cfg: GateConfig, trigger: str,
                   error: str) -> StepResult:
    """Decide after the step itself failed: FALLBACK (ESTOP if latched), authority revoked.

    Built from constructors only, so it cannot fail where the step did: the
    fallback ramp is tried, and if even that raises the output is zero.
    """
    check = Check('internal', False, error, 'no exception', Reason.INTERNAL_ERROR)
    try:
        output, _ = limits.enforce_envelope(
            ZERO if state.latched else _fallback_output(state, now, cfg), cfg.envelope)
    except Exception:  # noqa: B902 - the defect may be in the ramp itself
        output = ZERO
    verdict = Verdict.ESTOP if state.latched else Verdict.FALLBACK
    decision = Decision(now, trigger, verdict, (Reason.INTERNAL_ERROR,), (check,), None, None,
                        output)
    revoked = hysteresis.Authority(granted=False, last_failure=now, streak=0,
                                   needed=cfg.confidence.recover_count)
    return StepResult(evolve(state, authority=revoked, output=output, output_t=now,
                             verdict=verdict, clock_jumped=False), (decision,))


def shutdown(state: GateState, now: float) -> StepResult:
    """Decide the last time: zero at once, because nothing watches the output after it.

    A proposal still waiting for its meta is the one this decision refuses.
    """
    check = Check('running', False, 'shutting down', 'running', Reason.SHUTDOWN)
    waiting = None if state.pending is None else state.pending.command()
    decision = Decision(now, 'shutdown', Verdict.ESTOP, (Reason.SHUTDOWN,), (check,), waiting,
                        None, ZERO)
    return StepResult(evolve(state, output=ZERO, output_t=now, verdict=Verdict.ESTOP,
                             pending=None), (decision,))


# ---------------------------------------------------------------- event handlers

def _on_proposal(state: GateState, proposal: Proposal, now: float,
                 cfg: GateConfig) -> StepResult:
    # In trajectory mode a velocity command is not an input (the node does not
    # subscribe to one): the trace records it, nothing decides on it, and it
    # can never count as the fresh proposal that hands authority back.
    if plan_mode.active(cfg):
        return StepResult(state)
    if proposal.stamped:
        return _pair(state, Pending(proposal, now), now, cfg)
    state, refused = _refuse_pending(state, now, cfg, proposal.stamp)
    state, decision = _decide_proposal(state, proposal, _latest_meta(state, now, cfg), now, now,
                                       cfg, 'proposal')
    return StepResult(state, refused + (decision,))


def _on_plan(state: GateState, plan: Plan, now: float, cfg: GateConfig) -> StepResult:
    # In twist mode a plan is not an input: the trace records it, nothing decides on it.
    if not plan_mode.active(cfg):
        return StepResult(state)
    # A plan pairs with its meta as a stamped command does; while it waits, the
    # ticks go on following the plan approved before, so that a meta a moment
    # late still refuses a low-confidence plan instead of arriving after its approval.
    return _pair(state, Pending(plan, now), now, cfg)


def _on_reasoning(state: GateState, reasoning: Reasoning, now: float,
                  cfg: GateConfig) -> StepResult:
    # Recorded in the trace with the events; never parsed, never able to approve.
    return StepResult(state)


def _on_meta(state: GateState, meta: Meta, now: float, cfg: GateConfig) -> StepResult:
    state = evolve(state, metas=(state.metas + ((meta, now),))[-_METAS_KEPT:])
    pending = state.pending
    if pending is not None and meta.stamp == pending.proposal.stamp:
        late = now - pending.received > cfg.confidence.pairing_wait
        state, decision = _decide_pending(evolve(state, pending=None), pending,
                                          _late(meta) if late else meta, now, cfg,
                                          timed_out=False)
        return StepResult(state, (decision,))
    return StepResult(state)


def _on_tick(state: GateState, tick: Tick, now: float, cfg: GateConfig) -> StepResult:
    # Only the watchdog firing again ends a stall: other events can arrive on a
    # node clock that runs (a wall clock stepped back) while the watchdog does not.
    state = evolve(state, clock_stalled=False)
    pending = state.pending
    if pending is not None and now - pending.received >= cfg.confidence.pairing_wait:
        state, decision = _decide_pending(evolve(state, pending=None), pending, None, now,
                                          cfg, timed_out=True)
        return StepResult(state, (decision,))
    late = Check('watchdog.late', tick.late <= cfg.monitor.max_late, tick.late,
                 cfg.monitor.max_late, Reason.GATE_OVERRUN)
    decision_state, decision = _decide(state, now, cfg, 'tick', extra=(late,))
    return StepResult(decision_state, (decision,))


def _on_clock_stall(state: GateState, stall: ClockStall, now: float,
                    cfg: GateConfig) -> StepResult:
    decision_state, decision = _decide(evolve(state, clock_stalled=True), now, cfg,
                                       'clock_stall')
    return StepResult(decision_state, (decision,))


def _on_odom(state: GateState, odom: Odom, now: float, cfg: GateConfig) -> StepResult:
    if plan_mode.active(cfg):
        state = evolve(state, plans=plan_mode.on_odom(state.plans, odom))
    return StepResult(evolve(state, sensors=sensors.on_odom(
        state.sensors, odom, now, state.output, cfg)))


def _on_imu(state: GateState, imu: Imu, now: float, cfg: GateConfig) -> StepResult:
    return StepResult(evolve(state, sensors=sensors.on_imu(state.sensors, imu, now, cfg)))


def _on_estop(state: GateState, estop: Estop, now: float, cfg: GateConfig) -> StepResult:
    if not estop.engaged:
        return StepResult(evolve(state, estop_input=False, estop_seen=now))
    state = evolve(state, estop_input=True, estop_seen=now, latched=True,
                   latch_reason=Reason.ESTOP)
    decision_state, decision = _decide(state, now, cfg, 'estop')
    return StepResult(decision_state, (decision,))


def _on_reset(state: GateState, reset: Reset, now: float, cfg: GateConfig) -> StepResult:
    # A held sensor fault waits for motion the gate no longer commands; the
    # operator's reset releases it and re-arms its check (only if accepted).
    held = sensors.held_faults(state.sensors)
    rearmed = evolve(state, sensors=sensors.rearm(state.sensors)) if held else state
    if state.estop_input:
        return StepResult(state, (), (False, 'the e-stop input is still engaged'))
    estop = _estop_check(state, now, cfg)
    if estop is not None and not estop.ok:
        return StepResult(state, (), (False, _ESTOP_REFUSALS[estop.reason].format(
            value=estop.value, limit=estop.limit)))
    withdrawn = state.drift == conservative.DRIFT_WITHDRAW
    if withdrawn:
        # The indicators start afresh too: their latched withdrawal would set it again.
        rearmed = evolve(rearmed, drift='none', spi=spi.reset(state.spi))
    if not state.latched:
        if not (held or withdrawn):
            return StepResult(state, (), (True, 'not latched, no held sensor fault and no '
                                                'drift withdrawal: nothing to reset'))
        decision_state, decision = _decide(rearmed, now, cfg, 'reset')
        released = [f'released the held {", ".join(r.value for r in held)}: the checks are '
                    're-armed'] if held else []
        released += ['cleared the drift withdrawal'] if withdrawn else []
        return StepResult(decision_state, (decision,), (True, '; '.join(released)))
    failing = sensors.healthy(rearmed.sensors, now, cfg)
    if failing:
        names = ', '.join(c.reason.value for c in failing)
        return StepResult(state, (), (False, f'inputs unhealthy ({names})'))
    # The reset only permits motion: every proposal stamped before it is void
    # (a pending one too: it is still decided, and refused by the stamp check).
    state = evolve(rearmed, latched=False, reset_time=now, latest=None, latest_meta=None,
                   authority=hysteresis.FRESH,
                   plans=plan_mode.PlanState(poses=rearmed.plans.poses))
    decision_state, decision = _decide(state, now, cfg, 'reset')
    return StepResult(decision_state, (decision,),
                      (True, 'latch cleared: waiting for a fresh, valid proposal'))


def _on_trace_health(state: GateState, health: TraceHealth, now: float,
                     cfg: GateConfig) -> StepResult:
    return StepResult(evolve(state, trace_ok=health.ok))


def _on_conservative_request(state: GateState, request: ConservativeRequest, now: float,
                             cfg: GateConfig) -> StepResult:
    if not request.on:
        return StepResult(evolve(state, conservative_request=False))
    # Entering is immediate: decide now rather than at the next proposal or tick.
    decision_state, decision = _decide(evolve(state, conservative_request=True), now, cfg,
                                       'conservative')
    return StepResult(decision_state, (decision,))


def _on_model_announcement(state: GateState, announcement: ModelAnnouncement, now: float,
                           cfg: GateConfig) -> StepResult:
    # A candidate's announcement names the shadow planner's model, not this one's.
    if announcement.source != 'planner':
        return StepResult(state)
    return StepResult(evolve(state, announced=announcement))


def _on_model_files_hashed(state: GateState, hashed: ModelFilesHashed, now: float,
                           cfg: GateConfig) -> StepResult:
    # The files are hashed once per start: the first result stands, so a
    # mismatch latches until the gate restarts.
    if state.files is not None:
        return StepResult(state)
    return StepResult(evolve(state, files=hashed))


_HANDLERS = {
    Proposal: _on_proposal, Plan: _on_plan, Reasoning: _on_reasoning, Meta: _on_meta,
    Tick: _on_tick, Odom: _on_odom, Imu: _on_imu, Estop: _on_estop, Reset: _on_reset,
    TraceHealth: _on_trace_health, ClockStall: _on_clock_stall,
    ModelAnnouncement: _on_model_announcement, ModelFilesHashed: _on_model_files_hashed,
    ConservativeRequest: _on_conservative_request,
}


# ---------------------------------------------------------------- pairing

def _pair(state: GateState, arrived: Pending, now: float, cfg: GateConfig) -> StepResult:
    """Decide a stamped arrival with its meta if that came first, else let it wait for it."""
    # Whatever this one is, a waiting one can no longer be the newest: deciding
    # it later could undo this one's decision.
    stamp = arrived.proposal.stamp
    state, refused = _refuse_pending(state, now, cfg, stamp)
    meta = _paired_meta(state, stamp)
    if meta is None and cfg.confidence.pairing_wait > 0.0:
        return StepResult(evolve(state, pending=arrived), refused)
    state, decision = _decide_pending(state, arrived, meta, now, cfg, timed_out=False)
    return StepResult(state, refused + (decision,))


def _paired_meta(state: GateState, stamp: float) -> Optional[Meta]:
    for meta, _ in reversed(state.metas):
        if meta.stamp == stamp:
            return meta
    return None


def _late(meta: Meta) -> Meta:
    """Mark a meta that missed its pairing window; what parsed stays for the trace."""
    return evolve(meta, error=_LATE if meta.error is None else f'{_LATE}; {meta.error}')


def _latest_meta(state: GateState, now: float, cfg: GateConfig) -> Optional[Meta]:
    """Twist mode: the newest meta, if it is recent enough to describe this command."""
    if state.metas:
        meta, received = state.metas[-1]
        if now - received <= cfg.confidence.meta_max_age:
            return meta
    return None


# ---------------------------------------------------------------- the e-stop input

_ESTOP_REFUSALS = {
    Reason.ESTOP_UNKNOWN: 'the e-stop input is unknown (no message on '
                          'safety_gate/estop yet)',
    Reason.ESTOP_HEARTBEAT_LOST: 'the e-stop heartbeat is lost (last message '
                                 '{value:.3g} s ago, estop.heartbeat_timeout {limit} s)',
}


def _estop_check(state: GateState, now: float, cfg: GateConfig) -> Optional[Check]:
    """Judge the e-stop input itself when it is required; None when it is not."""
    heartbeat = cfg.estop.heartbeat_timeout
    if not (cfg.estop.required or heartbeat > 0.0):
        return None
    if state.estop_input is None:
        return Check('estop.input', False, 'unknown', 'a message on safety_gate/estop',
                     Reason.ESTOP_UNKNOWN)
    if heartbeat > 0.0:
        age = now - state.estop_seen
        return Check('estop.heartbeat', age <= heartbeat, age, heartbeat,
                     Reason.ESTOP_HEARTBEAT_LOST)
    return None


# ---------------------------------------------------------------- the decision

def _forget_the_past(state: GateState, now: float,
                     cfg: GateConfig) -> Tuple[GateState, Tuple[Decision, ...]]:
    """After the clock went backwards no stored time can be compared with now.

    A proposal waiting for its meta cannot be judged any more, so it is refused.
    A held sensor fault is kept: it clears on a changed sample, not on time.
    """
    state, refused = _refuse_pending(state, now, cfg, 'the clock jumped back')
    held = state.sensors
    # The e-stop heartbeat restarts from the jump: its last message cannot be
    # dated against the new clock, and the input's value is kept.
    return evolve(state, clock_jumped=True, decided_stamp=None,
                  latest=None, estop_seen=min(state.estop_seen, now),
                  latest_meta=None, latest_received=-math.inf, metas=(),
                  reset_time=None, output_t=now, plans=plan_mode.PlanState(),
                  sensors=SensorState(stuck_held=held.stuck_held,
                                      tracking_held=held.tracking_held),
                  authority=hysteresis.revoke(now, cfg.confidence)), refused


def _refuse_pending(state: GateState, now: float, cfg: GateConfig,
                    overtaken_by: object) -> Tuple[GateState, Tuple[Decision, ...]]:
    """Decide the pending proposal, if any, as SUPERSEDED by ``overtaken_by``.

    The refusal is bookkeeping, not a verdict on the vehicle's situation: the
    output is held, and the authority, the verdict in force and the time of
    the last output are untouched, so whatever is decided next is decided as
    if the proposal had never waited.
    """
    pending = state.pending
    if pending is None:
        return state, ()
    check = Check('proposal.superseded', False, pending.proposal.stamp, overtaken_by,
                  Reason.SUPERSEDED)
    if state.latched:
        verdict, reasons, output = Verdict.ESTOP, (state.latch_reason, Reason.SUPERSEDED), ZERO
    else:
        verdict, reasons, output = Verdict.FALLBACK, (Reason.SUPERSEDED,), state.output
    output, changed = limits.enforce_envelope(output, cfg.envelope)
    decision = Decision(now, 'superseded', verdict, reasons, (check,), pending.command(), None,
                        output, (Clamp.ENVELOPE,) if changed else ())
    return evolve(state, pending=None, decided_stamp=_newest_stamp(
        state.decided_stamp, pending.proposal.stamp, now, cfg)), (decision,)


def _newest_stamp(decided: Optional[float], stamp: float, now: float,
                  cfg: GateConfig) -> Optional[float]:
    # Only a plausible stamp moves the order reference: one far in the future
    # would otherwise block every later proposal until the clock caught up.
    if not (math.isfinite(stamp) and stamp - now <= cfg.future_tolerance):
        return decided
    return stamp if decided is None else max(decided, stamp)


def _decide_proposal(state: GateState, proposal: Proposal, meta: Optional[Meta],
                     received: float, now: float, cfg: GateConfig,
                     trigger: str) -> Tuple[GateState, Decision]:
    previous = state.decided_stamp
    state = evolve(state, latest=proposal, latest_meta=meta, latest_received=received,
                   decided_stamp=_newest_stamp(previous, proposal.stamp, now, cfg))
    return _decide(state, now, cfg, trigger, previous, fresh=True)


def _decide_plan(state: GateState, plan: Plan, meta: Optional[Meta], received: float,
                 now: float, cfg: GateConfig, trigger: str) -> Tuple[GateState, Decision]:
    # Judged as at its arrival (its age, its order), decided now.
    previous = state.decided_stamp
    plans = plan_mode.on_plan(state.plans, plan, state.sensors.odom, received, previous,
                              state.reset_time, _plan_judging_config(state, meta, now, cfg))
    state = evolve(state, plans=plans, latest_meta=meta,
                   decided_stamp=_newest_stamp(previous, plan.stamp, now, cfg))
    return _decide(state, now, cfg, trigger, fresh=True)


def _decide_pending(state: GateState, pending: Pending, meta: Optional[Meta], now: float,
                    cfg: GateConfig, timed_out: bool) -> Tuple[GateState, Decision]:
    if isinstance(pending.proposal, Plan):
        return _decide_plan(state, pending.proposal, meta, pending.received, now, cfg,
                            'pairing_timeout' if timed_out else 'plan')
    return _decide_proposal(state, pending.proposal, meta, pending.received, now, cfg,
                            'pairing_timeout' if timed_out else 'proposal')


def _proposal_checks(state: GateState, now: float, cfg: GateConfig,
                     previous_stamp: Optional[float], fresh: bool) -> List[Check]:
    if plan_mode.active(cfg):
        return plan_mode.checks(state.plans, state.sensors.odom, now, fresh, cfg) + (
            checks.confidence(state.latest_meta, cfg.confidence))
    proposal = state.latest
    if proposal is None:
        return [Check('proposal.present', False, None, 'required', Reason.NO_PROPOSAL)]
    # previous_stamp is given with fresh proposals only: a tick judges no order
    found = checks.validity(proposal, state.latest_received, now, cfg, previous_stamp,
                            state.reset_time)
    return found + checks.confidence(state.latest_meta, cfg.confidence) + checks.envelope(
        proposal, cfg.envelope)


def _decide(state: GateState, now: float, cfg: GateConfig, trigger: str,
            previous_stamp: Optional[float] = None, fresh: bool = False,
            extra: Tuple[Check, ...] = ()):
    estop = _estop_check(state, now, cfg)
    found = [] if estop is None else [estop]
    if estop is not None and not estop.ok and not state.latched and (
            estop.reason is Reason.ESTOP_HEARTBEAT_LOST):
        # A publisher that fell silent is an e-stop that may be pressed: latch.
        # An input never heard of only holds the output at zero (below), so that
        # the first message decides, as require_reset_on_start says.
        state = evolve(state, latched=True, latch_reason=Reason.ESTOP_HEARTBEAT_LOST)
    model = provenance.in_charge(state.latest_meta, state.announced, state.files,
                                 state.registry)
    # Conservative mode is entered at once, before anything is judged: in
    # trajectory mode the plan is judged against the reduced envelope.
    fired = conservative.triggers(state.latest_meta, state.sensors.odom,
                                  state.conservative_request, state.drift, cfg)
    if fired:
        state = evolve(state, conservative_mode=conservative.restrict(now, cfg),
                       conservative_reasons=tuple(c.reason for c in fired))
    reduced, limit_reasons = _reduced_envelope(state, model, cfg)
    judged = cfg if reduced is None or not plan_mode.active(cfg) else cfg.copy(
        update={'envelope': reduced})
    found += _proposal_checks(state, now, judged, previous_stamp, fresh)
    found += provenance.checks(model, state.model_sha256, state.latest_meta, state.files,
                               state.registry, cfg)
    found += conservative.withdrawn(state.drift)
    found += sensors.odom_checks(state.sensors, now, cfg)
    found += sensors.imu_checks(state.sensors, now, cfg)
    found += extra
    if state.clock_jumped:
        found.append(Check('clock', False, 'backwards', 'monotonic', Reason.CLOCK_JUMP_BACK))
    if state.clock_stalled:
        found.append(Check('clock.advancing', False, 'stalled', 'advancing',
                           Reason.CLOCK_STALLED))
    if cfg.trace.required:
        found.append(Check('trace', state.trace_ok, state.trace_ok, True,
                           Reason.TRACE_UNAVAILABLE))
    failing = [c.reason for c in found if not c.ok]

    authority = state.authority
    # Hysteresis governs handing authority back. Until it was first granted
    # since start or reset there is nothing to hand back: proposals that came
    # before odometry, or in flight across a reset, must not delay the first
    # fresh, valid proposal.
    if failing:
        if hysteresis.was_granted(authority):
            authority = hysteresis.revoke(now, cfg.confidence)
    elif fresh:
        authority = hysteresis.on_clean_proposal(authority, state.latest_meta, now,
                                                 cfg.confidence)
    if not failing and not authority.granted:
        found.append(hysteresis.check(authority, now, cfg.confidence))
        failing.append(Reason.HYSTERESIS)
    state = evolve(state, authority=authority,
                   model_sha256=state.model_sha256 if model is None else model.sha256)
    state, reduced, limit_reasons, limit_checks = _leave_conservative(
        state, model, fired, bool(failing), fresh, now, cfg, reduced, limit_reasons)

    clamps: List[Clamp] = []
    envelope = cfg.envelope
    if state.latched or (estop is not None and not estop.ok):
        verdict, output = Verdict.ESTOP, ZERO
        if state.latched:
            failing = [state.latch_reason] + [r for r in failing if r is not state.latch_reason]
    elif state.clock_stalled:
        # Without a moving clock there is no dt to ramp over; with sim time a
        # stalled clock means a paused or dead simulator, so stop at once.
        verdict, output = Verdict.FALLBACK, ZERO
    elif failing:
        verdict = Verdict.FALLBACK
        stop = plan_mode.fallback(state.plans, state.output, now, _dt(state, now), cfg) if (
            plan_mode.active(cfg)) else None
        if stop is None:
            output = _fallback_output(state, now, cfg)
        else:
            plans, output = stop
            state = evolve(state, plans=plans)
    else:
        verdict = Verdict.APPROVE if reduced is None else Verdict.LIMIT
        failing = list(limit_reasons)
        found += limit_checks
        envelope = judged.envelope if reduced is None else reduced
        if plan_mode.active(cfg):
            plans, target = plan_mode.approve(state.plans, now, fresh, judged)
            state = evolve(state, plans=plans)
        else:
            # Under a reduced envelope the proposal is clamped into it, not vetoed.
            target, _ = limits.enforce_envelope(Command(state.latest.v, state.latest.w),
                                                envelope)
        # An approval moves the output by at most what one watchdog period (and
        # the lateness the monitor tolerates) allows: time the node clock jumped
        # over was not spent at the last output. The fallback ramp keeps the
        # whole dt, because a longer dt only brakes harder, toward zero.
        dt, bound = _dt(state, now), 1.0 / cfg.rate_hz + cfg.monitor.max_late
        output, clamps = limits.rate_limit(state.output, target, min(dt, bound), envelope)
        if clamps and dt > bound:
            clamps.append(Clamp.DT_BOUND)
    output, changed = limits.enforce_envelope(output, envelope)
    if changed:
        clamps.append(Clamp.ENVELOPE)

    decision = Decision(now, trigger, verdict, tuple(failing), tuple(found), state.latest,
                        state.latest_meta, output, tuple(clamps), model)
    return _after_output(state, decision, now, cfg), decision


def _plan_judging_config(state: GateState, meta: Optional[Meta], now: float,
                         cfg: GateConfig) -> GateConfig:
    """Return the config a plan arriving with ``meta`` is judged with.

    Under a reduced envelope (a canary model, conservative mode in force or
    entered by this very decision) the plan's kinematics are judged against it.
    """
    model = provenance.in_charge(meta, state.announced, state.files, state.registry)
    if conservative.triggers(meta, state.sensors.odom, state.conservative_request, state.drift,
                             cfg):
        state = evolve(state, conservative_mode=conservative.restrict(now, cfg))
    reduced, _ = _reduced_envelope(state, model, cfg)
    return cfg if reduced is None else cfg.copy(update={'envelope': reduced})


def _reduced_envelope(state: GateState, model: Optional[Model],
                      cfg: GateConfig) -> Tuple[Optional[EnvelopeConfig], Tuple[Reason, ...]]:
    """Return the reduced envelope in force (None: the full one) and the reasons for it.

    A canary model's scaled envelope and conservative mode's envelope, or
    inside both when both are in force.
    """
    reduced, reasons = None, ()
    canary = provenance.canary_entry(model, state.registry)
    if canary is not None:
        reduced = provenance.scaled(cfg.envelope, canary.envelope_scale)
        reasons = (Reason.MODEL_CANARY,)
    if not state.conservative_mode.granted:
        reduced = conservative.tighter(reduced, conservative.envelope(cfg))
        reasons += state.conservative_reasons
    return reduced, reasons


def _leave_conservative(state: GateState, model: Optional[Model], fired: List[Check],
                        failing: bool, fresh: bool, now: float, cfg: GateConfig,
                        reduced: Optional[EnvelopeConfig], reasons: Tuple[Reason, ...]):
    """Advance the way out of conservative mode; return the state and what a LIMIT shows.

    A clean fresh proposal with no trigger firing counts toward leaving, as it
    counts toward authority. A failing check leaves the way out where it is:
    authority itself then restarts its hand-back, with the same count and dwell.
    Returns (state, reduced envelope, its reasons, the checks a LIMIT decision records).
    """
    mode = state.conservative_mode
    if fired or mode.granted or failing:
        return state, reduced, reasons, fired
    if fresh:
        mode = conservative.relax(mode, state.latest_meta, now, cfg)
        state = evolve(state, conservative_mode=mode)
        if mode.granted:
            reduced, reasons = _reduced_envelope(state, model, cfg)
            return state, reduced, reasons, []
    return state, reduced, reasons, [conservative.exit_check(mode, now, cfg)]


def _dt(state: GateState, now: float) -> float:
    return 0.0 if state.output_t is None else max(0.0, now - state.output_t)


def _fallback_output(state: GateState, now: float, cfg: GateConfig) -> Command:
    if state.verdict.approves:
        return fallback.first_step(state.output, sensors.trusted_speed(state.sensors, now, cfg),
                                   _dt(state, now), cfg.fallback, cfg.envelope)
    return fallback.step(state.output, _dt(state, now), cfg.fallback, cfg.envelope)


def _after_output(state: GateState, decision: Decision, now: float,
                  cfg: GateConfig) -> GateState:
    return evolve(state, output=decision.output, output_t=now, verdict=decision.verdict,
                  clock_jumped=False,
                  sensors=sensors.on_output(state.sensors, decision.output, now, cfg))
