# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""How long ``safety-gate spi`` takes over a fleet's traces, and how that grows with their size.

``python -m safety_gate.kit.bench.fleet_bench WORKDIR [--gigabytes 1.0]``.
The traces are made by the decision core (:mod:`safety_gate.kit.bench.synthetic_trace`):
runs of ten minutes of node time, each in a directory of its own (a scenario),
four model hashes in turn, each run's confidence drifting at its own pace.
Sets of the first runs reaching a quarter, a half and all of the size are
summarised by model (the fastest of five, the page cache warm: the files
were just written) and compared with reading the same bytes in Python (the I/O
floor), with the process's CPU time (DuckDB's threads included) telling
CPU-bound from I/O-bound. The whole set is then exported to Parquet and
summarised from there. Prints a Markdown table for BENCHMARKS.md.
"""

import argparse
import os
from pathlib import Path
import sys
import time
from typing import Callable, List, Optional, Sequence, Tuple

from safety_gate import config, fleet, spi_report
from safety_gate.kit.bench import synthetic_trace

RUN_S = 600.0
MODELS = tuple(c * 64 for c in 'abcd')
PARAMS = {'require_reset_on_start': False, 'spi.window': 60.0, 'spi.min_samples': 100,
          'spi.confidence_mean_limit': 0.7}


def make_runs(workdir: Path, gigabytes: float) -> List[Path]:
    """Write runs until they hold ``gigabytes``; return their trace files in order."""
    cfg, paths, total, index = config.build(PARAMS), [], 0, 0
    while total < gigabytes * 1e9:
        path = workdir / f'run{index:03d}' / 'trace.jsonl'
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            falls_at = 60.0 + 20.0 * (index % 7)
            synthetic_trace.write(path, cfg, RUN_S, synthetic_trace.drifting(
                falls_at, falls_at + 300.0), MODELS[index % len(MODELS)],
                max_file_bytes=10**11)
        paths.append(path)
        total += path.stat().st_size
        index += 1
    return paths


def _timed(work: Callable[[], object], repeats: int = 5) -> Tuple[float, float]:
    """Return the shortest wall time and the CPU time (all threads) of that run, in seconds.

    The shortest: on a shared host the other processes only ever add time.
    """
    runs = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(runs)


def _read_all(paths: Sequence[Path]) -> None:
    for path in paths:
        with open(path, 'rb') as file:
            while file.read(1 << 24):
                pass


def subsets(paths: Sequence[Path], shares: Sequence[float]) -> List[List[Path]]:
    """Return the shortest leading runs of ``paths`` holding each share of their bytes."""
    sizes = [path.stat().st_size for path in paths]
    found = []
    for share in shares:
        total, chosen = 0, []
        for path, size in zip(paths, sizes):
            if total >= share * sum(sizes):
                break
            chosen.append(path)
            total += size
        found.append(chosen)
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the benchmark and print its Markdown table."""
    parser = argparse.ArgumentParser(prog='python -m safety_gate.kit.bench.fleet_bench')
    parser.add_argument('workdir', type=Path)
    parser.add_argument('--gigabytes', type=float, default=1.0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = make_runs(args.workdir, args.gigabytes)
    made = time.perf_counter() - started
    records = sum(1 for path in paths for _ in open(path, 'rb'))
    print(f'{len(paths)} runs, {records} records, made by the core in {made:.0f} s '
          f'(including earlier runs reused); {os.cpu_count()} CPUs, load average '
          f'{os.getloadavg()[0]:.1f}')
    print('| traces | GB | records/s | spi --by model s | CPU s | CPU / wall | read s | '
          'read GB/s |')
    print('|---|---|---|---|---|---|---|---|')
    for chosen in subsets(paths, (0.25, 0.5, 1.0)):
        size = sum(path.stat().st_size for path in chosen) / 1e9
        wall, cpu = _timed(lambda: spi_report.summarise(chosen, 'model'))
        read, _ = _timed(lambda: _read_all(chosen))
        count = records * size * 1e9 / sum(path.stat().st_size for path in paths)
        print(f'| {len(chosen)} JSONL | {size:.2f} | {count / wall:,.0f} | {wall:.1f} | '
              f'{cpu:.1f} | {cpu / wall:.2f} | {read:.2f} | {size / read:.1f} |')
    parquet = args.workdir / 'fleet.parquet'
    parquet.unlink(missing_ok=True)
    export_s, _ = _timed(lambda: fleet.export_parquet(paths, parquet), repeats=1)
    wall, cpu = _timed(lambda: spi_report.summarise([parquet], 'model'))
    print(f'| Parquet of all ({parquet.stat().st_size / 1e6:.0f} MB, export {export_s:.0f} s) '
          f'| {sum(p.stat().st_size for p in paths) / 1e9:.2f} | {records / wall:,.0f} | '
          f'{wall:.2f} | {cpu:.1f} | {cpu / wall:.2f} | | |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
