# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate spi TRACES... [--by model|config|hour|scenario] [-o DIR]``: SPIs of a fleet.

The indicators of ``safety_gate.spi`` over every proposal in the traces
(or in Parquet files written by ``safety-gate export --parquet``), per group,
computed by DuckDB (:mod:`safety_gate.fleet`): intervention rate, fallback
rate by reason, confidence mean and exact quantiles, the confidence histogram
and its PSI against a baseline (``--baseline``), and in trajectory mode the
plan- and ego-consistency means; plus every change of the drift action the
gates recorded. The tracking error needs the odometry events and is a
runtime indicator only. Written as ``spi.md`` and ``spi.html`` (SVG plots
inline, drawn here as the scenario report draws its plots, with no plotting
library) and ``spi.json``.
"""

import argparse
import html
import json
from pathlib import Path
import sys
from typing import Any, Dict, List, Optional, Sequence

from safety_gate import fleet, spi, verify
from safety_gate.errors import user_error
from safety_gate.trace_format import load_hmac_key

_COLUMNS = ('group', 'proposals', 'files', 'intervention rate', 'top fallback reason',
            'confidence mean', 'p10 / p50 / p90', 'PSI', 'plan shift m', 'ego start m')


def summarise(paths: Sequence[Path], by: str,
              baseline: Optional[Sequence[float]] = None) -> Dict[str, Any]:
    """Return the indicators per group, with the PSI against ``baseline`` shares if given."""
    con = fleet.connect(paths)
    groups = fleet.indicators(con, by)
    for values in groups.values():
        values['psi'] = None if baseline is None else spi.psi(
            values['confidence_histogram'], baseline)
    return {'by': by, 'groups': groups, 'drift_changes': [
        {key: value for key, value in change.items() if key != 'spi'}
        for change in fleet.alarm_records(con)]}


def _number(value: Optional[float], digits: int = 3) -> str:
    return '–' if value is None else f'{value:.{digits}f}'


def _row(group: str, values: Dict[str, Any]) -> List[str]:
    rates = values['fallback_rate']
    top = max(rates, key=rates.get) if rates else None
    quantiles = ' / '.join(_number(values[f'confidence_p{q}'], 2) for q in (10, 50, 90))
    return [f'`{group[:16] or "(none)"}`', str(values['proposals']), str(values['files']),
            _number(values['intervention_rate']),
            '–' if top is None else f'{top} {rates[top]:.3f}',
            _number(values['confidence_mean']), quantiles, _number(values['psi']),
            _number(values['plan_shift']), _number(values['ego_start'])]


def markdown(summary: Dict[str, Any]) -> str:
    """Return the report as Markdown (the plots are in the HTML page)."""
    lines = [f'# Safety performance indicators by {summary["by"]}', '',
             '| ' + ' | '.join(_COLUMNS) + ' |', '|' + '---|' * len(_COLUMNS)]
    lines += ['| ' + ' | '.join(_row(group, values)) + ' |'
              for group, values in summary['groups'].items()]
    lines += ['', '## Drift action changes recorded by the gates', '']
    changes = summary['drift_changes']
    lines += [f'- {change["file"]} seq {change["seq"]}: {change["drift"]}'
              for change in changes] or ['none']
    return '\n'.join(lines) + '\n'


def bars(title: str, values: Dict[str, Optional[float]], limit: Optional[float] = None) -> str:
    """Return an SVG bar chart of one value per group (a dashed line at ``limit``)."""
    width, row, left = 640, 22, 150
    height = 40 + row * len(values)
    top = max([v for v in values.values() if v is not None] + [limit or 0.0, 1e-9])
    scale = (width - left - 60) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<text x="8" y="18" font-weight="bold">{html.escape(title)}</text>']
    for index, (group, value) in enumerate(values.items()):
        y = 30 + index * row
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">'
                     f'{html.escape(group[:16] or "(none)")}</text>')
        if value is not None:
            parts.append(f'<rect x="{left}" y="{y + 3}" width="{value * scale:.1f}" '
                         f'height="{row - 6}" fill="#1f77b4"/>'
                         f'<text x="{left + value * scale + 4:.1f}" y="{y + 14}">'
                         f'{value:.3f}</text>')
    if limit is not None:
        x = left + limit * scale
        parts.append(f'<line x1="{x:.1f}" y1="26" x2="{x:.1f}" y2="{height}" '
                     'stroke="#d62728" stroke-dasharray="4 3"/>')
    parts.append('</svg>')
    return ''.join(parts)


def histograms(summary: Dict[str, Any], baseline: Optional[Sequence[float]]) -> str:
    """Return an SVG of each group's confidence distribution (shares per bin), baseline dashed."""
    width, height, left, bottom = 640, 260, 40, 230
    series = {group: [count / max(1, sum(values['confidence_histogram']))
                      for count in values['confidence_histogram']]
              for group, values in summary['groups'].items()}
    if baseline is not None:
        series['baseline'] = list(baseline)
    top = max([share for shares in series.values() for share in shares] + [1e-9])
    step = (width - left - 20) / (spi.BINS - 1)
    colors = ('#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf')
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             '<text x="8" y="16" font-weight="bold">confidence: share of proposals per bin '
             '(0 to 1)</text>']
    for index, (group, shares) in enumerate(series.items()):
        color = '#d62728' if group == 'baseline' else colors[index % len(colors)]
        dash = ' stroke-dasharray="5 3"' if group == 'baseline' else ''
        points = ' '.join(f'{left + i * step:.1f},{bottom - share / top * 200:.1f}'
                          for i, share in enumerate(shares))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}"{dash}/>'
                     f'<text x="{left + 4}" y="{34 + 14 * index}" fill="{color}">'
                     f'{html.escape(group[:16] or "(none)")}</text>')
    parts.append('</svg>')
    return ''.join(parts)


