# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Say why a decision is not APPROVE, in sentences, for the node's log lines and the reports.

The trace keeps each check's structured value and limit; a person reading the
log, or a scenario report's sample decision, gets them as words. A check this
table does not know is still named with its value and limit, so a new check is
never silent.
"""

import math
from typing import Any, Dict, List, Sequence

from safety_gate.decision import Check, Decision, Reason


def _num(value: Any) -> str:
    """Return a number short enough for a log line: 0.38, 1e+03, nan."""
    if isinstance(value, float):
        return f'{value:.3g}' if math.isfinite(value) else str(value)
    return str(value)


def _pair(value: Any) -> str:
    return ', '.join(_num(v) for v in value) if isinstance(value, (list, tuple)) else _num(value)


def _hysteresis(value: Any, limit: Any) -> str:
    return (f"authority returns after {limit['streak']} clean proposals and "
            f"{_num(limit['dwell'])} s since the last failure: "
            f"{value['streak']} and {_num(value['dwell'])} s so far")


# {v} is the check's value, {lim} its limit.
_SENTENCES: Dict[str, str] = {
    'proposal.present': 'no proposal yet',
    'proposal.finite': 'the command ({v}) is not finite',
    'proposal.age': 'the proposal is {v} s old, limit {lim} s',
    'proposal.future': 'the proposal is stamped {v} s ahead, tolerance {lim} s',
    'proposal.order': 'stamp {v} is not after the previous one {lim}',
    'proposal.after_reset': 'stamp {v} is not after the reset at {lim}',
    'confidence.known': 'the confidence is unknown ({v})',
    'confidence': 'confidence {v} is below {lim}',
    'envelope.speed': 'speed {v} m/s is above {lim} m/s',
    'envelope.reverse': 'reverse speed {v} m/s is above {lim} m/s',
    'envelope.yaw_rate': 'yaw rate {v} rad/s is above {lim} rad/s',
    'envelope.lateral_accel': 'lateral acceleration {v} m/s^2 is above {lim} m/s^2',
    'odom.present': 'no odometry yet',
    'odom.age': 'odometry is {v} s old, limit {lim} s',
    'odom.finite': 'odometry is not finite',
    'odom.future': 'odometry is stamped {v} s ahead, tolerance {lim} s',
    'odom.plausible': 'measured (v, w) ({v}) is beyond ({lim})',
    'odom.order': 'odometry stamp {v} is before the previous one {lim}',
    'odom.accel': 'measured speed jumped at {v} m/s^2, limit {lim} m/s^2',
    'odom.stuck': 'odometry unchanged for {v} s while moving, limit {lim} s',
    'odom.tracking': 'output and measured speed disagree for {v} s, limit {lim} s',
    'imu.present': 'no IMU data yet',
    'imu.finite': 'IMU data is not finite',
    'imu.age': 'IMU data is {v} s old, limit {lim} s',
    'imu.yaw_rate': 'IMU and odometry yaw rates disagree for {v} s, limit {lim} s',
    'watchdog.late': 'the watchdog tick was {v} s late, limit {lim} s',
    'clock': 'the node clock went backwards',
    'clock.advancing': 'the node clock has stopped',
    'trace': 'the trace cannot be written',
    'internal': 'internal error: {v}',
    'running': 'shutting down',
    'model.approved': 'model {v} has no registry entry',
    'model.unchanged': 'the model changed from {lim} to {v}',
    'model.files': 'the weight files hash to {v}, not an approved sha256',
    'model.files_match': 'the planner names model {v}, the weight files hash to {lim}',
    'model.stage': 'the model is registered for the shadow stage only',
    'model.canary_confidence': "confidence {v} is below the canary entry's {lim}",
}


def sentence(check: Check) -> str:
    """Return ``REASON (what the check found)`` for one failing check."""
    if check.name == 'hysteresis':
        text = _hysteresis(check.value, check.limit)
    elif check.value == 'held':  # a sensor check held failing until its limit holds
        text = f'held until {check.limit}'
    else:
        template = _SENTENCES.get(check.name, check.name + ' is {v}, limit {lim}')
        text = template.format(v=_pair(check.value), lim=_pair(check.limit))
    return f'{check.reason.value} ({text})'


def sentences(reasons: Sequence[Reason], checks: Sequence[Check]) -> List[str]:
    """Return one sentence per reason, from its first failing check.

    A reason without a failing check (a latch) is given by its code alone.
    """
    parts = []
    for reason in reasons:
        check = next((c for c in checks if c.reason is reason and not c.ok), None)
        parts.append(reason.value if check is None else sentence(check))
    return parts


def explain(decision: Decision) -> str:
    """Return every reason of a decision as a sentence, joined by semicolons."""
    return '; '.join(sentences(decision.reasons, decision.checks))
