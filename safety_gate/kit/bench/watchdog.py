# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Watchdog reaction: how long after the planner's last proposal the fallback comes out.

One trial: proposals at ``rate_hz`` until one is approved and ``lead`` more
after it, then silence. The reaction is the time from the last proposal's
publish to the sink's reception of the first output that is not an approved
command (v below the bench speed: the fallback ramp). The next trial starts
at once; the bench parameters hand authority back after one clean proposal,
so trials follow each other quickly. The budget is
``proposal_timeout + 1/rate_hz`` of the gate's configuration.

A fallback sooner than ``proposal_timeout`` is not the watchdog's (another
check fired: on an overloaded host, stale odometry or a late tick); such
trials are counted as ``early`` and left out of the distribution.
"""

import time
from typing import Any, Dict, List

from safety_gate import config
from safety_gate.kit.bench.report import summarize
from safety_gate.kit.bench.rig import Rig, Sent

# A trial without a fallback this long after the last proposal has failed.
_TRIAL_TIMEOUT_S = 3.0


def run_watchdog(rig: Rig, arm_name: str, trials: int, rate_hz: float = 50.0,
                 lead: int = 2) -> Dict[str, Any]:
    """Return the reaction distribution (ms) over ``trials`` and the budget (ms)."""
    arm = rig.arms[arm_name]
    cfg = config.build(arm.spec.params)
    reactions: List[float] = []
    failed = early = 0
    for _ in range(trials):
        approved_at: List[int] = []

        def approved_and_led(sent: List[Sent]) -> bool:
            if not approved_at and any(s.key in arm.first_seen for s in sent):
                approved_at.append(len(sent))
            return bool(approved_at) and len(sent) >= approved_at[0] + lead

        sent = rig.drive(arm, rate_hz, _TRIAL_TIMEOUT_S, until=approved_and_led)
        if not approved_at:
            failed += 1
            continue
        arm.first_fallback_ns = None
        arm.fallback_watch_ns = sent[-1].ns
        rig.spin_until(lambda: arm.first_fallback_ns is not None,
                       time.monotonic() + _TRIAL_TIMEOUT_S)
        if arm.first_fallback_ns is None:
            failed += 1
        else:
            reaction_ms = (arm.first_fallback_ns - sent[-1].ns) * 1e-6
            if reaction_ms < cfg.proposal_timeout * 1e3:
                early += 1
            else:
                reactions.append(reaction_ms)
        arm.fallback_watch_ns = None
    return {
        'trials': trials,
        'failed': failed,
        'early': early,
        'rate_hz': rate_hz,
        'budget_ms': (cfg.proposal_timeout + 1.0 / cfg.rate_hz) * 1e3,
        'reaction_ms': summarize(reactions),
    }
