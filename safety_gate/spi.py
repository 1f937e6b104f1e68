# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Safety performance indicators (SPIs): rolling windows per model, and the drift action.

Pure, like the core that calls it: :func:`observe` folds the decisions of one
core step into the windows of the model each names, and the limits of
``spi.*`` then give the drift action (``none``, ``warn``, ``conservative``,
``withdraw``) the next decision honours. The node publishes
:func:`snapshot` and writes it to the trace, and replay recomputes it from
the same decisions, so the actions replay exactly.

What is counted, per model hash (the decision's model in charge: the meta's
``model_sha256``, the planner's announcement or the hashed weight files; ''
when none):

* a *proposal* is a decision on a fresh proposal or plan (trigger ``proposal``,
  ``plan`` or ``pairing_timeout``); it is an *intervention* when the gate
  refused it (FALLBACK or ESTOP; a LIMIT is not, so the conservative mode a
  drift alarm starts cannot keep that alarm up), and each of its reasons
  counts once toward that reason's fallback rate;
* its confidence (a fixed histogram of :data:`BINS` bins on [0, 1], its mean
  and quantiles, and the population-stability index against the baseline);
* in trajectory mode the measured values of its ``plan.shift_lateral`` (plan
  consistency) and ``plan.start`` (ego consistency) checks;
* at every decision with odometry, |previous output - measured| forward
  speed: the tracking error.

A window is :data:`BUCKETS` buckets of ``spi.window / BUCKETS`` seconds of
node time: a decision adds to the newest bucket and to the running totals,
and a bucket that falls out of the window is subtracted from them, so memory
is bounded and an update costs the same whatever the window. Values are
summed as integer micro-units, so subtracting a bucket restores the totals
exactly and a long run cannot drift from its replay.
"""

from dataclasses import dataclass
import functools
import hashlib
import math
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from safety_gate.config import SpiConfig
from safety_gate.decision import Decision, Reason, Verdict
import yaml

BINS = 20
BUCKETS = 20
MAX_MODELS = 8
PROPOSAL_TRIGGERS = frozenset({'proposal', 'plan', 'pairing_timeout'})
ACTIONS = ('none', 'warn', 'conservative', 'withdraw')  # mildest first
_MICRO = 1_000_000
# A bin the window or the baseline leaves empty counts as this share, so the
# PSI stays finite (the usual smoothing of the index).
_PSI_FLOOR = 1e-4

# The layout of a counts vector: counters, the confidence histogram, one count per reason.
(PROPOSALS, INTERVENTIONS, CONFIDENCE_N, CONFIDENCE_SUM, SHIFT_N, SHIFT_SUM, EGO_N, EGO_SUM,
 TRACKING_N, TRACKING_SUM) = range(10)
HISTOGRAM = 10
_REASONS = tuple(Reason)
_REASON_AT = {reason: HISTOGRAM + BINS + i for i, reason in enumerate(_REASONS)}
EMPTY = (0,) * (HISTOGRAM + BINS + len(_REASONS))
_MEASURED = {'plan.shift_lateral': (SHIFT_N, SHIFT_SUM), 'plan.start': (EGO_N, EGO_SUM)}


class BaselineError(ValueError):
    """The baseline file is missing, unreadable, malformed or not the one pinned."""


@dataclass(frozen=True)
class Window:
    """One model's rolling window: its buckets, oldest first, and their totals."""

    buckets: Tuple[Tuple[int, Tuple[int, ...]], ...] = ()  # (bucket number, counts)
    totals: Tuple[int, ...] = EMPTY
    t: float = -math.inf  # node time of the last decision added


@dataclass(frozen=True)
class Alarm:
    """An indicator past its limit, and the action its configuration gives."""

    spi: str
    value: float
    limit: float
    action: str


