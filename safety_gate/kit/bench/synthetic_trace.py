# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Traces made by the decision core itself: a closed loop on a simulated clock.

A planner at 10 Hz sends a meta (its confidence given by a function of
time, the model hash fixed) and then the command with the same stamp;
odometry follows the output without lag; the watchdog ticks at ``rate_hz``.
Every decision becomes a record with the events before it, and an SPI record
follows once a second of node time and whenever the drift action changes,
as the node writes them, so the trace verifies and replays. The offline SPI
tools' tests and the 1 GB benchmark read such traces.
"""

import math
from pathlib import Path
import time
from typing import Callable, Iterator, Optional

from safety_gate import config, core, spi, trace_record
from safety_gate.events import Meta, Odom, Proposal, Tick
from safety_gate.trace_writer import TraceWriter

PLANNER_PERIOD_S = 0.1
SPI_PERIOD_S = 1.0
SPEED = 0.5  # m/s, what the planner asks for
_QUEUE = 10_000


def records(cfg: config.GateConfig, seconds: float, confidence: Callable[[float], float],
            model_sha256: str, start: float = 1000.0, wall_start: float = 1.8e9) -> Iterator[dict]:
    """Yield the records of a run of ``seconds``: config, decisions and SPIs, seq from 0.

    ``confidence(t)`` gives the planner's confidence ``t`` seconds into the run;
    wall times run with node time from ``wall_start``.
    """
    sha = config.config_sha256(cfg)
    seq = 0
    yield trace_record.config_to_dict(seq, start, wall_start, config.flatten(cfg), sha)
    state, events = core.initial_state(cfg), []
    tick = 1.0 / cfg.rate_hz
    ticks_per_plan = max(1, round(PLANNER_PERIOD_S / tick))
    next_spi, drift, x, step = start + SPI_PERIOD_S, 'none', 0.0, 0
    while step * tick <= seconds:
        now = start + step * tick
        x += state.output.v * tick
        inputs = [Odom(state.output.v, state.output.w, x, 0.0, now, 0.0)]
        if step % ticks_per_plan == 0:
            inputs += [Meta(now, confidence(now - start), model_sha256),
                       Proposal(SPEED, 0.0, now)]
        else:
            inputs.append(Tick())
        for event in inputs:
            result = core.step(state, event, now, cfg)
            state = result.state
            events.append((now, event))
            for decision in result.decisions:
                seq += 1
                yield trace_record.decision_to_dict(decision, seq, events,
                                                    wall_start + now - start, 25.0, sha)
                events = []
        if now >= next_spi or state.drift != drift:
            next_spi += SPI_PERIOD_S if now >= next_spi else 0.0
            drift = state.drift
            seq += 1
            yield trace_record.spi_to_dict(seq, now, wall_start + now - start,
                                           spi.snapshot(state.spi, cfg.spi), sha)
        step += 1


def write(path: Path, cfg: config.GateConfig, seconds: float,
          confidence: Callable[[float], float], model_sha256: str = 'cd' * 32,
          max_file_bytes: int = 50_000_000, max_files: int = 10_000,
          start: float = 1000.0, hmac_key: Optional[bytes] = None) -> int:
    """Write the run's trace to ``path`` (rotating as the node does); return its record count."""
    count = 0
    writer = TraceWriter(path, max_file_bytes, max_files, _QUEUE, hmac_key=hmac_key)
    try:
        for record in records(cfg, seconds, confidence, model_sha256, start):
            while writer.stats().queue_depth > _QUEUE // 2:  # let the writer catch up
                time.sleep(0.01)
            writer.submit(record)
            count += 1
    finally:
        writer.close(timeout=None)  # every record written and every rotation done
    if writer.stats().lost:
        raise RuntimeError(f'{path}: the writer lost {writer.stats().lost} records')
    return count


def drifting(start: float, end: float, high: float = 0.9,
             low: float = 0.55) -> Callable[[float], float]:
    """Return a confidence that holds ``high``, falls linearly to ``low`` over [start, end]."""
    def confidence(t: float) -> float:
        share = min(1.0, max(0.0, (t - start) / (end - start)))
        # A small deterministic ripple, so the histogram has more than one bin.
        return high + (low - high) * share + 0.03 * math.sin(t * 7.0)
    return confidence
