# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The campaign statistics against published values and exact computations."""

import itertools
import math
import random

import pytest
from safety_gate.kit.scenarios import stats


def test_wilson_matches_published_intervals():
    # 0/10: the upper bound is z^2 / (n + z^2) = 0.2775 (Newcombe 1998, table I: 0-0.2775);
    # 10/10 mirrors it; 81/263 checks the general formula away from the edges.
    assert stats.wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert stats.wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert stats.wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert stats.wilson(0, 0) == (0.0, 1.0)


def test_fisher_exact_matches_published_values():
    # Fisher's lady tasting tea: 3 of 4 right each way, two-sided p = 34/70.
    assert stats.fisher_exact(3, 4, 1, 4) == pytest.approx(34 / 70)
    # SciPy's documented example, table [[6, 2], [1, 4]]: p = 0.10256...
    assert stats.fisher_exact(6, 8, 1, 5) == pytest.approx(0.1025641025, abs=1e-9)
    assert stats.fisher_exact(100, 100, 100, 100) == 1.0
    assert stats.fisher_exact(20, 20, 0, 20) < 1e-10


def _exact_mann_whitney(a, b):
    """Two-sided permutation p-value of U (exact, every split of the pooled sample)."""
    pooled, n1 = a + b, len(a)
    observed = abs(_u(a, b) - n1 * len(b) / 2)
    count = total = 0
    for chosen in itertools.combinations(range(len(pooled)), n1):
        x = [pooled[i] for i in chosen]
        y = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        total += 1
        count += abs(_u(x, y) - n1 * len(b) / 2) >= observed - 1e-12
    return count / total


def _u(x, y):
    return sum((xi > yi) + 0.5 * (xi == yi) for xi in x for yi in y)


@pytest.mark.parametrize('shift', [0.0, 0.5, 1.0, 2.0])
def test_mann_whitney_approximates_the_exact_permutation_test(shift):
    rng = random.Random(7)
    a = [round(rng.gauss(0, 1), 1) for _ in range(7)]  # rounded: ties too
    b = [round(rng.gauss(shift, 1), 1) for _ in range(7)]
    assert stats.mann_whitney(a, b) == pytest.approx(_exact_mann_whitney(a, b), abs=0.03)


def test_mann_whitney_is_the_continuity_corrected_normal_approximation():
    # U = 0 of 9 pairs: z = (|0 - 4.5| - 0.5) / sqrt(3 * 3 / 12 * 7) = 1.7457, p = 0.0809
    # (without the correction p would be 0.0495: "significant" on three runs each).
    p = stats.mann_whitney([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert p == pytest.approx(0.0809, abs=1e-4)


def test_mann_whitney_edge_cases():
    assert stats.mann_whitney([], [1.0]) is None
    assert stats.mann_whitney([1.0, 1.0], [1.0]) is None  # nothing varies
    separated = stats.mann_whitney([float(i) for i in range(20)],
                                   [float(i) for i in range(100, 120)])
    assert separated < 1e-6
    assert stats.mann_whitney([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == pytest.approx(1.0)


def test_holm_adjusts_in_order_and_keeps_none():
    # Holm 1979: sorted p-values times (m - rank), made monotone.
    assert stats.holm([0.01, None, 0.04, 0.03]) == pytest.approx([0.03, None, 0.06, 0.06])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_ecdf_steps():
    assert stats.ecdf([3.0, 1.0, 1.0, 2.0]) == [(1.0, 0.5), (2.0, 0.75), (3.0, 1.0)]
    assert math.isclose(stats.ecdf([5.0])[0][1], 1.0)
