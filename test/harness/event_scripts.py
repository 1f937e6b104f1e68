# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Event scripts for the core: random ones (Hypothesis), a fixed one, and playing them.

A scenario is a random config and a script, a list of (time step, template);
``play`` turns each template into events at the current time (a stamp is
"now + offset", the simulated odometry may follow the output) and steps the
core through them. The strategies reach the limits (each envelope limit on the
dot and just beyond, swerves that the envelope guard cuts, late ticks and
metas, IMU faults, resets in every state). :data:`FIXED_SCRIPT` holds every
event kind with non-finite values; :func:`records_of` turns a play into the
trace records the node would write. The property, replay and CLI tests share
them.

``SAFETY_GATE_HYPOTHESIS_EXAMPLES`` sets the number of examples per property
(``make fuzz`` raises it).
"""

import json
import math
import os
from typing import List, NamedTuple, Optional, Tuple

from hypothesis import HealthCheck, settings, strategies as st

from safety_gate import config, core, trace_record
from safety_gate.decision import Decision
from safety_gate.events import (
    ClockStall, Estop, Imu, Odom, Proposal, Reset, stamp_to_seconds, Tick, TraceHealth)
from safety_gate.meta import parse_meta

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
    # An approved drive, then the node clock moves on with no output between (an executor
    # held up) by a multiple of one period and monitor.max_late, then a stop is proposed.
    st.tuples(st.just('gap'), st.sampled_from([1.5, 4.0]), st.integers(3, 8)),
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
        elif kind == 'gap':
            yield from self._gap(*args)
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

    def _gap(self, factor, cycles):
        cfg = self.cfg
        yield from self._drive(cycles, 0.9 * cfg.envelope.max_linear_speed, 0.0, 1.0)
        self.now += factor * (1.0 / cfg.rate_hz + cfg.monitor.max_late)
        yield self.odom()
        yield Imu(self.state.output.w, self.now)
        stamp, self.last_stamp_doc = _ros_stamp(self.now)
        yield self.meta(self.last_stamp_doc, 1.0, 'after a gap')
        yield Proposal(0.0, 0.0, stamp)

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


# Every event kind, with the non-finite values a planner or a driver can send.
FIXED_SCRIPT = [
    (0.0, ('drive', 3, 0.5, 0.2, 0.9)),
    (0.02, ('proposal', math.nan, 0.1, 0.0, True)),
    (0.02, ('cycle', 0.4, math.inf, 0.0, 0.9, 'NaN', True)),
    (0.02, ('cycle', 0.4, 0.1, math.nan, 'NaN', 'Infinity', False)),
    (0.02, ('odom', -math.inf, 0.0, math.nan, 0.0)),
    (0.02, ('imu', math.nan, -math.inf)),
    (0.02, ('meta', 0.0, None, '-Infinity')),
    (0.0, ('trace', False)),
    (0.02, ('tick',)),
    (0.0, ('estop', True)),
    (0.02, ('rearm',)),
    (0.0, ('drive', 2, 0.3, 0.0, 0.9)),
    (-1.0, ('tick',)),
    (0.02, ('proposal', 0.2, 0.0, 0.0, False)),
    # A proposal waits for its meta and is superseded by the next: two decisions in one step.
    (0.02, ('proposal', 0.3, 0.0, 0.0, True)),
    (0.0, ('cycle', 0.3, 0.0, 0.0, 0.9, 'ok', True)),
    (0.02, ('late_meta', 0.9, 'late')),
]


def records_of(steps, config_sha256='x'):
    """Return the trace records of a play, built as the node builds them.

    An internal error of the play stands for a step that raised on a tick:
    the node records the event the failed step consumed, here that tick.
    """
    records, events = [], []
    for step in steps:
        events.append((step.now, Tick() if step.event is None else step.event))
        for decision in step.decisions:
            records.append(trace_record.decision_to_dict(decision, len(records), events,
                                                         wall_time=0, latency_us=0,
                                                         config_sha256=config_sha256))
            events = []
    return records
