# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate shadow-report TRACES...``: how a shadow candidate would have done.

Reads the shadow entries of gate traces (``shadow.enabled``, see
``safety_gate.shadow``): every candidate decision, what the gate would have
decided and how far the candidate was from the production planner. Per
slice (each trace file, or with ``--by scenario`` the scenario directory a
trace lies in, as ``safety-gate scenarios`` lays them out) and over all of
them it gives the would-be interventions (those production did not make
too: the candidate's own), the disagreement quantiles and what was shed,
plots them over time, and judges the rollout review's go/no-go criteria
against thresholds given as options. Writes ``shadow_report.md``,
``shadow_report.html``, ``shadow_report.json`` (the verdicts and go/no-go
rows, which ``safety-gate evidence --shadow`` reads) and
``plots/<slice>.svg``; prints the go/no-go table. Exit 0 for GO, 1 for
NO-GO, 2 on a user error.
"""

import argparse
from collections import Counter
from dataclasses import dataclass, field
import html
import json
import math
from pathlib import Path
import re
import sys
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from safety_gate import verify
from safety_gate.errors import user_error
from safety_gate.kit.scenarios.report import (
    _CSS, _frame, _grid, _hline, _Panel, _polyline, _ticks, _y_range)
from safety_gate.trace_record import is_config, NON_FINITE_SPELLINGS

# What counts as the gate intervening: anything but an approval (LIMIT approves, clamped).
INTERVENING = ('FALLBACK', 'ESTOP')
# The reasons of a proposal or plan with a NaN or an infinity in it.
NON_FINITE = frozenset({'NON_FINITE_COMMAND', 'PLAN_NON_FINITE'})
# The suffix the trace writer gives a rotated file.
_ROTATED = re.compile(r'\.\d+(\.gz)?$')
# Decisions on a candidate proposal or plan (not a clock jump the shadow saw too).
JUDGING = ('proposal', 'plan', 'pairing_timeout', 'superseded')


@dataclass(frozen=True)
class Sample:
    """One candidate decision as the report needs it; t in s from the slice's start."""

    t: float
    verdict: str
    production: str
    reasons: Tuple[str, ...]
    model: str
    dv: Optional[float]  # |candidate - production proposal|, command mode
    dw: Optional[float]
    lateral: Optional[float]  # trajectory mode, m
    longitudinal: Optional[float]

    @property
    def intervenes(self) -> bool:
        """Return True if the gate would have refused the candidate."""
        return self.verdict in INTERVENING

    @property
    def excess(self) -> bool:
        """Return True if the gate would have refused the candidate but not production."""
        return self.intervenes and self.production not in INTERVENING


@dataclass
class Slice:
    """The candidate decisions of one slice and what surrounds them."""

    name: str
    files: List[Path] = field(default_factory=list)
    samples: List[Sample] = field(default_factory=list)
    records: int = 0
    entries: int = 0
    shed: int = 0
    errors: int = 0
    problems: List[str] = field(default_factory=list)


class Thresholds(NamedTuple):
    """The go/no-go limits (the command's options)."""

    min_decisions: int = 50
    max_excess_interventions: float = 0.05
    max_dv_p95: float = 0.2
    max_dw_p95: float = 0.2
    max_lateral_p95: float = 0.5
    max_longitudinal_p95: float = 1.0
    max_non_finite: int = 0
    max_shed_share: float = 0.2


class Criterion(NamedTuple):
    """One go/no-go row: the measured value against its limit; ok None if not applicable."""

    name: str
    value: str
    limit: str
    ok: Optional[bool]


# ---------------------------------------------------------------- reading

def _number(value) -> Optional[float]:
    if value is None:
        return None
    return NON_FINITE_SPELLINGS.get(value, value) if isinstance(value, str) else float(value)


def _sample(decision: dict, t: float) -> Sample:
    gap = decision['disagreement']
    return Sample(t, decision['verdict'], decision['production_verdict'],
                  tuple(decision['reasons']), decision['model_sha256'],
                  _number(gap['proposal_dv']), _number(gap['proposal_dw']),
                  _number(gap['lateral']), _number(gap['longitudinal']))


def read_slice(found: Slice, paths: Sequence[Path]) -> None:
    """Add the shadow entries of the trace in ``paths`` (its rotated files too) to ``found``."""
    report = verify.verify(paths)
    found.files += paths
    found.problems += [str(problem) for problem in report.problems]
    start = None
    for _, record in verify.read_records(report):
        if is_config(record):
            continue
        start = record['t'] if start is None else start
        found.records += 1
        found.shed += record.get('shadow_shed', 0)
        for entry in record.get('shadow', ()):
            found.entries += 1
            found.errors += 'error' in entry
            t = _number(entry['event']['t']) - start
            found.samples += [_sample(decision, t) for decision in entry['decisions']
                              if decision['trigger'] in JUDGING]


def slice_name(path: Path, by: str) -> str:
    """Return the slice a trace file belongs to: its trace, or its scenario's directory.

    A rotated file (``trace.jsonl.3.gz``) belongs to the trace it was rotated from.
    """
    return path.parent.name if by == 'scenario' else _ROTATED.sub('', str(path))


def read(paths: Iterable[Path], by: str) -> List[Slice]:
    """Return the slices of the trace files at ``paths``, in the order first named.

    The files of one slice are verified together, so a rotated trace is one chain.
    """
    grouped: Dict[str, List[Path]] = {}
    for path in paths:
        grouped.setdefault(slice_name(path, by), []).append(path)
    slices = []
    for name, files in grouped.items():
        found = Slice(name)
        read_slice(found, files)
        slices.append(found)
    return slices


def pooled(slices: Sequence[Slice]) -> Slice:
    """Return every slice in one (times stay each slice's own)."""
    whole = Slice('all')
    for part in slices:
        whole.files += part.files
        whole.samples += part.samples
        whole.problems += part.problems
        whole.records += part.records
        whole.entries += part.entries
        whole.shed += part.shed
        whole.errors += part.errors
    return whole


# ---------------------------------------------------------------- statistics

class Spread(NamedTuple):
    """Quantiles of the finite values of one disagreement; n counts them."""

    n: int
    p50: float
    p95: float
    peak: float


def spread(values: Iterable[Optional[float]]) -> Optional[Spread]:
    """Return the spread of the finite values (absolute), None if there are none."""
    finite = np.abs([v for v in values if v is not None and math.isfinite(v)])
    if not finite.size:
        return None
    p50, p95 = np.percentile(finite, [50, 95])
    return Spread(int(finite.size), float(p50), float(p95), float(finite.max()))


@dataclass(frozen=True)
class Stats:
    """What the report says about one slice."""

    decisions: int
    interventions: int
    excess: int
    approved_where_production_refused: int
    non_finite: int
    shed_share: float
    dv: Optional[Spread]
    dw: Optional[Spread]
    lateral: Optional[Spread]
    longitudinal: Optional[Spread]
    reasons: Tuple[Tuple[str, int], ...]
    models: Tuple[str, ...]

    @property
    def excess_share(self) -> float:
        """Return the candidate's own would-be interventions over its decisions."""
        return self.excess / self.decisions if self.decisions else 0.0


def stats(found: Slice) -> Stats:
    """Summarise a slice."""
    samples = found.samples
    offered = found.entries + found.shed
    reasons = Counter(r for s in samples if s.excess for r in s.reasons)
    return Stats(
        decisions=len(samples),
        interventions=sum(s.intervenes for s in samples),
        excess=sum(s.excess for s in samples),
        approved_where_production_refused=sum(
            not s.intervenes and s.production in INTERVENING for s in samples),
        non_finite=sum(not NON_FINITE.isdisjoint(s.reasons) for s in samples),
        shed_share=found.shed / offered if offered else 0.0,
        dv=spread(s.dv for s in samples), dw=spread(s.dw for s in samples),
        lateral=spread(s.lateral for s in samples),
        longitudinal=spread(s.longitudinal for s in samples),
        reasons=tuple(reasons.most_common(5)),
        models=tuple(sorted({s.model for s in samples if s.model})))


def _quantile(found: Optional[Spread], limit: float, name: str, unit: str) -> Criterion:
    if found is None:
        return Criterion(f'{name} p95', 'no data', f'<= {limit:g} {unit}', None)
    return Criterion(f'{name} p95', f'{found.p95:.3g} {unit}', f'<= {limit:g} {unit}',
                     found.p95 <= limit)


def criteria(found: Slice, summary: Stats, limits: Thresholds) -> List[Criterion]:
    """Return the go/no-go rows of a slice."""
    return [
        Criterion('traces verify', f'{len(found.problems)} problems', '0 problems',
                  not found.problems),
        Criterion('candidate decisions', str(summary.decisions), f'>= {limits.min_decisions}',
                  summary.decisions >= limits.min_decisions),
        Criterion("candidate's own would-be interventions",
                  f'{100 * summary.excess_share:.1f} % ({summary.excess})',
                  f'<= {100 * limits.max_excess_interventions:g} %',
                  summary.excess_share <= limits.max_excess_interventions),
        Criterion('non-finite proposals', str(summary.non_finite), f'<= {limits.max_non_finite}',
                  summary.non_finite <= limits.max_non_finite),
        _quantile(summary.dv, limits.max_dv_p95, '|dv| vs production', 'm/s'),
        _quantile(summary.dw, limits.max_dw_p95, '|dw| vs production', 'rad/s'),
        _quantile(summary.lateral, limits.max_lateral_p95, 'lateral distance', 'm'),
        _quantile(summary.longitudinal, limits.max_longitudinal_p95, 'longitudinal distance',
                  'm'),
        Criterion('shed', f'{100 * summary.shed_share:.1f} %',
                  f'<= {100 * limits.max_shed_share:g} %',
                  summary.shed_share <= limits.max_shed_share),
        Criterion('shadow step errors', str(found.errors), '0', found.errors == 0),
    ]


def go(rows: Sequence[Criterion]) -> bool:
    """Return True when no applicable criterion fails."""
    return all(row.ok is not False for row in rows)


# ---------------------------------------------------------------- the plot

_COLORS = {'first': '#1f77b4', 'second': '#ff7f0e', 'excess': '#d62728', 'shared': '#fdae6b',
           'limit': '#d62728'}


def plot(found: Slice, limits: Thresholds) -> str:
    """Return an SVG of the slice's disagreement over time and its would-be interventions."""
    samples = found.samples
    planar = any(s.lateral is not None for s in samples)
    series = ((('lateral m', 'lateral', limits.max_lateral_p95),
               ('|longitudinal| m', 'longitudinal', limits.max_longitudinal_p95)) if planar
              else (('|dv| m/s', 'dv', limits.max_dv_p95),
                    ('|dw| rad/s', 'dw', limits.max_dw_p95)))
    end = max([s.t for s in samples] + [1.0])
    t_range = (0.0, end)
    left, width, height, top = 70.0, 820.0, 130.0, 30.0
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 960 {2 * height + 110}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="960" height="{2 * height + 110}" fill="white"/>',
           f'<text x="{left}" y="16">{html.escape(found.name)}: disagreement with production; '
           'marks: would-be interventions (red: the candidate alone)</text>']
    for index, (label, attribute, limit) in enumerate(series):
        values = [abs(getattr(s, attribute)) for s in samples
                  if getattr(s, attribute) is not None]
        panel = _Panel(left, top + index * (height + 30), width, height, t_range,
                       _y_range([v for v in values if v < 1e6], limit),
                       f'shadow{index}{re.sub(r"[^A-Za-z0-9]", "", found.name)}')
        points = [(s.t, abs(getattr(s, attribute))) for s in samples
                  if getattr(s, attribute) is not None]
        color = _COLORS['first' if index == 0 else 'second']
        body = _grid(panel) + [_hline(panel, limit, _COLORS['limit'], dash='4 3')]
        body.append(''.join(f'<circle cx="{panel.x(t):.1f}" cy="{panel.y(v):.1f}" r="1.5" '
                            f'fill="{color}"/>' for t, v in points
                            if math.isfinite(v) and v <= panel.y_range[1]))
        body.append(_polyline(panel, points, color, width=0.8, series=attribute))
        svg.append(panel.zoomed(body))
        svg.append(_frame(panel, label, t_range))
    marks_y = top + 2 * height + 45
    svg.append(''.join(
        f'<line x1="{left + s.t / end * width:.1f}" y1="{marks_y}" '
        f'x2="{left + s.t / end * width:.1f}" y2="{marks_y + 14}" '
        f'stroke="{_COLORS["excess" if s.excess else "shared"]}"/>'
        for s in samples if s.intervenes))
    svg.append(f'<text x="{left - 6}" y="{marks_y + 11}" text-anchor="end">refused</text>')
    svg.append(f'<text x="{left + width / 2}" y="{marks_y + 34}" text-anchor="middle">'
               f'time since the trace began (s); ticks every {_ticks(0.0, end)[1]:g} s</text>')
    svg.append('</svg>')
    return ''.join(svg)


