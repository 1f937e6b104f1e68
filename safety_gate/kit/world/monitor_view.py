# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""What ``safety-gate monitor`` shows, as plain data, and that data rendered as text.

The monitor node (:mod:`safety_gate.kit.world.monitor`) feeds the gate's
decision records to a :class:`DecisionHistory` and collects a
:class:`Snapshot`; :func:`render` turns a snapshot into lines, with ANSI
colours for a terminal or without for a log. Nothing here touches ROS, so the
view is tested with plain data.

Rates come from the decision records' node times, not from arrival times: the
trace writer publishes records in batches, and on simulated time the node
clock is the one that counts. Each decision is one command on ``cmd_vel``, so
the decision rate is the output rate; the proposals are the ``proposal`` (or
``plan``) events each record lists.
"""

from collections import deque
from dataclasses import dataclass
import math
import textwrap
from typing import Any, Deque, Mapping, Optional, Sequence, Tuple

from safety_gate.diagnostics import Level, Status

# Decision records whose node time is within this of the latest one give the rates.
RATE_WINDOW_S = 2.0
# Runs of equal decisions shown, the latest last.
RUNS_SHOWN = 8
PROPOSAL_EVENTS = ('proposal', 'plan')
# The gate status values shown as input ages, and how they are labelled.
INPUT_AGES = (('proposal_age_s', 'proposal'), ('odom_age_s', 'odom'), ('imu_age_s', 'imu'))
REASONING_SHOWN = 60  # characters of a proposal's reasoning text in a decision line
WIDTH = 100  # columns, when the terminal's are not known
VALUES_INDENT = ' ' * 8
HASH_SHOWN = 12  # characters of a sha256 in a diagnostic value, as git abbreviates
_ANSI = {'green': '\x1b[32m', 'yellow': '\x1b[33m', 'red': '\x1b[31m', 'bold': '\x1b[1m'}
_RESET = '\x1b[0m'
_COLOUR_OF = {'APPROVE': 'green', 'LIMIT': 'yellow', 'FALLBACK': 'yellow', 'ESTOP': 'red',
              Level.OK.name: 'green', Level.WARN.name: 'yellow', Level.ERROR.name: 'red'}


@dataclass(frozen=True)
class DecisionRun:
    """Consecutive decisions with the same verdict and reasons; the latest one's details."""

    first_seq: int
    last_seq: int
    count: int
    verdict: str
    reasons: Tuple[str, ...]
    t: float  # node time of the latest decision of the run
    output: Tuple[Any, Any]  # its command (v, w)
    confidence: Any  # its proposal's confidence, None without one
    reasoning: Optional[str]  # its proposal's reasoning text, never interpreted


@dataclass(frozen=True)
class Rates:
    """Output and proposal rates over ``span_s`` seconds of node time (None: too few records)."""

    output_hz: Optional[float]
    proposal_hz: Optional[float]
    span_s: float


@dataclass(frozen=True)
class Snapshot:
    """Everything one view shows; ages are the monitor's seconds since it received the thing."""

    namespace: str
    gates: Tuple[str, ...]  # fully qualified names of the nodes publishing the state
    state: Optional[Mapping[str, Any]]  # the latest safety_gate/state message, decoded
    statuses: Tuple[Status, ...]  # the gate's latest diagnostics, one per name
    diagnostics_age_s: Optional[float]
    runs: Tuple[DecisionRun, ...]
    rates: Rates
    decision_age_s: Optional[float]
    latest_t: Optional[float]  # node time of the latest decision
    malformed: int = 0  # messages on the gate's topics that did not decode, ignored


