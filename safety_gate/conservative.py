# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Conservative mode: when to run under the reduced envelope, and when to leave it.

Pure: the core calls these with what its state holds. A trigger (a confidence
between ``confidence.threshold`` and ``conservative.confidence_below``, a
localisation variance above ``conservative.max_position_variance``, an
operator's request, a drift alarm) enters the mode at once; leaving it takes
the authority hysteresis of ``safety_gate.hysteresis`` (``recover_count``
clean proposals and ``min_dwell`` since the last trigger), so a trigger that
flickers cannot make the envelope chatter.
"""

from typing import List, Optional

from safety_gate import hysteresis
from safety_gate.config import EnvelopeConfig, GateConfig, REDUCIBLE
from safety_gate.decision import Check, Reason
from safety_gate.events import Meta, Odom
from safety_gate.hysteresis import Authority

# Outside conservative mode: the full envelope is granted.
FULL = Authority(granted=True)
# The drift actions (safety_gate.spi sets GateState.drift) this module acts on.
DRIFT_CONSERVATIVE, DRIFT_WITHDRAW = 'conservative', 'withdraw'


def triggers(meta: Optional[Meta], odom: Optional[Odom], requested: bool, drift: str,
             cfg: GateConfig) -> List[Check]:
    """Return a failing check for every trigger that fires now (none: no reason to enter)."""
    found = []
    below = cfg.conservative.confidence_below
    if (meta is not None and meta.error is None and meta.confidence is not None
            and cfg.confidence.threshold <= meta.confidence < below):
        found.append(Check('conservative.confidence', False, meta.confidence, below,
                           Reason.CONSERVATIVE_CONFIDENCE))
    limit = cfg.conservative.max_position_variance
    if limit > 0.0 and odom is not None and not odom.position_variance <= limit:
        found.append(Check('conservative.localization', False, odom.position_variance, limit,
                           Reason.CONSERVATIVE_LOCALIZATION))
    if requested:
        found.append(Check('conservative.operator', False, 'requested', 'not requested',
                           Reason.CONSERVATIVE_OPERATOR))
    if drift == DRIFT_CONSERVATIVE:
        found.append(Check('conservative.drift', False, drift, 'no drift alarm',
                           Reason.CONSERVATIVE_DRIFT))
    return found


def withdrawn(drift: str) -> List[Check]:
    """Return the failing check of a drift alarm that withdrew authority, if one did."""
    if drift != DRIFT_WITHDRAW:
        return []
    return [Check('drift', False, drift, 'no withdrawal (until an accepted reset)',
                  Reason.DRIFT_WITHDRAWN)]


def restrict(now: float, cfg: GateConfig) -> Authority:
    """Return the mode after a trigger fired at ``now``: in it, the hand-back restarted."""
    return hysteresis.revoke(now, cfg.confidence)


def relax(mode: Authority, meta: Optional[Meta], now: float, cfg: GateConfig) -> Authority:
    """Return the mode after a clean fresh proposal with no trigger firing."""
    return hysteresis.on_clean_proposal(mode, meta, now, cfg.confidence)


def exit_check(mode: Authority, now: float, cfg: GateConfig) -> Check:
    """Describe the progress toward leaving the mode, for the trace."""
    progress = hysteresis.check(mode, now, cfg.confidence)
    return Check('conservative.hysteresis', progress.ok, progress.value, progress.limit,
                 Reason.HYSTERESIS)


def envelope(cfg: GateConfig) -> EnvelopeConfig:
    """Return the envelope of conservative mode: ``conservative.*`` inside the full envelope.

    The angular acceleration is the full envelope's.
    """
    return tighter(cfg.envelope, cfg.envelope.copy(update={
        name: getattr(cfg.conservative, name) for name in REDUCIBLE}))


def tighter(first: Optional[EnvelopeConfig], second: EnvelopeConfig) -> EnvelopeConfig:
    """Return the envelope inside both (``first`` None: ``second``)."""
    if first is None:
        return second
    return first.copy(update={name: min(getattr(first, name), getattr(second, name))
                              for name in REDUCIBLE})
