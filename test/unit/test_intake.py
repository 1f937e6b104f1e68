# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Deliberate load shedding, transport-loss counting and the node's intake (safety_gate.intake)."""

from safety_gate.events import Estop, Tick
from safety_gate.intake import Intake, SequenceGaps, TokenBucket


def test_bucket_admits_the_rate_and_sheds_the_rest():
    bucket = TokenBucket(rate=100.0, burst=10.0)
    admitted = sum(bucket.admit(i * 1e-4) for i in range(10_000))  # 10 kHz for 1 s
    assert 100 <= admitted <= 111  # the rate for 1 s plus the burst
    assert bucket.shed == 10_000 - admitted


def test_bucket_never_sheds_below_the_rate():
    bucket = TokenBucket(rate=1000.0, burst=100.0)
    assert all(bucket.admit(i * 1e-3) for i in range(5000))  # exactly 1 kHz
    assert bucket.shed == 0


def test_bucket_refills_after_a_burst():
    bucket = TokenBucket(rate=10.0, burst=2.0)
    assert [bucket.admit(0.0) for _ in range(3)] == [True, True, False]
    assert bucket.admit(0.1)


def test_gaps_count_skipped_sequence_numbers():
    gaps = SequenceGaps()
    for sequence in (1, 2, 5, 6, 10):
        gaps.see(sequence)
    assert gaps.missed == 2 + 3


def test_gaps_restart_on_a_new_publisher_and_ignore_missing_numbers():
    gaps = SequenceGaps()
    for sequence in (100, 101, None, 1, 2, 4):
        gaps.see(sequence)
    assert gaps.missed == 1


def test_intake_sheds_proposals_and_metas_in_separate_buckets():
    intake = Intake(max_rate=100.0)  # bursts of 10
    assert all(intake.admit_proposal(0.0, None) for _ in range(10))
    assert not intake.admit_proposal(0.0, None)
    assert all(intake.admit_meta(0.0) for _ in range(10))
    assert not intake.admit_meta(0.0) and not intake.admit_meta(0.0)
    assert intake.admit_proposal(0.01, None)  # one token back after 1/rate
    assert intake.totals() == {'proposals_shed': 1, 'metas_shed': 2, 'proposals_missed': 0}


def test_intake_burst_is_a_tenth_of_a_second_but_at_least_ten():
    fast = Intake(max_rate=1000.0)
    assert sum(fast.admit_proposal(0.0, None) for _ in range(200)) == 100
    slow = Intake(max_rate=5.0)
    assert sum(slow.admit_meta(0.0) for _ in range(50)) == 10


def test_intake_counts_missed_proposals_even_when_shed():
    intake = Intake(max_rate=1.0)
    for sequence in range(1, 40, 3):  # 13 proposals, two missed before each but the first
        intake.admit_proposal(0.0, sequence)
    assert intake.totals() == {'proposals_shed': 3, 'metas_shed': 0, 'proposals_missed': 24}


def test_take_returns_the_held_events_and_only_what_grew_since_the_last_take():
    intake = Intake(max_rate=100.0)
    assert intake.take() == ([], {})
    intake.hold(1.0, Tick(0.0))
    intake.hold(1.5, Estop(True))
    for sequence in (1, 2, 5):
        intake.admit_proposal(0.0, sequence)
    assert intake.take() == ([(1.0, Tick(0.0)), (1.5, Estop(True))], {'proposals_missed': 2})
    assert intake.take() == ([], {})
    for _ in range(12):
        intake.admit_meta(0.0)
    intake.admit_proposal(0.0, 9)
    assert intake.take() == ([], {'metas_shed': 2, 'proposals_missed': 3})


def test_take_notes_events_dropped_beyond_the_limit_first():
    intake = Intake(max_rate=100.0, max_pending=3)
    for now in range(5):
        intake.hold(float(now), Tick(0.0))
    for _ in range(11):
        intake.admit_proposal(0.0, None)
    events, notes = intake.take()
    assert [now for now, _ in events] == [2.0, 3.0, 4.0]
    assert list(notes.items()) == [('events_dropped', 2), ('proposals_shed', 1)]
    intake.hold(9.0, Tick(0.0))
    assert intake.take() == ([(9.0, Tick(0.0))], {})
