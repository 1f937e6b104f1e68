# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate baseline TRACES... -o baseline.yaml``: the confidence baseline of accepted runs.

The confidence histogram (``safety_gate.spi.BINS`` bins on [0, 1]) of every
proposal in the traces (or Parquet exports), optionally of one model only,
counted by DuckDB (:mod:`safety_gate.fleet`). The gate's population-stability
index compares its rolling window against it (``spi.baseline_file``, pinned
by ``spi.baseline_sha256``: both printed here, to paste into the params file).
"""

import argparse
from pathlib import Path
import sys
from typing import Optional, Sequence

from safety_gate import fleet, spi
from safety_gate.errors import user_error
from safety_gate.spi_report import add_verify_arguments, verified


def build(paths: Sequence[Path], model: Optional[str] = None) -> list:
    """Return the confidence histogram of the proposals in ``paths`` (of ``model`` if given)."""
    per_model = fleet.histogram(fleet.connect(paths), 'model')
    chosen = [counts for name, counts in per_model.items() if model is None or name == model]
    return [sum(column) for column in zip(*chosen)] if chosen else [0] * spi.BINS


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``safety-gate baseline``: 0 written, 1 a trace failed --verify, 2 on an error."""
    parser = argparse.ArgumentParser(
        prog='safety-gate baseline', description='Write the confidence baseline histogram of '
        'accepted runs, for spi.baseline_file.')
    parser.add_argument('traces', nargs='+', type=Path, metavar='TRACE',
                        help='trace files (rotated and gzip too) or .parquet exports')
    parser.add_argument('-o', '--out', type=Path, required=True, metavar='baseline.yaml')
    parser.add_argument('--model', metavar='SHA256',
                        help='only the proposals of this model hash (default: all)')
    add_verify_arguments(parser)
    args = parser.parse_args(argv)
    try:
        problem = verified(args)
        if problem is not None:
            print(problem)
            return 1
        histogram = build(args.traces, args.model)
        if not sum(histogram):
            return user_error('baseline', 'no proposal with a confidence in the traces'
                              + (f' of model {args.model}' if args.model else ''))
        args.out.write_text(spi.baseline_yaml(histogram, [str(p) for p in args.traces]))
    except (OSError, EOFError, ValueError) as exc:
        return user_error('baseline', str(exc))
    print(f'wrote {args.out}: {sum(histogram)} proposals\n'
          f'  spi.baseline_file: {args.out}\n'
          f'  spi.baseline_sha256: {spi.file_sha256(args.out)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
