# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Run one scenario closed-loop: planner -> gate -> simulated vehicle, on sim time.

A test tool, not part of the safety function.

Three processes (the real gate node, the simulated vehicle, the scripted
planner) talk over DDS on loopback, as they would on a robot, in a ROS domain
of their own. The vehicle drives ``/clock`` at ``sim_rate`` times real time
and every node runs on it (``use_sim_time``). This process is the operator
and the recorder (:class:`~safety_gate.kit.scenarios.scenario_operator.Operator`): it resets
the latched gate once odometry flows, waits until the gate approves the
planner's hold (0, 0) proposals, starts the planner's script, injects the
vehicle and operator faults at their script times (e-stop, resets, a gate
killed with SIGKILL and started again with the same parameters) and records
everything on the run clock.
"""

from dataclasses import dataclass, field
import hashlib
import os
from pathlib import Path
import signal
import time
from typing import Callable, List, Mapping, Optional, Sequence, Tuple

from safety_gate.config import write_params_file
from safety_gate.kit.scenarios.model import effective_config, Scenario, VEHICLE_FAULT_PAYLOADS
from safety_gate.kit.scenarios.recording import Recording
from safety_gate.kit.scenarios.scenario_operator import Operator
from safety_gate.kit.world.process import ChildProcess, python_command
from safety_gate.kit.world.ros_env import loopback_env, pick_domain_id
import yaml

# Wall-clock budgets: generous, so a loaded 2-core host never fails a run on them.
STARTUP_TIMEOUT_S = 30.0
CLOCK_STALL_S = 10.0
SERVICE_TIMEOUT_S = 15.0
RESET_RETRY_S = 0.3
# The candidate planner's model hash (shadow stage): another model than the production one's.
CANDIDATE_MODEL_SHA256 = hashlib.sha256(b'safety_gate scripted candidate planner').hexdigest()
# Reason codes that make the gate refuse a reset; the operator waits them out.
_SENSOR_PREFIXES = ('ODOM_', 'IMU_')


@dataclass
class Run:
    """A finished run: the recording and where its files are."""

    recording: Recording
    trace_path: Path
    gate_exit_codes: List[Optional[int]] = field(default_factory=list)
    wall_s: float = 0.0


def _confine_this_process(env: Mapping[str, str]) -> None:
    """Keep this process's own DDS participant (the operator) on loopback too.

    Only the keys that confine DDS are set, not the domain (each run passes its
    own to the operator's context), so a test session's other ROS nodes keep
    theirs; log and home directories are set only if unset.
    """
    os.environ.pop('ROS_LOCALHOST_ONLY', None)
    for key in ('ROS_AUTOMATIC_DISCOVERY_RANGE', 'FASTDDS_DEFAULT_PROFILES_FILE',
                'RMW_IMPLEMENTATION'):
        os.environ[key] = env[key]
    for key in ('ROS_HOME', 'ROS_LOG_DIR'):
        os.environ.setdefault(key, env[key])


class _Loop:
    """The processes of one run and the operator that drives them."""

    def __init__(self, scenario: Scenario, workdir: Path, config_file: Path,
                 sim_rate: float, domain: Optional[int]) -> None:
        self.workdir = workdir
        self.trace_path = workdir / 'trace.jsonl'
        domain = pick_domain_id() if domain is None else domain
        self.env = loopback_env(workdir, domain)
        _confine_this_process(self.env)
        registry_params = {}
        if scenario.models:
            registry_file = workdir / 'model_registry.yaml'
            registry_file.write_text(yaml.safe_dump({'models': scenario.models}))
            registry_params = {'provenance.registry_file': str(registry_file)}
        gate_file = write_params_file(workdir / 'gate_params.yaml', {
            'use_sim_time': True, 'trace.path': str(self.trace_path), **scenario.gate_overrides(),
            **registry_params})
        self.gate_argv = ['-m', 'safety_gate.node', '--ros-args', '--params-file',
                          str(config_file), '--params-file', str(gate_file)]
        script_file = workdir / 'planner_script.yaml'
        script_file.write_text(yaml.safe_dump(scenario.planner_script().to_mapping()))
        plan = scenario.plan
        plan_params = {} if plan is None else {
            'plan_input': plan.input, 'plan_variant': plan.variant,
            'plan_period_min': plan.period[0], 'plan_period_max': plan.period[1],
            'plan_latency': plan.latency}
        planner_file = write_params_file(workdir / 'planner_params.yaml', {
            'use_sim_time': True, 'wait_for_start': True, 'script': str(script_file),
            **scenario.planner_params(), **plan_params}, 'planner')
        vehicle_file = write_params_file(workdir / 'vehicle_params.yaml', {
            'publish_clock': True, 'sim_rate': float(sim_rate), **scenario.vehicle_params},
            'sim_vehicle')
        self.gate_exit_codes: List[Optional[int]] = []
        self.restarted_at: Optional[float] = None
        self.operator = Operator(scenario.id, domain, None if plan is None else plan.input,
                                 planners=1 if scenario.candidate is None else 2)
        self._started: List[ChildProcess] = []
        try:
            self.vehicle = self._start('vehicle', ['-m', 'safety_gate.kit.world.sim_vehicle',
                                                   '--ros-args', '--params-file',
                                                   str(vehicle_file)])
            self.gate = self._start('gate', self.gate_argv)
            self.planner = self._start('planner', ['-m', 'safety_gate.kit.world.planner',
                                                   '--ros-args', '--params-file',
                                                   str(planner_file)])
            self.candidate = None
            if scenario.candidate is not None:
                self.candidate = self._start('candidate', self._candidate_argv(
                    scenario, config_file, plan_params))
        except BaseException:
            self._stop_all()
            self.operator.destroy()
            raise

    def _candidate_argv(self, scenario: Scenario, config_file: Path,
                        plan_params: Mapping[str, object]) -> List[str]:
        """Return the arguments of a second scripted planner on the gate's shadow namespace.

        It is the planner node renamed, its planner topics remapped there; it
        listens to the same ``planner/start``, so its script time is the production one's.
        """
        script_file = self.workdir / 'candidate_script.yaml'
        script_file.write_text(yaml.safe_dump(scenario.candidate.planner_script().to_mapping()))
        params = write_params_file(self.workdir / 'candidate_params.yaml', {
            'use_sim_time': True, 'wait_for_start': True, 'script': str(script_file),
            'model_sha256': CANDIDATE_MODEL_SHA256, **plan_params}, 'candidate')
        namespace = effective_config(config_file, scenario).shadow.namespace
        remaps = [arg for topic in ('cmd_vel', 'meta', 'trajectory')
                  for arg in ('-r', f'planner/{topic}:={namespace}/{topic}')]
        return ['-m', 'safety_gate.kit.world.planner', '--ros-args', '-r', '__node:=candidate',
                *remaps, '--params-file', str(params)]

    def _start(self, name: str, argv: Sequence[str]) -> ChildProcess:
        process = ChildProcess(name, python_command(*argv), self.workdir / f'{name}.log',
                               self.env)
        self._started.append(process)
        return process

    def check_alive(self) -> None:
        """Raise RuntimeError if a process died on its own."""
        for process in (self.vehicle, self.gate, self.planner, self.candidate):
            if process is not None and not process.alive():
                # The last line says why (the gate's refusal names the parameter); the
                # runner shows only the first line of the error.
                log = process.output()
                last = next((line.strip() for line in reversed(log.splitlines())
                             if line.strip()), '(no output)')
                raise RuntimeError(f'{process.name} exited with {process.returncode}: '
                                   f'{last}\n{log[-2000:]}')

    def restart_gate(self) -> None:
        """Kill the gate as a crash would (SIGKILL) and start it again, same parameters."""
        self.gate_exit_codes.append(self.gate.stop(signal.SIGKILL))
        self.restarted_at = self.operator.now
        self.gate = self._start(f'gate{len(self.gate_exit_codes)}', self.gate_argv)

    def reset(self) -> None:
        """Call reset once the gate is up and reports healthy inputs, as an operator does."""
        operator = self.operator
        if self.restarted_at is not None:
            operator.wait_until(lambda: any(d.t > self.restarted_at
                                            for d in operator.rec.decisions),
                                STARTUP_TIMEOUT_S, 'the restarted gate')
        try:
            operator.wait_until(self.inputs_healthy, 3.0, 'healthy inputs')
        except TimeoutError:
            pass  # the reset is refused, and recorded as refused
        operator.reset(SERVICE_TIMEOUT_S)

    def ready(self) -> bool:
        """Return True once every process is up and connected and odometry flows."""
        self.check_alive()
        operator = self.operator
        return (operator.now is not None and operator.connected()
                and operator.gate_state is not None and operator.odom_flowing())

    def inputs_healthy(self) -> bool:
        """Return True if the gate's latest decision names no sensor fault."""
        decisions = self.operator.rec.decisions
        return bool(decisions) and not any(r.startswith(_SENSOR_PREFIXES)
                                           for r in decisions[-1].reasons)

    def stop(self) -> None:
        """Stop the recording, then every process; keep the gate's exit code."""
        try:
            self.operator.destroy()
        finally:
            self.planner.stop()
            if self.candidate is not None:
                self.candidate.stop()
            self.gate_exit_codes.append(self.gate.stop())
            self._stop_all()

    def _stop_all(self) -> None:
        """Stop every process still running (a stopped one returns at once)."""
        for process in reversed(self._started):
            process.stop()


def _schedule(scenario: Scenario, loop: _Loop) -> List[Tuple[float, Callable[[], None]]]:
    """Return the operator's timed steps: (script time, action)."""
    operator = loop.operator
    steps: List[Tuple[float, Callable[[], None]]] = []

    def vehicle(index: int, phase: str, payload: Optional[dict]) -> Callable[[], None]:
        def act() -> None:
            if payload is not None:
                operator.vehicle_fault(payload)
            operator.note(phase, index, detail=payload)
        return act

    def estop(index: int, phase: str, engaged: bool) -> Callable[[], None]:
        def act() -> None:
            operator.estop(engaged)
            operator.note(phase, index, detail={'estop': engaged})
        return act

    def restart(index: int) -> Callable[[], None]:
        def act() -> None:
            operator.note('fault_start', index, detail='gate killed (SIGKILL) and restarted')
            loop.restart_gate()
        return act

    for i, fault in enumerate(scenario.faults):
        if fault.planner:
            continue
        if fault.kind == 'estop':
            steps += [(fault.t_start, estop(i, 'fault_start', True)),
                      (fault.t_end, estop(i, 'fault_end', False))]
        elif fault.kind == 'gate_restart':
            steps.append((fault.t_start, restart(i)))
        else:
            start, end = VEHICLE_FAULT_PAYLOADS[fault.kind](fault.value)
            steps += [(fault.t_start, vehicle(i, 'fault_start', start)),
                      (fault.t_end, vehicle(i, 'fault_end', end))]
    steps += [(t, loop.reset) for t in scenario.resets]
    return sorted(steps, key=lambda step: step[0])


def run(scenario: Scenario, workdir: Path, config_file: Path, sim_rate: float,
        progress: Optional[Callable[[float], None]] = None,
        domain: Optional[int] = None) -> Run:
    """Run ``scenario`` against the gate configured by ``config_file`` and record it.

    ``progress`` gets the script time as the run advances; ``domain`` is the
    ROS domain id (None: a random one, see ``ros_env``). Raise TimeoutError
    or RuntimeError when the run itself fails (a process that does not come
    up or dies, a simulation that stops).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    loop = _Loop(scenario, workdir, config_file, sim_rate, domain)
    operator = loop.operator
    try:
        operator.wait_until(loop.ready, STARTUP_TIMEOUT_S,
                            'the gate, the vehicle and the planner')
        # A latched gate is reset as an operator does after power-up: once its inputs
        # are healthy, trying again now and then until it accepts.
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while operator.gate_state == 'ESTOP' and not (
                loop.inputs_healthy() and operator.reset(SERVICE_TIMEOUT_S)):
            if time.monotonic() > deadline:
                raise TimeoutError('the gate refused every start-up reset')
            operator.spin_for(RESET_RETRY_S)
        # The planner holds position until started: once the gate approves that, the
        # whole chain (planner, gate, recorder) is connected.
        operator.wait_until(lambda: any(d.verdict in ('APPROVE', 'LIMIT')
                                        for d in operator.rec.decisions),
                            STARTUP_TIMEOUT_S, "the gate to approve the planner's hold")
        if scenario.candidate is not None:
            # A shadow candidate's hold judged too: the gate hears it before the script starts.
            operator.wait_until(lambda: operator.candidate_judged, STARTUP_TIMEOUT_S,
                                "the gate to judge the candidate's hold")
        operator.start_planner()
        operator.wait_until(lambda: operator.script_start is not None, STARTUP_TIMEOUT_S,
                            'the planner to start')
        rec = operator.rec
        rec.t0 = operator.script_start + (operator.now - operator.raw)
        operator.note('start')

        def report(now: float) -> None:
            if progress is not None:
                progress(now - rec.t0)

        for t, act in _schedule(scenario, loop):
            operator.spin_until_run_time(rec.t0 + t, CLOCK_STALL_S, report)
            act()
        operator.spin_until_run_time(rec.t0 + scenario.duration, CLOCK_STALL_S, report)
        rec.end = operator.now
        loop.check_alive()
    finally:
        loop.stop()
    return Run(operator.rec, loop.trace_path, loop.gate_exit_codes,
               time.monotonic() - started)
