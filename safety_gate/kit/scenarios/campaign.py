# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate campaign``: many varied runs of every scenario, on one machine or a Ray cluster.

Each scenario is run ``--runs`` times, each run a variation drawn from the
scenario file's ``variations`` (``safety_gate.kit.scenarios.variations``) and
named by its run id ``<scenario>.s<seed>.r<index>``, which alone reproduces
it: ``--rerun ID`` runs that one variation again and writes the full
single-scenario report (plots, trace, recording) of ``safety-gate scenarios``.

``-j K`` runs K closed loops at once, each in a worker process of its own
with a leased ROS domain (``ros_env.lease_domain``, ``--domains``) and its
own scratch directory; ``--ray ADDRESS`` sends every run to a Ray cluster as
a task instead (``campaign_run.execute``). A run the host could not keep up
with is repeated at a lower sim rate, as ``safety-gate scenarios`` does.

Exit codes: 0 when every gated scenario reaches its required pass rate
(``--require``); 1 when one does not; 2 for a usage error or an invalid
scenario, draw or configuration; 3 when a run could not complete.
"""

import argparse
from concurrent.futures import as_completed, ProcessPoolExecutor
import importlib.util
import multiprocessing
from pathlib import Path
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from safety_gate import config
from safety_gate.errors import user_error
from safety_gate.kit.scenarios import campaign_report, campaign_run, model, report, runner
from safety_gate.kit.scenarios.campaign_run import Task
from safety_gate.kit.scenarios.variations import RunId
from safety_gate.kit.world.ros_env import CAMPAIGN_DOMAINS, parse_domain_range
from safety_gate.paths import config_file
import yaml

DEFAULT_SEED = 1
DEFAULT_REPORT_DIR = Path('reports') / 'campaign'
EXIT_OK, EXIT_FAILED, EXIT_RUNNER = runner.EXIT_OK, runner.EXIT_FAILED, runner.EXIT_RUNNER


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='safety-gate campaign',
        description='Run N varied runs of each scenario closed-loop (in parallel, or on a Ray '
        'cluster) and write a campaign report: pass rates with confidence intervals, '
        'distributions against the budgets, the worst runs, a baseline comparison.')
    parser.add_argument('--runs', type=int, default=10, metavar='N',
                        help='variations per scenario (default: 10)')
    parser.add_argument('--seed', type=int, default=DEFAULT_SEED, metavar='S',
                        help=f'campaign seed: the same seed draws the same runs '
                        f'(default: {DEFAULT_SEED})')
    parser.add_argument('--only', nargs='+', metavar='ID', help='run only these scenarios')
    parser.add_argument('-j', '--jobs', type=int, default=1, metavar='K',
                        help='closed loops at once on this machine (default: 1)')
    parser.add_argument('--ray', metavar='ADDRESS',
                        help='run on this Ray cluster (e.g. 10.0.0.5:6379, or auto) instead')
    parser.add_argument('--baseline', type=Path, metavar='DIR',
                        help='an earlier campaign directory to compare with')
    parser.add_argument('--require', default=campaign_report.DEFAULT_REQUIREMENTS,
                        metavar='S3=100,S2=99',
                        help='release gate: the pass rate (percent) every scenario of a '
                        f'severity must reach (default: {campaign_report.DEFAULT_REQUIREMENTS})')
    parser.add_argument('--rerun', metavar='RUN_ID',
                        help='run this one run again (e.g. planner_freeze.s1.r7) and write '
                        "its full report, as 'safety-gate scenarios' does")
    parser.add_argument('-o', '--output', type=Path, default=DEFAULT_REPORT_DIR, metavar='DIR',
                        help=f'where the report goes (default: {DEFAULT_REPORT_DIR})')
    parser.add_argument('--config', type=Path, default=None, metavar='FILE',
                        help="gate parameters file under test (default: the package's "
                        'config/safety_gate.yaml)')
    parser.add_argument('--namespace', default='', metavar='NS', help=config.NAMESPACE_HELP)
    parser.add_argument('--library', type=Path, default=None, metavar='DIR',
                        help="scenario directory (default: the package's scenarios/)")
    parser.add_argument('--sim-rate', type=float, default=runner.DEFAULT_SIM_RATE, metavar='X',
                        help='simulated seconds per wall second (default: '
                        f'{runner.DEFAULT_SIM_RATE})')
    parser.add_argument('--domains', default='-'.join(map(str, CAMPAIGN_DOMAINS)),
                        metavar='LOW-HIGH', help='ROS domain ids the runs lease on each host '
                        f'(0-232, default: {CAMPAIGN_DOMAINS[0]}-{CAMPAIGN_DOMAINS[1]})')
    return parser


def plan(scenarios: Sequence[model.Scenario], library: Path, params_yaml: str, runs: int,
         seed: int, sim_rate: float, domains) -> List[Task]:
    """Return the campaign's tasks; raise ScenarioError if a draw makes an invalid scenario."""
    tasks = []
    for scenario in scenarios:
        text = (library / f'{scenario.id}.yaml').read_text()
        for index in range(runs):
            run = RunId(scenario.id, seed, index)
            scenario.varied(run)  # every draw is checked before anything runs
            tasks.append(Task(str(run), text, params_yaml, sim_rate, domains))
    return tasks