def html_page(summary: Dict[str, Any], baseline: Optional[Sequence[float]]) -> str:
    """Return the report as one self-contained HTML page with its plots."""
    groups = summary['groups']
    plots = [bars('intervention rate', {g: v['intervention_rate'] for g, v in groups.items()}),
             bars('confidence mean', {g: v['confidence_mean'] for g, v in groups.items()}),
             histograms(summary, baseline)]
    if baseline is not None:
        plots.append(bars('PSI against the baseline', {g: v['psi'] for g, v in groups.items()},
                          0.25))
    rows = ''.join('<tr>' + ''.join(f'<td>{html.escape(cell.strip("`"))}</td>'
                                    for cell in _row(g, v)) + '</tr>' for g, v in groups.items())
    changes = ''.join(f'<li>{html.escape(c["file"])} seq {c["seq"]}: {c["drift"]}</li>'
                      for c in summary['drift_changes']) or '<li>none</li>'
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>safety_gate SPIs</title>'
            '<style>body{font-family:sans-serif} td,th{padding:2px 8px}</style></head><body>'
            f'<h1>Safety performance indicators by {html.escape(summary["by"])}</h1>'
            '<table><tr>' + ''.join(f'<th>{c}</th>' for c in _COLUMNS) + f'</tr>{rows}</table>'
            + ''.join(f'<p>{plot}</p>' for plot in plots)
            + f'<h2>Drift action changes recorded by the gates</h2><ul>{changes}</ul>'
            '</body></html>\n')


def write(summary: Dict[str, Any], baseline: Optional[Sequence[float]], out: Path) -> None:
    """Write ``spi.md``, ``spi.html`` and ``spi.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / 'spi.md').write_text(markdown(summary))
    (out / 'spi.html').write_text(html_page(summary, baseline))
    (out / 'spi.json').write_text(json.dumps(summary, indent=1, sort_keys=True) + '\n')


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--verify`` and ``--hmac-key-file``, which :func:`verified` reads."""
    parser.add_argument('--verify', action='store_true',
                        help='verify the traces first (hash chain; HMAC with a key)')
    parser.add_argument('--hmac-key-file', default='', metavar='FILE',
                        help='with --verify: the HMAC key (default $SAFETY_GATE_TRACE_HMAC_KEY)')


def verified(args: argparse.Namespace) -> Optional[str]:
    """With ``--verify``, verify ``args.traces``; return the report of a failure, or None."""
    if not args.verify:
        return None
    report = verify.verify(args.traces, hmac_key=load_hmac_key(args.hmac_key_file))
    return None if report.ok else verify.format_report(report)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``safety-gate spi``: 0 written, 1 a trace failed --verify, 2 on an error."""
    parser = argparse.ArgumentParser(
        prog='safety-gate spi', description='Compute the safety performance indicators of '
        'many traces (or Parquet exports) per group, with DuckDB; write spi.md, spi.html '
        'and spi.json.')
    parser.add_argument('traces', nargs='+', type=Path, metavar='TRACE',
                        help='trace files (rotated and gzip too) or .parquet exports')
    parser.add_argument('--by', choices=fleet.GROUPINGS, default='model',
                        help='group by model hash, config hash, hour (wall clock, UTC) or '
                             "scenario (the trace file's directory); default model")
    parser.add_argument('-o', '--out', type=Path, default=Path('spi_report'),
                        help='the directory to write into (default spi_report)')
    parser.add_argument('--baseline', type=Path, metavar='FILE',
                        help='a baseline written by safety-gate baseline: the PSI against it')
    add_verify_arguments(parser)
    args = parser.parse_args(argv)
    try:
        shares = None
        if args.baseline is not None:
            shares = spi.load_baseline(str(args.baseline), spi.file_sha256(args.baseline))
        problem = verified(args)
        if problem is not None:
            print(problem)
            return 1
        summary = summarise(args.traces, args.by, shares)
        write(summary, shares, args.out)
    except (OSError, EOFError, ValueError) as exc:
        return user_error('spi', str(exc))
    print(markdown(summary), end='')
    print(f'wrote {args.out}/spi.md, spi.html and spi.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
