# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Run the gate closed-loop with the simulated vehicle and the scripted planner.

A test tool, not part of the safety function.

Three processes (gate, vehicle, planner) talk over real DDS on loopback, as
they would on a robot. This process adds an operator (e-stop and reset at
scripted times, vehicle faults) and a recorder of everything on the wire.
Times in a :class:`Run` are seconds since the planner's first proposal.
"""

from dataclasses import dataclass, field
import os
from pathlib import Path
import signal
import subprocess
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from safety_gate.config import nest
from safety_gate.tools.operator import Operator
from safety_gate.tools.ros_env import loopback_env
import yaml

# How long processes get to come up and discover each other on a loaded host.
_STARTUP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Action:
    """An operator or environment action at time ``t`` after the first proposal.

    ``kind`` is ``estop`` (value True/False), ``reset`` or ``vehicle_fault``
    (value: the JSON object for ``sim_vehicle/fault``).
    """

    t: float
    kind: str
    value: Any = None


@dataclass
class Run:
    """What crossed the wire during one closed-loop run."""

    t0: float = 0.0
    proposals: List[Tuple[float, float, float]] = field(default_factory=list)
    outputs: List[Tuple[float, float, float]] = field(default_factory=list)
    odom: List[Tuple[float, float, float]] = field(default_factory=list)
    decisions: List[Dict[str, Any]] = field(default_factory=list)
    actions: List[Tuple[float, str, Any]] = field(default_factory=list)
    trace_path: Optional[Path] = None
    gate_exit_code: Optional[int] = None
    gate_log: str = ''


def _write_yaml(path: Path, data: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class _Process:
    """A child process with its output in ``<workdir>/<name>.log``."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], workdir: Path):
        self.name = name
        self.log_path = workdir / f'{name}.log'
        self._log = open(self.log_path, 'w')
        self.popen = subprocess.Popen([sys.executable, *argv], env=dict(env),
                                      stdout=self._log, stderr=subprocess.STDOUT)

    def stop(self, timeout: float = 10.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()
        return self.popen.returncode


def run(script: Mapping[str, Any], duration: float, workdir: Path,
        gate_params: Optional[Mapping[str, Any]] = None,
        actions: Sequence[Action] = (), params_file: Optional[Path] = None,
        progress=None) -> Run:
    """Run one closed loop for ``duration`` seconds of planner time and record it.

    ``gate_params`` are dotted overrides on top of ``params_file`` (or the
    defaults). A latched gate is reset once odometry flows, before the planner
    starts, as an operator would do after power-up.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    env = loopback_env(workdir)
    os.environ.update(env)  # this process's own node must share the domain
    trace_path = workdir / 'trace.jsonl'
    overrides = {'trace.path': str(trace_path), **(gate_params or {})}
    gate_file = _write_yaml(workdir / 'gate_overrides.yaml',
                            {'safety_gate': {'ros__parameters': nest(overrides)}})
    script_file = _write_yaml(workdir / 'planner_script.yaml', dict(script))
    gate_args = ['-m', 'safety_gate.node', '--ros-args']
    if params_file is not None:
        gate_args += ['--params-file', str(params_file)]
    gate_args += ['--params-file', str(gate_file)]

    result = Run(trace_path=trace_path)
    gate = _Process('gate', gate_args, env, workdir)
    vehicle = _Process('vehicle', ['-m', 'safety_gate.tools.sim_vehicle'], env, workdir)
    planner = None
    operator = Operator(result)
    try:
        operator.wait_until(lambda: operator.gate_state is not None and operator.odom_flowing(),
                            _STARTUP_TIMEOUT_S, 'the gate and the vehicle to come up')
        if operator.gate_state == 'LATCHED':
            operator.reset_until_accepted(_STARTUP_TIMEOUT_S)
        planner = _Process('planner', ['-m', 'safety_gate.tools.planner', '--ros-args',
                                       '-p', f'script:={script_file}'], env, workdir)
        operator.wait_until(lambda: result.proposals, _STARTUP_TIMEOUT_S,
                            'the first proposal')
        result.t0 = result.proposals[0][0]
        operator.play(sorted(actions, key=lambda a: a.t), result.t0, duration, progress)
    finally:
        for process in (planner, vehicle):
            if process is not None:
                process.stop()
        result.gate_exit_code = gate.stop()
        operator.drain(0.5)
        operator.close()
        result.gate_log = gate.log_path.read_text(errors='replace')
    return result


def decisions_by_reason(run_result: Run) -> Dict[Tuple[str, str], int]:
    """Count decisions by (verdict, reason); an approval counts under reason '-'."""
    counts: Dict[Tuple[str, str], int] = {}
    for record in run_result.decisions:
        for reason in record['reasons'] or ['-']:
            key = (record['verdict'], reason)
            counts[key] = counts.get(key, 0) + 1
    return counts
