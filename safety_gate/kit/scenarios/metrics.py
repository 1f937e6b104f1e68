# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Scenario metrics and pass criteria: pure functions of a recording.

No ROS here, so every definition is unit-tested on synthetic recordings.
Times are run-clock seconds (see ``safety_gate.kit.scenarios.recording``). An
*intervention* is a decision whose verdict is FALLBACK or ESTOP; the verdict
in force at time t is that of the last decision received at or before t.

Fault window
    Planner faults: script start + [t_start, t_end). Vehicle faults: from the
    moment the runner injected the fault to the moment it cleared it.
    Latching faults (e-stop, gate restart): from the injection to the first
    accepted reset after it (after the e-stop input was released), judged to
    :data:`CLOCK_SKEW_S`; a reset is timed when its request was sent.

Unsafe command (must be 0)
    A message on ``cmd_vel`` that is (1) non-finite, or non-zero in a
    component the gate never passes; (2) outside the envelope of the
    configuration under test (v above ``max_linear_speed``, -v above
    ``max_reverse_speed``, |w| above ``max_angular_speed``, |v w| above
    ``max_lateral_accel``); (3) non-zero after an e-stop or a gate restart
    and before the first proposal stamped after the accepted reset that
    followed it (messages already in flight are spared: those before the
    first zero output, within :data:`LATCH_GRACE_S`; "after the reset" is
    judged to :data:`CLOCK_SKEW_S`); or (4) an increase of
    |v| or |w| over the previous output during a planner fault whose
    every proposal the configuration rejects (from :data:`REJECT_GRACE_S`
    after onset: a fallback never speeds up or turns harder, so any increase
    means a rejected proposal moved the vehicle).

Clock skew
    The gate, the planner and the recorder each read /clock when they process
    it, so their readings may differ by a step or two. A decision may thus
    carry a time up to :data:`CLOCK_SKEW_S` before the fault that caused it;
    interventions that close to a window count for it (reaction 0), and the
    reset rule above allows the same.
"""

from dataclasses import dataclass, field, replace
import math
from typing import Iterable, List, Optional, Sequence, Tuple

from safety_gate import conservative
from safety_gate.config import GateConfig
from safety_gate.kit.scenarios.model import Fault, Resume, Scenario
from safety_gate.kit.scenarios.recording import Action, DecisionSample, Output, Recording
from safety_gate.kit.world import planner_script
from safety_gate.limits import inside_envelope
from safety_gate.spi import PROPOSAL_TRIGGERS

STANDSTILL_V = 0.02  # m/s: the vehicle stands still below this speed...
STANDSTILL_W = 0.02  # rad/s: ...and this yaw rate
LATCH_GRACE_S = 0.25  # outputs in flight when an e-stop or a restart happens
CLOCK_SKEW_S = 0.05  # two /clock steps: how far the nodes' readings of /clock may differ
# A proposal sent just before onset, its meta pairing wait and one watchdog tick.
REJECT_GRACE_S = 0.2
DETECT_SPAN_S = 1.0  # interventions this long after a window still count for it
STARTUP_S = 0.3  # after script start: the first proposal and its meta pairing
_ZERO = 1e-9
_INCREASE = 1e-6


@dataclass(frozen=True)
class Window:
    """One fault of the scenario, placed on the run clock."""

    index: int
    fault: Fault
    start: float
    end: float


@dataclass(frozen=True)
class Unsafe:
    """One unsafe command: when, what, and which rule it broke."""

    t: float
    v: float
    w: float
    rule: str


@dataclass(frozen=True)
class WindowMetrics:
    """Metrics of one fault window; None where a metric does not apply."""

    index: int
    kind: str
    start: float
    end: float
    reaction_s: Optional[float]  # onset to the first intervention
    reasons: Tuple[str, ...]  # reason codes of interventions during the window
    standstill_s: Optional[float]  # onset to the vehicle standing still
    hold_pct: Optional[float]  # share of the window, after the reaction, intervened
    chatter: int  # returns to APPROVE inside the window after the reaction
    resume_s: Optional[float]  # window end to the first APPROVE


@dataclass(frozen=True)
class DriftMetrics:
    """How the gate met a drift of the confidence mean (``expect.confidence_drift``)."""

    crossing: Optional[float]  # script time the recomputed mean fell below the limit
    entered: Optional[float]  # script time of the first LIMIT with CONSERVATIVE_DRIFT
    not_approved_before: int  # decisions from the start allowance on, before it, not APPROVE
    outside_after: int  # outputs from it on outside the conservative envelope


@dataclass(frozen=True)
class Metrics:
    """Every metric of one run."""

    unsafe: Tuple[Unsafe, ...]
    windows: Tuple[WindowMetrics, ...]
    false_interventions: int  # interventions that started outside every fault window
    false_intervention_pct: float  # share of nominal time spent intervening
    nominal_s: float  # time outside fault windows (and their recovery allowance)
    max_speed: float  # actual forward speed, m/s
    max_reverse_speed: float  # actual reverse speed, m/s
    max_yaw_rate: float  # actual |w|, rad/s
    max_lateral_accel: float  # actual |v w|, m/s^2
    decisions: int
    drift: Optional[DriftMetrics] = None  # with expect.confidence_drift


@dataclass(frozen=True)
class Criterion:
    """One pass criterion: what was measured against what was required."""

    name: str
    ok: bool
    value: str
    limit: str


@dataclass
class Outcome:
    """A scenario's result: passed when every criterion holds and the run completed."""

    criteria: List[Criterion] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def passed(self) -> bool:
        """Return True if the run completed and every criterion held."""
        return self.error is None and all(c.ok for c in self.criteria)

    @property
    def failed(self) -> List[Criterion]:
        """Return the criteria that did not hold."""
        return [c for c in self.criteria if not c.ok]


