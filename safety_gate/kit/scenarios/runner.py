# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate scenarios``: run the scenario library closed-loop and write the report.

Each scenario runs through the real gate node over ROS (see
``safety_gate.kit.scenarios.closed_loop``), is measured and judged
(``safety_gate.kit.scenarios.metrics``), and the suite is written up as Markdown,
self-contained HTML and JSON (``safety_gate.kit.scenarios.report``).

Exit codes: 0 when no scenario at or above ``--fail-on`` failed; 1 when one
did (the release gate); 2 for a usage error, an invalid configuration or an
invalid scenario file; 3 when a run could not complete (a node that did not
come up or died, a simulation that stopped).
"""

import argparse
from dataclasses import dataclass
from pathlib import Path
import shutil
import sys
import time
from typing import Callable, List, Optional, Sequence

from safety_gate import config, replay, verify
from safety_gate.errors import user_error
from safety_gate.kit.scenarios import closed_loop, model, report, shadow_report
from safety_gate.kit.scenarios.metrics import (Criterion, host_limited, judge, measure, Metrics,
                                               Outcome)
from safety_gate.kit.scenarios.model import (
    CandidateExpect, effective_config, Scenario, Severity)
from safety_gate.paths import config_file, share_dir
import yaml

DEFAULT_FAIL_ON = Severity.S2
# Simulated seconds per wall second: what a loaded 2-core host sustains with margin.
DEFAULT_SIM_RATE = 2.0
# A run the host could not keep up with is repeated once at this fraction of the rate.
RETRY_RATE_FACTOR = 0.5
DEFAULT_REPORT_DIR = Path('reports') / 'scenarios'
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_RUNNER = 0, 1, 2, 3


@dataclass
class Result:
    """One scenario's run, metrics and outcome; ``metrics`` is None if the run failed.

    ``trace`` is the verification of the trace at ``trace_path``; None if it
    was not verified (no run, or the trace could not be read).
    """

    scenario: Scenario
    outcome: Outcome
    metrics: Optional[Metrics]
    workdir: Path
    wall_s: float
    sim_rate: float = DEFAULT_SIM_RATE
    cfg: Optional[config.GateConfig] = None
    recording_path: Optional[Path] = None
    trace_path: Optional[Path] = None
    trace: Optional[verify.VerifyReport] = None

    @property
    def passed(self) -> bool:
        """Return True if the scenario passed."""
        return self.outcome.passed


def library_dir() -> Path:
    """Return the directory of the shipped scenario files."""
    return share_dir() / 'scenarios'


def run_scenario(scenario: Scenario, config_path: Path, workdir: Path, sim_rate: float,
                 progress: Optional[Callable[[float], None]] = None,
                 retry: bool = True, domain: Optional[int] = None) -> Result:
    """Run, measure and judge one scenario; a run that fails becomes an error outcome.

    ``domain`` is the ROS domain id of the run (None: a random one).

    A run in which the gate reports that the host did not keep up (see
    :func:`~safety_gate.kit.scenarios.metrics.host_limited`) is repeated once at
    a lower simulation rate, then reported as an error if it happens again.
    """
    if workdir.exists():
        shutil.rmtree(workdir)
    started = time.monotonic()
    try:
        run = closed_loop.run(scenario, workdir, config_path, sim_rate, progress, domain)
    except (TimeoutError, RuntimeError, OSError) as exc:
        return Result(scenario, Outcome(error=f'{type(exc).__name__}: {exc}'), None, workdir,
                      time.monotonic() - started, sim_rate)
    overloaded = host_limited(scenario, run.recording)
    if overloaded and retry:
        return run_scenario(scenario, config_path, workdir, sim_rate * RETRY_RATE_FACTOR,
                            progress, retry=False, domain=domain)
    cfg = effective_config(config_path, scenario)
    metrics = measure(scenario, run.recording, cfg)
    criteria = judge(scenario, metrics, cfg)
    codes = run.gate_exit_codes
    criteria.append(Criterion('gate stopped cleanly (SIGINT, exit 0)', codes[-1:] == [0],
                              str(codes[-1] if codes else None), '0'))
    trace = None
    try:
        trace = verify.verify([run.trace_path])
        trace_ok, detail = trace.ok, f'{trace.records} records, {len(trace.problems)} problems'
    except OSError as exc:
        trace_ok, detail = False, str(exc)
    criteria.append(Criterion('trace verifies (hash chain)', trace_ok, detail, 'no problems'))
    if scenario.candidate is not None and trace_ok:
        criteria += shadow_criteria(scenario.candidate.expect, run.trace_path)
    recording_path = workdir / 'recording.json'
    run.recording.save(recording_path)
    error = None
    if overloaded:
        error = (f'the host did not keep up with sim time x{sim_rate:g}: the gate reported '
                 f'{" and ".join(overloaded)}; re-run on an idle host or with a lower '
                 '--sim-rate')
    return Result(scenario, Outcome(criteria, error), metrics, workdir, run.wall_s, sim_rate,
                  cfg, recording_path, run.trace_path, trace)


def shadow_criteria(expect: CandidateExpect, trace_path: Path) -> List[Criterion]:
    """Judge the shadow stage in a verified trace: the candidate judged, its refusals, replay."""
    found = shadow_report.Slice(str(trace_path))
    shadow_report.read_slice(found, [trace_path])
    own = sorted({reason for sample in found.samples if sample.excess
                  for reason in sample.reasons})
    replayed = replay.replay([trace_path])
    return [
        Criterion('shadow: candidate decisions traced', len(found.samples) >= expect.min_decisions,
                  str(len(found.samples)), f'>= {expect.min_decisions}'),
        Criterion("shadow: reasons of the candidate's own would-be interventions",
                  set(expect.reasons) <= set(own), ' '.join(own) or '–',
                  'include ' + (' '.join(r.value for r in expect.reasons) or 'nothing')),
        Criterion('shadow: trace replays exactly, shadow entries too', replayed.ok,
                  f'{len(replayed.differences)} differences in {replayed.shadow_entries} '
                  'shadow entries', '0 differences'),
    ]


def run_suite(scenarios: Sequence[Scenario], config_path: Path, report_dir: Path,
              sim_rate: float, out=sys.stdout) -> List[Result]:
    """Run every scenario in order, showing progress on ``out``."""
    results = []
    live = out.isatty()
    for i, scenario in enumerate(scenarios, 1):
        label = (f'[{i:2d}/{len(scenarios)}] {scenario.id:34s} '
                 f'{scenario.severity.value} {scenario.exposure.value}')

        def progress(t: float, label=label, duration=scenario.duration) -> None:
            if live:
                out.write(f'\r{label}  {max(0.0, t):5.1f} / {duration:.0f} s sim')
                out.flush()

        if not live:
            out.write(f'{label}  running {scenario.duration:.0f} s of sim time ...\n')
            out.flush()
        result = run_scenario(scenario, config_path, report_dir / 'runs' / scenario.id,
                              sim_rate, progress)
        results.append(result)
        status = report.status(result)
        rate = '' if result.sim_rate == sim_rate else f', retried at x{result.sim_rate:g}'
        line = f'{label}  {status:5s} ({result.wall_s:.1f} s wall{rate})'
        out.write(f'\r{line}       \n' if live else f'{line}\n')
        for criterion in result.outcome.failed:
            out.write(f'      failed: {criterion.name}: {criterion.value} '
                      f'(required {criterion.limit})\n')
        if result.outcome.error:
            out.write(f'      error: {result.outcome.error.splitlines()[0]}\n')
        out.flush()
    return results


def blocking(results: Sequence[Result], fail_on: Severity) -> List[Result]:
    """Return the results that fail the release gate: failed at or above ``fail_on``."""
    return [r for r in results if not r.passed
            and int(r.scenario.severity.value[1]) >= int(fail_on.value[1])]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='safety-gate scenarios',
        description='Run the hazard scenario library closed-loop through the real gate node '
        'and write a release-gate report (Markdown, HTML, JSON).')
    parser.add_argument('--config', type=Path, default=None, metavar='FILE',
                        help="gate parameters file under test (default: the package's "
                        'config/safety_gate.yaml)')
    parser.add_argument('--namespace', default='', metavar='NS', help=config.NAMESPACE_HELP)
    parser.add_argument('--only', nargs='+', metavar='ID', help='run only these scenarios')
    parser.add_argument('--report', type=Path, default=DEFAULT_REPORT_DIR, metavar='DIR',
                        help=f'where the report goes (default: {DEFAULT_REPORT_DIR})')
    parser.add_argument('--fail-on', type=Severity, default=DEFAULT_FAIL_ON,
                        choices=list(Severity), metavar='S0..S3',
                        help='exit 1 if a scenario of this severity or higher fails '
                        f'(default: {DEFAULT_FAIL_ON.value})')
    parser.add_argument('--baseline', type=Path, metavar='SUMMARY',
                        help='summary.json (or its report directory) of an earlier run, '
                        'e.g. with the old config: the report adds a before/after table')
    parser.add_argument('--library', type=Path, default=None, metavar='DIR',
                        help="scenario directory (default: the package's scenarios/)")
    parser.add_argument('--sim-rate', type=float, default=DEFAULT_SIM_RATE, metavar='X',
                        help=f'simulated seconds per wall second (default: {DEFAULT_SIM_RATE})')
    parser.add_argument('--list', action='store_true', help='list the scenarios and exit')
    return parser


def select(scenarios: Sequence[Scenario], only: Optional[Sequence[str]]) -> List[Scenario]:
    """Return the scenarios named in ``only`` (all if None); raise ValueError on unknown ids."""
    if not only:
        return list(scenarios)
    known = {s.id for s in scenarios}
    unknown = [i for i in only if i not in known]
    if unknown:
        raise ValueError(f'unknown scenario(s): {", ".join(unknown)} '
                         f'(known: {", ".join(sorted(known))})')
    return [s for s in scenarios if s.id in only]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command; see the module docstring for the exit codes."""
    args = _parser().parse_args(argv)
    sim_rate = args.sim_rate
    config_path = args.config or config_file('safety_gate.yaml')
    try:
        scenarios = select(model.load_library(args.library or library_dir()), args.only)
        if args.list:
            for s in scenarios:
                print(f'{s.id:34s} {s.severity.value} {s.exposure.value}  {s.title}')
            return EXIT_OK
        for scenario in scenarios:  # every scenario's config must be valid before any runs
            effective_config(config_path, scenario, args.namespace)
        baseline = report.load_summary(args.baseline) if args.baseline else None
        if not 0.1 <= sim_rate <= 20.0:
            raise ValueError(f'--sim-rate {sim_rate} is outside [0.1, 20]')
    except yaml.YAMLError as exc:  # scenario files report their own; this is --config's
        return user_error('scenarios', f'{config_path}: {exc}')
    except (model.ScenarioError, ValueError, OSError) as exc:
        return user_error('scenarios', str(exc))
    cfg_sha = config.config_sha256(config.load_yaml(config_path, args.namespace))
    print(f'safety-gate scenarios: {len(scenarios)} scenario(s), config {config_path} '
          f'(sha256 {cfg_sha[:12]}), sim time x{sim_rate:g}, release gate: no failure at '
          f'{args.fail_on.value} or above')
    args.report.mkdir(parents=True, exist_ok=True)
    # The gates get the parameters the file gives the gate in that namespace, as
    # the launch file hands them over: rcl alone would apply other sections.
    gate_file = config.write_params_file(args.report / 'gate_params.yaml',
                                         config.read_params_file(config_path, args.namespace))
    started = time.monotonic()
    results = run_suite(scenarios, gate_file, args.report, sim_rate)
    meta = report.SuiteInfo(config_path=str(config_path), config_sha256=cfg_sha,
                            sim_rate=sim_rate, fail_on=args.fail_on.value,
                            wall_s=time.monotonic() - started)
    paths = report.write(results, meta, args.report, baseline)
    print()
    print(report.console_table(results))
    print(f'\nreport: {paths.markdown}\n        {paths.html}')
    errors = [r for r in results if r.outcome.error]
    failing = blocking(results, args.fail_on)
    if errors:
        print(f'RUNNER ERROR: {len(errors)} run(s) did not complete', file=sys.stderr)
        return EXIT_RUNNER
    if failing:
        print(f'RELEASE GATE FAILED: {len(failing)} scenario(s) at {args.fail_on.value} or '
              f'above failed: {", ".join(r.scenario.id for r in failing)}', file=sys.stderr)
        return EXIT_FAILED
    passed = sum(r.passed for r in results)
    print(f'release gate passed: {passed}/{len(results)} scenarios passed, none at '
          f'{args.fail_on.value} or above failed')
    return EXIT_OK


if __name__ == '__main__':
    sys.exit(main())
