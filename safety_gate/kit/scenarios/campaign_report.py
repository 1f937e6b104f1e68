# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A campaign's results and report: Parquet rows, pass rates, distributions, comparison.

``results.parquet`` holds one row per run (``campaign_run.row``), so that
thousands of runs aggregate in one read; ``campaign.json`` says what the
campaign ran against. The report (``report.md`` with ``plots/*.svg``, and a
self-contained ``report.html``) gives per scenario the pass rate with its
95 % Wilson interval and the release-gate verdict, the distributions of
reaction, standstill, hold and resume as ECDFs against the budget, the worst
runs with the command that re-runs each alone, and, against a baseline
campaign, the differences that are statistically meaningful
(:mod:`~safety_gate.kit.scenarios.stats`).
"""

from dataclasses import dataclass
import html
import json
from pathlib import Path
import shlex
from typing import Any, Dict, List, Optional, Sequence, Tuple

from safety_gate.kit.scenarios import stats
from safety_gate.kit.scenarios.model import Severity

RESULTS = 'results.parquet'
META = 'campaign.json'
# metric column -> (label, unit, budget column, True if the budget is an upper bound)
DISTRIBUTIONS = {
    'reaction_s': ('reaction', 's', 'reaction_budget_s', True),
    'standstill_s': ('standstill', 's', 'standstill_budget_s', True),
    'hold_pct': ('hold', '%', 'hold_budget_pct', False),
    'resume_s': ('resume', 's', 'resume_budget_s', True),
}
DEFAULT_REQUIREMENTS = 'S3=100,S2=99'
WORST_RUNS = 10


# ---------------------------------------------------------------- storage

def write_results(rows: Sequence[Dict[str, Any]], directory: Path) -> Path:
    """Write the rows as ``results.parquet`` in ``directory``; return its path."""
    import pyarrow
    import pyarrow.parquet
    path = Path(directory) / RESULTS
    pyarrow.parquet.write_table(pyarrow.Table.from_pylist(list(rows)), path)
    return path


def read_results(directory: Path) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """Return (campaign.json, the rows of results.parquet) of a campaign directory."""
    import pyarrow.parquet
    directory = Path(directory)
    meta = json.loads((directory / META).read_text())
    return meta, pyarrow.parquet.read_table(directory / RESULTS).to_pylist()


# ---------------------------------------------------------------- pass rates

@dataclass
class PassRate:
    """One scenario's runs: errors count neither way (a run that is evidence of nothing)."""

    scenario: str
    severity: str
    exposure: str
    runs: int
    passed: int
    errors: int

    @property
    def judged(self) -> int:
        """Return the runs that completed and were judged."""
        return self.runs - self.errors

    @property
    def rate(self) -> Optional[float]:
        """Return the share of judged runs that passed (None if none was judged)."""
        return self.passed / self.judged if self.judged else None

    @property
    def interval(self) -> Tuple[float, float]:
        """Return the 95 % Wilson interval of the pass rate."""
        return stats.wilson(self.passed, self.judged)


def pass_rates(rows: Sequence[Dict[str, Any]]) -> List[PassRate]:
    """Return one PassRate per scenario: highest severity first, then by id."""
    by_id: Dict[str, PassRate] = {}
    for r in rows:
        rate = by_id.setdefault(r['scenario'], PassRate(r['scenario'], r['severity'],
                                                        r['exposure'], 0, 0, 0))
        rate.runs += 1
        rate.passed += r['status'] == 'PASS'
        rate.errors += r['status'] == 'ERROR'
    return sorted(by_id.values(), key=lambda p: (-int(p.severity[1]), p.scenario))


def parse_requirements(text: str) -> Dict[str, float]:
    """Return ``S3=100,S2=99`` as {severity: required pass rate in [0, 1]}."""
    required = {}
    for part in filter(None, (p.strip() for p in text.split(','))):
        name, _, value = part.partition('=')
        try:
            severity, percent = Severity(name.strip()).value, float(value)
        except ValueError:
            raise ValueError(f'--require {part!r}: expected S0..S3=PERCENT, e.g. S3=100') \
                from None
        if not 0.0 <= percent <= 100.0:
            raise ValueError(f'--require {part!r}: {percent} is not a percentage')
        required[severity] = percent / 100.0
    return required


def gate_failures(rates: Sequence[PassRate], requirements: Dict[str, float]) -> List[PassRate]:
    """Return the scenarios whose pass rate is below their severity's requirement.

    A gated scenario with no judged run fails too: no evidence is not a pass.
    """
    failing = []
    for rate in rates:
        required = requirements.get(rate.severity)
        if required is not None and (rate.rate is None or rate.rate < required):
            failing.append(rate)
    return failing


# ---------------------------------------------------------------- worst runs, re-runs

def margin(row: Dict[str, Any]) -> Tuple[float, str]:
    """Return how close a run came to an upper budget: (largest value/budget, its metric).

    A hold below its minimum fails the run outright, so only the upper
    budgets (reaction, standstill, resume) rank the runs that passed.
    """
    worst = (0.0, '')
    for metric, (label, _, budget, upper) in DISTRIBUTIONS.items():
        value, limit = row.get(metric), row.get(budget)
        if upper and value is not None and limit:
            worst = max(worst, (value / limit, label))
    return worst


def worst_runs(rows: Sequence[Dict[str, Any]], count: int = WORST_RUNS) -> List[Dict[str, Any]]:
    """Return the ``count`` worst runs: errors and failures first, then the closest margins."""
    order = {'ERROR': 0, 'FAIL': 1, 'PASS': 2}
    return sorted(rows, key=lambda r: (order[r['status']], -margin(r)[0], r['run_id'])
                  )[:count]


def rerun_command(run_id: str, meta: Dict[str, Any]) -> str:
    """Return the one-line command that re-runs ``run_id`` alone with its full report."""
    argv = ['safety-gate', 'campaign', '--rerun', run_id]
    for option, key in (('--config', 'config_arg'), ('--namespace', 'namespace'),
                        ('--library', 'library_arg')):
        if meta.get(key):
            argv += [option, str(meta[key])]
    if meta.get('sim_rate') != meta.get('default_sim_rate'):
        argv += ['--sim-rate', f'{meta["sim_rate"]:g}']
    argv += ['-o', f'reports/rerun/{run_id}']
    return shlex.join(argv)


# ---------------------------------------------------------------- comparison

@dataclass
class Difference:
    """One compared quantity of one scenario: baseline against this campaign."""

    scenario: str
    quantity: str
    test: str
    before: str
    after: str
    p: Optional[float]
    p_adjusted: Optional[float] = None

    @property
    def significant(self) -> bool:
        """Return True if the Holm-adjusted p-value is below 5 %."""
        return self.p_adjusted is not None and self.p_adjusted < stats.ALPHA


def _values(rows: Sequence[Dict[str, Any]], scenario: str, metric: str) -> List[float]:
    return [r[metric] for r in rows
            if r['scenario'] == scenario and r['status'] != 'ERROR' and r[metric] is not None]


def _median(values: Sequence[float]) -> str:
    if not values:
        return '–'
    ordered = sorted(values)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return f'median {median:.3g} (n={len(values)})'


def compare(rows: Sequence[Dict[str, Any]],
            baseline: Sequence[Dict[str, Any]]) -> List[Difference]:
    """Return pass rates (Fisher exact) and metric distributions (Mann-Whitney U) compared.

    Only scenarios both campaigns ran; p-values are Holm-adjusted over the
    whole list, so "significant" holds at 5 % family-wise.
    """
    before = {r.scenario: r for r in pass_rates(baseline)}
    out: List[Difference] = []
    for after in pass_rates(rows):
        old = before.get(after.scenario)
        if old is None:
            continue
        out.append(Difference(
            after.scenario, 'pass rate', 'Fisher exact',
            f'{old.passed}/{old.judged}', f'{after.passed}/{after.judged}',
            stats.fisher_exact(old.passed, old.judged, after.passed, after.judged)
            if old.judged and after.judged else None))
        for metric, (label, _, _, _) in DISTRIBUTIONS.items():
            a, b = _values(baseline, after.scenario, metric), _values(rows, after.scenario, metric)
            if a or b:
                out.append(Difference(after.scenario, label, 'Mann-Whitney U', _median(a),
                                      _median(b), stats.mann_whitney(a, b)))
    for difference, adjusted in zip(out, stats.holm([d.p for d in out])):
        difference.p_adjusted = adjusted
    return out


# ---------------------------------------------------------------- plots

_W, _H, _L, _R, _T, _B = 300, 170, 44, 10, 22, 30
_COLORS = ('#1f77b4', '#7f7f7f')


def ecdf_svg(title: str, unit: str, series: Sequence[Tuple[str, Sequence[float]]],
             budget: Optional[float]) -> str:
    """Return an SVG of the ECDFs of ``series`` [(label, values)] with the budget line."""
    values = [v for _, vs in series for v in vs]
    high = max(values + ([budget] if budget else []) + [1e-9]) * 1.08
    low = min(values + [0.0])
    pw, ph = _W - _L - _R, _H - _T - _B

    def x(v: float) -> float:
        return _L + (v - low) / (high - low) * pw

    def y(share: float) -> float:
        return _T + (1 - share) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" '
           f'height="{_H}" font-family="sans-serif" font-size="10">',
           f'<rect width="{_W}" height="{_H}" fill="white"/>',
           f'<text x="{_L}" y="13" font-weight="bold">{html.escape(title)}</text>',
           f'<rect x="{_L}" y="{_T}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>']
    for share in (0.0, 0.5, 1.0):
        out.append(f'<text x="{_L - 4}" y="{y(share) + 3:.1f}" text-anchor="end">'
                   f'{share:.1f}</text>')
    for v in (low, (low + high) / 2, high):
        out.append(f'<text x="{x(v):.1f}" y="{_H - 16}" text-anchor="middle">{v:.3g}</text>')
    out.append(f'<text x="{_L + pw / 2}" y="{_H - 4}" text-anchor="middle">{unit} '
               '(share of runs at or below)</text>')
    if budget:
        out.append(f'<line x1="{x(budget):.1f}" y1="{_T}" x2="{x(budget):.1f}" '
                   f'y2="{_T + ph}" stroke="#d62728" stroke-dasharray="4 2"/>'
                   f'<text x="{x(budget) - 2:.1f}" y="{_T + 9}" text-anchor="end" '
                   f'fill="#d62728">budget {budget:g}</text>')
    for (label, vs), color in zip(series, _COLORS):
        if not vs:
            continue
        points, previous = [], 0.0
        for v, share in stats.ecdf(vs):
            points += [f'{x(v):.1f},{y(previous):.1f}', f'{x(v):.1f},{y(share):.1f}']
            previous = share
        points.append(f'{x(high):.1f},{y(1.0):.1f}')
        out.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{color}" '
                   f'stroke-width="1.5"><title>{html.escape(label)}</title></polyline>')
    if len(series) > 1:
        for i, ((label, _), color) in enumerate(zip(series, _COLORS)):
            out.append(f'<text x="{_L + pw - 4}" y="{_T + ph - 6 - 12 * i}" text-anchor="end" '
                       f'fill="{color}">{html.escape(label)}</text>')
    out.append('</svg>')
    return ''.join(out)


def plots(rows: Sequence[Dict[str, Any]], baseline: Optional[Sequence[Dict[str, Any]]]
          ) -> Dict[Tuple[str, str], str]:
    """Return {(scenario, metric): SVG} for every measured distribution."""
    out = {}
    for rate in pass_rates(rows):
        for metric, (label, unit, budget_column, _) in DISTRIBUTIONS.items():
            values = _values(rows, rate.scenario, metric)
            if not values:
                continue
            budgets = [r[budget_column] for r in rows
                       if r['scenario'] == rate.scenario and r[budget_column] is not None]
            series = [('this campaign', values)]
            if baseline is not None:
                series.append(('baseline', _values(baseline, rate.scenario, metric)))
            out[rate.scenario, metric] = ecdf_svg(
                f'{rate.scenario}: {label}', unit, series, min(budgets) if budgets else None)
    return out


# ---------------------------------------------------------------- the report

def _pct(value: Optional[float]) -> str:
    return '–' if value is None else f'{100 * value:.1f} %'


def _num(value: Optional[float]) -> str:
    return '–' if value is None else f'{value:.3g}'


Table = Tuple[str, str, List[str], List[List[str]]]


def _tables(meta: Dict[str, Any], rows: Sequence[Dict[str, Any]],
            baseline: Optional[Sequence[Dict[str, Any]]]) -> List[Table]:
    """Return the report's tables: (anchor, heading, columns, rows of cells)."""
    requirements = meta['requirements']
    rates = pass_rates(rows)
    failing = {r.scenario for r in gate_failures(rates, requirements)}
    gate = []
    for r in rates:
        low, high = r.interval
        required = requirements.get(r.severity)
        verdict = ('–' if required is None else 'FAIL' if r.scenario in failing else 'PASS')
        gate.append([r.scenario, r.severity, r.exposure, str(r.runs), str(r.passed),
                     str(r.judged - r.passed), str(r.errors), _pct(r.rate),
                     f'{_pct(low)} – {_pct(high)}', _pct(required), verdict])
    tables = [('pass-rates', 'Pass rates and the release gate',
               ['scenario', 'S', 'E', 'runs', 'passed', 'failed', 'errors', 'pass rate',
                '95 % interval (Wilson)', 'required', 'gate'], gate)]
    worst = []
    for r in worst_runs(rows):
        ratio, label = margin(r)
        closest = f'{label} at {100 * ratio:.0f} % of its budget' if label else 'no budget'
        why = r['error'] or r['failed'] or closest
        worst.append([r['run_id'], r['status'], why, r['values'],
                      f'`{rerun_command(r["run_id"], meta)}`'])
    tables.append(('worst-runs', 'Worst runs',
                   ['run', 'result', 'why', 'drawn values', 're-run alone'], worst))
    if baseline is not None:
        diff = [[d.scenario, d.quantity, d.test, d.before, d.after, _num(d.p),
                 _num(d.p_adjusted), '**yes**' if d.significant else 'no']
                for d in compare(rows, baseline)]
        tables.append(('comparison', 'Against the baseline',
                       ['scenario', 'quantity', 'test', 'baseline', 'this campaign', 'p',
                        'p (Holm)', 'significant'], diff))
    return tables


def _header(meta: Dict[str, Any], rows: Sequence[Dict[str, Any]]) -> List[str]:
    requirements = ', '.join(f'{s} ≥ {100 * v:g} %' for s, v in
                             sorted(meta['requirements'].items(), reverse=True)) or 'none'
    where = f'Ray cluster {meta["ray"]}' if meta.get('ray') else f'{meta["jobs"]} local job(s)'
    return [f'Config `{meta["config_path"]}` (sha256 `{meta["config_sha256"][:12]}`), '
            f'seed {meta["seed"]}, {meta["runs"]} run(s) per scenario, {len(rows)} runs, '
            f'sim time x{meta["sim_rate"]:g}, on {where}, {meta["wall_s"]:.0f} s wall.',
            f'Release gate: pass rate {requirements} per scenario of that severity; a run '
            'that errored (a process that died, a host that could not keep up even at the '
            'reduced rate) counts neither as a pass nor as a failure.',
            'Comparison: pass rates by the two-sided Fisher exact test, distributions by the '
            'two-sided Mann-Whitney U test; "significant" is p < 0.05 after Holm-Bonferroni '
            'adjustment over every comparison in the table.']


def markdown(meta: Dict[str, Any], rows: Sequence[Dict[str, Any]],
             baseline: Optional[Sequence[Dict[str, Any]]], plot_files: Dict[Tuple[str, str], str]
             ) -> str:
    """Return the Markdown report; plots are referenced by their file names."""
    out = ['# Scenario campaign', ''] + [line + '\n' for line in _header(meta, rows)]
    for _, heading, columns, cells in _tables(meta, rows, baseline):
        out += [f'## {heading}', '', '| ' + ' | '.join(columns) + ' |',
                '|' + '|'.join('---' for _ in columns) + '|']
        out += ['| ' + ' | '.join(c.replace('|', '\\|') for c in row) + ' |' for row in cells]
        out.append('')
    out += ['## Distributions against the budget', '']
    for rate in pass_rates(rows):
        files = [plot_files[key] for key in plot_files if key[0] == rate.scenario]
        if files:
            out += [f'### {rate.scenario}', '', ' '.join(f'![]({f})' for f in files), '']
    return '\n'.join(out)


_CSS = ('body{font-family:sans-serif;margin:2em;max-width:110em}table{border-collapse:collapse;'
        'margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;'
        'text-align:left}th{background:#f4f4f4}code{font-size:12px}'
        '.PASS{color:#2ca02c;font-weight:bold}.FAIL,.ERROR{color:#d62728;font-weight:bold}')


def _cell(text: str) -> str:
    if text.startswith('`') and text.endswith('`'):
        return f'<code>{html.escape(text[1:-1])}</code>'
    if text.startswith('**') and text.endswith('**'):
        return f'<b>{html.escape(text[2:-2])}</b>'
    css = f' class="{text}"' if text in ('PASS', 'FAIL', 'ERROR') else ''
    return f'<span{css}>{html.escape(text)}</span>'


def html_page(meta: Dict[str, Any], rows: Sequence[Dict[str, Any]],
              baseline: Optional[Sequence[Dict[str, Any]]],
              svgs: Dict[Tuple[str, str], str]) -> str:
    """Return the self-contained HTML report (plots inline)."""
    out = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>Scenario campaign'
           f'</title><style>{_CSS}</style></head><body><h1>Scenario campaign</h1>']
    out += [f'<p>{html.escape(line.replace("`", ""))}</p>' for line in _header(meta, rows)]
    for anchor, heading, columns, cells in _tables(meta, rows, baseline):
        out.append(f'<h2 id="{anchor}">{html.escape(heading)}</h2><table><tr>'
                   + ''.join(f'<th>{html.escape(c)}</th>' for c in columns) + '</tr>')
        out += ['<tr>' + ''.join(f'<td>{_cell(c)}</td>' for c in row) + '</tr>'
                for row in cells]
        out.append('</table>')
    out.append('<h2 id="distributions">Distributions against the budget</h2>')
    for rate in pass_rates(rows):
        figures = [svg for key, svg in svgs.items() if key[0] == rate.scenario]
        if figures:
            out.append(f'<h3>{html.escape(rate.scenario)}</h3><div>{"".join(figures)}</div>')
    out.append('</body></html>')
    return '\n'.join(out)


@dataclass
class Paths:
    """The campaign report's files."""

    results: Path
    markdown: Path
    html: Path


def write(meta: Dict[str, Any], rows: Sequence[Dict[str, Any]], directory: Path,
          baseline: Optional[Sequence[Dict[str, Any]]] = None) -> Paths:
    """Write campaign.json, results.parquet, report.md, report.html and plots/."""
    directory = Path(directory)
    (directory / 'plots').mkdir(parents=True, exist_ok=True)
    (directory / META).write_text(json.dumps(meta, indent=1))
    results = write_results(rows, directory)
    svgs = plots(rows, baseline)
    files = {}
    for (scenario, metric), svg in svgs.items():
        name = files[scenario, metric] = f'plots/{scenario}.{metric}.svg'
        (directory / name).write_text(svg)
    paths = Paths(results, directory / 'report.md', directory / 'report.html')
    paths.markdown.write_text(markdown(meta, rows, baseline, files))
    paths.html.write_text(html_page(meta, rows, baseline, svgs))
    return paths