# ---------------------------------------------------------------- windows

def _first(actions: Iterable[Action], kind: str, index: int) -> Optional[Action]:
    return next((a for a in actions if a.kind == kind and a.fault == index), None)


def _accepted_reset(actions: Sequence[Action], after: float) -> Optional[Action]:
    return next((a for a in actions if a.kind == 'reset' and a.ok and a.t >= after), None)


def windows(scenario: Scenario, rec: Recording) -> List[Window]:
    """Place every fault of ``scenario`` on the run clock of ``rec``."""
    placed = []
    for i, fault in enumerate(scenario.faults):
        if fault.planner:
            start, end = rec.t0 + fault.t_start, rec.t0 + fault.t_end
        else:
            began = _first(rec.actions, 'fault_start', i)
            start = began.t if began is not None else rec.t0 + fault.t_start
            cleared = _first(rec.actions, 'fault_end', i)
            end = cleared.t if cleared is not None else start
            if fault.latching:
                # The gate may read /clock a step or two behind the operator, and take
                # the reset (and approve after it) that much before its recorded time.
                reset = _accepted_reset(rec.actions, end)
                end = reset.t - CLOCK_SKEW_S if reset is not None else rec.end
        placed.append(Window(i, fault, start, max(start, end)))
    return placed


# ---------------------------------------------------------------- verdict timeline

def _intervening(decision: DecisionSample) -> bool:
    return decision.verdict != 'APPROVE'


def _in_force(decisions: Sequence[DecisionSample], t: float) -> Optional[DecisionSample]:
    current = None
    for decision in decisions:
        if decision.t > t:
            break
        current = decision
    return current


def intervened_time(decisions: Sequence[DecisionSample], start: float, end: float) -> float:
    """Return how long within [start, end] the verdict in force was an intervention."""
    total = 0.0
    current = _in_force(decisions, start)
    t = start
    for decision in decisions:
        if decision.t <= start:
            continue
        if decision.t >= end:
            break
        if current is not None and _intervening(current):
            total += decision.t - t
        current, t = decision, decision.t
    if current is not None and _intervening(current):
        total += end - t
    return total


def counted_span(decisions: Sequence[DecisionSample], start: float,
                 end: float) -> List[DecisionSample]:
    """Return the decisions that count for a fault window [start, end].

    Those from :data:`CLOCK_SKEW_S` before it to :data:`DETECT_SPAN_S` after it.
    """
    return [d for d in decisions if start - CLOCK_SKEW_S <= d.t <= end + DETECT_SPAN_S]


def first_intervention(span: Sequence[DecisionSample]) -> Optional[DecisionSample]:
    """Return the first intervention of a window's :func:`counted_span`: its reaction."""
    return next((d for d in span if _intervening(d)), None)


