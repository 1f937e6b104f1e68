# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Properties of the core over long random event sequences (Hypothesis).

A scenario is a random config and a list of templates; ``play`` turns each
template into events at the current time (a stamp is "now + offset", the
simulated odometry may follow the output) and steps the core through them.
Every decision is also held to the core fuzzer's checks
(``safety_gate.tools.fuzz``): its output invariant, and the audit that every
proposal is decided exactly once and never approved after a newer stamp; and
to an :class:`Oracle` that knows, from the input events alone, the latch, the
e-stop input, a stalled clock, the envelope, late ticks and late metas.
The strategies reach the limits (each envelope limit on the dot and just
beyond, swerves that the envelope guard cuts, late ticks and metas, IMU
faults, resets in every state), and the run counts the regions it reached:
printed (``pytest -s``), written to ``property_coverage.json`` in the test's
tmp dir, and asserted (:data:`MUST_REACH`, :data:`MIN_APPROVE_SHARE`), so a
strategy that drifts away from them fails.
test_replay_roundtrip.py reuses ``scenarios`` and ``play``.

``SAFETY_GATE_HYPOTHESIS_EXAMPLES`` sets the number of examples per property
(``make fuzz`` raises it; the region assertions need about the default, 150);
the default keeps this file near half a minute on two cores.
"""

from collections import Counter
import json
import math
import os
from typing import List, NamedTuple, Optional, Tuple

from hypothesis import given, HealthCheck, settings, strategies as st

from safety_gate import config, core
from safety_gate.decision import Clamp, Decision, Reason, Verdict, ZERO
from safety_gate.events import (
    ClockStall, Estop, Imu, Meta, Odom, Proposal, Reset, stamp_to_seconds, Tick, TraceHealth)
from safety_gate.meta import parse_meta
from safety_gate.tools.fuzz import Invariant, ProposalAudit

EXAMPLES = int(os.environ.get('SAFETY_GATE_HYPOTHESIS_EXAMPLES', '150'))
# Derandomized: the coverage the invariants test asserts must not depend on the run's luck;
# `make fuzz` explores further with more examples.
PROPERTY_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])
T0 = 1000.0
SPECIAL = [math.nan, math.inf, -math.inf, 1e308, -1e308, 0.0, -0.0]

# ---------------------------------------------------------------- strategies


def _mostly(common, rare):
    """Draw from ``common`` three times out of four."""
    return st.one_of(common, common, common, rare)


def _values(bound):
    return _mostly(st.floats(-bound, bound), st.sampled_from(SPECIAL))


time_steps = st.one_of(
    st.just(0.0), st.sampled_from([0.02, 0.1]), st.floats(0.0, 0.1), st.floats(0.0, 0.1),
    st.floats(0.0, 2.0), st.floats(-3.0, 0.0), st.sampled_from([10.0, -10.0]))
stamp_offsets = _mostly(
    st.sampled_from([0.0, 0.0, -0.01, -0.1, -0.35, 0.04, 0.2]) | st.floats(-1.0, 0.3),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e9, -1e9]))
confidences = _mostly(st.floats(0.0, 1.0),
                      st.sampled_from([None, True, '0.9', 1.5, -0.1, 'NaN', {}]))
# A reasoning that is no string makes the meta malformed around a confidence that parsed.
reasonings = st.sampled_from(['', 'clear road', 'NaN', 'Infinity', '-Infinity', 'x' * 50, 7])

planner_cycles = st.tuples(st.just('cycle'), _values(2.0), _values(3.0), stamp_offsets,
                           confidences, reasonings, st.booleans())
# A planner driving in earnest: 10 Hz commands, 50 Hz ticks, odometry and IMU that follow.
drives = st.tuples(st.just('drive'), st.integers(1, 10), st.floats(-0.4, 1.2),
                   st.floats(-1.6, 1.6), _mostly(st.floats(0.6, 1.0), st.floats(0.0, 1.0)))
# Long confident runs keep approvals at a fifth of the decisions or more (MIN_APPROVE_SHARE).
long_drives = st.tuples(st.just('drive'), st.integers(5, 15), st.floats(-0.4, 1.2),
                        st.floats(-1.6, 1.6), st.floats(0.6, 1.0))
# The planner drives or turns on the spot while the odometry is frozen (fresh
# stamps, same values): mid-turn, or at a speed below the output's.
frozen_drives = st.tuples(st.just('frozen'), st.integers(1, 20),
                          st.sampled_from([0.0, 0.3, 0.8]), st.floats(-1.6, 1.6),
                          st.sampled_from([0.0, 0.05, 1.0]))
# A swerve drives on the speed limit, then on the yaw limit: on the way the
# rate-limited output can cross the lateral limit, which the envelope guard cuts.
EDGES = ('speed', 'reverse', 'yaw', 'lateral', 'swerve')
# Just inside, on, and just beyond the limit (1 + 1e-9 is beyond it after rounding).
EDGE_SCALES = (0.98, 1.0, 1.0 + 1e-9, 1.02)
edges = st.tuples(st.just('edge'), st.sampled_from(EDGES), st.sampled_from(EDGE_SCALES),
                  st.booleans(), st.integers(1, 10))
swerves = st.tuples(st.just('edge'), st.just('swerve'), st.sampled_from([0.98, 1.0]),
                    st.booleans(), st.integers(1, 4))
IMU_FAULTS = ('stale', 'disagree', 'non_finite', 'future', 'silent')
templates = st.one_of(
    st.tuples(st.just('tick')), st.tuples(st.just('tick')), planner_cycles, drives, drives,
    drives, drives, long_drives,
    frozen_drives,
    st.tuples(st.just('follow'), st.floats(-0.2, 0.2), stamp_offsets),
    st.tuples(st.just('proposal'), _values(2.0), _values(3.0), stamp_offsets, st.booleans()),
    st.tuples(st.just('meta'), stamp_offsets, confidences, reasonings),
    # The meta of the last stamped proposal, late: after ticks or after the next proposal.
    st.tuples(st.just('late_meta'), confidences, reasonings),
    st.tuples(st.just('odom'), _values(4.0), _values(7.0), _values(10.0), stamp_offsets),
    st.tuples(st.just('imu'), _values(7.0), stamp_offsets),
    st.tuples(st.just('estop'), st.sampled_from([False, False, False, True])),
    st.tuples(st.just('reset')), st.tuples(st.just('rearm')), st.tuples(st.just('rearm')),
    st.tuples(st.just('trace'), st.sampled_from([True, True, False])),
    st.tuples(st.just('stall')),
    # Long approved runs at, just inside and just beyond each envelope limit.
    edges, edges, swerves, swerves,
    # A watchdog tick that fired late by a share of monitor.max_late.
    st.tuples(st.just('late_tick'), st.sampled_from([0.5, 1.0, 1.0 + 1e-9, 1.5])),
    # A stamped command whose meta follows after a share of confidence.pairing_wait.
    st.tuples(st.just('late_pair'), st.floats(0.0, 0.5), st.sampled_from([0.5, 1.0, 1.5])),
    st.tuples(st.just('imu_fault'), st.sampled_from(IMU_FAULTS), st.integers(1, 10)),
)


@st.composite
def configs(draw):
    """Draw a valid config: defaults, or random values inside the ranges and rules."""
    if draw(st.booleans()):
        return config.build({'require_reset_on_start': draw(st.booleans())})
    threshold = draw(st.floats(0.0, 1.0))
    linear = draw(st.floats(0.2, 3.0))
    decel = draw(st.floats(0.5, 5.0))
    angular_accel = draw(st.floats(0.5, 6.0))
    return config.build({
        'require_reset_on_start': draw(st.booleans()),
        'confidence.required': draw(st.booleans()),
        'confidence.threshold': threshold,
        'confidence.recover_threshold': draw(st.floats(threshold, 1.0)),
        'confidence.recover_count': draw(st.integers(1, 5)),
        'confidence.min_dwell': draw(st.floats(0.0, 1.0)),
        'confidence.pairing_wait': draw(st.floats(0.0, 0.1)),
        'odom.required': draw(st.booleans()),
        'imu.enabled': draw(st.booleans()),
        'trace.required': draw(st.booleans()),
        'envelope.max_linear_speed': linear,
        'envelope.max_reverse_speed': draw(st.floats(0.0, linear)),
        'envelope.max_angular_speed': draw(st.floats(0.1, 3.0)),
        'envelope.max_lateral_accel': draw(st.floats(0.1, 3.0)),
        'envelope.max_linear_accel': draw(st.floats(0.1, 5.0)),
        'envelope.max_linear_decel': decel,
        'envelope.max_angular_accel': angular_accel,
        'fallback.decel': draw(st.floats(0.1, decel)),
        'fallback.angular_decel': draw(st.floats(0.1, angular_accel)),
    })


@st.composite
def scenarios(draw, internal_errors=True, max_size=200):
    """(config, [(time step, template)]); optionally with internal errors among the events."""
    kinds = st.one_of(templates, st.just(('internal_error',))) if internal_errors else templates
    size = draw(st.integers(1, max_size))
    script = draw(st.lists(st.tuples(time_steps, kinds), min_size=size, max_size=size))
    if draw(st.integers(0, 3)):
        # Released, reset and driving: the rest of the script starts where approvals are.
        script = WARM_START + script
    return draw(configs()), script


WARM_START = [(0.0, ('rearm',)), (0.02, ('drive', 5, 0.3, 0.0, 1.0))]

# ---------------------------------------------------------------- playing a scenario


class Step(NamedTuple):
    """One call into the core: its time, the event (None for internal_error) and result.

    ``pending`` is the proposal left waiting for its meta after the call.
    """

    now: float
    event: Optional[object]
    decisions: Tuple[Decision, ...]
    reply: Optional[Tuple[bool, str]] = None
    pending: Optional[Proposal] = None


def _ros_stamp(t):
    """Round to a ROS stamp, so a command and its meta compare equal as in the node."""
    if not math.isfinite(t) or abs(t) >= 2 ** 31:
        return t, None
    sec = math.floor(t)
    nanosec = min(int(round((t - sec) * 1e9)), 999_999_999)
    return stamp_to_seconds(sec, nanosec), {'sec': sec, 'nanosec': nanosec}


class _World:
    """The clock, the gate's state, and a robot whose odometry follows the gate's output."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.state = core.initial_state(cfg)
        self.now = T0
        self.x = 0.0
        self.last_stamp_doc = None
        self.yaw = 0.0

    def odom(self, noise=0.0, offset=0.0):
        output = self.state.output
        self.x += output.v * 0.02 + noise * 0.01
        self.yaw += output.w * 0.02
        return Odom(output.v + noise, output.w, self.x, 0.0, self.now + offset, self.yaw)

    def meta(self, stamp_doc, confidence, reasoning):
        doc = {'stamp': stamp_doc, 'reasoning': reasoning, 'model_sha256': 'ab' * 32}
        spelled = confidence if confidence == 'NaN' else json.dumps(confidence)
        text = json.dumps(doc)[:-1] + f', "confidence": {spelled}}}'
        conf = self.cfg.confidence
        return parse_meta(text, conf.max_meta_bytes, conf.max_reasoning_chars)

    def events(self, template):
        """Yield the events of one template as they happen (a drive moves the clock)."""
        kind, *args = template
        if kind == 'drive':
            yield from self._drive(*args)
        elif kind == 'frozen':
            yield from self._frozen(*args)
        elif kind == 'cycle':
            v, w, offset, confidence, reasoning, meta_first = args
            stamp, self.last_stamp_doc = _ros_stamp(self.now + offset)
            pair = [self.meta(self.last_stamp_doc, confidence, reasoning),
                    Proposal(v, w, stamp)]
            yield from (pair if meta_first else pair[::-1])
        elif kind == 'follow':
            yield self.odom(*args)
        elif kind == 'proposal':
            v, w, offset, stamped = args
            stamp, stamp_doc = _ros_stamp(self.now + offset)
            if stamped:
                self.last_stamp_doc = stamp_doc
            yield Proposal(v, w, stamp if stamped else self.now, stamped)
        elif kind == 'late_meta':
            yield self.meta(self.last_stamp_doc, *args)
        elif kind == 'meta':
            offset, confidence, reasoning = args
            yield self.meta(_ros_stamp(self.now + offset)[1], confidence, reasoning)
        elif kind == 'odom':
            v, w, x, offset = args
            yield Odom(v, w, x, 0.0, self.now + offset)
        elif kind == 'imu':
            yield Imu(args[0], self.now + args[1])
        elif kind == 'estop':
            yield Estop(args[0])
        elif kind == 'reset':
            yield Reset()
        elif kind == 'rearm':
            yield Estop(False)
            yield self.odom()
            yield Reset()
        elif kind == 'trace':
            yield TraceHealth(args[0])
        elif kind == 'stall':
            yield ClockStall()
        elif kind == 'edge' and args[0] == 'swerve':
            env = self.cfg.envelope
            # Long enough to reach the speed limit from standstill (a drive period is 0.1 s).
            ramp = max(env.max_linear_speed / env.max_linear_accel,
                       env.max_angular_speed / env.max_angular_accel)
            yield from self._drive(min(40, math.ceil(ramp / 0.1) + 1), env.max_linear_speed,
                                   env.max_lateral_accel / env.max_linear_speed * args[1], 1.0)
            v = min(env.max_linear_speed, env.max_lateral_accel / env.max_angular_speed)
            yield from self._drive(args[-1], v * args[1], env.max_angular_speed, 1.0)
        elif kind == 'edge':
            yield from self._drive(args[-1], *self._edge(*args[:-1]), 1.0)
        elif kind == 'late_tick':
            yield Tick(self.cfg.monitor.max_late * args[0])
        elif kind == 'late_pair':
            yield from self._late_pair(*args)
        elif kind == 'imu_fault':
            yield from self._imu_fault(*args)
        else:
            yield Tick()

    def _drive(self, cycles, v, w, confidence):
        for _ in range(cycles):
            for tick in range(5):
                self.now += 0.02
                yield self.odom()
                yield Imu(self.state.output.w, self.now)
                if tick < 4:
                    yield Tick()
            stamp, self.last_stamp_doc = _ros_stamp(self.now)
            yield self.meta(self.last_stamp_doc, confidence, 'driving')
            yield Proposal(v, w, stamp)

    def _edge(self, which, scale, negative):
        """Return the command at ``scale`` times one envelope limit, inside the others."""
        env = self.cfg.envelope
        sign = -1.0 if negative else 1.0
        if which == 'speed':
            return env.max_linear_speed * scale, 0.0
        if which == 'reverse':
            return -env.max_reverse_speed * scale, 0.0
        if which == 'yaw':
            return 0.0, sign * env.max_angular_speed * scale
        # A curve on the lateral limit; beyond the yaw limit too where the others imply it.
        v = min(env.max_linear_speed, math.sqrt(env.max_lateral_accel))
        return v, sign * env.max_lateral_accel / v * scale

    def _late_pair(self, v, share):
        stamp, self.last_stamp_doc = _ros_stamp(self.now)
        yield Proposal(v, 0.0, stamp)
        self.now += self.cfg.confidence.pairing_wait * share
        yield self.meta(self.last_stamp_doc, 1.0, 'late pair')

    def _imu_fault(self, kind, cycles):
        for _ in range(cycles):
            for tick in range(5):
                self.now += 0.02
                yield self.odom()
                w, stamp = self.state.output.w, self.now
                if kind == 'stale':
                    stamp -= 2 * self.cfg.imu.timeout
                elif kind == 'disagree':
                    w += 2 * self.cfg.imu.yaw_rate_tolerance
                elif kind == 'non_finite':
                    w = math.nan
                elif kind == 'future':
                    stamp += self.cfg.future_tolerance + 0.1
                if kind != 'silent':
                    yield Imu(w, stamp)
                if tick < 4:
                    yield Tick()
            stamp, self.last_stamp_doc = _ros_stamp(self.now)
            yield self.meta(self.last_stamp_doc, 1.0, 'imu fault')
            yield Proposal(0.3, 0.3, stamp)

    def _frozen(self, cycles, v, w, speed_share):
        frozen = self.odom()
        frozen = Odom(frozen.v * speed_share, frozen.w * speed_share, frozen.x, frozen.y,
                      frozen.stamp, frozen.yaw)
        for _ in range(cycles):
            for tick in range(5):
                self.now += 0.02
                yield Odom(frozen.v, frozen.w, frozen.x, frozen.y, self.now, frozen.yaw)
                if tick < 4:
                    yield Tick()
            stamp, stamp_doc = _ros_stamp(self.now)
            yield self.meta(stamp_doc, 0.9, 'frozen odometry')
            yield Proposal(v, w, stamp)