@dataclass(frozen=True)
class SpiState:
    """The windows of the models seen (least recently updated first) and the alarms."""

    models: Tuple[Tuple[str, Window], ...] = ()
    model: Optional[str] = None  # the model of the latest decision: the one in charge
    last_output_v: Optional[float] = None
    alarms: Tuple[Alarm, ...] = ()
    withdrawn: bool = False  # latched by a withdraw alarm until an accepted reset


# ---------------------------------------------------------------- the baseline

@functools.lru_cache(maxsize=4)
def load_baseline(path: str, sha256: str) -> Tuple[float, ...]:
    """Return the baseline's confidence shares per bin; BaselineError if it cannot be used.

    The file's sha256 must be ``sha256``: the config hash covers the pin, so a
    changed baseline is a changed configuration. Cached: the core asks on every
    decision, and only the first call reads the file.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise BaselineError(f'spi.baseline_file {path}: {exc.strerror or exc}') from None
    digest = file_sha256(raw)
    if digest != sha256:
        raise BaselineError(f'spi.baseline_file {path} has sha256 {digest}, not '
                            f'spi.baseline_sha256 {sha256}')
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise BaselineError(f'spi.baseline_file {path}: not YAML ({exc})') from None
    counts = data.get('confidence_histogram') if isinstance(data, dict) else None
    if (not isinstance(counts, list) or len(counts) != BINS or not all(
            isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts)
            or not sum(counts)):
        raise BaselineError(f'spi.baseline_file {path}: confidence_histogram must be {BINS} '
                            'counts >= 0, not all zero')
    total = sum(counts)
    return tuple(count / total for count in counts)


def file_sha256(content) -> str:
    """Return the sha256 that ``spi.baseline_sha256`` pins: of a file's path or its bytes."""
    raw = content if isinstance(content, bytes) else Path(content).read_bytes()
    return hashlib.sha256(raw).hexdigest()


def baseline_yaml(histogram: Sequence[int], sources: Sequence[str]) -> str:
    """Return the text of a baseline file for ``histogram`` (what ``load_baseline`` reads)."""
    return yaml.safe_dump({
        'bins': BINS, 'confidence_histogram': [int(c) for c in histogram],
        'samples': int(sum(histogram)), 'sources': list(sources)}, sort_keys=False)


def baseline(cfg: SpiConfig) -> Optional[Tuple[float, ...]]:
    """Return the baseline shares ``spi.*`` names (None without one); BaselineError if unusable."""
    return load_baseline(cfg.baseline_file, cfg.baseline_sha256) if cfg.baseline_file else None


# ---------------------------------------------------------------- counting

def confidence_bin(confidence: float) -> int:
    """Return the histogram bin of a confidence in [0, 1]."""
    return min(int(confidence * BINS), BINS - 1)


def _micro(value: Any) -> Optional[int]:
    """Return a measured value in integer micro-units; None if it is not a usable number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    scaled = value * _MICRO
    return round(scaled) if math.isfinite(scaled) else None


def sample(decision: Decision, commanded_v: Optional[float],
           measured_v: Optional[float]) -> List[Tuple[int, int]]:
    """Return what one decision adds to its model's counts, as (position, amount) pairs."""
    found = []
    error = None if commanded_v is None or measured_v is None else _micro(
        abs(commanded_v - measured_v))
    if error is not None:
        found += [(TRACKING_N, 1), (TRACKING_SUM, error)]
    if decision.trigger not in PROPOSAL_TRIGGERS:
        return found
    found.append((PROPOSALS, 1))
    if decision.verdict in (Verdict.FALLBACK, Verdict.ESTOP):
        found.append((INTERVENTIONS, 1))
        found += [(_REASON_AT[reason], 1) for reason in dict.fromkeys(decision.reasons)]
    confidence = None if decision.meta is None else decision.meta.confidence
    micro = _micro(confidence)
    if micro is not None and 0 <= micro <= _MICRO:
        found += [(CONFIDENCE_N, 1), (CONFIDENCE_SUM, micro),
                  (HISTOGRAM + confidence_bin(confidence), 1)]
    for check in decision.checks:
        slots = _MEASURED.get(check.name)
        micro = None if slots is None else _micro(check.value)
        if micro is not None:
            found += [(slots[0], 1), (slots[1], micro)]
    return found


