# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Stateless checks of one proposal: input validity, confidence, envelope veto.

Each function returns Check records for every rule it evaluates, passing or
not, so the trace shows the measured value and the limit of each.
"""

import math
from typing import List, Optional

from safety_gate.config import ConfidenceConfig, EnvelopeConfig, GateConfig
from safety_gate.decision import Check, Reason
from safety_gate.events import Meta, Proposal


def validity(proposal: Proposal, received: float, now: float, cfg: GateConfig,
             previous_stamp: Optional[float], reset_time: Optional[float]) -> List[Check]:
    """Check finiteness, age (by stamp or arrival), future stamp, stamp and reset order."""
    finite = all(math.isfinite(x) for x in (proposal.v, proposal.w, proposal.stamp))
    stamp_age = now - proposal.stamp if math.isfinite(proposal.stamp) else math.inf
    age = max(stamp_age, now - received)
    checks = [
        Check('proposal.finite', finite, None if finite else [proposal.v, proposal.w],
              'finite', Reason.NON_FINITE_COMMAND),
        Check('proposal.age', age <= cfg.proposal_timeout, age, cfg.proposal_timeout,
              Reason.PROPOSAL_STALE),
        Check('proposal.future', -stamp_age <= cfg.future_tolerance, -stamp_age,
              cfg.future_tolerance, Reason.STAMP_IN_FUTURE),
    ]
    if previous_stamp is not None:
        checks.append(Check('proposal.order', proposal.stamp > previous_stamp,
                            proposal.stamp, previous_stamp, Reason.STAMP_NOT_INCREASING))
    if reset_time is not None:
        checks.append(Check('proposal.after_reset', proposal.stamp > reset_time,
                            proposal.stamp, reset_time, Reason.PROPOSAL_BEFORE_RESET))
    return checks


def confidence(meta: Optional[Meta], cfg: ConfidenceConfig) -> List[Check]:
    """Check the paired meta's confidence against the threshold.

    ``confidence.required: false`` forgives only a meta that is missing. One
    that is present but late, malformed or oversized always fails, and a
    confidence that parsed from it is still held to the threshold: a defect in
    the meta can never make a proposal more acceptable than the meta would be
    well-formed.
    """
    if meta is None:
        return [Check('confidence.known', not cfg.required, 'missing', 'required'
                      if cfg.required else 'optional', Reason.CONFIDENCE_UNKNOWN)]
    found = []
    if meta.error is not None or meta.confidence is None:
        found.append(Check('confidence.known', False, meta.error or 'no confidence',
                           'a well-formed meta', Reason.CONFIDENCE_UNKNOWN))
    if meta.confidence is not None:
        found.append(Check('confidence', meta.confidence >= cfg.threshold, meta.confidence,
                           cfg.threshold, Reason.LOW_CONFIDENCE))
    return found


def envelope(proposal: Proposal, env: EnvelopeConfig) -> List[Check]:
    """Veto a command outside the configured envelope.

    NaN fails every comparison, so a non-finite command is vetoed here as well
    as by ``validity``: defence in depth, at the price of extra OVER_* reasons.
    """
    v, w = proposal.v, proposal.w
    return [
        Check('envelope.speed', v <= env.max_linear_speed, v, env.max_linear_speed,
              Reason.OVER_SPEED),
        Check('envelope.reverse', -v <= env.max_reverse_speed, -v, env.max_reverse_speed,
              Reason.OVER_REVERSE_SPEED),
        Check('envelope.yaw_rate', abs(w) <= env.max_angular_speed, abs(w),
              env.max_angular_speed, Reason.OVER_YAW_RATE),
        Check('envelope.lateral_accel', abs(v * w) <= env.max_lateral_accel, abs(v * w),
              env.max_lateral_accel, Reason.OVER_LATERAL_ACCEL),
    ]
