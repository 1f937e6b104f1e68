# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The scenario report: a summary table, one section and one plot per scenario.

Written as Markdown (``report.md``, plots as ``plots/<id>.svg``), as one
self-contained HTML page (``report.html``, the same plots inline) and as JSON
(``summary.json``, for CI and for a later before/after comparison). The plots
are SVG drawn here, with no plotting library; a trajectory-mode run adds the
planned paths against the driven path (``path_plot``) below the time series.
"""

from dataclasses import asdict, dataclass
import html
import json
import math
from pathlib import Path
import re
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from safety_gate.kit.scenarios import explorer, sample_decision
from safety_gate.kit.scenarios.metrics import Metrics
from safety_gate.kit.scenarios.model import EXPOSURE_MEANING, SEVERITY_MEANING
from safety_gate.kit.scenarios.path_plot import path_plot
from safety_gate.kit.scenarios.recording import DecisionSample, Recording

COLUMNS = ('scenario', 'S', 'E', 'result', 'unsafe', 'reaction s', 'standstill s',
           'hold-stop %', 'resume s', 'false interv.', 'max v m/s', 'max lat m/s²')
_GAP_S = 0.25  # no message for this long (s) breaks a plotted line
_COLORS = {'proposal': '#7f7f7f', 'output': '#1f77b4', 'actual': '#2ca02c',
           'odom': '#ff7f0e', 'LIMIT': '#c6dbef', 'FALLBACK': '#fdd49e', 'ESTOP': '#fcae91',
           'fault': '#9467bd',
           'limit': '#d62728', 'confidence': '#17becf', 'operator': '#222222'}


@dataclass
class SuiteInfo:
    """What the suite ran against."""

    config_path: str
    config_sha256: str
    sim_rate: float
    fail_on: str
    wall_s: float


@dataclass
class Paths:
    """The report's files."""

    markdown: Path
    html: Path
    summary: Path


# ---------------------------------------------------------------- the summary

def _num(value: Optional[float], digits: int = 2) -> str:
    return '–' if value is None else f'{value:.{digits}f}'


# Summary metric -> the criterion that makes it apply to a fault.
_JUDGED_BY = {'reaction_s': 'max_reaction_s', 'standstill_s': 'max_standstill_s',
              'hold_pct': 'min_hold_pct', 'resume_s': 'max_resume_s'}


def _agg(result, name: str, pick) -> Optional[float]:
    """Return the worst value of a window metric over the faults that are judged on it."""
    faults = result.scenario.faults
    values = [getattr(w, name) for w in result.metrics.windows
              if getattr(w, name) is not None
              and getattr(faults[w.index].expect, _JUDGED_BY[name]) is not None]
    return pick(values) if values else None


def key_metrics(result) -> Dict[str, Optional[float]]:
    """Return the summary metrics of a result: the worst case over its judged faults."""
    metrics = result.metrics
    if metrics is None:
        return {}
    return {
        'unsafe': len(metrics.unsafe),
        'reaction_s': _agg(result, 'reaction_s', max),
        'standstill_s': _agg(result, 'standstill_s', max),
        'hold_pct': _agg(result, 'hold_pct', min),
        'resume_s': _agg(result, 'resume_s', max),
        'false_interventions': metrics.false_interventions,
        'false_intervention_pct': metrics.false_intervention_pct,
        'max_speed': metrics.max_speed,
        'max_lateral_accel': metrics.max_lateral_accel,
    }


def status(result) -> str:
    """Return PASS, FAIL or ERROR."""
    if result.outcome.error:
        return 'ERROR'
    return 'PASS' if result.passed else 'FAIL'


def summary_rows(results) -> List[Tuple[str, ...]]:
    """Return one row of display strings per result, in :data:`COLUMNS` order."""
    rows = []
    for result in results:
        m = key_metrics(result)
        s = result.scenario
        rows.append((s.id, s.severity.value, s.exposure.value, status(result),
                     str(m['unsafe']) if m else '–', _num(m.get('reaction_s')),
                     _num(m.get('standstill_s')), _num(m.get('hold_pct'), 0),
                     _num(m.get('resume_s')),
                     str(m['false_interventions']) if m else '–',
                     _num(m.get('max_speed')), _num(m.get('max_lateral_accel'))))
    return rows


def console_table(results) -> str:
    """Return the summary table as fixed-width text."""
    rows = [COLUMNS] + summary_rows(results)
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ['  '.join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, '-' * len(lines[0]))
    return '\n'.join(lines)


