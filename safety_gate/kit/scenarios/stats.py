# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The statistics of a campaign report, in plain Python.

* :func:`wilson`: the Wilson score interval of a pass rate. Unlike the normal
  approximation it stays inside [0, 1] and is not degenerate at 0 or N passes
  out of N, the usual case of a safety scenario.
* :func:`fisher_exact`: two pass rates compared, two-sided Fisher exact test
  (the hypergeometric distribution of the 2x2 table; exact for any N, where a
  chi-square test is not for the small failure counts that matter here).
* :func:`mann_whitney`: two distributions of a metric (reaction times, say)
  compared, two-sided Mann-Whitney U test, normal approximation with tie and
  continuity correction; no assumption on the shape of the distributions.
* :func:`holm`: Holm-Bonferroni adjustment over the many comparisons a report
  makes, so that "significant" keeps its family-wise 5 %.

SciPy has all of these, but it is a large dependency for four short closed
forms; the tests check these against published values.
"""

import math
from typing import List, Optional, Sequence, Tuple

Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile
ALPHA = 0.05


def wilson(passed: int, n: int, z: float = Z95) -> Tuple[float, float]:
    """Return the Wilson score interval (low, high) of ``passed`` out of ``n`` (0..1)."""
    if n == 0:
        return 0.0, 1.0
    p = passed / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


def fisher_exact(a_pass: int, a_n: int, b_pass: int, b_n: int) -> float:
    """Return the two-sided p-value that two pass rates differ, Fisher exact test.

    The p-value sums the probabilities of every table with the same margins
    that is no more likely than the observed one (the convention of R and SciPy).
    """
    passed, n = a_pass + b_pass, a_n + b_n
    total = math.comb(n, a_n)

    def probability(x: int) -> float:
        return math.comb(passed, x) * math.comb(n - passed, a_n - x) / total

    observed = probability(a_pass)
    low, high = max(0, a_n - (n - passed)), min(a_n, passed)
    p = sum(q for q in map(probability, range(low, high + 1)) if q <= observed * (1 + 1e-7))
    return min(1.0, p)


def _ranks(values: Sequence[float]) -> Tuple[List[float], List[int]]:
    """Return the mid-ranks of ``values`` (1-based) and the sizes of the tie groups."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> Optional[float]:
    """Return the two-sided p-value that ``a`` and ``b`` come from different distributions.

    None if either sample is empty or every value is the same (nothing to test).
    """
    n1, n2 = len(a), len(b)
    if not n1 or not n2:
        return None
    ranks, ties = _ranks(list(a) + list(b))
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    n = n1 + n2
    tie_term = sum(t ** 3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0.0
    variance = n1 * n2 / 12 * ((n + 1) - tie_term)
    if variance <= 0:
        return None
    distance = max(0.0, abs(u1 - n1 * n2 / 2) - 0.5)
    return math.erfc(distance / math.sqrt(variance) / math.sqrt(2))


def holm(p_values: Sequence[Optional[float]]) -> List[Optional[float]]:
    """Return the Holm-Bonferroni adjusted p-values (None stays None)."""
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted: List[Optional[float]] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (len(present) - rank) * p))
        adjusted[i] = running
    return adjusted


def ecdf(values: Sequence[float]) -> List[Tuple[float, float]]:
    """Return the empirical CDF as (value, share of values <= it) steps, ascending."""
    ordered = sorted(values)
    n = len(ordered)
    return [(v, (i + 1) / n) for i, v in enumerate(ordered)
            if i + 1 == n or ordered[i + 1] != v]
