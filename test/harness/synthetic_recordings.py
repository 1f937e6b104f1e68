# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Synthetic scenarios and recordings of made-up gates, for the metrics and report tests.

:func:`record` samples a behaviour (script time -> verdict, reasons, output)
as a run would record it, with a vehicle that follows the output ``LAG``
later; :func:`correct_gate`, :func:`chattering` and :func:`estop_gate` are
such behaviours. Each decision carries a record shaped as the gate's
(:func:`decision_record`). No ROS.
"""

from safety_gate.kit.scenarios.model import Scenario
from safety_gate.kit.scenarios.recording import (Action, DecisionSample, Output, Proposal,
                                                 Recording, Sample)

T0 = 10.0  # run time of script time 0
STEP = 0.02  # the gate's decision period (50 Hz)
LAG = 0.1  # the synthetic vehicle follows the output this much later
APPROVE, FALLBACK, ESTOP = 'APPROVE', 'FALLBACK', 'ESTOP'
THRESHOLD = 0.5  # confidence.threshold, as in GateConfig()


def scenario(faults, duration=6.0, resets=(), **extra) -> Scenario:
    return Scenario.parse_obj({
        'id': 'synthetic', 'title': 't', 'description': 'd', 'severity': 'S2',
        'exposure': 'E3', 'duration': duration,
        'route': {'segments': [[duration, 0.6, 0.0]]}, 'faults': faults,
        'resets': list(resets), **extra})


LOW_CONFIDENCE = {'kind': 'low_confidence', 't_start': 2.0, 't_end': 3.5, 'value': 0.3,
                  'expect': {'reasons': ['LOW_CONFIDENCE'], 'max_reaction_s': 0.3,
                             'max_standstill_s': 1.5, 'max_resume_s': 1.5}}


def decision_record(seq, t, verdict, reasons, v, w, confidence=None, trigger='tick'):
    """Return a decision record as the gate publishes it, with a confidence check if given."""
    checks = [{'name': 'proposal.age', 'ok': True, 'value': 0.02, 'limit': 0.3,
               'reason': 'PROPOSAL_STALE'}]
    if confidence is not None:
        checks.append({'name': 'confidence', 'ok': confidence >= THRESHOLD, 'value': confidence,
                       'limit': THRESHOLD, 'reason': 'LOW_CONFIDENCE'})
    return {'seq': seq, 't': t, 'wall_time': 1e9 + t, 'trigger': trigger, 'verdict': verdict,
            'reasons': list(reasons), 'checks': checks,
            'proposal': {'v': 0.6, 'w': 0.0, 'stamp': t, 'stamped': True,
                         'confidence': confidence, 'model_sha256': None, 'reasoning': None,
                         'meta_error': None},
            'output': {'v': v, 'w': w}, 'clamps': [], 'latency_us': 50.0,
            'config_sha256': 'ab' * 32, 'events': [{'type': 'tick', 't': t}],
            'prev_sha256': '0' * 64}


def record(behaviour, duration=6.0, actions=(), proposal=(0.6, 0.0),
           confidence=None) -> Recording:
    """Record a synthetic gate: behaviour(script time) -> (verdict, reasons, v, w).

    Each decision carries its record (every fifth on a proposal), and with
    ``confidence`` (script time -> confidence) a confidence check; the
    odometry reports the vehicle's motion truly.
    """
    rec = Recording('synthetic', t0=T0, end=T0 + duration, actions=list(actions),
                    offsets=[(T0 - 0.5, 0.0)])
    for i in range(int(round((duration + 0.5) / STEP)) + 1):
        s = round(-0.5 + i * STEP, 6)
        verdict, reasons, v, w = behaviour(s)
        rec.decisions.append(DecisionSample.of(T0 + s, decision_record(
            i, T0 + s, verdict, reasons, v, w, None if confidence is None else confidence(s),
            'proposal' if i % 5 == 0 else 'tick')))
        rec.outputs.append(Output(T0 + s, v, w))
        _, _, lag_v, lag_w = behaviour(s - LAG)
        rec.truth.append(Sample(T0 + s, lag_v, lag_w))
        rec.odom.append(Sample(T0 + s, lag_v, lag_w))
    for k in range(int(duration * 10) + 1):
        rec.proposals.append(Proposal(T0 + k / 10, *proposal, T0 + k / 10))
    return rec


def low_confidence(s):
    """Return the planner's confidence in :data:`LOW_CONFIDENCE`'s script."""
    return 0.3 if 2.0 <= s < 3.5 else 0.9


def correct_gate(s):
    """Fall back at once on the low-confidence window, resume after the hysteresis."""
    if s < 0.0:
        return FALLBACK, ['NO_PROPOSAL'], 0.0, 0.0
    if s < 2.02:
        return APPROVE, [], 0.6, 0.0
    if s < 3.5:
        return FALLBACK, ['LOW_CONFIDENCE'], max(0.0, 0.6 - (s - 2.02)), 0.0
    if s < 4.0:
        return FALLBACK, ['HYSTERESIS'], 0.0, 0.0
    return APPROVE, [], min(0.6, s - 4.0), 0.0


def chattering(s):
    """Behave as :func:`correct_gate`, but approve once inside the low-confidence window."""
    return (APPROVE, [], 0.3, 0.0) if 2.6 <= s < 2.8 else correct_gate(s)


ESTOP_FAULT = {'kind': 'estop', 't_start': 2.0, 't_end': 3.0,
               'expect': {'reasons': ['ESTOP'], 'max_standstill_s': 1.0}}
# As the runner notes them (closed_loop.py): the e-stop input's state in detail.
ESTOP_ACTIONS = [
    Action(T0 + 2.0, T0 + 2.0, 'fault_start', 0, detail={'estop': True}),
    Action(T0 + 2.5, T0 + 2.5, 'reset', ok=False, detail='the e-stop input is still engaged'),
    Action(T0 + 3.0, T0 + 3.0, 'fault_end', 0, detail={'estop': False}),
    Action(T0 + 4.0, T0 + 4.0, 'reset', ok=True, detail='reset')]


def estop_gate(s):
    if 2.0 < s < 4.0:
        return ESTOP, ['ESTOP'], 0.0, 0.0
    if 4.0 <= s < 4.1:
        return FALLBACK, ['NO_PROPOSAL'], 0.0, 0.0
    return APPROVE, [], 0.0 if s < 0 else 0.6 if s < 4 else min(0.6, s - 4.1), 0.0