# ---------------------------------------------------------------- the documents

_STAT_COLUMNS = ('slice', 'decisions', 'would-be interventions', "candidate's own",
                 'approved where production refused', '|dv| p50/p95/max', '|dw| p50/p95/max',
                 'lateral p50/p95/max', '|longitudinal| p50/p95/max', 'shed', 'models')


def _spread_text(found: Optional[Spread]) -> str:
    return '–' if found is None else f'{found.p50:.3g} / {found.p95:.3g} / {found.peak:.3g}'


def stat_row(found: Slice, summary: Stats) -> Tuple[str, ...]:
    """Return a slice's row of the statistics table."""
    share = (f'{100 * summary.interventions / summary.decisions:.1f} %'
             if summary.decisions else '–')
    return (found.name, str(summary.decisions), f'{summary.interventions} ({share})',
            f'{summary.excess} ({100 * summary.excess_share:.1f} %)',
            str(summary.approved_where_production_refused), _spread_text(summary.dv),
            _spread_text(summary.dw), _spread_text(summary.lateral),
            _spread_text(summary.longitudinal), f'{100 * summary.shed_share:.1f} %',
            ', '.join(m[:12] for m in summary.models) or '–')


def _verdict(ok: Optional[bool]) -> str:
    return 'n/a' if ok is None else ('GO' if ok else 'NO-GO')