def run_local(tasks: Sequence[Task], jobs: int, output: Path) -> Iterator[Dict[str, Any]]:
    """Yield each task's result as it completes, ``jobs`` worker processes at a time.

    A worker runs one closed loop at a time and then the next, as
    ``safety-gate scenarios`` runs its scenarios in one process; each run keeps
    its files under ``output/runs/<run id>``. Spawned, not forked: a fork of a
    process with DDS threads is not safe.
    """
    context = multiprocessing.get_context('spawn')
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = {pool.submit(campaign_run.execute, task, output / 'runs' / task.run_id): task
                   for task in tasks}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # noqa: B902 - a dead worker is this run's error
                yield {'row': campaign_run.error_row(futures[future], repr(exc)),
                       'recording': None}


def run_ray(tasks: Sequence[Task], address: str) -> Iterator[Dict[str, Any]]:
    """Yield each task's result as it completes, every run a task on the Ray cluster."""
    import ray
    ray.init(address=address, log_to_driver=False, logging_level='WARNING')
    try:
        execute = ray.remote(num_cpus=1, max_retries=1)(campaign_run.execute)
        pending = {execute.remote(task): task for task in tasks}
        while pending:
            (done,), _ = ray.wait(list(pending), num_returns=1)
            task = pending.pop(done)
            try:
                yield ray.get(done)
            except Exception as exc:  # noqa: B902 - a failed task is this run's error
                yield {'row': campaign_run.error_row(task, repr(exc)), 'recording': None}
    finally:
        ray.shutdown()


def _progress(total: int, out=sys.stdout) -> Callable[[Dict[str, Any]], None]:
    done = [0]

    def show(row: Dict[str, Any]) -> None:
        done[0] += 1
        rate = '' if row['sim_rate'] == row['requested_sim_rate'] else \
            f', at x{row["sim_rate"]:g}'
        out.write(f'[{done[0]:4d}/{total}] {row["run_id"]:44s} {row["status"]:5s} '
                  f'({row["wall_s"]:.1f} s wall{rate})\n')
        detail = row['error'] or row['failed']
        if row['status'] != 'PASS' and detail:
            out.write(f'      {detail}\n')
        out.flush()
    return show


