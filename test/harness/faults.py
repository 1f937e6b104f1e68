# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers for the process-level fault tests (test_faults_*.py) on top of harness.ros.

:class:`Processes` starts and always stops the other processes a fault test
needs (the scripted planner, the simulated vehicle, a flood publisher, a gate
with injected faults); :func:`reaction` times the gate's protective output at
the real cmd_vel interface; :func:`unsafe_outputs` applies the fuzzer's
invariant to everything the gate published; :func:`read_trace` reads the
trace files back and :func:`trace_loss` counts the records they lost. Two
entry points run as child processes (``python -m harness.faults``):
:func:`flood_main` (proposals at a high rate) and :func:`injected_gate_main`
(the real gate with chosen functions made to raise on demand).
"""

import importlib
import json
import math
import os
from pathlib import Path
import signal
import sys
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from geometry_msgs.msg import TwistStamped
from harness.ros import MODEL_SHA256, NodeProcess, Received, TestBench, UNLATCHED, write_params
import psutil
import rclpy
from safety_gate import node as gate_node
from safety_gate.config import GateConfig
from safety_gate.kit.world import faults
from safety_gate.kit.world.fuzz import Invariant
from safety_gate.kit.world.rosutil import COMMAND_QOS, make_twist, meta_json, stamp_from_ns
from safety_gate.trace_file import open_trace
from safety_gate.trace_record import is_config, is_decision, is_spi
from safety_gate.verify import verify, VerifyReport
from std_msgs.msg import String
import yaml

TEST_DIR = Path(__file__).resolve().parents[1]  # holds the harness package
SLACK = 0.3  # s: scheduling and DDS latency on a loaded 2-core machine
PLANNER = 'safety_gate.kit.world.planner'
VEHICLE = 'safety_gate.kit.world.sim_vehicle'
INJECT_DIR_ENV = 'SAFETY_GATE_INJECT_DIR'
ENTRY_ENV = 'SAFETY_GATE_HARNESS_ENTRY'
# What injected_gate_main can make raise: (module, function) as the core looks them up.
INJECTABLE = (
    ('safety_gate.checks', 'validity'), ('safety_gate.checks', 'confidence'),
    ('safety_gate.checks', 'envelope'), ('safety_gate.sensors', 'odom_checks'),
    ('safety_gate.sensors', 'imu_checks'), ('safety_gate.sensors', 'on_odom'),
    ('safety_gate.sensors', 'on_output'), ('safety_gate.hysteresis', 'on_clean_proposal'),
    ('safety_gate.limits', 'rate_limit'), ('safety_gate.limits', 'enforce_envelope'),
    ('safety_gate.fallback', 'step'), ('safety_gate.convert', 'parse_meta'),
    ('safety_gate.convert', 'proposal'),
)

# Methods of the shell that injected_gate_main can make misbehave: (module, class, method).
INJECTABLE_METHODS = (
    ('safety_gate.executor', 'ReusedWaitSetExecutor', '_dispatch'),
    ('safety_gate.node', 'SafetyGateNode', '_on_tick'),
    ('safety_gate.node', 'SafetyGateNode', '_publish_command'),
)


class Processes:
    """The helper processes of one test; leaving the ``with`` block stops them all."""

    def __init__(self, tmp_path: Path) -> None:
        """Keep logs and params files under ``tmp_path``."""
        self.tmp_path = Path(tmp_path)
        self.started: List[NodeProcess] = []

    def __enter__(self) -> 'Processes':
        """Return self."""
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """Stop every process, frozen ones too, and print their output for a failing test."""
        for process in self.started:
            if process.returncode is None:
                process.signal(signal.SIGCONT)
            code = process.stop()
            print(f'--- {process.log_path.name} exit code {code}, output:\n{process.output()}')

    def node(self, module: str, node_name: str, params: Dict[str, Any],
             ros_args: Sequence[str] = (),
             env: Optional[Mapping[str, str]] = None) -> NodeProcess:
        """Start a node module with ``params`` for ``node_name`` and ``env`` in its environment."""
        process = NodeProcess(module, write_params(self.tmp_path, params, node_name),
                              self.tmp_path, ros_args, env)
        self.started.append(process)
        return process

    def program(self, entry: str, params: Dict[str, Any], node_name: str = 'safety_gate',
                env: Optional[Dict[str, str]] = None) -> NodeProcess:
        """Start ``entry``, a function of this module, as a process (``python -m harness.faults``).

        The child finds this module through PYTHONPATH and the function to run
        through ``$SAFETY_GATE_HARNESS_ENTRY``; both, and ``env``, apply to it alone.
        """
        path = os.pathsep.join(p for p in (str(TEST_DIR), os.environ.get('PYTHONPATH')) if p)
        return self.node('harness.faults', node_name, params,
                         env={'PYTHONPATH': path, ENTRY_ENV: entry, **(env or {})})

    def planner(self, v: float) -> NodeProcess:
        """Start the scripted planner driving straight at ``v`` (confidence 0.9) for an hour."""
        script = self.tmp_path / f'planner_script{len(self.started)}.yaml'
        script.write_text(yaml.safe_dump({'confidence': 0.9, 'loop': False,
                                          'segments': [[3600.0, v, 0.0]]}))
        return self.node(PLANNER, 'planner', {'script': str(script)})

    def vehicle(self, **params: Any) -> NodeProcess:
        """Start the simulated vehicle: it follows cmd_vel and publishes odom and imu."""
        return self.node(VEHICLE, 'sim_vehicle', params)


# ---------------------------------------------------------------- observing the gate

def output_of(bench: TestBench, decision: Received, since: float):
    """Return the cmd_vel message the gate published for ``decision``, or None.

    The gate stamps its output with the node clock right after deciding, so
    the stamp is the decision's time plus the publishing delay (exactly the
    decision's time on a simulated clock); ``since`` excludes older messages.
    """
    t_ns = decision.data['t'] * 1e9
    return next((c for c in bench.cmd_since(since)
                 if c.stamp_ns is not None and -1e3 <= c.stamp_ns - t_ns <= 50e6), None)


def reaction(bench: TestBench, injected: float, predicate: Callable[[dict], bool],
             timeout: float = 10.0) -> Tuple[Optional[Received], Optional[float]]:
    """Wait for the first decision after ``injected`` that matches; time its cmd_vel output.

    Return (the decision record, seconds from ``injected`` to the bench's receipt
    of the output), or (None, None) if no such decision came within ``timeout``.
    """
    decision = bench.wait_for_decision(predicate, injected, timeout)
    if decision is None:
        return None, None
    bench.wait_for(lambda: output_of(bench, decision, injected) is not None, 2.0)
    output = output_of(bench, decision, injected)
    return decision, (None if output is None else output.t - injected)


def has_reason(*reasons: str) -> Callable[[dict], bool]:
    """Return a predicate: a non-APPROVE decision naming any of ``reasons``."""
    return lambda r: r['verdict'] != 'APPROVE' and any(x in r['reasons'] for x in reasons)


def approved(record: dict) -> bool:
    """Return True for an APPROVE decision."""
    return record['verdict'] == 'APPROVE'


def approved_after(decision: Received) -> Callable[[dict], bool]:
    """Return a predicate: an APPROVE decision made after ``decision`` by the same gate."""
    return lambda r: approved(r) and r['seq'] > decision.data['seq']


def unsafe_outputs(bench: TestBench, cfg: GateConfig,
                   records: Optional[List[dict]] = None) -> List[Tuple[float, str]]:
    """Return (time.monotonic() of the output, what) for every unsafe output.

    Every cmd_vel message the bench received must be finite and inside the
    envelope. The decision records must keep the fuzzer's :class:`Invariant`
    (restarting at gaps and gate restarts): ``records`` from the trace file,
    which holds them all, or else those the bench received.
    """
    env = cfg.envelope
    found = [(c.t, f'cmd_vel ({c.v}, {c.w})') for c in bench.cmd
             if not (math.isfinite(c.v) and math.isfinite(c.w)
                     and -env.max_reverse_speed <= c.v <= env.max_linear_speed
                     and abs(c.w) <= env.max_angular_speed
                     and abs(c.v * c.w) <= env.max_lateral_accel + 1e-9)]
    if records is None:
        timed = [(r.t, r.data) for r in bench.decisions]
    else:
        wall_to_monotonic = time.monotonic() - time.time()
        timed = [(r['wall_time'] + wall_to_monotonic, r) for r in records]
    invariant, last_seq = Invariant(cfg), None
    for t, record in timed:
        if is_config(record):
            continue  # a gate (re)started: the seq gap resets the invariant
        if last_seq is None or record['seq'] != last_seq + 1:
            invariant.reset()
        last_seq = record['seq']
        if is_spi(record):
            continue
        output = record['output']
        found += [(t, f'seq {record["seq"]}: {problem}') for problem in invariant.check(
            record['t'], record['verdict'], record['reasons'], float(output['v']),
            float(output['w']), record['clamps'])]
    return found


def start_campaign(bench: TestBench, start_gate: Callable, tmp_path: Path, cfg: GateConfig,
                   params: Optional[Dict[str, Any]] = None
                   ) -> Tuple[NodeProcess, Path, 'Campaign']:
    """Start an unlatched gate tracing to ``tmp_path/trace.jsonl``: (gate, trace, campaign)."""
    trace = Path(tmp_path) / 'trace.jsonl'
    gate = start_gate({**UNLATCHED, 'trace.path': str(trace), **(params or {})})
    return gate, trace, Campaign(bench, cfg)


class Campaign:
    """The fault cases of one test with one gate: timed as they run, judged at the end."""

    def __init__(self, bench: TestBench, cfg: GateConfig) -> None:
        """Judge the outputs ``bench`` saw against ``cfg``."""
        self.bench = bench
        self.cfg = cfg
        self.cases: List[Tuple[str, str, float, Optional[float], int]] = []

    def case(self, fault_class: str, name: str, injected: float,
             reaction_s: Optional[float], count: int = 1) -> None:
        """Note ``count`` cases injected at ``injected`` (time.monotonic()), reacted after that."""
        self.cases.append((fault_class, name, injected, reaction_s, count))

    def run(self, gate: NodeProcess, fault_class: str, name: str, inject: Callable[[], Any],
            recover: Callable[[], Any], predicate: Callable[[dict], bool], budget: float,
            hold: float = 0.0, speed: Optional[float] = None,
            timeout: float = 10.0) -> Tuple[Received, float]:
        """Run one fault case; return (the first protective decision, the reaction time).

        ``inject()`` the fault; the first decision matching ``predicate`` must
        reach cmd_vel within ``budget`` (plus SLACK); for ``hold`` seconds no
        approval may follow; then ``recover()``, and authority must come back
        only under the hysteresis rules (and the output to ``speed``, if given).
        ``timeout`` bounds the wait for the protective decision.
        """
        bench = self.bench
        injected = time.monotonic()
        inject()
        decision, seconds = reaction(bench, injected, predicate, timeout)
        assert decision is not None, f'{name}: no protective decision\n{gate.output()}'
        assert seconds is not None and seconds <= budget + SLACK, f'{name}: {seconds} s'
        if hold:
            bench.spin_for(hold)
            assert not [r for r in bench.decisions_after(decision) if approved(r)], (
                f'{name}: approved while the fault lasted')
        recover()
        approval = bench.wait_for_decision(approved_after(decision), decision.t, 20.0)
        assert approval is not None, f'{name}: authority never came back\n{gate.output()}'
        assert_hysteresis(bench, approval, self.cfg)
        assert speed is None or bench.wait_for_cmd(speed), f'{name}: {bench.cmd[-1]}'
        self.case(fault_class, name, injected, seconds)
        return decision, seconds

    def finish(self, gate: NodeProcess, trace_paths: Sequence[Path],
               storage_healthy: bool = True,
               counted_lost: Optional[int] = None) -> Tuple[Optional[int], List[str]]:
        """Stop the gate, record the cases as evidence; return (records lost, trace problems).

        The loss is read from ``trace_paths`` (with their rotated files);
        without a file it is ``counted_lost`` (the gate's own count). Each case
        is charged the unsafe outputs from its injection to the next case's, the
        first case also those before it. Assert that there were none and that
        the gate had not died (it may have exited cleanly already).
        """
        code = gate.stop() if gate.returncode is None else gate.returncode
        assert code == 0, f'the gate died ({code}):\n{gate.output()}'
        trace = read_trace(trace_paths) if trace_paths else None
        records = trace[1] if trace is not None and storage_healthy else None
        unsafe = unsafe_outputs(self.bench, self.cfg, records)
        lost, problems = trace_loss(*trace) if trace is not None else (counted_lost, [])
        cases = sorted(self.cases, key=lambda case: case[2])
        starts = [-math.inf] + [case[2] for case in cases[1:]] + [math.inf]
        for index, (fault_class, name, _, reaction_s, count) in enumerate(cases):
            faults.record(
                fault_class, name,
                unsafe=sum(1 for t, _ in unsafe if starts[index] <= t < starts[index + 1]),
                lost=lost if index == 0 else (None if lost is None else 0),
                reaction_s=reaction_s, cases=count, storage_healthy=storage_healthy)
        assert not unsafe, unsafe
        return lost, problems


def assert_hysteresis(bench: TestBench, approval: Received, cfg: GateConfig) -> None:
    """Assert that ``approval`` handed authority back only under the hysteresis rules."""
    conf = cfg.confidence
    # A superseded proposal is refused without being judged: it revokes nothing.
    failures = [r.data['t'] for r in bench.decisions
                if r.data['verdict'] != 'APPROVE' and r.data['t'] < approval.data['t']
                and r.data['reasons'] not in (['HYSTERESIS'], ['SUPERSEDED'])]
    assert failures, 'no failure before the approval'
    last_failure = max(failures)
    clean = [r.data for r in bench.decisions
             if last_failure < r.data['t'] < approval.data['t']
             and r.data['trigger'] == 'proposal']
    assert all(r['reasons'] == ['HYSTERESIS'] for r in clean), clean
    assert len(clean) >= conf.recover_count - 1, (len(clean), clean)
    assert approval.data['t'] - last_failure >= conf.min_dwell - 1e-6


def diagnostic(bench: TestBench, name: str, since: float) -> List[Tuple[float, int, str, dict]]:
    """Return (time, level, message, values) of status ``name`` received since ``since``."""
    found = []
    for record in bench.diagnostics:
        if record.t < since:
            continue
        for status in record.data.status:
            if status.name == name:
                found.append((record.t, status.level[0] if isinstance(status.level, bytes)
                              else status.level, status.message,
                              {kv.key: kv.value for kv in status.values}))
    return found


def rss_bytes(process: NodeProcess) -> int:
    """Return the resident memory of a process."""
    return psutil.Process(process.pid).memory_info().rss


def with_rotated(paths: Sequence[Path]) -> List[Path]:
    """Return the trace files and their rotated predecessors (``trace.jsonl.1`` ...)."""
    found = []
    for path in map(Path, paths):
        found += [path] + sorted(path.parent.glob(path.name + '.[0-9]*'))
    return found


def read_trace(paths: Sequence[Path]) -> Tuple[VerifyReport, List[dict]]:
    """Verify trace files and their rotated ones; return (report, records oldest first)."""
    report = verify(with_rotated(paths))
    records = []
    for path in report.files:
        with open_trace(path) as file:
            for line in file:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    # Blank, or cut by a crash: verify reports a cut line (bad-json).
                    continue
    return report, records


def trace_lines(paths: Sequence[Path]) -> List[dict]:
    """Return the decision records of trace files and their rotated ones, oldest first."""
    return [r for r in read_trace(paths)[1] if is_decision(r)]


def trace_loss(report: VerifyReport, records: Sequence[dict]) -> Tuple[int, List[str]]:
    """Return (records lost, verify's problems other than losses) of a whole trace.

    ``report`` and ``records`` are what :func:`read_trace` returns. The gate
    numbers every decision before it queues its record, so a lost record,
    whether the writer marked it (``lost_before``) or not, leaves a gap in
    ``seq`` within a chain.
    """
    lost, previous = 0, None
    for record in records:
        if previous is not None and not record.get('chain_start'):
            lost += max(0, record['seq'] - previous - 1)
        previous = record['seq']
    return lost, [str(p) for p in report.problems if p.kind not in ('lost', 'removed')]


# ---------------------------------------------------------------- child processes

def flood_main() -> int:
    """Publish meta + command pairs at ``rate_hz`` for ``seconds``, then report on stdout.

    Parameters: ``rate_hz``, ``seconds``, ``v``, ``confidence`` and
    ``low_confidence_at`` (fraction of the run after which the confidence is
    0.2). It waits for the gate to subscribe first. The last stdout line is
    JSON: pairs sent and the wall-clock times of the start, the switch to low
    confidence and the end (the gate's node clock, when not simulated).
    """
    rclpy.init()
    node = rclpy.create_node('flood')
    params = {name: node.declare_parameter(name, default).value for name, default in (
        ('rate_hz', 10000.0), ('seconds', 10.0), ('v', 0.5), ('confidence', 0.9),
        ('low_confidence_at', 0.5))}
    meta_pub = node.create_publisher(String, 'planner/meta', COMMAND_QOS)
    cmd_pub = node.create_publisher(TwistStamped, 'planner/cmd_vel', COMMAND_QOS)
    deadline = time.monotonic() + 30.0
    while not (cmd_pub.get_subscription_count() and meta_pub.get_subscription_count()):
        if time.monotonic() > deadline:
            return 1
        time.sleep(0.01)
    time.sleep(1.0)  # the gate's other endpoints match too
    sent, started = 0, time.time()
    print(json.dumps({'started': started}), flush=True)  # the test times its e-stop by it
    switch = started + params['low_confidence_at'] * params['seconds']
    end = started + params['seconds']
    switched = None
    while True:
        now = time.time()
        if now >= end:
            break
        confidence = params['confidence'] if now < switch else 0.2
        if switched is None and now >= switch:
            switched = now
        # Catch up in short bursts, so a host that cannot keep up still
        # switches the confidence and stops on time.
        due = min(int((now - started) * params['rate_hz']), sent + 100)
        while sent < due:
            stamp = stamp_from_ns(node.get_clock().now().nanoseconds)
            meta_pub.publish(String(data=meta_json(stamp, confidence, MODEL_SHA256, 'flood')))
            cmd_pub.publish(make_twist(True, params['v'], 0.0, stamp))
            sent += 1
        time.sleep(0.0002)
    print(json.dumps({'sent': sent, 'started': started, 'switched': switched, 'ended': end}),
          flush=True)
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


def injected_gate_main() -> int:
    """Run the real gate with the functions in INJECTABLE misbehaving on demand.

    While the file ``module.function`` (a method: ``module.Class.method``)
    exists in ``$SAFETY_GATE_INJECT_DIR`` the function raises RuntimeError;
    while ``<that name>.after`` exists it raises after doing its work; while
    ``.skip`` exists it returns None without running (a timer rclpy does not
    fire); while ``.hang`` exists it never returns. The test creates and
    removes those files.
    """
    flags = Path(os.environ[INJECT_DIR_ENV])
    for module_name, name in INJECTABLE:
        module = importlib.import_module(module_name)
        setattr(module, name, _misbehaving_when(flags / f'{module_name}.{name}',
                                                getattr(module, name)))
    for module_name, class_name, name in INJECTABLE_METHODS:
        cls = getattr(importlib.import_module(module_name), class_name)
        setattr(cls, name, _misbehaving_when(flags / f'{module_name}.{class_name}.{name}',
                                             getattr(cls, name)))
    return gate_node.main()


def _misbehaving_when(flag: Path, real: Callable) -> Callable:
    after, skip, hang = (flag.with_name(f'{flag.name}.{mode}')
                         for mode in ('after', 'skip', 'hang'))

    def injected(*args, **kwargs):
        if flag.exists():
            raise RuntimeError(f'injected fault: {flag.name}')
        if skip.exists():
            return None
        while hang.exists():
            time.sleep(1.0)
        result = real(*args, **kwargs)
        if after.exists():
            raise RuntimeError(f'injected fault after the call: {after.name}')
        return result
    return injected


if __name__ == '__main__':
    sys.exit(globals()[os.environ[ENTRY_ENV]]())