def add(window: Window, bucket: int, found: Sequence[Tuple[int, int]], t: float) -> Window:
    """Add ``found`` to ``window`` in ``bucket``, dropping the buckets now out of the window."""
    buckets, totals = window.buckets, list(window.totals)
    if buckets and bucket < buckets[-1][0]:
        # The node clock went back: the old buckets cannot be dated against it.
        buckets, totals = (), list(EMPTY)
    expired = 0
    while expired < len(buckets) and buckets[expired][0] <= bucket - BUCKETS:
        totals = [total - count for total, count in zip(totals, buckets[expired][1])]
        expired += 1
    buckets = buckets[expired:]
    newest = list(EMPTY)
    if buckets and buckets[-1][0] == bucket:
        newest = list(buckets[-1][1])
        buckets = buckets[:-1]
    for position, amount in found:
        newest[position] += amount
        totals[position] += amount
    return Window(buckets + ((bucket, tuple(newest)),), tuple(totals), t)


def _bucket(now: float, cfg: SpiConfig) -> int:
    return math.floor(now * BUCKETS / cfg.window)


def _model(decision: Decision) -> str:
    return '' if decision.model is None else decision.model.sha256


def observe(state: SpiState, decisions: Sequence[Decision], measured_v: Optional[float],
            now: float, cfg: SpiConfig) -> SpiState:
    """Fold one step's decisions into the windows; re-judge the limits of the model in charge."""
    models = dict(state.models)
    commanded = state.last_output_v
    model = state.model
    for decision in decisions:
        model = _model(decision)
        found = sample(decision, commanded, measured_v)
        commanded = decision.output.v
        if found and math.isfinite(now):
            window = add(models.pop(model, Window()), _bucket(now, cfg), found, now)
            models[model] = window
            while len(models) > MAX_MODELS:
                del models[next(iter(models))]
    current = models.get(model)
    # Most decisions judge nothing: no limit is set, or too few proposals are in the window.
    alarms = () if current is None or current.totals[PROPOSALS] < cfg.min_samples or not (
        _sets_a_limit(cfg)) else judge(indicators(current.totals, baseline(cfg)), cfg)
    withdrawn = state.withdrawn or any(alarm.action == 'withdraw' for alarm in alarms)
    return SpiState(tuple(models.items()), model, commanded, alarms, withdrawn)


# The configuration asked last, and whether it sets a limit: the core asks on
# every decision, with the same configuration, and eight attribute lookups
# there cost more than the rest of the question (make bench, the core).
_asked: Tuple[Optional[SpiConfig], bool] = (None, False)


def _sets_a_limit(cfg: SpiConfig) -> bool:
    global _asked
    asked = _asked  # one read: another thread may replace it meanwhile
    if asked[0] is not cfg:
        asked = (cfg, any(getattr(cfg, f'{key}_limit') > 0.0 for _, key, _ in LIMITS))
        _asked = asked
    return asked[1]


def reset(state: SpiState) -> SpiState:
    """Start every window afresh and clear a withdrawal: what an accepted reset does."""
    return SpiState(last_output_v=state.last_output_v)


def drift(state: SpiState) -> str:
    """Return the drift action in force: the most severe alarm's, or withdraw while latched."""
    if state.withdrawn:
        return 'withdraw'
    return max((alarm.action for alarm in state.alarms), key=ACTIONS.index, default='none')


# ---------------------------------------------------------------- the indicators

def _mean(totals: Sequence[int], n: int, total: int) -> Optional[float]:
    return totals[total] / _MICRO / totals[n] if totals[n] else None