def markdown_table(results, links: bool = True) -> str:
    """Return the summary table as Markdown; ``links`` points each id at its section."""
    lines = ['| ' + ' | '.join(COLUMNS) + ' |',
             '|' + '|'.join(['---'] + ['---:'] * (len(COLUMNS) - 1)) + '|']
    for row in summary_rows(results):
        cells = list(row)
        cells[0] = f'[{row[0]}](#{row[0]})' if links else f'`{row[0]}`'
        cells[3] = f'**{row[3]}**'
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def summary(results, info: SuiteInfo) -> Dict[str, Any]:
    """Return the machine-readable summary, as written to summary.json."""
    return {
        **asdict(info),
        'passed': sum(r.passed for r in results),
        'scenarios': [{
            'id': r.scenario.id, 'title': r.scenario.title,
            'severity': r.scenario.severity.value, 'exposure': r.scenario.exposure.value,
            'status': status(r), 'error': r.outcome.error, 'sim_rate': r.sim_rate,
            'metrics': key_metrics(r),
            'criteria': [asdict(c) for c in r.outcome.criteria],
        } for r in results],
    }


def load_summary(path: Path) -> Dict[str, Any]:
    """Read a summary.json, given itself or the report directory holding it."""
    path = Path(path)
    if path.is_dir():
        path = path / 'summary.json'
    return json.loads(path.read_text())


def comparison_rows(results, baseline: Dict[str, Any]) -> List[Tuple[str, ...]]:
    """Return before/after rows for the scenarios both runs have."""
    before = {s['id']: s for s in baseline['scenarios']}
    rows = []
    for result in results:
        old = before.get(result.scenario.id)
        if old is None:
            continue
        new = key_metrics(result)
        old_m = old['metrics']

        def pair(name, digits=2):
            return f'{_num(old_m.get(name), digits)} → {_num(new.get(name), digits)}'
        rows.append((result.scenario.id, result.scenario.severity.value,
                     f'{old["status"]} → {status(result)}', pair('unsafe', 0),
                     pair('reaction_s'), pair('standstill_s'), pair('resume_s'),
                     pair('false_interventions', 0)))
    return rows


_COMPARISON_COLUMNS = ('scenario', 'S', 'result', 'unsafe', 'reaction s', 'standstill s',
                       'resume s', 'false interv.')


# ---------------------------------------------------------------- the plot

@dataclass
class _Panel:
    """A plot area: maps (t, y) to SVG coordinates."""

    left: float
    top: float
    width: float
    height: float
    t_range: Tuple[float, float]
    y_range: Tuple[float, float] = (0.0, 1.0)
    clip: str = ''  # id of its clipPath, unique in the page

    def x(self, t: float) -> float:
        t0, t1 = self.t_range
        return self.left + (t - t0) / (t1 - t0) * self.width

    def y(self, value: float) -> float:
        y0, y1 = self.y_range
        return self.top + self.height - (value - y0) / (y1 - y0) * self.height

    def zoomed(self, parts: Sequence[str]) -> str:
        """Return ``parts`` clipped to the panel, in a group the page's script zooms in time.

        The clip sits outside the zoomed group: a clip path is drawn in the user
        space of the element it clips, so inside it would be zoomed too.
        """
        return (f'<clipPath id="{self.clip}"><rect x="{self.left}" y="{self.top}" '
                f'width="{self.width}" height="{self.height}"/></clipPath>'
                f'<g clip-path="url(#{self.clip})"><g class="tz">{"".join(parts)}</g></g>')


def _polyline(panel: _Panel, points: Sequence[Tuple[float, float]], color: str,
              width: float = 1.5, dash: str = '', step: bool = False, series: str = '') -> str:
    """Return SVG polylines through the finite points, ``series`` naming them for the page.

    A non-finite value, or silence longer than :data:`_GAP_S`, breaks the line,
    so a silent planner or a dead gate shows as a gap, not as a ramp.
    """
    parts, current = [], []
    previous = None
    last_t = -math.inf
    for t, value in points:
        if not math.isfinite(value) or t - last_t > _GAP_S:
            parts.append(current)
            current, previous = [], None
        last_t = t
        if not math.isfinite(value):
            continue
        if step and previous is not None:
            current.append(f'{panel.x(t):.1f},{panel.y(previous):.1f}')
        current.append(f'{panel.x(t):.1f},{panel.y(value):.1f}')
        previous = value
    parts.append(current)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ''
    return ''.join(f'<polyline data-series="{series}" points="{" ".join(p)}" fill="none" '
                   f'stroke="{color}" stroke-width="{width}"{dash_attr}/>'
                   for p in parts if len(p) > 1)


def _verdict_spans(decisions: Sequence[DecisionSample], end: float
                   ) -> List[Tuple[float, float, DecisionSample]]:
    spans = []
    for current, following in zip(decisions, list(decisions[1:]) + [None]):
        spans.append((current.t, end if following is None else following.t, current))
    return spans


def _merge(spans: List[Tuple[float, float, Any]]) -> List[Tuple[float, float, Any]]:
    merged: List[Tuple[float, float, Any]] = []
    for start, end, key in spans:
        if merged and merged[-1][2] == key and abs(merged[-1][1] - start) < 1e-9:
            merged[-1] = (merged[-1][0], end, key)
        else:
            merged.append((start, end, key))
    return merged