def play(cfg, script) -> List[Step]:
    """Step the core through a scenario's script; return every call and its result."""
    world, steps = _World(cfg), []
    for dt, template in script:
        world.now += dt
        if template[0] == 'internal_error':
            result = core.internal_error(world.state, world.now, cfg, 'tick', 'injected')
            world.state = result.state
            steps.append(Step(world.now, None, result.decisions, None, _pending(world.state)))
            continue
        for event in world.events(template):
            result = core.step(world.state, event, world.now, cfg)
            world.state = result.state
            steps.append(Step(world.now, event, result.decisions, result.reply,
                              _pending(world.state)))
    return steps


def _pending(state):
    return None if state.pending is None else state.pending.proposal


# ---------------------------------------------------------------- properties
# One play per example checks every per-decision invariant: a play is the
# expensive part, so more examples fit in the same time.


def assert_inside_the_envelope(decision, env):
    v, w = decision.output.v, decision.output.w
    assert math.isfinite(v) and math.isfinite(w), decision
    assert -env.max_reverse_speed <= v <= env.max_linear_speed, decision
    assert abs(w) <= env.max_angular_speed, decision
    assert abs(v * w) <= env.max_lateral_accel, decision


def assert_verdict_matches_output(decision):
    if decision.verdict is Verdict.ESTOP:
        assert decision.output == ZERO, decision
    assert (decision.verdict is Verdict.APPROVE) == (decision.reasons == ()), decision


