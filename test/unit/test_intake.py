# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Deliberate load shedding and transport-loss counting (safety_gate.intake)."""

from safety_gate.intake import SequenceGaps, TokenBucket


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