def _y_range(values: Sequence[float], limit: float) -> Tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    low = min(finite + [-0.1, -0.1 * limit])
    high = max(finite + [limit * 1.1])
    pad = 0.05 * (high - low)
    return low - pad, high + pad


def _ticks(low: float, high: float, target: int = 6) -> List[float]:
    raw = (high - low) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _hline(panel: _Panel, value: float, color: str, dash: str = '', css: str = '') -> str:
    """Return a horizontal line across ``panel`` at ``value`` (``css``: its class)."""
    yy = panel.y(value)
    extra = (f' stroke-dasharray="{dash}"' if dash else '') + (
        f' class="{css}" data-value="{value:g}"' if css else '')
    return (f'<line x1="{panel.left}" y1="{yy:.1f}" x2="{panel.left + panel.width}" '
            f'y2="{yy:.1f}" stroke="{color}"{extra}/>')


def _grid(panel: _Panel) -> List[str]:
    """Return a value panel's horizontal grid lines."""
    return [_hline(panel, tick, '#e6e6e6') for tick in _ticks(*panel.y_range, target=4)]


def _frame(panel: _Panel, label: str, t_range: Tuple[float, float]) -> str:
    """Return a value panel's y tick labels, frame, y label and time tick labels."""
    parts = [f'<text x="{panel.left - 6}" y="{panel.y(tick) + 4:.1f}" text-anchor="end">'
             f'{tick:g}</text>' for tick in _ticks(*panel.y_range, target=4)]
    parts.append(f'<rect x="{panel.left}" y="{panel.top}" width="{panel.width}" '
                 f'height="{panel.height}" fill="none" stroke="#444"/>'
                 f'<text transform="translate({panel.left - 50},'
                 f'{panel.top + panel.height / 2}) rotate(-90)" text-anchor="middle">'
                 f'{label}</text>')
    # The page's script writes these again for the time range zoomed to.
    parts += [f'<text class="xtick" x="{panel.x(tick):.1f}" y="{panel.top + panel.height + 13}" '
              f'text-anchor="middle">{tick:g}</text>' for tick in _ticks(*t_range, target=10)]
    return ''.join(parts)


def _panel_group(panel: _Panel, label: str, unit: str, body: str) -> str:
    """Return a value panel as a group carrying the mapping the page's hover inverts."""
    y0, y1 = panel.y_range
    return (f'<g class="panel" data-label="{label}" data-unit="{unit}" data-y0="{y0:g}" '
            f'data-y1="{y1:g}" data-top="{panel.top:g}" data-height="{panel.height:g}">'
            f'{body}</g>')