class Judged(NamedTuple):
    """A slice with its statistics and go/no-go rows."""

    part: Slice
    stats: Stats
    criteria: List[Criterion]


def judge(slices: Sequence[Slice], limits: Thresholds) -> Tuple[Judged, List[Judged]]:
    """Return the pooled judgement and each slice's."""
    def one(found: Slice) -> Judged:
        summary = stats(found)
        return Judged(found, summary, criteria(found, summary, limits))
    return one(pooled(slices)), [one(found) for found in slices]


def _md_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> List[str]:
    def line(cells: Sequence[str]) -> str:
        return '| ' + ' | '.join(cell.replace('|', '\\|') for cell in cells) + ' |'
    return [line(columns), '|' + '---|' * len(columns)] + [line(row) for row in rows]


def _go_rows(judged: Judged) -> List[Tuple[str, ...]]:
    return [(c.name, c.value, c.limit, _verdict(c.ok)) for c in judged.criteria]


def markdown(whole: Judged, parts: Sequence[Judged]) -> str:
    """Return the Markdown report (plots referenced as plots/<n>.svg)."""
    decision = 'GO' if go(whole.criteria) else 'NO-GO'
    out = ['# safety_gate shadow report', '',
           f'**{decision}** for the candidate over {len(parts)} slice(s), '
           f'{whole.part.records} production decisions, {whole.stats.decisions} candidate '
           'decisions.', '', '## Go / no-go (all slices together)', '']
    out += _md_table(('criterion', 'measured', 'limit', ''), _go_rows(whole)) + ['']
    out += ['A would-be intervention is a candidate decision the gate would have refused '
            "(FALLBACK or ESTOP); the candidate's own are those where production was not "
            'refused at the same moment. Disagreement: against the production proposal '
            '(command mode) or plan (trajectory mode).', '', '## Statistics', '']
    out += _md_table(_STAT_COLUMNS, [stat_row(j.part, j.stats) for j in [whole, *parts]])
    for index, judged in enumerate(parts):
        out += ['', f'## {judged.part.name}', '',
                f'**{"GO" if go(judged.criteria) else "NO-GO"}**; files: '
                + ', '.join(f'`{f}`' for f in judged.part.files), '']
        out += _md_table(('criterion', 'measured', 'limit', ''), _go_rows(judged))
        if judged.stats.reasons:
            out += ['', "Reasons of the candidate's own would-be interventions: " + ', '.join(
                f'{reason} ({count})' for reason, count in judged.stats.reasons) + '.']
        out += ['', f'![{judged.part.name}](plots/{index}.svg)']
    return '\n'.join(out) + '\n'


