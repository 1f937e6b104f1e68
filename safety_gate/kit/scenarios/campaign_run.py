# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""One run of a campaign, wherever it executes: a local worker process or a Ray task.

A :class:`Task` carries everything the run needs as text (the scenario file,
the gate parameters under test), so a worker on another machine needs only
this package installed, not the campaign's files. :func:`execute` draws the
run's variation from its id, leases a ROS domain on the worker's host, runs
the closed loop through :func:`~safety_gate.kit.scenarios.runner.run_scenario`
(which repeats a run the host could not keep up with at a lower sim rate) and
returns one result row and the recording.
"""

import contextlib
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path
import shutil
import signal
import socket
import tempfile
import threading
from typing import Any, Dict, Iterator, Optional, Tuple

from safety_gate.kit.scenarios import model, report, runner
from safety_gate.kit.scenarios.model import Resume, Scenario
from safety_gate.kit.scenarios.variations import RunId
from safety_gate.kit.world.ros_env import lease_domain
import yaml

PARAMS_FILE = 'gate_params.yaml'
LOOP_DIR = 'loop'
# The worst-case metrics of a run (report.key_metrics) that the campaign keeps.
METRICS = ('reaction_s', 'standstill_s', 'hold_pct', 'resume_s', 'unsafe',
           'false_interventions', 'max_speed', 'max_lateral_accel')


@dataclass(frozen=True)
class Task:
    """One run: its id, the scenario file and the gate parameters as text, the sim rate."""

    run_id: str
    scenario_yaml: str
    params_yaml: str
    sim_rate: float
    domains: Tuple[int, int]


def scenario_of(task: Task) -> Scenario:
    """Return the task's scenario as its file declares it (with its variations)."""
    return model.Scenario.parse_obj(yaml.safe_load(task.scenario_yaml))


def budgets(scenario: Scenario) -> Dict[str, Optional[float]]:
    """Return the tightest limit of each judged metric over the scenario's faults."""
    expects = [f.expect for f in scenario.faults]

    def tightest(values, pick):
        values = [v for v in values if v is not None]
        return pick(values) if values else None

    return {
        'reaction_budget_s': tightest([e.max_reaction_s for e in expects], min),
        'standstill_budget_s': tightest([e.max_standstill_s for e in expects], min),
        'hold_budget_pct': tightest([e.min_hold_pct for e in expects], max),
        'resume_budget_s': tightest([e.max_resume_s for e in expects
                                     if e.resume is Resume.REQUIRED], min),
    }


def _identity(task: Task, scenario: Scenario, values: Dict[str, Any]) -> Dict[str, Any]:
    """Return the columns that say which run this is and what it is judged against."""
    run = RunId.parse(task.run_id)
    return {
        'run_id': task.run_id, 'scenario': run.scenario, 'seed': run.seed, 'index': run.index,
        'severity': scenario.severity.value, 'exposure': scenario.exposure.value,
        'values': json.dumps(values, sort_keys=True), 'requested_sim_rate': task.sim_rate,
        'scenario_sha256': hashlib.sha256(task.scenario_yaml.encode()).hexdigest(),
        **budgets(scenario),
    }


def row(task: Task, scenario: Scenario, values: Dict[str, Any],
        result: runner.Result) -> Dict[str, Any]:
    """Return the run's flat result row, as stored in the campaign's Parquet file."""
    metrics = report.key_metrics(result)
    error = result.outcome.error
    return {
        **_identity(task, scenario, values),
        'status': report.status(result), 'passed': result.passed,
        'error': error.splitlines()[0] if error else '',
        'failed': '; '.join(f'{c.name}: {c.value} (required {c.limit})'
                            for c in result.outcome.failed),
        'sim_rate': result.sim_rate, 'wall_s': result.wall_s, 'host': socket.gethostname(),
        **{name: (None if metrics.get(name) is None else float(metrics[name]))
           for name in METRICS},
    }


def run_variation(task: Task, scratch: Path) -> Tuple[Scenario, Dict[str, Any], runner.Result]:
    """Run the task's variation with its files under ``scratch``; return it, its values, result."""
    scratch.mkdir(parents=True, exist_ok=True)
    scenario, values = scenario_of(task).varied(RunId.parse(task.run_id))
    params = scratch / PARAMS_FILE
    params.write_text(task.params_yaml)
    with lease_domain(task.domains) as domain:
        result = runner.run_scenario(scenario, params, scratch / LOOP_DIR, task.sim_rate,
                                     domain=domain)
    return scenario, values, result


@contextlib.contextmanager
def _interruptible_children() -> Iterator[None]:
    """Let the run's nodes stop on SIGINT, as the runner stops them, in any worker.

    A Ray worker blocks SIGINT in its main thread, and children inherit the
    blocked mask across exec: the gate would not stop cleanly (the run then
    fails "gate stopped cleanly") and every stop would wait out its timeout.
    The mask is restored after the run.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def execute(task: Task, scratch: Optional[Path] = None) -> Dict[str, Any]:
    """Run one task; return {'row': result row, 'recording': the recording's JSON or None}.

    The run's files (parameters, logs, trace, recording) go to ``scratch``,
    which is kept; without one they go to a temporary directory removed at
    the end (a Ray task returns what matters and leaves nothing behind).
    """
    temporary = scratch is None
    scratch = Path(tempfile.mkdtemp(prefix='safety_gate_run_')) if temporary else scratch
    try:
        with _interruptible_children():
            scenario, values, result = run_variation(task, scratch)
        recording = (result.recording_path.read_text()
                     if result.recording_path is not None else None)
        return {'row': row(task, scenario, values, result), 'recording': recording}
    finally:
        if temporary:
            shutil.rmtree(scratch, ignore_errors=True)


def error_row(task: Task, message: str) -> Dict[str, Any]:
    """Return the row of a run that did not come back (its worker or task died)."""
    scenario, values = scenario_of(task).varied(RunId.parse(task.run_id))
    return {
        **_identity(task, scenario, values),
        'status': 'ERROR', 'passed': False, 'error': ' '.join(message.split())[:500],
        'failed': '', 'sim_rate': task.sim_rate, 'wall_s': 0.0, 'host': '',
        **{name: None for name in METRICS},
    }