def plot(rec: Recording, metrics: Metrics, limits: Dict[str, float],
         duration: float, name: str = 'plot') -> str:
    """Return an SVG plot of one run: speed, yaw rate and confidence panels, the reasons.

    Times are script seconds (0 = the planner's first proposal). Shaded:
    FALLBACK (amber) and ESTOP (red) verdicts; purple bars: fault windows;
    black vertical marks: the operator's e-stop and resets. The confidence
    panel, against ``limits['confidence']`` and ``limits['recover']``, is
    drawn when a decision judged a confidence. The root element carries the
    time mapping (``data-t0``, ``data-t1``, ``data-x0``, ``data-x1``) that the
    HTML page's script zooms and inverts, and the vertical extent of the
    panels (``data-top``, ``data-bottom``).
    """
    t0 = rec.t0
    t_range = (-0.5, duration + 0.2)
    decisions = sorted(rec.decisions, key=lambda d: d.t)
    verdict_spans = _verdict_spans(decisions, rec.end)
    spans = _merge([(a - t0, b - t0, d.verdict) for a, b, d in verdict_spans])
    reason_rows: List[str] = []
    for d in decisions:
        for r in d.reasons:
            if r not in reason_rows and d.t >= t0 + t_range[0]:
                reason_rows.append(r)
    confidence = [(d.t - t0, math.nan if d.confidence is None else d.confidence)
                  for d in decisions]
    judged = any(math.isfinite(c) for _, c in confidence)
    width, left, right = 980, 150, 20
    plot_w = width - left - right
    panel_h, gap, fault_h, row_h, confidence_h = 150, 34, 18, 14, 70
    top = 40
    svg: List[str] = []
    fault_panel = _Panel(left, top, plot_w, fault_h, t_range, clip=f'{name}-clipf')
    panels = []
    y = top + fault_h + 6
    for label, index, limit, unit in (('speed v', 1, limits['speed'], 'm/s'),
                                      ('yaw rate w', 2, limits['yaw'], 'rad/s')):
        values = [p[index] for p in rec.proposals] + [o[index] for o in rec.outputs] + [
            s[index] for s in rec.truth]
        panels.append((_Panel(left, y, plot_w, panel_h, t_range, _y_range(values, limit),
                              f'{name}-clip{index}'), label, index, limit, unit))
        y += panel_h + gap
    confidence_panel = None
    if judged:
        confidence_panel = _Panel(left, y, plot_w, confidence_h, t_range, (-0.05, 1.05),
                                  f'{name}-clipc')
        y += confidence_h + gap
    reasons_panel = _Panel(left, y, plot_w, max(row_h, row_h * len(reason_rows)), t_range,
                           clip=f'{name}-clipr')
    height = int(y + reasons_panel.height + 40)
    whole = _Panel(left, top, plot_w, reasons_panel.top + reasons_panel.height - top, t_range,
                   clip=f'{name}-clipo')

    svg.append(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
               f'width="{width}" height="{height}" font-family="sans-serif" font-size="11" '
               f'class="timeplot" data-t0="{t_range[0]:g}" data-t1="{t_range[1]:g}" '
               f'data-x0="{left}" data-x1="{left + plot_w}" data-top="{top}" '
               f'data-bottom="{whole.top + whole.height:g}">')
    svg.append(f'<rect width="{width}" height="{height}" fill="white"/>')
    # Legend. Odometry is dashed and drawn over the actual motion, which it
    # matches whenever the vehicle reports truly: both stay visible.
    legend = [('proposed', _COLORS['proposal'], '4 3'), ('gate output', _COLORS['output'], ''),
              ('actual (vehicle)', _COLORS['actual'], ''),
              ('odometry (as the gate saw it)', _COLORS['odom'], '3 3'),
              ('envelope limit', _COLORS['limit'], '6 3')]
    lx = 10
    for label, color, dash in legend:
        svg.append(f'<line x1="{lx}" y1="16" x2="{lx + 22}" y2="16" stroke="{color}" '
                   f'stroke-width="2" stroke-dasharray="{dash}"/>'
                   f'<text x="{lx + 26}" y="20">{label}</text>')
        lx += 34 + 5.6 * len(label)
    for label, color in (('LIMIT', _COLORS['LIMIT']), ('FALLBACK', _COLORS['FALLBACK']),
                         ('ESTOP', _COLORS['ESTOP']), ('fault window', _COLORS['fault'])):
        svg.append(f'<rect x="{lx}" y="10" width="14" height="12" fill="{color}"/>'
                   f'<text x="{lx + 18}" y="20">{label}</text>')
        lx += 30 + 5.6 * len(label)

    # Fault windows strip.
    svg.append(f'<text x="{left - 6}" y="{top + 13}" text-anchor="end">faults</text>')
    bars, labels = [], []
    for w in metrics.windows:
        x0 = fault_panel.x(max(t_range[0], w.start - t0))
        x1 = fault_panel.x(min(t_range[1], max(w.end - t0, w.start - t0 + 0.05)))
        bars.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(2.0, x1 - x0):.1f}" '
                    f'height="{fault_h}" fill="{_COLORS["fault"]}" opacity="0.45"/>')
        # Dark text on a light bar stays readable where a short window's label overflows.
        labels.append(f'<text x="{x0 + 3:.1f}" y="{top + 13}" fill="#3f007d" '
                      f'data-t="{max(t_range[0], w.start - t0):g}" data-dx="3">'
                      f'{html.escape(w.kind)}</text>')
    svg.append(fault_panel.zoomed(bars) + ''.join(labels))

    for panel, label, index, limit, unit in panels:
        zoomable = _grid(panel)
        for start, end, verdict in spans:
            if verdict == 'APPROVE':
                continue
            x0, x1 = panel.x(max(start, t_range[0])), panel.x(min(end, t_range[1]))
            if x1 > x0:
                zoomable.append(f'<rect x="{x0:.1f}" y="{panel.top}" width="{x1 - x0:.1f}" '
                                f'height="{panel.height}" fill="{_COLORS[verdict]}" '
                                'opacity="0.7"/>')
        for w in metrics.windows:
            x = panel.x(w.start - t0)
            zoomable.append(f'<line x1="{x:.1f}" y1="{panel.top}" x2="{x:.1f}" '
                            f'y2="{panel.top + panel.height}" stroke="{_COLORS["fault"]}" '
                            'stroke-width="1" stroke-dasharray="2 2"/>')
        for bound in (limit, -limit if index == 2 else -limits['reverse']):
            if panel.y_range[0] <= bound <= panel.y_range[1]:
                zoomable.append(_hline(panel, bound, _COLORS['limit'], '6 3'))
        # The actual motion wide below the odometry, which is dashed on top of it.
        zoomable += [
            _polyline(panel, [(p.t - t0, p[index]) for p in rec.proposals],
                      _COLORS['proposal'], 1.5, '4 3', step=True, series='proposed'),
            _polyline(panel, [(s.t - t0, s[index]) for s in rec.truth], _COLORS['actual'],
                      3.0, series='actual'),
            _polyline(panel, [(o.t - t0, o[index]) for o in rec.outputs], _COLORS['output'],
                      1.5, series='output'),
            _polyline(panel, [(s.t - t0, s[index]) for s in rec.odom], _COLORS['odom'], 1.5,
                      '3 3', series='odometry')]
        body = [panel.zoomed(zoomable), _frame(panel, f'{label} ({unit})', t_range)]
        bad = sorted({round(p.t - t0, 1) for p in rec.proposals if not math.isfinite(p[index])})
        for t in bad:
            body.append(f'<text x="{panel.x(t):.1f}" y="{panel.top + 10}" text-anchor="middle" '
                        f'fill="{_COLORS["limit"]}" font-weight="bold" data-t="{t:g}">×</text>')
        if bad:
            body.append(f'<text x="{panel.x(bad[0]) + 6:.1f}" y="{panel.top + 10}" '
                        f'fill="{_COLORS["limit"]}" data-t="{bad[0]:g}" data-dx="6">'
                        'non-finite proposal</text>')
        svg.append(_panel_group(panel, label, unit, ''.join(body)))

    if confidence_panel is not None:
        svg.append(_confidence_lane(confidence_panel, confidence, limits, t_range))

    svg.append(_reason_timeline(reasons_panel, reason_rows, verdict_spans, t0, row_h))
    svg.append(_operator_marks(whole, rec))
    svg.append(f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">'
               "script time (s of simulated time; 0 = the planner's first proposal)</text>")
    svg.append('</svg>')
    return ''.join(svg)


