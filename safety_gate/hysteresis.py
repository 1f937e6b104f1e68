# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Authority hand-back: fast to restrict, slow to relax.

Any failing check revokes authority at once. It returns only after
``confidence.recover_count`` consecutive clean proposals, each with a known
confidence at or above ``confidence.recover_threshold`` (or, where the
confidence is optional, with no meta at all), and ``confidence.min_dwell``
after the last failure, so a confidence flickering around the threshold
cannot make the output chatter. At start and after a reset there was no failure to recover
from: the first clean proposal is enough.
"""

from dataclasses import dataclass
from typing import Optional

from safety_gate.config import ConfidenceConfig
from safety_gate.decision import Check, Reason
from safety_gate.events import Meta


@dataclass(frozen=True)
class Authority:
    """Whether approved proposals may pass, and the progress toward it."""

    granted: bool = False
    last_failure: Optional[float] = None
    streak: int = 0
    needed: int = 1


FRESH = Authority()


def was_granted(auth: Authority) -> bool:
    """Return True if authority is held or was held since start or reset."""
    return auth.granted or auth.last_failure is not None


def revoke(now: float, cfg: ConfidenceConfig) -> Authority:
    """Return the authority after a failing check at ``now``."""
    return Authority(granted=False, last_failure=now, streak=0, needed=cfg.recover_count)


def on_clean_proposal(auth: Authority, meta: Optional[Meta], now: float,
                      cfg: ConfidenceConfig) -> Authority:
    """Return the authority after a new proposal that passed every check.

    Only a known confidence at or above ``recover_threshold`` counts. A
    proposal with no meta at all counts too, but only where
    ``confidence.required`` is false (else it is not clean): a planner that
    sends no meta could otherwise never regain authority. A meta with an
    error never counts.
    """
    if auth.granted:
        return auth
    if meta is None:
        counts = not cfg.required
    else:
        counts = (meta.error is None and meta.confidence is not None
                  and meta.confidence >= cfg.recover_threshold)
    streak = auth.streak + 1 if counts else 0
    dwelt = auth.last_failure is None or now - auth.last_failure >= cfg.min_dwell
    return Authority(streak >= auth.needed and dwelt, auth.last_failure, streak, auth.needed)


def check(auth: Authority, now: float, cfg: ConfidenceConfig) -> Check:
    """Describe the hand-back progress for the trace."""
    dwell = None if auth.last_failure is None else now - auth.last_failure
    return Check('hysteresis', auth.granted,
                 {'streak': auth.streak, 'dwell': dwell},
                 {'streak': auth.needed, 'dwell': cfg.min_dwell}, Reason.HYSTERESIS)
