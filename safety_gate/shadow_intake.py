# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The shadow stage's share of the node's time: bounded, and the first work shed.

The candidate's messages are judged only while production's own work is on
time. :class:`ShadowIntake` admits a candidate message unless the watchdog
is late (its tick overdue, or the last one late by more than
``monitor.warn_late``) or the candidate exceeds ``shadow.max_rate_hz``
(proposals and their descriptions counted apart, as ``intake.Intake`` does
for production). It counts what it shed, by cause, and holds the judged
entries until the next decision record takes them.
"""

from typing import Any, Dict, List

from safety_gate.intake import TokenBucket

# A candidate's meta and command arrive together, and a burst beyond a couple
# is what the rate cap is for.
_BURST = 2.0


class ShadowIntake:
    """Admission, shed counts and held entries of the shadow stage."""

    def __init__(self, max_rate_hz: float, period: float, warn_late: float) -> None:
        """Admit ``max_rate_hz`` proposals and descriptions each; a tick is due each ``period``."""
        self.proposals = TokenBucket(max_rate_hz, _BURST)
        self.descriptions = TokenBucket(max_rate_hz, _BURST)
        self._due_after = period + warn_late
        self._warn_late = warn_late
        self.shed_late = 0
        self.errors = 0
        self._entries: List[Dict[str, Any]] = []
        self._noted = 0

    def behind(self, since_tick: float, last_late: float) -> bool:
        """Return True when production's watchdog is late: the node time since its last tick.

        ``last_late``: how late that tick itself was.
        """
        return since_tick > self._due_after or last_late > self._warn_late

    def admit(self, steady_now: float, proposal: bool, behind: bool) -> bool:
        """Return True to judge a candidate message arriving at ``steady_now`` (steady s)."""
        if behind:
            self.shed_late += 1
            return False
        return (self.proposals if proposal else self.descriptions).admit(steady_now)

    def admit_tick(self, late: float) -> bool:
        """Return True to let a due watchdog tick (``late`` s late) decide for the candidate."""
        if self.behind(0.0, late):
            self.shed_late += 1
            return False
        return True

    @property
    def shed(self) -> int:
        """Return the candidate messages (and due ticks) shed since the start."""
        return self.shed_late + self.proposals.shed + self.descriptions.shed

    def hold(self, entry: Dict[str, Any]) -> None:
        """Keep a shadow entry for the next decision record."""
        self._entries.append(entry)

    def take(self) -> Dict[str, Any]:
        """Return the entries and the shed count since the last take, as record members.

        A member is left out when it would be empty or zero.
        """
        members: Dict[str, Any] = {}
        if self._entries:
            members['shadow'], self._entries = self._entries, []
        shed = self.shed
        if shed > self._noted:
            members['shadow_shed'] = shed - self._noted
            self._noted = shed
        return members

    def totals(self) -> Dict[str, int]:
        """Return the counts since the start, for diagnostics."""
        return {'shadow_shed_late': self.shed_late,
                'shadow_shed_rate': self.proposals.shed + self.descriptions.shed,
                'shadow_errors': self.errors}
