# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The shadow stage's admission: shed first when the watchdog is late, capped in rate."""

from safety_gate.shadow_intake import ShadowIntake

PERIOD, WARN_LATE = 0.02, 0.02


def intake(rate=50.0):
    return ShadowIntake(rate, PERIOD, WARN_LATE)


def test_the_candidate_is_shed_while_the_watchdog_is_late():
    shadow = intake()
    assert not shadow.behind(PERIOD + WARN_LATE, 0.0)
    assert shadow.behind(PERIOD + WARN_LATE + 1e-6, 0.0)  # the tick is overdue
    assert shadow.behind(0.0, WARN_LATE + 1e-6)  # the last tick came late
    assert not shadow.admit(0.0, True, behind=True)
    assert not shadow.admit_tick(WARN_LATE + 1e-6)
    assert shadow.admit_tick(WARN_LATE)
    assert shadow.totals() == {'shadow_shed_late': 2, 'shadow_shed_rate': 0, 'shadow_errors': 0}


def test_proposals_and_descriptions_are_capped_apart():
    shadow = intake(rate=10.0)
    # A meta and its command at once, twice (the burst), then only at 10 Hz.
    admitted = [shadow.admit(0.0, kind, False) for _ in range(3) for kind in (False, True)]
    assert admitted == [True, True, True, True, False, False]
    assert shadow.admit(0.1, True, False) and not shadow.admit(0.1, True, False)
    assert shadow.totals()['shadow_shed_rate'] == 3


def test_a_record_takes_the_entries_and_the_shed_since_the_last_one():
    shadow = intake(rate=1.0)
    assert shadow.take() == {}
    shadow.hold({'at': 0})
    for _ in range(4):
        shadow.admit(0.0, True, False)
    assert shadow.take() == {'shadow': [{'at': 0}], 'shadow_shed': 2}
    assert shadow.take() == {}