def assert_fallback_never_speeds_up(previous, decision):
    if previous is not None and Verdict.FALLBACK is previous.verdict is decision.verdict:
        assert abs(decision.output.v) <= abs(previous.output.v), (previous, decision)
        assert abs(decision.output.w) <= abs(previous.output.w), (previous, decision)


def refused_by_the_envelope(proposal, env) -> Optional[set]:
    """Return the OVER_* reasons the envelope owes a finite proposal; None if not finite."""
    v, w = proposal.v, proposal.w
    if not (math.isfinite(v) and math.isfinite(w)):
        return None
    return {reason for reason, over in (
        (Reason.OVER_SPEED, v > env.max_linear_speed),
        (Reason.OVER_REVERSE_SPEED, -v > env.max_reverse_speed),
        (Reason.OVER_YAW_RATE, abs(w) > env.max_angular_speed),
        (Reason.OVER_LATERAL_ACCEL, abs(v * w) > env.max_lateral_accel)) if over}


class Oracle:
    """What must hold, tracked from the input events alone, never from the gate's answers.

    The one answer it takes is an accepted reset, and only where the
    documented rule allows one (the e-stop input released, and known where it
    is required): whether the sensors were healthy enough is the gate's call,
    but a reset while the e-stop input is held must never unlatch.
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self.latched = cfg.require_reset_on_start
        self.estop = None  # the e-stop input: None until its first message
        self.stalled = False
        self.received = {}  # id(stamped proposal) -> (proposal, time it arrived)

    def step(self, step, coverage):
        """Judge one step's decisions; update what the events say."""
        event, cfg = step.event, self.cfg
        if isinstance(event, Estop):
            self.estop = event.engaged
            if event.engaged:
                assert step.decisions[-1].verdict is Verdict.ESTOP, step
        if isinstance(event, Reset):
            held = self.estop or (self.estop is None and cfg.estop.required)
            coverage[f'reset {"held" if held else "released"}'
                     f' {"accepted" if step.reply[0] else "refused"}'] += 1
            assert not (held and step.reply[0]), step
        if isinstance(event, Proposal) and event.stamped:
            self.received[id(event)] = (event, step.now)
        if isinstance(event, Reset) and step.reply[0] and not self.estop:
            self.latched = False
        # Only the watchdog firing again ends a stall, whatever else arrives. A
        # stall's own decision is its step's last: a proposal refused before it
        # (the clock also went back) holds the output it had.
        stalled = self.stalled
        self.stalled = isinstance(event, ClockStall) or (
            self.stalled and not isinstance(event, Tick))
        for index, decision in enumerate(step.decisions):
            last = index == len(step.decisions) - 1
            self.judge(step, decision, self.stalled if last else stalled, coverage)
        self.latched = self.latched or (isinstance(event, Estop) and event.engaged)

    def judge(self, step, decision, stalled, coverage):
        cfg, event = self.cfg, step.event
        approved = decision.verdict is Verdict.APPROVE
        if self.latched:
            assert decision.verdict is Verdict.ESTOP, decision
        if stalled:
            assert not approved and decision.output == ZERO, decision
        proposal = decision.proposal
        if proposal is not None and decision.trigger in ('proposal', 'pairing_timeout'):
            owed = refused_by_the_envelope(proposal, cfg.envelope)
            assert owed is None or owed <= set(decision.reasons), (owed, decision)
            if owed:
                coverage['refused beyond a limit'] += 1
        if approved:
            # Also a tick re-judging the proposal in force: never one the envelope refuses.
            assert refused_by_the_envelope(proposal, cfg.envelope) == set(), decision
            if _on_a_limit(proposal, cfg.envelope):
                coverage['approved on a limit'] += 1
        if isinstance(event, Tick) and decision.trigger == 'tick' and (
                event.late > cfg.monitor.max_late):
            assert not approved and Reason.GATE_OVERRUN in decision.reasons, decision
        if isinstance(event, Meta) and decision.trigger == 'proposal':
            _, arrived = self.received[id(proposal)]
            if step.now - arrived > cfg.confidence.pairing_wait:
                assert not approved and Reason.CONFIDENCE_UNKNOWN in decision.reasons, decision
                coverage['late meta refused'] += 1


