# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``make bench``: run every benchmark, then write BENCHMARKS.md and a JSON file.

``--quick`` runs each benchmark at a tiny size (the smoke test's size);
``--only`` picks benchmarks. Every comparison comes from this one run.
"""

import argparse
from dataclasses import asdict, dataclass
import datetime
import os
from pathlib import Path
import shutil
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from safety_gate.kit.bench import report
from safety_gate.kit.bench.core_bench import run_core, run_core_plans, run_trace_writer
from safety_gate.kit.bench.e2e import run_e2e
from safety_gate.kit.bench.rig import (ArmSpec, gate_arm, GATE_PARAMS, RELAY, relay_arm,
                                       RELAY_REUSED_WAIT_SET, Rig)
from safety_gate.kit.bench.soak import run_soak
from safety_gate.kit.bench.watchdog import run_watchdog
from safety_gate.kit.world.ros_env import loopback_env
from safety_gate.wrapper_types import InterfacesMissing, load_wrapper_types

BENCHMARKS = ('core', 'e2e', 'watchdog', 'plans', 'soak')
GATE = gate_arm('gate')  # the end-to-end, watchdog and plans benchmarks share it
E2E_SPECS = (RELAY, GATE, gate_arm('gate_trace_off', **{'trace.enabled': False}),
             RELAY_REUSED_WAIT_SET)
# Trajectory mode: each plan message through its null relay and the gate; the twist
# gate at the same rate is the CPU baseline.
PLAN_SPECS = {message: (relay_arm(f'relay_{message}', message),
                        gate_arm(f'gate_{message}', message))
              for message in ('path', 'autoware_trajectory')}


@dataclass(frozen=True)
class Sizes:
    """How much of each benchmark to run."""

    core_simulated_s: float
    writer_records: int
    rates: Tuple[float, ...]
    blocks: int
    block_s: float
    warmup_s: float
    watchdog_trials: int
    plan_rate_hz: float
    plan_blocks: int
    plan_block_s: float
    soak_rate_hz: float
    soak_s: float
    soak_warmup_s: float


FULL = Sizes(core_simulated_s=300.0, writer_records=20000, rates=(50.0, 100.0, 1000.0),
             blocks=4, block_s=2.5, warmup_s=0.3, watchdog_trials=200, plan_rate_hz=10.0,
             plan_blocks=4, plan_block_s=8.0, soak_rate_hz=1000.0, soak_s=120.0,
             soak_warmup_s=5.0)
QUICK = Sizes(core_simulated_s=5.0, writer_records=500, rates=(50.0, 200.0), blocks=1,
              block_s=0.5, warmup_s=0.2, watchdog_trials=3, plan_rate_hz=10.0, plan_blocks=1,
              plan_block_s=1.0, soak_rate_hz=200.0, soak_s=2.0, soak_warmup_s=0.5)


def plan_specs() -> Tuple[List[ArmSpec], Dict[str, str]]:
    """Return the trajectory-mode arms to run here, and why each message left out is."""
    try:
        load_wrapper_types()
    except InterfacesMissing as missing:
        return list(PLAN_SPECS['path']), {'autoware_trajectory': str(missing)}
    return [spec for specs in PLAN_SPECS.values() for spec in specs], {}


def run(sizes: Sizes, workdir: Path, env: Dict[str, str],
        only: Sequence[str] = BENCHMARKS) -> Dict[str, Any]:
    """Run the benchmarks in ``only``; the process environment must be loopback-confined."""
    results: Dict[str, Any] = {'sizes': asdict(sizes), 'gate_params': GATE_PARAMS}
    if 'core' in only:
        results['core'], samples = run_core(sizes.core_simulated_s)
        results['trace_writer'] = run_trace_writer(samples, sizes.writer_records, workdir)
        results['core_plans'] = run_core_plans(sizes.core_simulated_s)
    if not {'e2e', 'watchdog', 'plans', 'soak'} & set(only):
        return results
    specs = [GATE] if {'e2e', 'watchdog', 'plans'} & set(only) else []
    others = [spec for spec in E2E_SPECS if spec is not GATE]
    if 'e2e' in only:
        specs += others
    rig = Rig(workdir, env, specs)
    try:
        if 'e2e' in only:
            results['e2e'] = run_e2e(rig, [spec.name for spec in E2E_SPECS], sizes.rates,
                                     sizes.blocks, sizes.block_s, sizes.warmup_s)
            for spec in others:
                rig.stop(spec.name)
        if 'watchdog' in only:
            results['watchdog'] = run_watchdog(rig, 'gate', sizes.watchdog_trials)
        if 'plans' in only:
            plan_arms, results['plans_skipped'] = plan_specs()
            for message, reason in results['plans_skipped'].items():
                print(f'plans: the {message} arms are skipped: {reason}', flush=True)
            rig.start(plan_arms)
            results['plans'] = run_e2e(rig, [spec.name for spec in plan_arms] + ['gate'],
                                       (sizes.plan_rate_hz,), sizes.plan_blocks,
                                       sizes.plan_block_s, sizes.warmup_s)
            for spec in plan_arms:
                rig.stop(spec.name)
        if 'gate' in rig.arms:
            rig.stop('gate')
        if 'soak' in only:
            results['soak'] = run_soak(rig, gate_arm('soak'), sizes.soak_rate_hz, sizes.soak_s,
                                       sizes.soak_warmup_s)
    finally:
        rig.close()
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the benchmarks and write the report."""
    parser = argparse.ArgumentParser(prog='python -m safety_gate.kit.bench', description=__doc__)
    parser.add_argument('--quick', action='store_true', help='tiny sizes (a smoke run)')
    parser.add_argument('--only', default=','.join(BENCHMARKS),
                        help=f'comma-separated subset of {",".join(BENCHMARKS)}')
    parser.add_argument('--markdown', type=Path, default=Path('BENCHMARKS.md'),
                        help='file whose generated section is replaced (default: %(default)s)')
    parser.add_argument('--json', type=Path, default=Path('reports/bench.json'),
                        help='where the results go as JSON (default: %(default)s)')
    parser.add_argument('--workdir', type=Path,
                        help='logs and traces, kept (default: a temp dir, removed after a '
                        'successful run: the soak alone writes a few hundred MB of trace)')
    args = parser.parse_args(argv)
    only = [name for name in args.only.split(',') if name]
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        parser.error(f'unknown benchmark(s): {", ".join(sorted(unknown))}')
    sizes = QUICK if args.quick else FULL
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix='safety_gate_bench_'))
    workdir.mkdir(parents=True, exist_ok=True)
    env = loopback_env(workdir)
    os.environ.update(env)  # this process's bench node must share the domain

    print(f'safety_gate bench ({"quick" if args.quick else "full"}: {", ".join(only)}); '
          f'logs in {workdir}', flush=True)
    load = {'loadavg_before': os.getloadavg()[0], 'busiest_before': report.other_processes()}
    busy_before, own_before = report.busy_seconds(), report.own_cpu_seconds()
    started, wall_before = datetime.datetime.now(datetime.timezone.utc), time.monotonic()
    results = run(sizes, workdir, env, only)
    if args.workdir is None:
        shutil.rmtree(workdir)
    wall = time.monotonic() - wall_before
    foreign = (report.busy_seconds() - busy_before) - (
        report.own_cpu_seconds() - own_before)
    load['foreign_cores'] = max(0.0, foreign / wall)
    load['loadavg_after'] = os.getloadavg()[0]
    results.update({'started': started.isoformat(timespec='seconds'), 'duration_s': wall,
                    'mode': 'quick' if args.quick else 'full', 'only': only, 'load': load,
                    'machine': report.machine()})
    report.write(results, args.markdown, args.json)
    print(report.markdown(results))
    print(f'wrote {args.markdown} and {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