def _confidence_lane(panel: _Panel, confidence: Sequence[Tuple[float, float]],
                     limits: Dict[str, float], t_range: Tuple[float, float]) -> str:
    """Return the panel of the confidence judged, against the threshold and the recovery one."""
    threshold, recover = limits['confidence'], limits['recover']
    lines = _grid(panel) + [
        _hline(panel, threshold, _COLORS['limit'], css='threshold'),
        _hline(panel, recover, _COLORS['limit'], '6 3', css='recover'),
        _polyline(panel, confidence, _COLORS['confidence'], 1.5, step=True,
                  series='confidence')]
    right = panel.left + panel.width - 4
    labels = (f'<text x="{right}" y="{panel.y(threshold) + 11:.1f}" text-anchor="end" '
              f'fill="{_COLORS["limit"]}">confidence.threshold {threshold:g}</text>'
              f'<text x="{right}" y="{panel.y(recover) - 3:.1f}" text-anchor="end" '
              f'fill="{_COLORS["limit"]}">recover_threshold {recover:g}</text>')
    return _panel_group(panel, 'confidence', '', panel.zoomed(lines) + labels + _frame(
        panel, 'confidence', t_range))


def _reason_timeline(panel: _Panel, reason_rows: Sequence[str],
                     verdict_spans: Sequence[Tuple[float, float, DecisionSample]], t0: float,
                     row_h: float) -> str:
    """Return one row per reason code, a bar wherever the decision in force has it."""
    left, t_range = panel.left, panel.t_range
    names = [f'<text x="{left}" y="{panel.top - 6}" font-weight="bold">'
             'reasons (decision in force)</text>']
    bars = []
    for row, reason in enumerate(reason_rows):
        yy = panel.top + row * row_h
        names.append(f'<text x="{left - 6}" y="{yy + 10}" text-anchor="end" font-size="9">'
                     f'{reason}</text>')
        bars.append(f'<line x1="{left}" y1="{yy + row_h - 0.5}" x2="{left + panel.width}" '
                    f'y2="{yy + row_h - 0.5}" stroke="#eee"/>')
        active = _merge([(a - t0, b - t0, reason in d.reasons) for a, b, d in verdict_spans])
        for start, end, on in active:
            if not on or end < t_range[0]:
                continue
            x0, x1 = panel.x(max(start, t_range[0])), panel.x(min(end, t_range[1]))
            color = _COLORS['ESTOP'] if reason in ('ESTOP', 'LATCHED_ON_START') else '#e6550d'
            bars.append(f'<rect x="{x0:.1f}" y="{yy + 2}" width="{max(1.0, x1 - x0):.1f}" '
                        f'height="{row_h - 4}" fill="{color}"/>')
    if not reason_rows:
        names.append(f'<text x="{left}" y="{panel.top + 10}" fill="#2ca02c">'
                     'every decision approved</text>')
    return ''.join(names) + panel.zoomed(bars)