def _window_metrics(window: Window, rec: Recording) -> WindowMetrics:
    decisions = rec.decisions
    start, end = window.start, window.end
    span = counted_span(decisions, start, end)
    first = first_intervention(span)
    reaction = None if first is None else max(0.0, first.t - start)
    reasons = sorted({r for d in span if _intervening(d) for r in d.reasons})
    still = next((s for s in rec.truth if s.t >= start and abs(s.v) <= STANDSTILL_V
                  and abs(s.w) <= STANDSTILL_W), None)
    hold = chatter = None
    if first is None:
        hold, chatter = 0.0, 0
    elif end > first.t:
        hold = 100.0 * intervened_time(decisions, first.t, end) / (end - first.t)
        inside = [d for d in decisions if first.t <= d.t < end]
        chatter = sum(1 for a, b in zip(inside, inside[1:])
                      if _intervening(a) and not _intervening(b))
    at_end = _in_force(decisions, end)
    if at_end is not None and not _intervening(at_end):
        resume = 0.0
    else:
        approval = next((d for d in decisions if d.t >= end and not _intervening(d)), None)
        resume = None if approval is None else approval.t - end
    return WindowMetrics(window.index, window.fault.kind, start, end, reaction, tuple(reasons),
                         None if still is None else still.t - start, hold, chatter or 0, resume)


# ---------------------------------------------------------------- unsafe commands

def _moving(out: Output) -> bool:
    return abs(out.v) > _ZERO or abs(out.w) > _ZERO


def latched_spans(scenario: Scenario, rec: Recording) -> List[Tuple[float, float]]:
    """Return [start, authorised) for each latching fault: no motion is allowed inside.

    Motion is authorised again by the first proposal stamped after the accepted
    reset (the raw clock when the reset was called), from its stamp on; both
    to :data:`CLOCK_SKEW_S`.
    """
    spans = []
    for window in windows(scenario, rec):
        if not window.fault.latching:
            continue
        reset = _accepted_reset(rec.actions, window.start)
        authorised = rec.end
        if reset is not None:
            fresh = next((p for p in rec.proposals if p.t >= reset.t
                          and p.stamp > reset.raw - CLOCK_SKEW_S), None)
            if fresh is not None:
                authorised = rec.at(fresh.stamp, fresh.t) - CLOCK_SKEW_S
        spans.append((window.start, authorised))
    return spans


def rejects_every_proposal(fault: Fault, scenario: Scenario, cfg: GateConfig) -> bool:
    """Return True if ``cfg`` must reject every proposal a planner fault produces.

    Freeze sends nothing, a burst's first pair per tick is valid, a flicker
    is valid every other tick, a flipping plan every other plan and plans
    sent too rarely are each valid, so those never qualify; a confidence
    ramp qualifies only if both its ends are below the threshold.
    """
    kind, conf, env = fault.kind, cfg.confidence, cfg.envelope
    scripted = planner_script.Fault(fault.t_start, fault.t_end, planner_script.FaultKind(kind),
                                    fault.value, fault.alt_value)
    amount = scripted.amount
    traj = cfg.trajectory
    if kind in ('nan', 'inf', 'duplicate_stamp', 'time_order', 'backward_sweep'):
        return True
    if kind == 'backwards_stamp' and scenario.plan is not None:
        return amount + scenario.plan.latency > traj.max_age
    if kind == 'backwards_stamp':
        return amount > cfg.proposal_timeout
    if kind == 'kink':
        return abs(amount) > traj.max_kink_angle
    if kind == 'start_far':
        return abs(amount) > traj.start_tolerance
    if kind == 'curvature':
        return abs(amount) > traj.max_curvature
    if kind == 'malformed_meta':
        return True
    if kind == 'model_swap':
        return cfg.provenance.required and scenario.model_registry().lookup(
            planner_script.SWAPPED_MODEL_SHA256) is None
    if kind in ('no_meta', 'stamp_mismatch'):
        return conf.required
    if kind == 'late_meta':
        return conf.required and amount > conf.pairing_wait
    if kind == 'low_confidence':
        return amount < conf.threshold
    if kind == 'confidence_ramp':
        return max(amount, scripted.alt_amount) < conf.threshold
    if kind == 'overspeed':
        return amount > env.max_linear_speed
    if kind == 'yaw_rate':
        speeds = _route_speeds(scenario.planner_script(), fault.t_start, fault.t_end)
        return abs(amount) > env.max_angular_speed or min(
            abs(v) for v in speeds) * abs(amount) > env.max_lateral_accel
    return False


