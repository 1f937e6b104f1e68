# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Input accounting: shed proposals beyond a rate on purpose, count what was lost.

Under a flood the gate decides at most ``monitor.max_proposal_rate``
proposals per second and counts the rest as shed, so its watchdog and
fallback stay on time and the shedding is reported rather than left to
queues. Separately, the DDS publication sequence number of each proposal
reveals those that never reached the gate (lost in transport or overwritten
in a full queue).
"""

from typing import Optional


class TokenBucket:
    """Admit at most ``rate`` events per second, with bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._last: Optional[float] = None
        self.shed = 0

    def admit(self, now: float) -> bool:
        """Return True to process an event arriving at ``now`` (steady seconds)."""
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self.shed += 1
        return False


class SequenceGaps:
    """Count publication sequence numbers skipped by one publisher."""

    def __init__(self) -> None:
        self._last: Optional[int] = None
        self.missed = 0

    def see(self, sequence: Optional[int]) -> None:
        """Note one received sequence number (None when the middleware has none)."""
        if sequence is None:
            return
        if self._last is not None and sequence > self._last + 1:
            self.missed += sequence - self._last - 1
        # A lower number is a restarted (or second) publisher: start counting afresh.
        self._last = sequence
