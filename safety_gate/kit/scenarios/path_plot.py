# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The x-y plot of a trajectory-mode run: the planned paths against the driven path.

Each plan is drawn where the vehicle really was at the plan's stamp (its
points are in the ego frame then), so a plan that starts off the vehicle, or
sweeps backwards, shows where it pointed. The driven path is the vehicle's
ground truth, coloured by the verdict in force. Plans sent during a fault
window are purple, the others grey. Drawn as SVG with no plotting library,
with equal scales on both axes.
"""

import bisect
import html
import math
from typing import List, Optional, Sequence, Tuple

from safety_gate.kit.scenarios.recording import DecisionSample, PlanSample, PoseSample, Recording

_VERDICT_COLORS = {'APPROVE': '#222222', 'LIMIT': '#1f77b4', 'FALLBACK': '#f28e2b',
                   'ESTOP': '#d62728'}
_PLAN_COLOR, _FAULT_PLAN_COLOR = '#9e9e9e', '#9467bd'
_MAX_PLANS = 60  # drawn per run, evenly picked: keeps the page small at 10 plans/s
_REACH_M = 12.0  # the view extends at most this far beyond the driven path


def _pose_at(poses: Sequence[PoseSample], times: Sequence[float],
             t: float) -> Optional[PoseSample]:
    """Return the last true pose at or before ``t`` (None before the first)."""
    i = bisect.bisect_right(times, t) - 1
    return poses[i] if i >= 0 else None


def placed_plans(rec: Recording) -> List[Tuple[PlanSample, List[Tuple[float, float]]]]:
    """Return each plan with its points in the odom frame, placed at the pose at its stamp."""
    poses = sorted(rec.poses, key=lambda p: p.t)
    times = [p.t for p in poses]
    placed = []
    for plan in rec.plans:
        pose = _pose_at(poses, times, rec.at(plan.stamp, plan.t))
        if pose is None:
            continue
        cos, sin = math.cos(pose.yaw), math.sin(pose.yaw)
        placed.append((plan, [(pose.x + cos * x - sin * y, pose.y + sin * x + cos * y)
                              for _, x, y in plan.points]))
    return placed


def _verdict_at(decisions: Sequence[DecisionSample], times: Sequence[float], t: float) -> str:
    i = bisect.bisect_right(times, t) - 1
    return decisions[i].verdict if i >= 0 else 'APPROVE'


def _grid_step(span: float) -> float:
    return next(s for s in (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0) if span / s <= 12)


def path_plot(rec: Recording, fault_spans: Sequence[Tuple[float, float]],
              name: str = 'path') -> str:
    """Return the SVG x-y plot; ``fault_spans`` are run-time windows of the faults."""
    start, end = rec.t0, rec.end
    driven = [p for p in sorted(rec.poses, key=lambda p: p.t) if start - 0.5 <= p.t <= end]
    plans = [(plan, points) for plan, points in placed_plans(rec)
             if start - 0.5 <= plan.t <= end]
    if len(plans) > _MAX_PLANS:
        step = len(plans) / _MAX_PLANS
        plans = [plans[int(i * step)] for i in range(_MAX_PLANS)]
    xs = [p.x for p in driven] or [0.0]
    ys = [p.y for p in driven] or [0.0]
    low_x, high_x, low_y, high_y = min(xs), max(xs), min(ys), max(ys)
    for _, points in plans:
        for x, y in points:
            if math.isfinite(x) and math.isfinite(y):
                low_x, high_x = min(low_x, max(x, min(xs) - _REACH_M)), max(
                    high_x, min(x, max(xs) + _REACH_M))
                low_y, high_y = min(low_y, max(y, min(ys) - _REACH_M)), max(
                    high_y, min(y, max(ys) + _REACH_M))
    pad = 0.05 * max(high_x - low_x, high_y - low_y, 1.0)
    low_x, high_x, low_y, high_y = low_x - pad, high_x + pad, low_y - pad, high_y + pad
    width, margin = 980, 50
    scale = (width - 2 * margin) / (high_x - low_x)
    plot_h = max(120.0, min(600.0, (high_y - low_y) * scale))
    scale = min(scale, plot_h / (high_y - low_y))
    height = int(plot_h + margin + 40)

    def sx(x: float) -> float:
        return margin + (x - low_x) * scale

    def sy(y: float) -> float:
        return 40 + plot_h - (y - low_y) * scale

    clip = f'{name}-xy'
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<clipPath id="{clip}"><rect x="{margin}" y="40" width="{width - 2 * margin}" '
           f'height="{plot_h:.1f}"/></clipPath>']
    grid = _grid_step(max(high_x - low_x, high_y - low_y))
    for i in range(math.ceil(low_x / grid), math.floor(high_x / grid) + 1):
        x = sx(i * grid)
        svg.append(f'<line x1="{x:.1f}" y1="40" x2="{x:.1f}" y2="{40 + plot_h:.1f}" '
                   f'stroke="#eeeeee"/><text x="{x:.1f}" y="{40 + plot_h + 13:.1f}" '
                   f'text-anchor="middle">{i * grid:g}</text>')
    for i in range(math.ceil(low_y / grid), math.floor(high_y / grid) + 1):
        y = sy(i * grid)
        svg.append(f'<line x1="{margin}" y1="{y:.1f}" x2="{width - margin}" y2="{y:.1f}" '
                   f'stroke="#eeeeee"/><text x="{margin - 4}" y="{y + 4:.1f}" '
                   f'text-anchor="end">{i * grid:g}</text>')
    for plan, points in plans:
        faulty = any(a <= plan.t < b for a, b in fault_spans)
        svg.append(_line(points, sx, sy, _FAULT_PLAN_COLOR if faulty else _PLAN_COLOR,
                         1.2 if faulty else 0.8, clip))
    decisions = sorted(rec.decisions, key=lambda d: d.t)
    times = [d.t for d in decisions]
    segment: List[Tuple[float, float]] = []
    verdict = None
    for pose in driven:
        now = _verdict_at(decisions, times, pose.t)
        if now != verdict and segment:
            svg.append(_line(segment + [(pose.x, pose.y)], sx, sy,
                             _VERDICT_COLORS.get(verdict, '#222222'), 2.5, clip))
            segment = []
        verdict = now
        segment.append((pose.x, pose.y))
    if segment:
        svg.append(_line(segment, sx, sy, _VERDICT_COLORS.get(verdict, '#222222'), 2.5, clip))
    svg.append(f'<rect x="{margin}" y="40" width="{width - 2 * margin}" height="{plot_h:.1f}" '
               'fill="none" stroke="#444"/>')
    legend = [('driven (APPROVE)', _VERDICT_COLORS['APPROVE']),
              ('driven (LIMIT)', _VERDICT_COLORS['LIMIT']),
              ('driven (FALLBACK)', _VERDICT_COLORS['FALLBACK']),
              ('driven (ESTOP)', _VERDICT_COLORS['ESTOP']), ('plans', _PLAN_COLOR),
              ('plans in a fault window', _FAULT_PLAN_COLOR)]
    lx = 10
    for label, color in legend:
        svg.append(f'<line x1="{lx}" y1="16" x2="{lx + 22}" y2="16" stroke="{color}" '
                   f'stroke-width="2.5"/><text x="{lx + 26}" y="20">{html.escape(label)}</text>')
        lx += 34 + 5.6 * len(label)
    svg.append(f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">x (m, odom '
               f'frame); y up; {len(plans)} of {len(rec.plans)} plans drawn, each from where '
               'the vehicle was at its stamp</text>')
    svg.append('</svg>')
    return ''.join(svg)


def _line(points: Sequence[Tuple[float, float]], sx, sy, color: str, width: float,
          clip: str) -> str:
    """Return SVG polylines through the finite points (a non-finite one breaks the line)."""
    parts: List[List[str]] = [[]]
    for x, y in points:
        if math.isfinite(x) and math.isfinite(y):
            parts[-1].append(f'{sx(x):.1f},{sy(y):.1f}')
        else:
            parts.append([])
    return ''.join(f'<polyline points="{" ".join(p)}" fill="none" stroke="{color}" '
                   f'stroke-width="{width}" clip-path="url(#{clip})"/>'
                   for p in parts if len(p) > 1)
