# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Drive ``core.step`` through its public API with a clock only the test moves.

:class:`Gate` is the core plus that clock and, optionally, a robot that obeys
its output; the core, sensor and fallback tests build on it. Times are
multiples of 1/32 s on top of 100 s, so every sum is exact and boundaries can
be hit on the dot. :func:`scripted_summaries` is a fixed run that the core
tests repeat in another process (``python -c``), so it lives outside them.
"""

import json

from safety_gate import config, core, registry, trace_record
from safety_gate.decision import Command, Decision, Reason, Verdict
from safety_gate.events import Estop, Imu, Meta, Odom, Proposal, Reset, Tick

T0 = 100.0
TICK = 1 / 32
TICKS_PER_PERIOD = 4
PERIOD = TICKS_PER_PERIOD * TICK
CONFIDENT = 0.9
UNLATCHED = {'require_reset_on_start': False}
# The simulated robot follows the output this fast: well inside odom.max_accel.
ROBOT_ACCEL = 8.0


def make_config(params=None) -> config.GateConfig:
    """Defaults, except an unlatched start, with ``{dotted name: value}`` overrides."""
    return config.build({**UNLATCHED, **(params or {})})


class Gate:
    """The core plus a test-controlled clock and, optionally, a robot that obeys it.

    With ``follow`` a robot that tracks the output (within ROBOT_ACCEL) reports
    odometry at every ``advance``, so sensor checks stay quiet unless a test
    feeds its own; with ``imu_bias`` set an IMU reports its yaw rate plus that.
    """

    def __init__(self, params=None, follow=True, models=registry.EMPTY):
        self.cfg = make_config(params)
        self.state = core.initial_state(self.cfg, models)
        self.now = T0
        self.follow = follow
        self.x = 0.0
        self.yaw = 0.0
        self.v = 0.0
        self.imu_bias = None
        self.decisions = []

    @property
    def output(self) -> Command:
        return self.state.output

    def feed(self, event, dt=0.0) -> core.StepResult:
        self.now += dt
        result = core.step(self.state, event, self.now, self.cfg)
        self.state = result.state
        self.decisions.extend(result.decisions)
        return result

    def decide(self, event, dt=0.0) -> Decision:
        """Feed ``event``; return the one decision it gives."""
        decisions = self.feed(event, dt).decisions
        assert len(decisions) == 1, f'{event} at {self.now} gave {decisions}'
        return decisions[0]

    def advance(self, dt=TICK):
        self.now += dt
        if self.follow:
            self.odom()
        if self.imu_bias is not None:
            self.feed(Imu(self.output.w + self.imu_bias, self.now))

    def odom(self, v=None, w=None, stamp=None, x=None, yaw=None):
        if v is None:
            step = ROBOT_ACCEL * TICK
            v = self.v + max(-step, min(step, self.output.v - self.v))
        w = self.output.w if w is None else w
        self.v = v
        self.x = self.x + v * TICK if x is None else x
        self.yaw = self.yaw + w * TICK if yaw is None else yaw
        return self.feed(Odom(v, w, self.x, 0.0, self.now if stamp is None else stamp,
                              self.yaw))

    def tick(self, dt=0.0) -> Decision:
        return self.decide(Tick(), dt)

    def propose(self, v, w=0.0, confidence=CONFIDENT, stamp=None, model='') -> Decision:
        """Send a planner message pair at ``now``: the meta, then the command with its stamp.

        ``model`` is the meta's ``model_sha256``.
        """
        stamp = self.now if stamp is None else stamp
        self.feed(Meta(stamp, confidence, model_sha256=model))
        return self.decide(Proposal(v, w, stamp))

    def cycle(self, v, w=0.0, confidence=CONFIDENT, model='') -> Decision:
        """One planner period: the watchdog every TICK, then a proposal; return its decision."""
        for _ in range(TICKS_PER_PERIOD - 1):
            self.advance()
            self.tick()
        self.advance()
        return self.propose(v, w, confidence, model=model)

    def cycles(self, count, v, w=0.0, confidence=CONFIDENT, model=''):
        return [self.cycle(v, w, confidence, model) for _ in range(count)]

    def drive(self, v, w=0.0, max_cycles=40):
        """Cycle until the output has ramped up to (v, w)."""
        for _ in range(max_cycles):
            self.cycle(v, w)
            if self.output == Command(v, w):
                return
        raise AssertionError(f'output {self.output} never reached ({v}, {w})')

    def summaries(self):
        return [(d.t, d.trigger, trace_record.decision_summary(d)) for d in self.decisions]


def driving(v=0.5, w=0.0, params=None) -> Gate:
    """Return an unlatched gate whose approved output has reached (v, w)."""
    gate = Gate(params)
    gate.drive(v, w)
    assert gate.decisions[-1].verdict is Verdict.APPROVE
    return gate


def fail_once(gate: Gate):
    """Send a low-confidence proposal, which revokes authority."""
    decision = gate.cycle(0.5, confidence=0.1)
    assert Reason.LOW_CONFIDENCE in decision.reasons
    return decision


def reset(gate: Gate) -> Decision:
    """Release the e-stop input, then reset; return the reset's decision (it must be accepted)."""
    gate.feed(Estop(False))
    gate.advance()
    result = gate.feed(Reset())
    assert result.reply[0] is True
    (decision,) = result.decisions
    return decision


def scripted_run() -> Gate:
    """Drive, lose authority, e-stop, reset and step the clock back: one fixed run."""
    gate = driving(0.8, 0.4)
    fail_once(gate)
    gate.cycles(3, 0.6, -0.2)
    gate.decide(Estop(True))
    reset(gate)
    gate.cycles(3, 0.3)
    gate.decide(Tick(), dt=-0.5)
    gate.cycles(2, 0.3)
    return gate


def scripted_summaries() -> str:
    """Return the scripted run's decisions as JSON, to compare them across processes."""
    return json.dumps(scripted_run().summaries(), sort_keys=True)
