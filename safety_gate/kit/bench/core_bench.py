# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""In-process benchmarks: the pure decision core, and the trace writer's throughput.

The core runs a closed loop on a simulated clock, pinned to one CPU: a
planner at 100 Hz (meta, then the command with the same stamp), odometry and
watchdog ticks at 50 Hz, and the odometry follows the gate's output like a
vehicle without lag. A 10 s script repeats: 6 s of clean driving, 1 s of low
confidence, 1 s of commands beyond the envelope, 1 s of silent odometry,
1 s of recovery. So the decisions are approvals (with rate clamps),
fallbacks from the confidence, envelope and sensor checks, and hysteresis.
Only ``core.step`` is timed; building the events is not.
"""

import math
import os
from pathlib import Path
import time
from typing import Any, Dict, List, Tuple

from safety_gate import config, core, trace_record
from safety_gate.events import Odom, Proposal, stamp_to_seconds, Tick
from safety_gate.kit.bench.report import summarize
from safety_gate.kit.world.rosutil import meta_json, stamp_from_ns
from safety_gate.meta import parse_meta
from safety_gate.trace_writer import TraceWriter

_PERIOD_S = 0.01  # the planner's period; odometry and ticks every second period
_SCRIPT_S = 10.0
_MODEL_SHA256 = 'cd' * 32
_REASONING = 'Clear lane; keeping to the centre line at cruise speed.'
_RECORDS_KEPT = 1000  # sample decision records kept for the trace writer benchmark


def _phase(t: float) -> str:
    second = t % _SCRIPT_S
    if 6.0 <= second < 7.0:
        return 'low_confidence'
    if 7.0 <= second < 8.0:
        return 'over_speed'
    if 8.0 <= second < 9.0:
        return 'odom_silent'
    return 'clean'


def _pin_to_one_cpu() -> Tuple[set, int]:
    before = os.sched_getaffinity(0)
    cpu = max(before)
    os.sched_setaffinity(0, {cpu})
    return before, cpu


def run_core(seconds: float) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """Run ``seconds`` of simulated time through the core; return (results, sample records).

    The results have decisions per second of step time, per-decision step
    latency (µs), the same including the node's record building, and the
    verdict mix.
    """
    cfg = config.build({'require_reset_on_start': False})
    sha = config.config_sha256(cfg)
    state = core.initial_state(cfg)
    t0 = 1_000_000.0
    step_ns: List[int] = []
    decision_us: List[float] = []
    with_record_us: List[float] = []
    verdicts: Dict[str, int] = {}
    samples: List[Dict[str, Any]] = []
    pending: List[Tuple[float, object]] = []
    x = 0.0
    before, cpu = _pin_to_one_cpu()
    try:
        for k in range(int(seconds / _PERIOD_S)):
            now = t0 + k * _PERIOD_S
            phase = _phase(k * _PERIOD_S)
            events: List[object] = []
            if k % 2 == 0 and phase != 'odom_silent':
                x += state.output.v * 2 * _PERIOD_S
                events.append(Odom(state.output.v, state.output.w, x, 0.0, now))
            stamp = stamp_from_ns(int(round(now * 1e9)))
            confidence = 0.3 if phase == 'low_confidence' else 0.9
            events.append(parse_meta(meta_json(stamp, confidence, _MODEL_SHA256, _REASONING),
                                     cfg.confidence.max_meta_bytes,
                                     cfg.confidence.max_reasoning_chars))
            v = 2.0 if phase == 'over_speed' else 0.6 + 0.3 * math.sin(0.5 * k * _PERIOD_S)
            events.append(Proposal(v, 0.4 * math.sin(0.3 * k * _PERIOD_S),
                                   stamp_to_seconds(stamp.sec, stamp.nanosec)))
            if k % 2 == 1:
                events.append(Tick())
            for event in events:
                pending.append((now, event))
                started = time.perf_counter_ns()
                result = core.step(state, event, now, cfg)
                stepped = time.perf_counter_ns()
                state = result.state
                step_ns.append(stepped - started)
                if not result.decisions:
                    continue
                trace_records = []
                for decision in result.decisions:
                    trace_records.append(trace_record.decision_to_dict(
                        decision, sum(verdicts.values()) + len(trace_records), pending,
                        time.time(), 0.0, sha))
                    pending = []
                recorded = time.perf_counter_ns()
                decision_us.append((stepped - started) * 1e-3)
                with_record_us.append((recorded - started) * 1e-3)
                for decision, line in zip(result.decisions, trace_records):
                    verdict = decision.verdict.value
                    verdicts[verdict] = verdicts.get(verdict, 0) + 1
                    if len(samples) < _RECORDS_KEPT:
                        samples.append(line)
    finally:
        os.sched_setaffinity(0, before)
    total_s = sum(step_ns) * 1e-9
    return {
        'cpu': cpu,
        'simulated_s': seconds,
        'events': len(step_ns),
        'decisions': len(decision_us),
        'decisions_per_s': len(decision_us) / total_s,
        'events_per_s': len(step_ns) / total_s,
        'step_us': summarize(decision_us),
        'step_and_record_us': summarize(with_record_us),
        'verdicts': verdicts,
    }, samples


def run_trace_writer(samples: List[Dict[str, Any]], count: int, workdir: Path) -> Dict[str, Any]:
    """Return the trace writer's sustained records per second, writing ``count`` records.

    The records are real decision records (``samples``, cycled); the time runs
    from the first submit until ``close`` has written, synced and closed the
    file, with a queue large enough that nothing is lost.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / 'writer_bench.jsonl'
    writer = TraceWriter(path, 10_000_000_000, 2, count + 1)
    started = time.perf_counter()
    for index in range(count):
        writer.submit(samples[index % len(samples)])
    submitted = time.perf_counter()
    done = writer.close(timeout=600.0)
    elapsed = time.perf_counter() - started
    stats = writer.stats()
    size = path.stat().st_size
    path.unlink()
    return {
        'records': count,
        'written': stats.written,
        'lost': stats.lost,
        'closed': done,
        'records_per_s': stats.written / elapsed,
        'submit_us_mean': (submitted - started) / count * 1e6,
        'bytes_per_record': size / max(1, stats.written),
    }