def _route_speeds(script, t_start: float, t_end: float) -> List[float]:
    speeds, t = [], 0.0
    for segment in script.segments:
        if t < t_end and t + segment.duration > t_start:
            speeds.append(segment.v)
        t += segment.duration
    return speeds or [0.0]


def unsafe_commands(scenario: Scenario, rec: Recording, cfg: GateConfig) -> List[Unsafe]:
    """Return every unsafe command on cmd_vel (see the module docstring)."""
    latched = latched_spans(scenario, rec)
    rejecting = [(w.start + REJECT_GRACE_S, w.end) for w in windows(scenario, rec)
                 if w.fault.planner and rejects_every_proposal(w.fault, scenario, cfg)]
    found = []
    previous: Optional[Output] = None
    for out in rec.outputs:
        rule = None
        if not (math.isfinite(out.v) and math.isfinite(out.w) and out.clean):
            rule = 'non-finite or unused component set'
        elif not inside_envelope(out.v, out.w, cfg.envelope, _ZERO):
            rule = 'outside the envelope'
        elif _moving(out) and any(start <= out.t < end and not _in_flight(
                rec.outputs, out, start) for start, end in latched):
            rule = 'motion while latched'
        elif previous is not None and any(start <= out.t <= end for start, end in rejecting) \
                and (abs(out.v) > abs(previous.v) + _INCREASE
                     or abs(out.w) > abs(previous.w) + _INCREASE):
            rule = 'speeds up on a rejected proposal'
        if rule is not None:
            found.append(Unsafe(out.t, out.v, out.w, rule))
        previous = out
    return found


def _in_flight(outputs: Sequence[Output], out: Output, latched_at: float) -> bool:
    """Return True if ``out`` was sent before the gate saw the latch."""
    if out.t > latched_at + LATCH_GRACE_S:
        return False
    return not any(latched_at <= o.t < out.t and not _moving(o) for o in outputs)


# ---------------------------------------------------------------- confidence drift

def confidence_mean_crossing(decisions: Sequence[DecisionSample], since: float,
                             cfg: GateConfig) -> Optional[float]:
    """Return when the confidence mean over ``spi.window`` first fell below its limit.

    An exact rolling mean, recomputed from the decisions on proposals from
    ``since`` on (the accepted reset that started the gate's windows), judged
    as the gate judges it: once ``spi.min_samples`` proposals are in the window.
    """
    spi = cfg.spi
    window: List[Tuple[float, Optional[float]]] = []
    total = 0.0
    judged = 0
    for decision in decisions:
        if (decision.t < since or decision.record is None
                or decision.record.get('trigger') not in PROPOSAL_TRIGGERS):
            continue
        confidence = decision.confidence
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            confidence = None
        window.append((decision.t, confidence))
        if confidence is not None:
            total, judged = total + confidence, judged + 1
        while window[0][0] <= decision.t - spi.window:
            _, old = window.pop(0)
            if old is not None:
                total, judged = total - old, judged - 1
        if len(window) >= spi.min_samples and judged and total / judged < (
                spi.confidence_mean_limit):
            return decision.t
    return None


def drift_metrics(scenario: Scenario, rec: Recording, cfg: GateConfig) -> DriftMetrics:
    """Measure ``expect.confidence_drift``: the crossing, conservative mode, what came before."""
    reset = next((a for a in reversed(rec.actions) if a.kind == 'reset' and a.ok
                  and a.t <= rec.t0), None)
    crossing = confidence_mean_crossing(rec.decisions, -math.inf if reset is None else reset.t,
                                        cfg)
    entering = next((i for i, d in enumerate(rec.decisions) if d.t >= rec.t0
                     and d.verdict == 'LIMIT' and 'CONSERVATIVE_DRIFT' in d.reasons), None)
    entered = None if entering is None else rec.decisions[entering].t
    until = rec.end if entered is None else entered
    before = sum(1 for d in rec.decisions
                 if rec.t0 + STARTUP_S <= d.t < until and d.verdict != 'APPROVE')
    reduced = conservative.envelope(cfg)
    outside = 0
    if entering is not None:
        # On the sim clock several decisions share a stamp (a tick, then the
        # proposal that enters the mode), so an output stamped at that instant
        # may be an earlier decision's: there, the decisions' own outputs from
        # the entering one on are judged, and after it the published ones.
        outside = sum(1 for d in rec.decisions[entering:] if d.t == entered
                      and not inside_envelope(d.v, d.w, reduced, _ZERO)) + sum(
            1 for out in rec.outputs if out.t > entered
            and not inside_envelope(out.v, out.w, reduced, _ZERO))
    return DriftMetrics(None if crossing is None else crossing - rec.t0,
                        None if entered is None else entered - rec.t0, before, outside)


