# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Properties of the core over long random event sequences (Hypothesis).

The scenarios and ``play`` come from harness.event_scripts: a random config
and a script of templates, turned into events and stepped through the core.
Every decision is also held to the core fuzzer's checks
(``safety_gate.kit.world.fuzz``): its output invariant, and the audit that every
proposal is decided exactly once and never approved after a newer stamp; and
to an :class:`Oracle` that knows, from the input events alone, the latch, the
e-stop input, a stalled clock, the envelope, late ticks and late metas.
The strategies reach the limits (each envelope limit on the dot and just
beyond, swerves that the envelope guard cuts, late ticks and metas, IMU
faults, resets in every state), and the run counts the regions it reached:
printed (``pytest -s``), written to ``property_coverage.json`` in the test's
tmp dir, and asserted (:data:`MUST_REACH`, :data:`MIN_APPROVE_SHARE`), so a
strategy that drifts away from them fails.

``SAFETY_GATE_HYPOTHESIS_EXAMPLES`` sets the number of examples per property
(``make fuzz`` raises it; the region assertions need about the default, 150);
the default keeps this file near half a minute on two cores.
"""

from collections import Counter
import json
import math
from typing import Optional

from harness.event_scripts import play, PROPERTY_SETTINGS, scenarios
from hypothesis import given

from safety_gate.decision import Clamp, Reason, Verdict, ZERO
from safety_gate.events import ClockStall, Estop, Meta, Proposal, Reset, Tick
from safety_gate.kit.world.fuzz import Invariant, ProposalAudit


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
# The default budget gives 16 to 26 % (long_drives; the share depends on what ran earlier in
# the same pytest process, 16 % in the full suite); faults, limits and the hysteresis after
# them take the rest.
MIN_APPROVE_SHARE = 0.12


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
