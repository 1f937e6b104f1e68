# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""What makes the HTML report's plots interactive: a run's decisions as JSON, and the script.

The page stays one self-contained file, so the script is small vanilla
JavaScript over the SVG the report already draws (``report.plot``): it zooms
the time axis (wheel, or drag a range; double-click or the button resets),
shows the time and each line's value under the cursor, and on a click the
decision record in force at that time. No plotting library: plotly.js alone
is four times the demo's whole page (docs/scenarios.md, "The HTML page").

The decisions are embedded once per plot, compactly: each distinct check
(name, limit, reason) and each distinct proposal is written once and
referenced by index, and numbers keep 4 significant digits. The recording
and the trace keep them exact.
"""

import json
import math
from typing import Any, Dict, List

from safety_gate.kit.scenarios.recording import DecisionSample, Recording
from safety_gate.trace_format import NON_FINITE

# The order of a decision's fields in :func:`decision_data`; the script reads them by name.
FIELDS = ('t', 'seq', 'trigger', 'verdict', 'reasons', 'output', 'proposal', 'clamps',
          'checks')


def _short(value: Any) -> Any:
    """Return ``value`` with its floats cut to 4 significant digits and 6 decimals.

    The decimals drop rounding noise (an age of 8.9e-16 s); non-finite floats
    become text, as in the trace.
    """
    if isinstance(value, float):
        return float(f'{round(value, 6):.4g}') if math.isfinite(value) else NON_FINITE.get(
            value, 'NaN')
    if isinstance(value, dict):
        return {key: _short(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_short(item) for item in value]
    return value


def _record(decision: DecisionSample) -> Dict[str, Any]:
    """Return the record of a decision; for a recording without records, what it kept."""
    return decision.record or {'verdict': decision.verdict, 'reasons': decision.reasons,
                               'output': {'v': decision.v, 'w': decision.w}, 'checks': []}


def _index(table: List[Any], positions: Dict[str, int], item: Any) -> int:
    """Return the position of ``item`` in ``table``, appending it the first time."""
    key = json.dumps(item, sort_keys=True)
    if key not in positions:
        positions[key] = len(table)
        table.append(item)
    return positions[key]


def decision_data(rec: Recording) -> Dict[str, Any]:
    """Return a run's decisions, in time order, as the page embeds them (script seconds).

    ``decisions`` holds one list per decision in :data:`FIELDS` order; its
    ``proposal`` is an index into ``proposals`` (-1: none) and each of its
    ``checks`` is ``[index into checks, ok (1 or 0), value]``, a check being
    ``[name, limit, reason]``.
    """
    checks: List[Any] = []
    proposals: List[Any] = []
    check_at: Dict[str, int] = {}
    proposal_at: Dict[str, int] = {}
    rows = []
    for decision in sorted(rec.decisions, key=lambda d: d.t):
        record = _short(_record(decision))
        proposal = record.get('proposal')
        rows.append([
            round(decision.t - rec.t0, 3), record.get('seq'), record.get('trigger'),
            record['verdict'], record['reasons'], record['output'],
            -1 if proposal is None else _index(proposals, proposal_at, proposal),
            record.get('clamps', []),
            [[_index(checks, check_at, [c['name'], c['limit'], c['reason']]), int(c['ok']),
              c['value']] for c in record['checks']]])
    return {'fields': FIELDS, 'checks': checks, 'proposals': proposals, 'decisions': rows}


def data_script(rec: Recording) -> str:
    """Return the decisions of a run as a JSON script element for the page.

    ``<`` is escaped so that no text in a record (a planner's reasoning) can
    close the element.
    """
    text = json.dumps(decision_data(rec), separators=(',', ':')).replace('<', '\\u003c')
    return f'<script type="application/json" class="decisions">{text}</script>'


CSS = """
.plot { position: relative; }
.plot .tz * { vector-effect: non-scaling-stroke; }
.plot svg.timeplot { cursor: crosshair; user-select: none; }
.plot-tools { font-size: 12px; color: #555; margin: 0.5em 0 0.2em; }
.plot-tools button { font-size: 12px; margin-right: 0.8em; }
#hover { position: fixed; pointer-events: none; background: rgba(255, 255, 255, 0.95);
         border: 1px solid #999; padding: 4px 6px; font: 12px monospace; white-space: pre;
         display: none; z-index: 10; }
pre.decision { max-height: 24em; overflow: auto; border-left: 4px solid #1f77b4; }
"""

# The page's script. Geometry stays as drawn: a zoom transforms each panel's
# time group (strokes keep their width by CSS), and moves the time-anchored
# labels and the time ticks, which are written again for the range in view.
SCRIPT = r"""
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var hover = document.createElement('div');
  hover.id = 'hover';
  document.body.appendChild(hover);

  function nice(span) {
    var raw = span / 10, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    return [1, 2, 5, 10].map(function (m) { return m * mag; })
      .filter(function (s) { return s >= raw; })[0];
  }
  function fmt(x) { return typeof x === 'number' ? x.toFixed(3).replace(/\.?0+$/, '') : x; }

  function record(data, i) {
    var row = {}, out = {};
    data.fields.forEach(function (name, k) { row[name] = data.decisions[i][k]; });
    out.seq = row.seq;
    out.script_time = row.t;
    ['trigger', 'verdict', 'reasons'].forEach(function (k) { out[k] = row[k]; });
    out.checks = row.checks.map(function (c) {
      var def = data.checks[c[0]];
      return {name: def[0], ok: c[1] === 1, value: c[2], limit: def[1], reason: def[2]};
    });
    out.proposal = row.proposal < 0 ? null : data.proposals[row.proposal];
    out.output = row.output;
    out.clamps = row.clamps;
    return out;
  }

  function inForce(data, t) {
    var lo = 0, hi = data.decisions.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (data.decisions[mid][0] <= t) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function valueAt(poly, x, panel) {
    var pts = poly.points, n = pts.numberOfItems;
    if (!n || x < pts.getItem(0).x || x > pts.getItem(n - 1).x) { return null; }
    var lo = 0, hi = n - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (pts.getItem(mid).x <= x) { lo = mid; } else { hi = mid - 1; }
    }
    var d = panel.dataset, y = pts.getItem(lo).y;
    return +d.y0 + (+d.top + +d.height - y) / +d.height * (+d.y1 - +d.y0);
  }

  function setup(box) {
    var svg = box.querySelector('svg.timeplot');
    var data = JSON.parse(box.querySelector('script.decisions').textContent);
    var d = svg.dataset, T0 = +d.t0, T1 = +d.t1, X0 = +d.x0, X1 = +d.x1;
    var view = [T0, T1], k = 1, e = 0;
    var tickRows = [];
    svg.querySelectorAll('text.xtick').forEach(function (t) {
      var y = t.getAttribute('y');
      if (tickRows.indexOf(y) < 0) { tickRows.push(y); }
    });
    var cursor = document.createElementNS(SVG, 'line');
    var band = document.createElementNS(SVG, 'rect');
    var top = +d.top, bottom = +d.bottom;
    cursor.setAttribute('stroke', '#000');
    cursor.setAttribute('y1', top);
    cursor.setAttribute('y2', bottom);
    cursor.style.display = 'none';
    band.setAttribute('fill', 'rgba(31, 119, 180, 0.15)');
    band.setAttribute('y', top);
    band.setAttribute('height', bottom - top);
    band.style.display = 'none';
    svg.appendChild(band);
    svg.appendChild(cursor);

    var tools = document.createElement('div');
    tools.className = 'plot-tools';
    var reset = document.createElement('button');
    reset.textContent = 'reset zoom';
    tools.appendChild(reset);
    tools.appendChild(document.createTextNode(
      'wheel or drag: zoom the time axis · hover: values · click: the decision in force'));
    box.insertBefore(tools, box.firstChild);  // a trajectory run's plot is nested
    var shown = document.createElement('pre');
    shown.className = 'decision';
    shown.textContent = 'Click the plot to see the decision record in force at that time.';
    box.appendChild(shown);

    function tAt(x) { return view[0] + (x - X0) / (X1 - X0) * (view[1] - view[0]); }
    function xAt(t) { return X0 + (t - view[0]) / (view[1] - view[0]) * (X1 - X0); }
    function svgX(event) {
      var p = svg.createSVGPoint();
      p.x = event.clientX;
      p.y = event.clientY;
      return p.matrixTransform(svg.getScreenCTM().inverse());
    }

    function apply() {
      // drawn at x = X0 + (t - T0) / (T1 - T0) * (X1 - X0); shown at xAt(t)
      k = (T1 - T0) / (view[1] - view[0]);
      e = X0 - k * (X0 + (view[0] - T0) / (T1 - T0) * (X1 - X0));
      svg.querySelectorAll('g.tz').forEach(function (g) {
        g.setAttribute('transform', 'translate(' + e + ',0) scale(' + k + ',1)');
      });
      svg.querySelectorAll('text[data-t]').forEach(function (t) {
        var x = xAt(+t.dataset.t);
        t.setAttribute('x', x + (+t.dataset.dx || 0));
        t.style.display = x < X0 - 1 || x > X1 + 1 ? 'none' : '';
      });
      svg.querySelectorAll('text.xtick').forEach(function (t) { t.remove(); });
      var step = nice(view[1] - view[0]);
      tickRows.forEach(function (y) {
        for (var t = Math.ceil(view[0] / step) * step; t <= view[1]; t += step) {
          var label = document.createElementNS(SVG, 'text');
          label.setAttribute('class', 'xtick');
          label.setAttribute('x', xAt(t));
          label.setAttribute('y', y);
          label.setAttribute('text-anchor', 'middle');
          label.textContent = fmt(+t.toPrecision(6));
          svg.appendChild(label);
        }
      });
    }

    function zoom(a, b) {
      var span = Math.min(T1 - T0, Math.max(0.2, b - a));
      a = Math.min(Math.max(T0, a), T1 - span);
      view = [a, a + span];
      apply();
    }

    function describe(x) {
      var t = tAt(x), lines = ['t = ' + t.toFixed(3) + ' s'];
      svg.querySelectorAll('g.panel').forEach(function (panel) {
        var values = {};
        panel.querySelectorAll('polyline[data-series]').forEach(function (poly) {
          var v = valueAt(poly, (x - e) / k, panel);
          if (v !== null) { values[poly.dataset.series] = v; }
        });
        var names = Object.keys(values);
        var unit = panel.dataset.unit ? ' (' + panel.dataset.unit + ')' : '';
        if (names.length) {
          lines.push(panel.dataset.label + unit + ': ' + names.map(function (n) {
            return n + ' ' + values[n].toFixed(2);
          }).join(', '));
        }
      });
      var i = inForce(data, t);
      if (i >= 0) {
        var r = record(data, i);
        lines.push('decision ' + r.seq + ': ' + r.verdict + ' ' + r.reasons.join(' '));
      }
      return lines.join('\n');
    }

    var down = null;
    svg.addEventListener('mousedown', function (event) {
      down = svgX(event).x;
      event.preventDefault();
    });
    svg.addEventListener('mousemove', function (event) {
      var x = svgX(event).x;
      if (x < X0 || x > X1) {
        cursor.style.display = hover.style.display = 'none';
        return;
      }
      cursor.setAttribute('x1', x);
      cursor.setAttribute('x2', x);
      cursor.style.display = '';
      hover.textContent = describe(x);
      hover.style.left = (event.clientX + 14) + 'px';
      hover.style.top = (event.clientY + 14) + 'px';
      hover.style.display = 'block';
      if (down !== null) {
        band.setAttribute('x', Math.min(down, x));
        band.setAttribute('width', Math.abs(x - down));
        band.style.display = '';
      }
    });
    svg.addEventListener('mouseleave', function () {
      cursor.style.display = hover.style.display = band.style.display = 'none';
      down = null;
    });
    svg.addEventListener('mouseup', function (event) {
      var x = svgX(event).x;
      band.style.display = 'none';
      if (down === null) { return; }
      if (Math.abs(x - down) > 4) {
        zoom(tAt(Math.min(down, x)), tAt(Math.max(down, x)));
      } else {
        var i = inForce(data, tAt(x));
        shown.textContent = i < 0 ? 'No decision yet at ' + tAt(x).toFixed(3) + ' s.'
          : 'Decision in force at ' + tAt(x).toFixed(3) + ' s (script time):\n' +
            JSON.stringify(record(data, i), null, 1);
      }
      down = null;
    });
    svg.addEventListener('wheel', function (event) {
      var t = tAt(svgX(event).x), f = event.deltaY < 0 ? 0.8 : 1.25;
      event.preventDefault();
      zoom(t - (t - view[0]) * f, t + (view[1] - t) * f);
    }, {passive: false});
    svg.addEventListener('dblclick', function () { zoom(T0, T1); });
    reset.addEventListener('click', function () { zoom(T0, T1); });
    apply();
  }

  document.querySelectorAll('div.plot').forEach(setup);
  document.documentElement.setAttribute('data-interactive', 'ready');
})();
"""
