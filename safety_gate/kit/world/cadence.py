# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""When the twist-mode scripted planner sends: its command periods (pure, no ROS).

A test tool, not part of the safety function. The planner ticks every
``period`` seconds; with a ``jitter`` each period is drawn uniformly from
``[period - jitter, period + jitter]`` by a ``random.Random`` seeded with
``seed``, so the same seed gives the same periods on every run and platform.
Without jitter every period is ``period`` and no random number is drawn.
"""

import random
from typing import Iterator


def check(period: float, jitter: float, meta_delay: float) -> None:
    """Raise ValueError naming the value if the timing cannot be played."""
    if not period > 0.0:
        raise ValueError(f'period {period} s must be above 0')
    if not 0.0 <= jitter < period:
        raise ValueError(f'jitter {jitter} s must be at least 0 and below the period '
                         f'{period} s, so that every period stays positive')
    if not meta_delay >= 0.0:
        raise ValueError(f'meta_delay {meta_delay} s must be at least 0: the meta goes out '
                         'with its command (0) or after it, as a wrapper publishing the '
                         "model's meta once the command is out does")


def command_periods(period: float, jitter: float, seed: int) -> Iterator[float]:
    """Yield the planner's periods (s), one per tick: the time from each tick to the next."""
    check(period, jitter, 0.0)
    if jitter == 0.0:
        while True:
            yield period
    rng = random.Random(seed)
    while True:
        yield rng.uniform(period - jitter, period + jitter)