def _html_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = ''.join(f'<th>{html.escape(c)}</th>' for c in columns)
    body = ''.join('<tr>' + ''.join(
        f'<td class="{cell.replace("-", "")}">{html.escape(cell)}</td>'
        if cell in ('GO', 'NO-GO') else f'<td>{html.escape(cell)}</td>' for cell in row)
        + '</tr>' for row in rows)
    return f'<table><tr>{head}</tr>{body}</table>'


def html_page(whole: Judged, parts: Sequence[Judged], plots: Sequence[str]) -> str:
    """Return the self-contained HTML report, plots inline."""
    decision = 'GO' if go(whole.criteria) else 'NO-GO'
    css = _CSS + '.GO { background: #d9f2d9; font-weight: bold; } .NOGO { background: #f8d0d0;' \
                 ' font-weight: bold; }'
    out = ['<!DOCTYPE html><html><head><meta charset="utf-8">',
           f'<title>safety_gate shadow report</title><style>{css}</style></head><body>',
           f'<h1>safety_gate shadow report: <span class="{decision.replace("-", "")}">'
           f'{decision}</span></h1>',
           f'<p>{len(parts)} slice(s), {whole.part.records} production decisions, '
           f'{whole.stats.decisions} candidate decisions.</p>',
           '<h2>Go / no-go (all slices together)</h2>',
           _html_table(('criterion', 'measured', 'limit', ''), _go_rows(whole)),
           '<h2>Statistics</h2>',
           _html_table(_STAT_COLUMNS, [stat_row(j.part, j.stats) for j in [whole, *parts]])]
    for judged, svg in zip(parts, plots):
        verdict = 'GO' if go(judged.criteria) else 'NO-GO'
        out += [f'<section><h2>{html.escape(judged.part.name)} <span class="'
                f'{verdict.replace("-", "")}">{verdict}</span></h2>',
                _html_table(('criterion', 'measured', 'limit', ''), _go_rows(judged)),
                f'<div class="plot">{svg}</div></section>']
    out.append('</body></html>')
    return '\n'.join(out)