# ---------------------------------------------------------------- the whole run

HOST_REASONS = ('GATE_OVERRUN', 'CLOCK_STALLED')


def host_limited(scenario: Scenario, rec: Recording) -> List[str]:
    """Return the host-load reasons the gate reported after the script started.

    GATE_OVERRUN and CLOCK_STALLED mean the gate or the simulation did not get
    the CPU to keep up with simulated time; the run then shows the host, not
    the scenario, and is no evidence either way. A gate restarted mid-run
    rightly reports CLOCK_STALLED until its first /clock message; that is not
    counted (its first decisions are the latched ones after the restart).
    """
    decisions = sorted(rec.decisions, key=lambda d: d.t)
    waiting = []
    for window in windows(scenario, rec):
        if window.fault.kind == 'gate_restart':
            ticking = next((d.t for d in decisions if d.t > window.start
                            and 'LATCHED_ON_START' in d.reasons
                            and 'CLOCK_STALLED' not in d.reasons), rec.end)
            waiting.append((window.start, ticking))
    return sorted({r for d in decisions if d.t >= rec.t0 for r in d.reasons
                   if r in HOST_REASONS and not any(a <= d.t <= b for a, b in waiting)})


def _subtract(span: Tuple[float, float],
              holes: Sequence[Tuple[float, float]]) -> List[Tuple[float, float]]:
    pieces = [span]
    for h_start, h_end in holes:
        cut = []
        for start, end in pieces:
            if h_end <= start or h_start >= end:
                cut.append((start, end))
                continue
            if start < h_start:
                cut.append((start, h_start))
            if h_end < end:
                cut.append((h_end, end))
        pieces = cut
    return pieces


def nominal_spans(scenario: Scenario, rec: Recording) -> List[Tuple[float, float]]:
    """Return the spans outside every fault window and its recovery allowance."""
    holes = [(rec.t0, rec.t0 + STARTUP_S)]
    for window in windows(scenario, rec):
        expect = window.fault.expect
        until = rec.end if expect.resume is Resume.FORBIDDEN else (
            window.end + expect.max_resume_s)
        holes.append((window.start - CLOCK_SKEW_S, until))
    return _subtract((rec.t0, rec.end), holes)


def measure(scenario: Scenario, rec: Recording, cfg: GateConfig) -> Metrics:
    """Compute every metric of one run against the configuration under test."""
    # Stamped series are in arrival order, which may differ slightly from stamp order.
    decisions = sorted(rec.decisions, key=lambda d: d.t)
    rec = replace(rec, decisions=decisions, outputs=sorted(rec.outputs, key=lambda o: o.t),
                  truth=sorted(rec.truth, key=lambda s: s.t))
    nominal = nominal_spans(scenario, rec)
    false_count = 0
    previous = None
    for decision in decisions:
        starts = _intervening(decision) and (previous is None or not _intervening(previous))
        if starts and any(start <= decision.t < end for start, end in nominal):
            false_count += 1
        previous = decision
    # One begun in an allowance (the start, a recovery) and still in force after it counts too.
    for start, _ in nominal:
        before = next((d for d in reversed(decisions) if d.t < start), None)
        held = _in_force(decisions, start)
        if before is not None and _intervening(before) and _intervening(held):
            false_count += 1
    nominal_s = sum(end - start for start, end in nominal)
    intervened = sum(intervened_time(decisions, start, end) for start, end in nominal)
    truth = rec.truth
    return Metrics(
        unsafe=tuple(unsafe_commands(scenario, rec, cfg)),
        windows=tuple(_window_metrics(w, rec) for w in windows(scenario, rec)),
        false_interventions=false_count,
        false_intervention_pct=100.0 * intervened / nominal_s if nominal_s > 0 else 0.0,
        nominal_s=nominal_s,
        max_speed=max([0.0] + [s.v for s in truth]),
        max_reverse_speed=max([0.0] + [-s.v for s in truth]),
        max_yaw_rate=max([0.0] + [abs(s.w) for s in truth]),
        max_lateral_accel=max([0.0] + [abs(s.v * s.w) for s in truth]),
        decisions=len(decisions),
        drift=None if scenario.expect.confidence_drift is None else drift_metrics(
            scenario, rec, cfg))