def _operator_marks(whole: _Panel, rec: Recording) -> str:
    """Return a vertical mark with a short label at each e-stop input and reset."""
    lines, labels = [], []
    for t, text, mark in operator_lines(rec):
        if not mark:
            continue
        x = whole.x(t)
        lines.append(f'<line class="operator" x1="{x:.1f}" y1="{whole.top}" x2="{x:.1f}" '
                     f'y2="{whole.top + whole.height}" stroke="{_COLORS["operator"]}" '
                     f'stroke-dasharray="1 2"><title>{t:.2f} s: {html.escape(text)}</title>'
                     '</line>')
        labels.append(f'<text class="operator" x="{x + 2:.1f}" y="{whole.top - 4}" '
                      f'font-size="9" data-t="{t:g}" data-dx="2">{html.escape(mark)}</text>')
    return whole.zoomed(lines) + ''.join(labels)


def plot_result(result, rec: Recording) -> str:
    """Return the SVG plot of a result."""
    env = result.cfg.envelope
    confidence = result.cfg.confidence
    limits = {'speed': env.max_linear_speed, 'reverse': env.max_reverse_speed,
              'yaw': env.max_angular_speed, 'confidence': confidence.threshold,
              'recover': confidence.recover_threshold}
    series = plot(rec, result.metrics, limits, result.scenario.duration, result.scenario.id)
    if not rec.plans:
        return series
    spans = [(w.start, w.end) for w in result.metrics.windows]
    return _stacked([series, path_plot(rec, spans, result.scenario.id)])


def _stacked(svgs: Sequence[str]) -> str:
    """Return one SVG with ``svgs`` one below the other (each keeps its own size)."""
    size = re.compile(r'width="([\d.]+)" height="([\d.]+)"')
    sizes = [tuple(float(v) for v in size.search(svg).groups()) for svg in svgs]
    width, height = max(w for w, _ in sizes), sum(h for _, h in sizes)
    parts, y = [], 0.0
    for svg, (_, h) in zip(svgs, sizes):
        parts.append(svg.replace('<svg ', f'<svg y="{y:g}" ', 1))
        y += h
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
            f'width="{width:g}" height="{height:g}">{"".join(parts)}</svg>')


class Operated(NamedTuple):
    """One thing the operator did: script time, what (for the text), its mark on the plots.

    ``mark`` is empty for what the plots show otherwise (a fault window).
    """

    t: float
    text: str
    mark: str


def operator_lines(rec: Recording) -> List[Operated]:
    """Return what the operator did during the script, in time order."""
    lines = []
    for action in rec.actions:
        if action.t < rec.t0 or action.kind == 'start':
            continue
        t = action.t - rec.t0
        if action.kind == 'reset':
            lines.append(Operated(t, f'reset {"accepted" if action.ok else "refused"} '
                                  f'({action.detail})', 'reset ✓' if action.ok else 'reset ✗'))
        elif isinstance(action.detail, dict) and 'estop' in action.detail:
            pressed = action.detail['estop']
            lines.append(Operated(t, f'e-stop {"pressed" if pressed else "released"}',
                                  'e-stop' if pressed else 'release'))
        else:
            what = 'injected' if action.kind == 'fault_start' else 'cleared'
            lines.append(Operated(t, f'fault {action.fault} {what}' + (
                f': {json.dumps(action.detail)}' if action.detail else ''), ''))
    return lines


# ---------------------------------------------------------------- sections

def _fault_rows(result) -> List[Tuple[str, ...]]:
    rows = []
    windows = {w.index: w for w in (result.metrics.windows if result.metrics else ())}
    for i, fault in enumerate(result.scenario.faults):
        w = windows.get(i)
        when = f'{fault.t_start:g}–{fault.t_end:g} s' if fault.t_end is not None else (
            f'{fault.t_start:g} s')
        value = '' if fault.value is None else f'{fault.value:g}'
        if w is None:
            rows.append((fault.kind, when, value) + ('–',) * 6)
            continue
        rows.append((fault.kind, when, value, _num(w.reaction_s), ' '.join(w.reasons) or '–',
                     _num(w.standstill_s), _num(w.hold_pct, 0), str(w.chatter),
                     _num(w.resume_s)))
    return rows


_FAULT_COLUMNS = ('fault', 'script time', 'value', 'reaction s', 'reasons', 'standstill s',
                  'hold-stop %', 'chatter', 'resume s')


def _relative(path: Optional[Path], base: Path) -> str:
    if path is None:
        return ''
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def _header(info: SuiteInfo, results) -> List[str]:
    passed = sum(r.passed for r in results)
    return [
        f'- configuration under test: `{info.config_path}` (sha256 `{info.config_sha256}`)',
        f'- {passed} of {len(results)} scenarios passed; release gate: no failure at '
        f'{info.fail_on} or above',
        f'- closed loop through the real gate node over ROS 2 (DDS on loopback), sim time '
        f'x{info.sim_rate:g}, {info.wall_s:.0f} s wall',
    ]


