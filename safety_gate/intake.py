# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Input accounting: shed proposals beyond a rate on purpose, count what was lost.

Under a flood the gate decides at most ``monitor.max_proposal_rate``
proposals per second and counts the rest as shed, so its watchdog and
fallback stay on time and the shedding is reported rather than left to
queues. Separately, the DDS publication sequence number of each proposal
reveals those that never reached the gate (lost in transport or overwritten
in a full queue). :class:`Intake` keeps both for the node, with the events
that arrive between two decisions, and says what was dropped for the trace.
"""

from typing import Dict, List, Optional, Tuple

from safety_gate.events import Event

# Events kept between two decisions; ticks make decisions at rate_hz, so this
# only fills when the node clock stops (a paused simulation).
MAX_PENDING_EVENTS = 1000


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


class Intake:
    """The node's intake bookkeeping between two decision records.

    Proposals and metas are each admitted at most ``max_rate`` times a second
    (bursts up to a tenth of a second's worth, at least 10); gaps in the
    proposals' publication sequence numbers are counted; the events that reach
    the core are kept for the next record, the oldest dropped beyond
    ``max_pending``.
    """

    def __init__(self, max_rate: float, max_pending: int = MAX_PENDING_EVENTS) -> None:
        """Start with full buckets and nothing held."""
        burst = max(10.0, 0.1 * max_rate)
        self.proposals = TokenBucket(max_rate, burst)
        self.metas = TokenBucket(max_rate, burst)
        self.proposal_gaps = SequenceGaps()
        self._max_pending = max_pending
        self._events: List[Tuple[float, Event]] = []
        self._events_dropped = 0
        self._noted = self.totals()

    def admit_proposal(self, now: float, sequence: Optional[int]) -> bool:
        """Note a proposal's sequence number; return True unless it is shed (``now``: steady s)."""
        self.proposal_gaps.see(sequence)
        return self.proposals.admit(now)

    def admit_meta(self, now: float) -> bool:
        """Return True unless a meta arriving at ``now`` (steady seconds) is shed."""
        return self.metas.admit(now)

    def hold(self, now: float, event: Event) -> None:
        """Keep an event (at node time ``now``) for the next decision record."""
        if len(self._events) >= self._max_pending:
            self._events.pop(0)
            self._events_dropped += 1
        self._events.append((now, event))

    @property
    def held(self) -> int:
        """Return how many events the next record holds so far."""
        return len(self._events)

    def totals(self) -> Dict[str, int]:
        """Return the proposals and metas shed and the proposals missed, since the start."""
        return {'proposals_shed': self.proposals.shed, 'metas_shed': self.metas.shed,
                'proposals_missed': self.proposal_gaps.missed}

    def take(self) -> Tuple[List[Tuple[float, Event]], Dict[str, int]]:
        """Return the held events and what was dropped since the last take, and start afresh.

        The notes name only what is not zero: ``events_dropped``, then the
        growth of each of :meth:`totals`.
        """
        events, self._events = self._events, []
        notes = {'events_dropped': self._events_dropped} if self._events_dropped else {}
        self._events_dropped = 0
        totals = self.totals()
        notes.update((name, count - self._noted[name])
                     for name, count in totals.items() if count > self._noted[name])
        self._noted = totals
        return events, notes
