# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Scenario variations: parameter distributions and their deterministic draws.

A scenario file may declare ``variations``: a mapping from a field of the
scenario, written as a dotted path into the file (``faults.0.t_start``,
``route.segments.1.1`` for the second segment's speed, ``route.confidence``,
``vehicle_params.imu_noise_std``, ``plan.period``, ``plan.latency``,
``faults.0.value``), to a distribution: ``{uniform: [low, high]}`` or
``{choice: [a, b, ...]}``. ``faults.N.duration`` is the one path that is not a
field: it sets that fault's ``t_end`` to its (drawn) ``t_start`` plus the value.

Draw number ``index`` of scenario ``id`` in a campaign seeded ``seed`` is
named by its run id ``<id>.s<seed>.r<index>``, and the run id alone determines
the drawn values: the generator is seeded from a hash of the run id, and the
paths are drawn in sorted order. Python's ``random.Random`` gives the same
sequence for the same integer seed on every platform and version since 3.2.
"""

import copy
import hashlib
import random
import re
from typing import Any, Dict, List, NamedTuple, Optional

try:
    import pydantic.v1 as pydantic
except ImportError:  # pydantic < 1.10.17 has no v1 alias
    import pydantic

DURATION = 'duration'
_RUN_ID = re.compile(r'^(?P<scenario>[a-z][a-z0-9_]*)\.s(?P<seed>\d+)\.r(?P<index>\d+)$')
# Drawn values are rounded: 0.1 ms or 0.1 mm resolution, readable in a report and a run id's
# values print the same as they are used.
DIGITS = 4


class Distribution(pydantic.BaseModel):
    """One varied parameter: exactly one of ``uniform: [low, high]`` or ``choice: [...]``."""

    uniform: Optional[List[float]] = pydantic.Field(
        None, min_items=2, max_items=2, description='[low, high], drawn uniformly')
    choice: Optional[List[Any]] = pydantic.Field(
        None, min_items=1, description='values drawn with equal probability')

    class Config:
        extra = pydantic.Extra.forbid
        allow_mutation = False

    @pydantic.root_validator(skip_on_failure=True)
    def _exactly_one(cls, values):
        uniform, choice = values.get('uniform'), values.get('choice')
        if (uniform is None) == (choice is None):
            raise ValueError('give exactly one of uniform: [low, high] or choice: [...]')
        if uniform is not None and uniform[0] > uniform[1]:
            raise ValueError(f'uniform low {uniform[0]} is above high {uniform[1]}')
        return values

    def draw(self, rng: random.Random) -> Any:
        """Return one value drawn with ``rng``."""
        if self.uniform is not None:
            return round(rng.uniform(*self.uniform), DIGITS)
        return copy.deepcopy(rng.choice(self.choice))

    def extremes(self) -> List[Any]:
        """Return the lowest and the highest value (a choice's first and last)."""
        values = self.uniform if self.uniform is not None else self.choice
        return [copy.deepcopy(values[0]), copy.deepcopy(values[-1])]


class RunId(NamedTuple):
    """What names one run of a campaign."""

    scenario: str
    seed: int
    index: int

    def __str__(self) -> str:
        return f'{self.scenario}.s{self.seed}.r{self.index}'

    @classmethod
    def parse(cls, text: str) -> 'RunId':
        """Return the run id written as ``<scenario>.s<seed>.r<index>``; ValueError if not."""
        match = _RUN_ID.match(text)
        if match is None:
            raise ValueError(f'{text!r} is not a run id (<scenario>.s<seed>.r<index>, '
                             'e.g. planner_freeze.s1.r7)')
        return cls(match['scenario'], int(match['seed']), int(match['index']))


def draw(distributions: Dict[str, Distribution], run: RunId) -> Dict[str, Any]:
    """Return the values of run ``run``: {path: value}, a pure function of the run id."""
    digest = hashlib.sha256(str(run).encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], 'big'))
    return {path: distributions[path].draw(rng) for path in sorted(distributions)}


def _split(path: str) -> List[Any]:
    return [int(part) if part.isdigit() else part for part in path.split('.')]


def _container(data: Any, parts: List[Any], path: str) -> Any:
    for part in parts:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            raise ValueError(f'{path}: the scenario has no {part!r} there') from None
    return data


def _set(data: Dict[str, Any], path: str, value: Any) -> None:
    *parents, last = _split(path)
    if parents[:1] == ['faults'] and len(parents) == 2 and last == DURATION:
        fault = _container(data, parents, path)
        fault['t_end'] = round(fault['t_start'] + value, DIGITS)
        return
    parent = _container(data, parents, path)
    if isinstance(parent, list):
        if not isinstance(last, int) or not 0 <= last < len(parent):
            raise ValueError(f'{path}: the scenario has no {last!r} there')
    elif not isinstance(parent, dict):
        raise ValueError(f'{path}: {".".join(map(str, parents))} holds no fields')
    parent[last] = value


def apply(data: Dict[str, Any], values: Dict[str, Any]) -> Dict[str, Any]:
    """Return a copy of the scenario mapping ``data`` with ``values`` set at their paths.

    A fault's ``duration`` is set after its ``t_start``, whatever the order.
    """
    out = copy.deepcopy(data)
    for path in sorted(values, key=lambda p: p.endswith('.' + DURATION)):
        _set(out, path, values[path])
    return out


def extremes(distributions: Dict[str, Distribution]) -> List[Dict[str, Any]]:
    """Return two assignments: every parameter at its lowest, then at its highest."""
    pairs = {path: d.extremes() for path, d in distributions.items()}
    return [{path: pair[i] for path, pair in pairs.items()} for i in (0, 1)]
