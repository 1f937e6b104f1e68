# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""In-process benchmarks: the pure decision core in both modes, and the trace writer.

Each core run is a closed loop on a simulated clock, pinned to one CPU, with
odometry that follows the gate's output like a vehicle without lag. Only
``core.step`` is timed; building the events is not.

Twist mode: a planner at 100 Hz (meta, then the command with the same
stamp), odometry and watchdog ticks at 50 Hz. A 10 s script repeats: 6 s of
clean driving, 1 s of low confidence, 1 s of commands beyond the envelope,
1 s of silent odometry, 1 s of recovery. So the decisions are approvals
(with rate clamps), fallbacks from the confidence, envelope and sensor
checks, and hysteresis.

Trajectory mode (``planner.input: autoware_trajectory``): a 64-point plan at
10 Hz in the Alpamayo 2 format (``kit.world.alpamayo_plans``: points 0.1 s
apart from 0.1 s, in the vehicle's frame at a stamp 0.1 s before it
arrives), odometry and ticks at 50 Hz; each plan is judged on arrival
(structure, kinematics, the vehicle, the shift from the approved plan) and
every tick follows the approved one (its ego checks, the stop reserve, the
command sampled from it). A 30 s script repeats: 23 s on an arc, 1 s of plans
with a kink (refused: the stop along the approved path), then the arc again,
which the shift check refuses until the last approved plan has run out (the
vehicle stopped where that plan went on) and the hysteresis hands back.
"""

from dataclasses import dataclass, field
import math
import os
from pathlib import Path
import time
from typing import Any, Callable, Dict, List, Tuple

from safety_gate import config, core, trace_record
from safety_gate.events import Odom, Plan, Proposal, stamp_to_seconds, Tick
from safety_gate.kit.bench.report import summarize
from safety_gate.kit.world import alpamayo_plans
from safety_gate.kit.world.rosutil import meta_json, stamp_from_ns
from safety_gate.meta import parse_meta
from safety_gate.trace_writer import TraceWriter

_T0 = 1_000_000.0
_MODEL_SHA256 = 'cd' * 32
_REASONING = 'Clear lane; keeping to the centre line at cruise speed.'
_RECORDS_KEPT = 1000  # sample decision records kept for the trace writer benchmark

_TWIST_SCRIPT_S = 10.0
_TWIST_PERIOD_S = 0.01  # the planner's period; odometry and ticks every second period

_PLAN_SCRIPT_S = 30.0
_PLAN_KINK_S = (23.0, 24.0)  # when in the script the plans have a kink
_PLAN_TICK_S = 0.02  # odometry and ticks at 50 Hz
_PLAN_EVERY = 5  # ticks per plan: 10 Hz
_PLAN_LATENCY_S = 0.1  # the plan's stamp is this much older than its arrival
_PLAN_SPEED = 0.5  # m/s
_PLAN_CURVATURE = 0.2  # 1/m
# As config/alpamayo_autoware.yaml reads the wrapper: no meta, so no wait for one.
PLAN_PARAMS = {'require_reset_on_start': False, 'planner.input': 'autoware_trajectory',
               'confidence.required': False, 'confidence.pairing_wait': 0.0}

# Called with (step index, state before it): the time of the step and its events in order.
Script = Callable[[int, core.GateState], Tuple[float, List[object]]]


def _twist_phase(t: float) -> str:
    second = t % _TWIST_SCRIPT_S
    if 6.0 <= second < 7.0:
        return 'low_confidence'
    if 7.0 <= second < 8.0:
        return 'over_speed'
    if 8.0 <= second < 9.0:
        return 'odom_silent'
    return 'clean'


def _twist_script(cfg: config.GateConfig) -> Script:
    x = 0.0

    def events(k: int, state: core.GateState) -> Tuple[float, List[object]]:
        nonlocal x
        now = _T0 + k * _TWIST_PERIOD_S
        phase = _twist_phase(k * _TWIST_PERIOD_S)
        found: List[object] = []
        if k % 2 == 0 and phase != 'odom_silent':
            x += state.output.v * 2 * _TWIST_PERIOD_S
            found.append(Odom(state.output.v, state.output.w, x, 0.0, now))
        stamp = stamp_from_ns(int(round(now * 1e9)))
        confidence = 0.3 if phase == 'low_confidence' else 0.9
        found.append(parse_meta(meta_json(stamp, confidence, _MODEL_SHA256, _REASONING),
                                cfg.confidence.max_meta_bytes,
                                cfg.confidence.max_reasoning_chars))
        v = 2.0 if phase == 'over_speed' else 0.6 + 0.3 * math.sin(0.5 * k * _TWIST_PERIOD_S)
        found.append(Proposal(v, 0.4 * math.sin(0.3 * k * _TWIST_PERIOD_S),
                              stamp_to_seconds(stamp.sec, stamp.nanosec)))
        if k % 2 == 1:
            found.append(Tick())
        return now, found
    return events


def _plan_points(shape: alpamayo_plans.Shape) -> Tuple[Tuple[float, float, float, float], ...]:
    return tuple((p.time_from_start_ns * 1e-9, p.x, p.y, p.yaw)
                 for p in alpamayo_plans.plan(alpamayo_plans.ALPAMAYO_2_SUPER, shape))


def _plan_script(cfg: config.GateConfig) -> Script:
    arc = _plan_points(alpamayo_plans.arc(_PLAN_SPEED, _PLAN_CURVATURE))
    kink = _plan_points(alpamayo_plans.kink(_PLAN_SPEED, 1.0, 0.8))
    pose = [0.0, 0.0, 0.0]  # the vehicle drives the output exactly

    def events(k: int, state: core.GateState) -> Tuple[float, List[object]]:
        now = _T0 + k * _PLAN_TICK_S
        v, w = state.output.v, state.output.w
        yaw = pose[2]
        pose[0] += v * _PLAN_TICK_S * math.cos(yaw + w * _PLAN_TICK_S / 2.0)
        pose[1] += v * _PLAN_TICK_S * math.sin(yaw + w * _PLAN_TICK_S / 2.0)
        pose[2] += w * _PLAN_TICK_S
        found: List[object] = [Odom(v, w, pose[0], pose[1], now, pose[2])]
        if k % _PLAN_EVERY == 0:
            second = (k * _PLAN_TICK_S) % _PLAN_SCRIPT_S
            points = kink if _PLAN_KINK_S[0] <= second < _PLAN_KINK_S[1] else arc
            found.append(Plan(now - _PLAN_LATENCY_S, alpamayo_plans.FRAME_ID, points,
                              'autoware_trajectory'))
        found.append(Tick())
        return now, found
    return events


def _pin_to_one_cpu() -> Tuple[set, int]:
    before = os.sched_getaffinity(0)
    cpu = max(before)
    os.sched_setaffinity(0, {cpu})
    return before, cpu


@dataclass
class _Timings:
    """What one timed run of the core saw."""

    step_ns: List[int] = field(default_factory=list)  # every step
    decision_us: List[float] = field(default_factory=list)  # steps that decided
    with_record_us: List[float] = field(default_factory=list)
    by_event: Dict[str, List[float]] = field(default_factory=dict)  # decision_us per event type
    # The same on the thread's CPU clock: what the step costs, without the time the
    # thread was descheduled (on a shared host the wall-clock tail is other processes').
    cpu_by_event: Dict[str, List[float]] = field(default_factory=dict)
    verdicts: Dict[str, int] = field(default_factory=dict)
    samples: List[Dict[str, Any]] = field(default_factory=list)


def _time_core(cfg: config.GateConfig, script: Script, steps: int) -> Tuple[_Timings, int]:
    """Run ``steps`` of ``script`` through the core pinned to one CPU; return timings, the CPU."""
    sha = config.config_sha256(cfg)
    state = core.initial_state(cfg)
    timings = _Timings()
    pending: List[Tuple[float, object]] = []
    before, cpu = _pin_to_one_cpu()
    try:
        for k in range(steps):
            now, events = script(k, state)
            for event in events:
                pending.append((now, event))
                cpu_started = time.thread_time_ns()
                started = time.perf_counter_ns()
                result = core.step(state, event, now, cfg)
                stepped = time.perf_counter_ns()
                cpu_stepped = time.thread_time_ns()
                state = result.state
                timings.step_ns.append(stepped - started)
                if not result.decisions:
                    continue
                trace_records = []
                for decision in result.decisions:
                    trace_records.append(trace_record.decision_to_dict(
                        decision, sum(timings.verdicts.values()) + len(trace_records), pending,
                        time.time(), 0.0, sha))
                    pending = []
                recorded = time.perf_counter_ns()
                timings.decision_us.append((stepped - started) * 1e-3)
                timings.with_record_us.append((recorded - started) * 1e-3)
                kind = type(event).__name__
                timings.by_event.setdefault(kind, []).append((stepped - started) * 1e-3)
                timings.cpu_by_event.setdefault(kind, []).append(
                    (cpu_stepped - cpu_started) * 1e-3)
                for decision, line in zip(result.decisions, trace_records):
                    verdict = decision.verdict.value
                    timings.verdicts[verdict] = timings.verdicts.get(verdict, 0) + 1
                    if len(timings.samples) < _RECORDS_KEPT:
                        timings.samples.append(line)
    finally:
        os.sched_setaffinity(0, before)
    return timings, cpu


def _results(timings: _Timings, cpu: int, seconds: float) -> Dict[str, Any]:
    total_s = sum(timings.step_ns) * 1e-9
    return {
        'cpu': cpu,
        'simulated_s': seconds,
        'events': len(timings.step_ns),
        'decisions': len(timings.decision_us),
        'decisions_per_s': len(timings.decision_us) / total_s,
        'events_per_s': len(timings.step_ns) / total_s,
        'step_us': summarize(timings.decision_us),
        'step_and_record_us': summarize(timings.with_record_us),
        'verdicts': timings.verdicts,
    }


def run_core(seconds: float) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """Run ``seconds`` of simulated twist mode through the core; return (results, samples).

    The results have decisions per second of step time, per-decision step
    latency (µs), the same including the node's record building, and the
    verdict mix; the samples are decision records for the trace writer.
    """
    cfg = config.build({'require_reset_on_start': False})
    timings, cpu = _time_core(cfg, _twist_script(cfg), int(seconds / _TWIST_PERIOD_S))
    return _results(timings, cpu, seconds), timings.samples


def run_core_plans(seconds: float) -> Dict[str, Any]:
    """Run ``seconds`` of simulated trajectory mode through the core (see the module doc).

    As :func:`run_core`, plus the step latency of the decisions on a plan's
    arrival (``plan_us``) and of those on a tick (``tick_us``) apart, each also
    on the thread's CPU clock (``plan_cpu_us``, ``tick_cpu_us``).
    """
    cfg = config.build(PLAN_PARAMS)
    timings, cpu = _time_core(cfg, _plan_script(cfg), int(seconds / _PLAN_TICK_S))
    found = {**_results(timings, cpu, seconds),
             'plan_points': alpamayo_plans.ALPAMAYO_2_SUPER.points}
    for kind, event in (('plan', 'Plan'), ('tick', 'Tick')):
        found[f'{kind}_us'] = summarize(timings.by_event.get(event, []))
        found[f'{kind}_cpu_us'] = summarize(timings.cpu_by_event.get(event, []))
    return found


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