def markdown(results, info: SuiteInfo, base: Path, recordings: Dict[str, Recording],
             baseline: Optional[Dict[str, Any]] = None) -> str:
    """Return the Markdown report (plots are referenced as plots/<id>.svg)."""
    out = ['# safety_gate scenario report', ''] + _header(info, results) + [
        '', markdown_table(results), '',
        "Worst case over each scenario's judged faults: reaction, standstill and resume are "
        'the longest, hold-stop the lowest. Definitions: the README section "Scenario metrics".',
        '']
    if baseline is not None:
        out += [f'## Before / after (baseline: `{baseline["config_path"]}`, sha256 '
                f'`{baseline["config_sha256"][:12]}`)', '',
                '| ' + ' | '.join(_COMPARISON_COLUMNS) + ' |',
                '|' + '---|' * len(_COMPARISON_COLUMNS)]
        out += ['| ' + ' | '.join(row) + ' |' for row in comparison_rows(results, baseline)]
        out.append('')
    for result in results:
        s = result.scenario
        out += [f'## {s.id}', '', f'**{s.title}** — {status(result)}', '',
                s.description, '',
                f'Severity {s.severity.value} ({SEVERITY_MEANING[s.severity]}), exposure '
                f'{s.exposure.value} ({EXPOSURE_MEANING[s.exposure]}).', '']
        if result.outcome.error:
            out += ['Run error:', '', '```', result.outcome.error, '```', '']
        if s.faults:
            out += ['| ' + ' | '.join(_FAULT_COLUMNS) + ' |',
                    '|' + '---|' * len(_FAULT_COLUMNS)]
            out += ['| ' + ' | '.join(row) + ' |' for row in _fault_rows(result)]
            out.append('')
        if result.metrics is not None:
            m = result.metrics
            out += [f'Unsafe commands: {len(m.unsafe)}. False interventions: '
                    f'{m.false_interventions} ({m.false_intervention_pct:.1f} % of '
                    f'{m.nominal_s:.1f} s nominal time). Actual maxima: v {m.max_speed:.2f} m/s, '
                    f'|w| {m.max_yaw_rate:.2f} rad/s, |v·w| {m.max_lateral_accel:.2f} m/s². '
                    f'Decisions: {m.decisions}.', '']
            for unsafe in m.unsafe[:5]:
                out.append(f'- unsafe at {unsafe.t:.2f} s: v={unsafe.v:g} w={unsafe.w:g} '
                           f'({unsafe.rule})')
        rec = recordings.get(s.id)
        operated = operator_lines(rec) if rec is not None else []
        if operated:
            out += ['Operator (script time):', '']
            out += [f'- {o.t:.2f} s: {o.text}' for o in operated]
            out.append('')
        failed = result.outcome.failed
        if failed:
            out += ['Failed criteria:', '']
            out += [f'- {c.name}: {c.value} (required {c.limit})' for c in failed]
            out.append('')
        if rec is not None:
            out += [f'![{s.id}](plots/{s.id}.svg)', '']
            sample = sample_decision.pick(rec, result.metrics)
            if sample is not None:
                out += [f'Sample decision, {sample.why}:', '']
                out += [f'- {line}' for line in sample_decision.sentences(sample.decision,
                                                                          rec.t0)]
                out += ['', '```json', sample_decision.record_json(sample.decision.record),
                        '```', '']
            out += [f'Files: trace `{_relative(result.trace_path, base)}`, recording '
                    f'`{_relative(result.recording_path, base)}`, logs in '
                    f'`{_relative(result.workdir, base)}`.', '']
    return '\n'.join(out)


_CSS = """
body { font-family: -apple-system, 'Segoe UI', sans-serif; margin: 2em auto; max-width: 1000px;
       color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
.PASS { background: #d9f2d9; font-weight: bold; } .FAIL, .ERROR { background: #f8d0d0;
  font-weight: bold; }
.sev { font-weight: bold; } .S3 { color: #b30000; } .S2 { color: #d95f02; }
.S1 { color: #7a6a00; } .S0 { color: #555; }
section { border-top: 2px solid #ddd; margin-top: 2em; }
.ok { color: #1a7f1a; } .bad { color: #b30000; font-weight: bold; }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; }
"""


_BADGES = ('PASS', 'FAIL', 'ERROR', 'S0', 'S1', 'S2', 'S3')