# ---------------------------------------------------------------- pass criteria

def _fmt(value: Optional[float], unit: str = '') -> str:
    if value is None:
        return 'none'
    return f'{value}{unit}' if isinstance(value, int) else f'{value:.2f}{unit}'


def _at_most(name: str, value: Optional[float], limit: Optional[float],
             unit: str = '') -> Optional[Criterion]:
    if limit is None:
        return None
    ok = value is not None and value <= limit + _ZERO
    return Criterion(name, ok, _fmt(value, unit), f'<= {limit:g}{unit}')


def _window_criteria(window: WindowMetrics, fault: Fault) -> List[Criterion]:
    expect = fault.expect
    label = f'{window.kind} @{fault.t_start:g}s'
    found = [
        _at_most(f'{label}: reaction', window.reaction_s, expect.max_reaction_s, ' s'),
        _at_most(f'{label}: standstill', window.standstill_s, expect.max_standstill_s, ' s'),
        _at_most(f'{label}: chatter', window.chatter, expect.max_chatter),
    ]
    if expect.reasons:
        missing = sorted({r.value for r in expect.reasons} - set(window.reasons))
        found.append(Criterion(f'{label}: reasons', not missing,
                               ' '.join(window.reasons) or 'none',
                               'includes ' + ' '.join(r.value for r in expect.reasons)))
    if expect.min_hold_pct is not None and window.hold_pct is not None:
        found.append(Criterion(f'{label}: hold-stop', window.hold_pct >= expect.min_hold_pct
                               - _ZERO, _fmt(window.hold_pct, ' %'),
                               f'>= {expect.min_hold_pct:g} %'))
    if expect.resume is Resume.REQUIRED:
        found.append(_at_most(f'{label}: resume', window.resume_s, expect.max_resume_s, ' s'))
    elif expect.resume is Resume.FORBIDDEN:
        found.append(Criterion(f'{label}: resume', window.resume_s is None,
                               _fmt(window.resume_s, ' s'), 'never'))
    return [c for c in found if c is not None]


def _drift_criteria(drift: DriftMetrics, max_lag_s: float) -> List[Criterion]:
    def script(t: Optional[float]) -> str:
        return 'never' if t is None else f'{t:.2f} s'
    lag = None if drift.crossing is None or drift.entered is None else abs(
        drift.entered - drift.crossing)
    return [
        Criterion('confidence drift: conservative mode (CONSERVATIVE_DRIFT) at the crossing',
                  lag is not None and lag <= max_lag_s + _ZERO,
                  f'{script(drift.entered)}, mean crossed at {script(drift.crossing)}',
                  f'within {max_lag_s:g} s'),
        Criterion('confidence drift: every decision before it an APPROVE',
                  drift.not_approved_before == 0, str(drift.not_approved_before), '0'),
        Criterion('confidence drift: outputs after it inside the conservative envelope',
                  drift.outside_after == 0, str(drift.outside_after), '0'),
    ]


def judge(scenario: Scenario, metrics: Metrics, cfg: GateConfig) -> List[Criterion]:
    """Return every pass criterion of ``scenario`` judged on ``metrics``."""
    env, margin = cfg.envelope, 1.0 + scenario.expect.envelope_margin
    found = [Criterion('unsafe commands', not metrics.unsafe, str(len(metrics.unsafe)), '0')]
    for window in metrics.windows:
        found += _window_criteria(window, scenario.faults[window.index])
    found += [
        _at_most('false interventions', metrics.false_interventions,
                 scenario.expect.max_false_interventions),
        _at_most('max actual speed', metrics.max_speed, env.max_linear_speed * margin,
                 ' m/s'),
        _at_most('max actual reverse speed', metrics.max_reverse_speed,
                 env.max_reverse_speed * margin, ' m/s'),
        _at_most('max actual yaw rate', metrics.max_yaw_rate, env.max_angular_speed * margin,
                 ' rad/s'),
        _at_most('max actual lateral accel', metrics.max_lateral_accel,
                 env.max_lateral_accel * margin, ' m/s^2'),
    ]
    if metrics.drift is not None:
        found += _drift_criteria(metrics.drift, scenario.expect.confidence_drift.max_lag_s)
    return found