def _on_a_limit(proposal, env):
    v, w = proposal.v, proposal.w
    return (v == env.max_linear_speed or -v == env.max_reverse_speed != 0.0
            or abs(w) == env.max_angular_speed or abs(v * w) == env.max_lateral_accel)


def count_regions(coverage, decision):
    coverage['decisions'] += 1
    coverage[f'verdict {decision.verdict.value}'] += 1
    for reason in decision.reasons:
        coverage[reason.value] += 1
    for clamp in decision.clamps:
        coverage[f'clamp {clamp.value}'] += 1


# Regions every run must reach, so that a strategy drifting away from them is noticed.
MUST_REACH = (
    [r.value for r in (Reason.OVER_SPEED, Reason.OVER_REVERSE_SPEED, Reason.OVER_YAW_RATE,
                       Reason.OVER_LATERAL_ACCEL, Reason.GATE_OVERRUN, Reason.SUPERSEDED,
                       Reason.CLOCK_STALLED, Reason.CLOCK_JUMP_BACK, Reason.IMU_STALE,
                       Reason.IMU_ODOM_DISAGREE, Reason.ODOM_STUCK, Reason.INTERNAL_ERROR)]
    + [f'clamp {c.value}' for c in Clamp]
    + ['approved on a limit', 'refused beyond a limit', 'late meta refused',
       'reset held refused', 'reset released accepted'])