def _html_table(columns: Sequence[str], rows: Sequence[Sequence[str]],
                classes: Optional[Dict[int, bool]] = None) -> str:
    head = ''.join(f'<th>{html.escape(c)}</th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            css = ''
            if classes and classes.get(i) and cell in _BADGES:
                css = f' class="{cell} sev"' if cell.startswith('S') else f' class="{cell}"'
            cells.append(f'<td{css}>{cell}</td>')
        body.append('<tr>' + ''.join(cells) + '</tr>')
    return f'<table><tr>{head}</tr>{"".join(body)}</table>'


def html_page(results, info: SuiteInfo, base: Path, recordings: Dict[str, Recording],
              plots: Dict[str, str], baseline: Optional[Dict[str, Any]] = None) -> str:
    """Return the self-contained HTML report."""
    rows = []
    for row in summary_rows(results):
        row = [html.escape(c) for c in row]
        row[0] = f'<a href="#{row[0]}">{row[0]}</a>'
        rows.append(row)
    out = ['<!DOCTYPE html><html><head><meta charset="utf-8">',
           '<title>safety_gate scenario report</title>',
           f'<style>{_CSS}{explorer.CSS}</style></head><body>',
           '<h1>safety_gate scenario report</h1><ul>']
    out += [f'<li>{html.escape(line[2:]).replace("`", "")}</li>' for line in
            _header(info, results)]
    out += ['</ul>', _html_table(COLUMNS, rows, {1: True, 3: True}),
            "<p>Worst case over each scenario's judged faults: reaction, standstill and resume "
            'are the longest, hold-stop the lowest.</p>']
    if baseline is not None:
        out += [f'<h2>Before / after</h2><p>Baseline: {html.escape(baseline["config_path"])} '
                f'(sha256 {baseline["config_sha256"][:12]})</p>',
                _html_table(_COMPARISON_COLUMNS,
                            [[html.escape(c) for c in r] for r in
                             comparison_rows(results, baseline)])]
    for result in results:
        s = result.scenario
        out.append(f'<section id="{s.id}"><h2>{s.id}: {html.escape(s.title)} '
                   f'<span class="{status(result)}">{status(result)}</span></h2>')
        out.append(f'<p>{html.escape(s.description)}</p><p><span class="sev '
                   f'{s.severity.value}">{s.severity.value}</span> '
                   f'{SEVERITY_MEANING[s.severity]}; {s.exposure.value} '
                   f'{EXPOSURE_MEANING[s.exposure]}.</p>')
        if result.outcome.error:
            out.append(f'<pre>{html.escape(result.outcome.error)}</pre>')
        if s.faults:
            escaped = [[html.escape(c) for c in row] for row in _fault_rows(result)]
            out.append(_html_table(_FAULT_COLUMNS, escaped))
        rec = recordings.get(s.id)
        operated = operator_lines(rec) if rec is not None else []
        if operated:
            out.append('<p>Operator (script time):</p><ul>' + ''.join(
                f'<li>{o.t:.2f} s: {html.escape(o.text)}</li>' for o in operated) + '</ul>')
        criteria = [[html.escape(c.name), html.escape(c.value), html.escape(c.limit),
                     '<span class="ok">✓</span>' if c.ok else '<span class="bad">✗</span>']
                    for c in result.outcome.criteria]
        if criteria:
            out.append(_html_table(('criterion', 'measured', 'required', ''), criteria))
        svg = plots.get(s.id)
        if svg:
            out.append(f'<div class="plot">{svg}{explorer.data_script(rec)}</div>')
            sample = sample_decision.pick(rec, result.metrics)
            if sample is not None:
                lines = sample_decision.sentences(sample.decision, rec.t0)
                out.append(f'<h3>Sample decision</h3><p>{html.escape(sample.why)}:</p><ul>'
                           + ''.join(f'<li>{html.escape(line)}</li>' for line in lines)
                           + '</ul><pre class="record">' + html.escape(
                               sample_decision.record_json(sample.decision.record)) + '</pre>')
        if result.metrics is not None and result.metrics.unsafe:
            out.append('<ul>' + ''.join(
                f'<li class="bad">unsafe at {u.t:.2f} s: v={u.v:g} w={u.w:g} ({u.rule})</li>'
                for u in result.metrics.unsafe[:5]) + '</ul>')
        if result.recording_path is not None:
            out.append(f'<p>Files: trace <code>{_relative(result.trace_path, base)}</code>, '
                       f'logs in <code>{_relative(result.workdir, base)}</code>.</p>')
        out.append('</section>')
    out.append(f'<script>{explorer.SCRIPT}</script></body></html>')
    return '\n'.join(out)


def write(results, info: SuiteInfo, directory: Path,
          baseline: Optional[Dict[str, Any]] = None) -> Paths:
    """Write report.md, report.html, summary.json and plots/ into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / 'plots').mkdir(exist_ok=True)
    recordings, plots = {}, {}
    for result in results:
        if result.recording_path is None or result.metrics is None:
            continue
        rec = recordings[result.scenario.id] = Recording.load(result.recording_path)
        svg = plots[result.scenario.id] = plot_result(result, rec)
        (directory / 'plots' / f'{result.scenario.id}.svg').write_text(svg)
    paths = Paths(directory / 'report.md', directory / 'report.html',
                  directory / 'summary.json')
    paths.markdown.write_text(markdown(results, info, directory, recordings, baseline))
    paths.html.write_text(html_page(results, info, directory, recordings, plots, baseline))
    paths.summary.write_text(json.dumps(summary(results, info), indent=1))
    return paths
