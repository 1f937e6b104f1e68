# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The twist-mode planner's command periods: fixed, or jittered from a seed (no ROS)."""

from itertools import islice
import statistics

import pytest
from safety_gate.kit.world.cadence import check, command_periods


def periods(period, jitter, seed, n=400):
    return list(islice(command_periods(period, jitter, seed), n))


def test_without_jitter_every_period_is_the_period():
    assert periods(0.1, 0.0, 7) == [0.1] * 400
    assert periods(0.1, 0.0, 7) == periods(0.1, 0.0, 8)  # the seed plays no part


def test_jittered_periods_fill_their_interval_around_the_period():
    drawn = periods(0.1, 0.03, 5)
    assert all(0.07 <= p <= 0.13 for p in drawn)
    # Spread over the whole interval, centred on the period (uniform: sd = 0.03 / sqrt 3).
    assert min(drawn) < 0.075 and max(drawn) > 0.125
    assert statistics.mean(drawn) == pytest.approx(0.1, abs=0.004)
    assert statistics.pstdev(drawn) == pytest.approx(0.03 / 3 ** 0.5, rel=0.15)


def test_the_seed_alone_determines_the_periods():
    assert periods(0.1, 0.03, 5) == periods(0.1, 0.03, 5)
    assert periods(0.1, 0.03, 5) != periods(0.1, 0.03, 6)
    # Pinned: random.Random gives the same sequence for an integer seed everywhere.
    assert [round(p, 6) for p in periods(0.1, 0.03, 5, 3)] == [0.107374, 0.114507, 0.117712]


@pytest.mark.parametrize('period, jitter, meta_delay, message', [
    (0.0, 0.0, 0.0, 'period 0.0 s must be above 0'),
    (0.1, 0.1, 0.0, 'jitter 0.1 s must be at least 0 and below the period 0.1 s'),
    (0.1, -0.01, 0.0, 'jitter -0.01 s must be at least 0'),
    (0.1, 0.0, -0.02, 'meta_delay -0.02 s must be at least 0'),
    (0.1, float('nan'), 0.0, 'jitter nan s'),
    (0.1, 0.0, float('nan'), 'meta_delay nan s'),
])
def test_timing_that_cannot_be_played_is_refused_naming_the_value(period, jitter, meta_delay,
                                                                  message):
    with pytest.raises(ValueError, match=message):
        check(period, jitter, meta_delay)