def _go_json(judged: Judged) -> Dict[str, object]:
    return {'verdict': 'GO' if go(judged.criteria) else 'NO-GO',
            'decisions': judged.stats.decisions,
            'criteria': [dict(zip(('criterion', 'measured', 'limit', 'verdict'), row))
                         for row in _go_rows(judged)]}


def summary(whole: Judged, parts: Sequence[Judged], limits: Thresholds) -> Dict[str, object]:
    """Return what ``shadow_report.json`` holds: the verdicts and go/no-go rows, pooled first.

    A row's verdict is GO, NO-GO or n/a (not applicable).
    """
    return {**_go_json(whole), 'production_decisions': whole.part.records,
            'limits': limits._asdict(),
            'slices': [{'name': judged.part.name, 'files': [str(f) for f in judged.part.files],
                        **_go_json(judged)} for judged in parts]}


def write(whole: Judged, parts: Sequence[Judged], directory: Path,
          limits: Thresholds) -> Tuple[Path, Path]:
    """Write shadow_report.md, .html, .json and plots/ into ``directory``."""
    (directory / 'plots').mkdir(parents=True, exist_ok=True)
    plots = [plot(judged.part, limits) for judged in parts]
    for index, svg in enumerate(plots):
        (directory / 'plots' / f'{index}.svg').write_text(svg)
    markdown_path, html_path = directory / 'shadow_report.md', directory / 'shadow_report.html'
    markdown_path.write_text(markdown(whole, parts))
    html_path.write_text(html_page(whole, parts, plots))
    (directory / 'shadow_report.json').write_text(
        json.dumps(summary(whole, parts, limits), indent=1) + '\n')
    return markdown_path, html_path


# ---------------------------------------------------------------- the command

def _parser() -> argparse.ArgumentParser:
    defaults = Thresholds()
    parser = argparse.ArgumentParser(
        prog='safety-gate shadow-report',
        description='Disagreement and would-be interventions of a shadow candidate '
                    '(shadow.enabled) in gate traces, by slice, with the go/no-go table. '
                    'Exit 0 for GO, 1 for NO-GO, 2 on an error.')
    parser.add_argument('trace', nargs='+', type=Path, help='trace files (one per run)')
    parser.add_argument('-o', '--output', type=Path, default=Path('shadow_report'),
                        help='directory for shadow_report.md, .html, .json and plots/ '
                             '(default %(default)s)')
    parser.add_argument('--by', choices=('file', 'scenario'), default='file',
                        help='slice by trace file or by the scenario directory it is in '
                             '(as `safety-gate scenarios` writes them); default %(default)s')
    for name, value in defaults._asdict().items():
        parser.add_argument(f'--{name.replace("_", "-")}', type=type(value), default=value,
                            metavar='N', help='go/no-go limit (default %(default)s)')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``safety-gate shadow-report``."""
    args = _parser().parse_args(argv)
    limits = Thresholds(**{name: getattr(args, name) for name in Thresholds._fields})
    try:
        slices = read(args.trace, args.by)
    except (OSError, EOFError) as exc:
        return user_error('shadow-report', str(exc))
    whole, parts = judge(slices, limits)
    markdown_path, html_path = write(whole, parts, args.output, limits)
    width = max(len(row.name) for row in whole.criteria)
    for row in whole.criteria:
        print(f'{row.name:<{width}}  {row.value:>16}  {row.limit:>12}  {_verdict(row.ok)}')
    decision = go(whole.criteria)
    print(f'{"GO" if decision else "NO-GO"}: {markdown_path}, {html_path}')
    return 0 if decision else 1


if __name__ == '__main__':
    sys.exit(main())