def quantile(histogram: Sequence[int], q: float) -> Optional[float]:
    """Return the ``q`` quantile of a confidence histogram, interpolated within its bin."""
    count = sum(histogram)
    if not count:
        return None
    wanted, below = q * count, 0
    for index, in_bin in enumerate(histogram):
        if in_bin and below + in_bin >= wanted:
            return (index + (wanted - below) / in_bin) / BINS
        below += in_bin
    return 1.0


def psi(histogram: Sequence[int], baseline: Sequence[float]) -> Optional[float]:
    """Return the population-stability index of ``histogram`` against baseline shares."""
    count = sum(histogram)
    if not count:
        return None
    index = 0.0
    for in_bin, expected in zip(histogram, baseline):
        actual, expected = max(in_bin / count, _PSI_FLOOR), max(expected, _PSI_FLOOR)
        index += (actual - expected) * math.log(actual / expected)
    return index


def indicators(totals: Sequence[int], baseline: Optional[Sequence[float]]) -> Dict[str, Any]:
    """Return the indicators of a window's totals (None where nothing was measured)."""
    proposals = totals[PROPOSALS]
    histogram = totals[HISTOGRAM:HISTOGRAM + BINS]
    rates = {reason.value: totals[_REASON_AT[reason]] / proposals for reason in _REASONS
             if totals[_REASON_AT[reason]]}
    return {
        'proposals': proposals,
        'intervention_rate': totals[INTERVENTIONS] / proposals if proposals else None,
        'fallback_rate': rates,
        'fallback_rate_max': max(rates.values(), default=0.0) if proposals else None,
        'confidence_n': totals[CONFIDENCE_N],
        'confidence_mean': _mean(totals, CONFIDENCE_N, CONFIDENCE_SUM),
        'confidence_p10': quantile(histogram, 0.1),
        'confidence_p50': quantile(histogram, 0.5),
        'confidence_p90': quantile(histogram, 0.9),
        'confidence_histogram': list(histogram),
        'psi': None if baseline is None else psi(histogram, baseline),
        'plan_shift': _mean(totals, SHIFT_N, SHIFT_SUM),
        'ego_start': _mean(totals, EGO_N, EGO_SUM),
        'tracking_error': _mean(totals, TRACKING_N, TRACKING_SUM),
    }


# (indicator, the name of its limit and action in spi.*, True: an alarm below the limit)
LIMITS = (
    ('intervention_rate', 'intervention_rate', False),
    ('fallback_rate_max', 'fallback_rate', False),
    ('confidence_mean', 'confidence_mean', True),
    ('confidence_p10', 'confidence_p10', True),
    ('psi', 'psi', False),
    ('plan_shift', 'plan_shift', False),
    ('ego_start', 'ego_start', False),
    ('tracking_error', 'tracking_error', False),
)


def judge(values: Dict[str, Any], cfg: SpiConfig) -> Tuple[Alarm, ...]:
    """Return the alarms of a window's indicators: none before ``spi.min_samples`` proposals."""
    if values['proposals'] < cfg.min_samples:
        return ()
    found = []
    for name, key, below in LIMITS:
        limit, value = getattr(cfg, f'{key}_limit'), values[name]
        if limit > 0.0 and value is not None and (value < limit if below else value > limit):
            found.append(Alarm(name, value, limit, getattr(cfg, f'{key}_action')))
    return tuple(found)


def snapshot(state: SpiState, cfg: SpiConfig) -> Dict[str, Any]:
    """Return the SPIs as published on ``safety_gate/spi`` and written to the trace.

    A function of the state alone (each window as of its last decision), so a
    replay that reached the same state writes the same snapshot.
    """
    shares = baseline(cfg)
    return {
        'drift': drift(state),
        'model': state.model,
        'window_s': cfg.window,
        'alarms': [{'spi': a.spi, 'value': a.value, 'limit': a.limit, 'action': a.action}
                   for a in state.alarms],
        'models': {model: {'t': window.t, **indicators(window.totals, shares)}
                   for model, window in state.models},
    }