# The default budget gives 33 % (long_drives); faults, limits and the hysteresis after them
# take the rest.
MIN_APPROVE_SHARE = 0.2


def check_scenario(scenario, coverage):
    """Play a scenario; hold every decision to the invariants and the oracle; count regions."""
    cfg, script = scenario
    oracle, previous = Oracle(cfg), None
    invariant, audit = Invariant(cfg), ProposalAudit(cfg)
    for step in play(cfg, script):
        assert not audit.step(step.now, step.event, step.decisions, step.pending), step
        for decision in step.decisions:
            assert_inside_the_envelope(decision, cfg.envelope)
            assert_verdict_matches_output(decision)
            assert_fallback_never_speeds_up(previous, decision)
            # Inside the rate envelope, no faster than configured, stopped in time.
            assert not invariant.check_decision(decision), (previous, decision)
            count_regions(coverage, decision)
            previous = decision
        oracle.step(step, coverage)


def test_every_decision_keeps_the_safety_invariants(tmp_path):
    coverage = Counter()
    given(scenarios())(PROPERTY_SETTINGS(lambda scenario: check_scenario(scenario, coverage)))()
    report = dict(sorted(coverage.items()))
    (tmp_path / 'property_coverage.json').write_text(json.dumps(report, indent=1))
    print(f'property test regions ({tmp_path / "property_coverage.json"}): {report}')
    missed = [region for region in MUST_REACH if not coverage[region]]
    assert not missed, f'never reached: {missed}'
    assert coverage['verdict APPROVE'] >= MIN_APPROVE_SHARE * coverage['decisions'], report