class DecisionHistory:
    """The latest decision records as runs of equal decisions, and the rates over a window."""

    def __init__(self, runs_kept: int = RUNS_SHOWN, window_s: float = RATE_WINDOW_S) -> None:
        """Keep ``runs_kept`` runs and the records of the last ``window_s`` of node time."""
        self._runs: Deque[DecisionRun] = deque(maxlen=runs_kept)
        self._window_s = window_s
        self._window: Deque[Tuple[float, int]] = deque()  # (t, proposal events) per record

    def add(self, record: Mapping[str, Any]) -> None:
        """Take one decision record (as published on safety_gate/decision).

        A record that does not have the schema's types raises (ValueError,
        TypeError, AttributeError) before it changes anything.
        """
        t = float(record.get('t', math.nan))
        if not math.isfinite(t):
            raise ValueError(f'a decision record without a finite time: {t}')
        events = record.get('events') or ()
        proposals = sum(1 for e in events if e.get('type') in PROPOSAL_EVENTS)
        last = self._runs[-1] if self._runs else None
        run = _next_run(last, record, t)
        if run.count > 1:  # it continues the last run
            self._runs.pop()
        self._runs.append(run)
        if self._window and t < self._window[-1][0]:
            self._window.clear()  # a restarted gate, or a simulation reset: rates start afresh
        self._window.append((t, proposals))
        while t - self._window[0][0] > self._window_s:
            self._window.popleft()

    def runs(self) -> Tuple[DecisionRun, ...]:
        """Return the runs kept, the latest last."""
        return tuple(self._runs)

    def rates(self) -> Rates:
        """Return the decision (output) and proposal rates over the window's records.

        The proposals a record lists arrived since the record before it, so
        those of the window's first record fall before the span and do not count.
        """
        if len(self._window) < 2:
            return Rates(None, None, 0.0)
        span = self._window[-1][0] - self._window[0][0]
        if span <= 0.0:
            return Rates(None, None, 0.0)
        proposals = sum(count for _, count in list(self._window)[1:])
        return Rates((len(self._window) - 1) / span, proposals / span, span)


def _next_run(last: Optional[DecisionRun], record: Mapping[str, Any], t: float) -> DecisionRun:
    """Return the run ``record`` continues (``last`` one longer) or starts."""
    seq = record.get('seq', -1)
    verdict, reasons = str(record.get('verdict')), _words(record.get('reasons'))
    output = record.get('output') or {}
    proposal = record.get('proposal') or {}
    same = last is not None and (last.verdict, last.reasons) == (verdict, reasons)
    return DecisionRun(
        first_seq=last.first_seq if same else seq, last_seq=seq,
        count=last.count + 1 if same else 1, verdict=verdict, reasons=reasons, t=t,
        output=(output.get('v'), output.get('w')),
        confidence=proposal.get('confidence'), reasoning=proposal.get('reasoning'))


def _words(value: Any) -> Tuple[str, ...]:
    """Return a list of reasons as strings; anything else that is not empty as one."""
    if isinstance(value, (list, tuple)):
        return tuple(map(str, value))
    return (str(value),) if value else ()


def render(snapshot: Snapshot, colour: bool = False, width: int = WIDTH) -> str:
    """Return the view of ``snapshot`` as text, with ANSI colours if ``colour``.

    The key values of a diagnostic wrap at ``width`` columns (a value is never split).

    Every string that came over the wire is shown with its control characters
    escaped, so no message can move the cursor or recolour the operator's terminal.
    """
    paint = _painter(colour)
    gates = ', '.join(map(_printable, snapshot.gates)) or 'no node publishes its state now'
    lines = [paint('bold', f'safety_gate in {snapshot.namespace or "/"}') + f'  ({gates})']
    lines.append(_field('state', _state_text(snapshot, paint)))
    lines.append(_field('rates', _rates_text(snapshot.rates)))
    lines.append(_field('input ages', _inputs_text(snapshot.statuses)))
    lines.append(_field('diagnostics', 'none received from the gate yet' if not snapshot.statuses
                        else f'received {_seconds(snapshot.diagnostics_age_s)} ago'))
    name_width = max((len(s.name) for s in snapshot.statuses), default=0)
    for status in snapshot.statuses:
        level = _level_name(status.level)
        lines.append(f'  {paint(level, f"{level:5s}")} {_printable(status.name):{name_width}s}  '
                     f'{_printable(status.message)}')
        lines.extend(textwrap.wrap(
            ' '.join(f'{_printable(k)}={_value(k, v)}' for k, v in status.values.items()),
            width, initial_indent=VALUES_INDENT, subsequent_indent=VALUES_INDENT,
            break_long_words=False, break_on_hyphens=False))
    lines.append(_field('decisions', 'none received yet' if not snapshot.runs else
                        f'latest received {_seconds(snapshot.decision_age_s)} ago; '
                        'one line per run of equal decisions, the latest last'))
    lines.extend(_run_text(run, paint) for run in snapshot.runs)
    if snapshot.malformed:
        lines.append(f'ignored {snapshot.malformed} messages on the gate topics that did not '
                     'decode')
    return '\n'.join(lines)


