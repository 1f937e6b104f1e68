# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The seeded core fuzzer: a CI-sized run holds the invariant, and the fuzzer can fail.

``make fuzz`` runs the same driver for at least 10^6 steps
(``python -m safety_gate.tools.fuzz``); here a short run keeps CI fast, and
deliberately broken cores show the invariant check catches each kind of
violation rather than passing everything.
"""

import os

import pytest
from safety_gate import checks, core, fallback, limits
from safety_gate.tools import faults, fuzz
from safety_gate.types import Command, evolve

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

    def twice(prev, dt, cfg):
        return step(step(prev, dt, cfg), dt, cfg)
    monkeypatch.setattr(fallback, 'step', twice)


def _never_stops(monkeypatch):
    monkeypatch.setattr(fallback, 'step', lambda prev, dt, cfg: prev)


def _speeds_up(monkeypatch):
    monkeypatch.setattr(fallback, 'ramp_base',
                        lambda last, measured: Command(last.v * 1.1, last.w * 1.1))


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


@pytest.mark.parametrize('breakage, violation', [
    (_no_envelope, 'outside the envelope'),
    (_brakes_twice, 'brakes harder'),
    (_never_stops, 'must stop within'),
    (_speeds_up, 'speeds up'),
    (_drops_superseded, 'never decided'),
    (_ignores_stamp_order, 'was decided'),
    (_jumps_to_the_target, 'faster than the rate limits'),
    (_trusts_faulty_metas, 'faulty meta'),
])
def test_a_broken_core_is_caught(monkeypatch, breakage, violation):
    breakage(monkeypatch)
    found = fuzz.fuzz(200000, seed=1, episode_steps=4000, report=lambda line: None)[3]
    assert found and violation in found[0], found[:1]


def test_the_command_line_reports_the_rate(capsys, monkeypatch):
    monkeypatch.delenv(faults.EVIDENCE_DIR_ENV, raising=False)  # too short to be evidence
    assert fuzz.main(['--steps', '2000', '--seed', '3']) == 0
    out = capsys.readouterr().out
    assert '0 violations' in out and 'steps/s' in out, out