def _rerun(args, scenarios: Sequence[model.Scenario], library: Path, params_yaml: str,
           config_path: Path, domains) -> int:
    run = RunId.parse(args.rerun)
    scenario = next((s for s in scenarios if s.id == run.scenario), None)
    if scenario is None:
        raise ValueError(f'{args.rerun}: no scenario {run.scenario!r} in {library}')
    task = Task(str(run), (library / f'{run.scenario}.yaml').read_text(), params_yaml,
                args.sim_rate, domains)
    started = time.monotonic()
    _, values, result = campaign_run.run_variation(task, args.output / 'runs' / task.run_id)
    info = report.SuiteInfo(str(config_path), config.config_sha256(
        config.load_yaml(config_path, args.namespace)), result.sim_rate, 'S0',
        time.monotonic() - started)
    paths = report.write([result], info, args.output)
    print(f'{run}: {values}')
    print(report.console_table([result]))
    print(f'\nreport: {paths.markdown}\n        {paths.html}')
    if result.outcome.error:
        return EXIT_RUNNER
    return EXIT_OK if result.passed else EXIT_FAILED


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command; see the module docstring for the exit codes."""
    args = _parser().parse_args(argv)
    config_path = args.config or config_file('safety_gate.yaml')
    library = args.library or runner.library_dir()
    try:
        if args.runs < 1 or args.jobs < 1:
            raise ValueError('--runs and -j must be at least 1')
        if not 0.1 <= args.sim_rate <= 20.0:
            raise ValueError(f'--sim-rate {args.sim_rate} is outside [0.1, 20]')
        domains = parse_domain_range(args.domains)
        requirements = campaign_report.parse_requirements(args.require)
        scenarios = runner.select(model.load_library(library), args.only)
        for scenario in scenarios:  # every scenario's config must be valid before any runs
            runner.effective_config(config_path, scenario, args.namespace)
        # The gates get the parameters the file gives the gate in that namespace, as
        # the launch file hands them over (see runner.main).
        args.output.mkdir(parents=True, exist_ok=True)
        params_yaml = config.write_params_file(
            args.output / 'gate_params.yaml',
            config.read_params_file(config_path, args.namespace)).read_text()
        if importlib.util.find_spec('pyarrow') is None:
            raise ValueError('the results are written with pyarrow: pip install pyarrow '
                             '(setup.py extra "campaign")')
        if args.ray and importlib.util.find_spec('ray') is None:
            raise ValueError('--ray needs Ray: pip install ray (setup.py extra "cluster")')
        if args.rerun:
            return _rerun(args, scenarios, library, params_yaml, config_path, domains)
        baseline = campaign_report.read_results(args.baseline)[1] if args.baseline else None
        tasks = plan(scenarios, library, params_yaml, args.runs, args.seed, args.sim_rate,
                     domains)
    except yaml.YAMLError as exc:
        return user_error('campaign', f'{config_path}: {exc}')
    except (model.ScenarioError, ValueError, OSError) as exc:
        return user_error('campaign', str(exc))
    cfg_sha = config.config_sha256(config.load_yaml(config_path, args.namespace))
    where = f'Ray cluster {args.ray}' if args.ray else f'{args.jobs} local job(s)'
    print(f'safety-gate campaign: {len(scenarios)} scenario(s) x {args.runs} run(s), seed '
          f'{args.seed}, config {config_path} (sha256 {cfg_sha[:12]}), on {where}')
    started = time.monotonic()
    results = run_ray(tasks, args.ray) if args.ray else run_local(tasks, args.jobs, args.output)
    show = _progress(len(tasks))
    rows = []
    try:
        for result in results:
            rows.append(result['row'])
            show(result['row'])
            if args.ray and result['recording'] is not None:
                directory = (args.output / 'runs' / result['row']['run_id']
                             / campaign_run.LOOP_DIR)
                directory.mkdir(parents=True, exist_ok=True)
                (directory / 'recording.json').write_text(result['recording'])
    except ConnectionError as exc:  # ray.init: no cluster at that address
        return user_error('campaign', f'--ray {args.ray}: {exc}')
    rows.sort(key=lambda r: (r['scenario'], r['index']))
    meta = {
        'seed': args.seed, 'runs': args.runs, 'scenarios': [s.id for s in scenarios],
        'config_path': str(config_path), 'config_sha256': cfg_sha,
        'config_arg': str(args.config) if args.config else None, 'namespace': args.namespace,
        'library_arg': str(args.library) if args.library else None,
        'sim_rate': args.sim_rate, 'default_sim_rate': runner.DEFAULT_SIM_RATE,
        'jobs': args.jobs, 'ray': args.ray, 'requirements': requirements,
        'wall_s': time.monotonic() - started,
    }
    paths = campaign_report.write(meta, rows, args.output, baseline)
    print(f'\nresults: {paths.results}\nreport: {paths.markdown}\n        {paths.html}')
    return verdict(rows, requirements)


def verdict(rows: Sequence[Dict[str, Any]], requirements: Dict[str, float],
            out=sys.stderr) -> int:
    """Print the release gate's verdict; return the exit code."""
    errors = [r['run_id'] for r in rows if r['status'] == 'ERROR']
    failing = campaign_report.gate_failures(campaign_report.pass_rates(rows), requirements)
    if errors:
        print(f'RUNNER ERROR: {len(errors)} run(s) did not complete: {", ".join(errors[:10])}',
              file=out)
        return EXIT_RUNNER
    if failing:
        print('RELEASE GATE FAILED: ' + ', '.join(
            f'{r.scenario} ({r.severity}) passed {r.passed}/{r.judged}, required '
            f'{100 * requirements[r.severity]:g} %' for r in failing), file=out)
        return EXIT_FAILED
    print(f'release gate passed: {sum(r["passed"] for r in rows)}/{len(rows)} runs passed',
          file=out)
    return EXIT_OK


if __name__ == '__main__':
    sys.exit(main())