def _state_text(snapshot: Snapshot, paint) -> str:
    state = snapshot.state
    if state is None:
        return 'not received'
    verdict = _printable(state.get('verdict'))
    reasons = ' '.join(map(_printable, _words(state.get('reasons')))) or '-'
    text = f'{paint(verdict, verdict)}  {reasons}'
    since, latest = state.get('t'), snapshot.latest_t
    if isinstance(since, (int, float)) and latest is not None and latest >= since:
        text += f'  (for {latest - since:.1f} s of node time)'
    return text


def _rates_text(rates: Rates) -> str:
    if rates.output_hz is None:
        return 'too few decisions yet'
    return (f'output {rates.output_hz:.1f} Hz, proposals {rates.proposal_hz:.1f} Hz '
            f'(over the last {rates.span_s:.1f} s of decisions)')


def _inputs_text(statuses: Sequence[Status]) -> str:
    gate = next((s for s in statuses if 'verdict' in s.values), None)
    if gate is None:
        return 'unknown until the gate diagnostics arrive'
    ages = [(label, gate.values.get(key)) for key, label in INPUT_AGES]
    return ', '.join(f'{label} {_age(age)}' for label, age in ages if age is not None)


def _run_text(run: DecisionRun, paint) -> str:
    seqs = f'{run.first_seq}-{run.last_seq}' if run.count > 1 else f'{run.last_seq}'
    parts = [f'  seq {seqs:13s} x{run.count:<5d} {paint(run.verdict, f"{run.verdict:8s}")}',
             ' '.join(map(_printable, run.reasons)) or '-',
             f'out ({_number(run.output[0])}, {_number(run.output[1])})']
    if run.confidence is not None:
        parts.append(f'confidence {_number(run.confidence)}')
    if run.reasoning:
        text = _printable(run.reasoning)
        cut = text if len(text) <= REASONING_SHOWN else text[:REASONING_SHOWN - 3] + '...'
        parts.append(f"'{cut}'")
    return '  '.join(parts)


def _field(label: str, text: str) -> str:
    return f'{label:12s} {text}'


def _painter(colour: bool):
    def paint(kind: str, text: str) -> str:
        code = _ANSI.get(_COLOUR_OF.get(kind, kind)) if colour else None
        return f'{code}{text}{_RESET}' if code else text
    return paint


def _level_name(level: Any) -> str:
    try:
        return Level(level).name
    except ValueError:
        return f'L{level}'


def _value(key: str, value: str) -> str:
    text = _printable(value)
    return text[:HASH_SHOWN] if key.endswith('sha256') else text


def _age(value: str) -> str:
    try:
        return f'{float(value):.2f} s'
    except ValueError:
        return _printable(value)


def _seconds(age: Optional[float]) -> str:
    return '?' if age is None else f'{age:.1f} s'


def _number(value: Any) -> str:
    return f'{value:.2f}' if isinstance(value, (int, float)) else _printable(value)


def _printable(value: Any) -> str:
    text = str(value)
    if text.isprintable():
        return text
    return ''.join(c if c.isprintable() else repr(c)[1:-1] for c in text)
