# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The seeded core fuzzer: a CI-sized run holds the invariant, and the fuzzer can fail.

``make fuzz`` runs the same driver for at least 10^6 steps
(``python -m safety_gate.kit.world.fuzz``); here a short run keeps CI fast, and
deliberately broken cores show the invariant check catches each kind of
violation rather than passing everything.
"""

import os

import pytest
from safety_gate import checks, core, fallback, limits, sensors
from safety_gate.decision import Command, evolve
from safety_gate.kit.world import faults, fuzz

STEPS = int(os.environ.get('SAFETY_GATE_FUZZ_STEPS', '150000'))


def test_random_input_sequences_keep_the_invariant():
    steps, decisions, episodes, found = fuzz.fuzz(STEPS, seed=20260, episode_steps=4000,
                                                  report=lambda line: None)
    assert not found, found[:3]
    assert steps >= STEPS and episodes >= STEPS // 4000 and decisions > steps // 10


def _no_envelope(monkeypatch):
    monkeypatch.setattr(limits, 'enforce_envelope', lambda cmd, env: (cmd, False))
    monkeypatch.setattr(checks, 'envelope', lambda proposal, env: [])


def _brakes_twice(monkeypatch):
    step = fallback.step

    def twice(prev, dt, cfg, env):
        return step(step(prev, dt, cfg, env), dt, cfg, env)
    monkeypatch.setattr(fallback, 'step', twice)


def _never_stops(monkeypatch):
    monkeypatch.setattr(fallback, 'step', lambda prev, dt, cfg, env: prev)


def _speeds_up(monkeypatch):
    monkeypatch.setattr(fallback, 'first_step',
                        lambda last, measured, dt, cfg, env: Command(last.v * 1.1, last.w * 1.1))


def _drops_superseded(monkeypatch):
    monkeypatch.setattr(core, '_refuse_pending',
                        lambda state, now, cfg, check: (evolve(state, pending=None), ()))


def _ignores_stamp_order(monkeypatch):
    validity = checks.validity

    def unordered(proposal, received, now, cfg, previous_stamp, reset_time):
        return validity(proposal, received, now, cfg, None, reset_time)
    monkeypatch.setattr(checks, 'validity', unordered)


def _jumps_to_the_target(monkeypatch):
    monkeypatch.setattr(limits, 'rate_limit', lambda prev, target, dt, env: (target, []))


def _trusts_faulty_metas(monkeypatch):
    monkeypatch.setattr(checks, 'confidence', lambda meta, cfg: [])


def _snaps_the_yaw_rate(monkeypatch):
    # The ramp start of old: w scaled down with v to the measured speed.
    step = fallback.step

    def scaled(last, measured, dt, cfg, env):
        if measured is None or last.v == 0.0:
            return step(last, dt, cfg, env)
        scale = min(max(measured if last.v > 0.0 else -measured, 0.0), abs(last.v)) / abs(
            last.v)
        return step(Command(last.v * scale, last.w * scale), dt, cfg, env)
    monkeypatch.setattr(fallback, 'first_step', scaled)


def _trusts_failing_odometry(monkeypatch):
    monkeypatch.setattr(sensors, 'trusted_speed',
                        lambda state, now, cfg: None if state.odom is None else state.odom.v)


def _slower_limit_wins(monkeypatch):
    def slower(prev, dt, cfg, env):
        factors = [max(0.0, m - rate * dt) / m for m, rate in (
            (abs(prev.v), cfg.decel), (abs(prev.w), cfg.angular_decel)) if m > 0.0]
        scale = max(factors, default=0.0)
        return Command(prev.v * scale, prev.w * scale)
    monkeypatch.setattr(fallback, 'step', slower)


@pytest.mark.parametrize('breakage, violation', [
    (_no_envelope, 'outside the envelope'),
    # Braking twice as hard leaves the rate envelope first where that is tight.
    (_brakes_twice, ('brakes harder', 'leaves the rate envelope')),
    (_never_stops, 'must stop within'),
    (_speeds_up, 'speeds up'),
    (_drops_superseded, 'never decided'),
    (_ignores_stamp_order, 'was decided'),
    (_jumps_to_the_target, 'faster than the rate limits'),
    (_trusts_faulty_metas, 'faulty meta'),
    (_snaps_the_yaw_rate, 'leaves the rate envelope'),
    (_trusts_failing_odometry, 'leaves the rate envelope'),
    (_slower_limit_wins, 'must stop within'),
])
def test_a_broken_core_is_caught(monkeypatch, breakage, violation):
    breakage(monkeypatch)
    found = fuzz.fuzz(200000, seed=1, episode_steps=4000, report=lambda line: None)[3]
    expected = (violation,) if isinstance(violation, str) else violation
    assert found and any(v in found[0] for v in expected), found[:1]


def test_the_command_line_reports_the_rate(capsys, monkeypatch):
    monkeypatch.delenv(faults.EVIDENCE_DIR_ENV, raising=False)  # too short to be evidence
    assert fuzz.main(['--steps', '2000', '--seed', '3']) == 0
    out = capsys.readouterr().out
    assert '0 violations' in out and 'steps/s' in out, out
