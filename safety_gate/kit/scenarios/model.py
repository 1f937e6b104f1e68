# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The scenario file format: one YAML file per scenario, validated by pydantic.

A scenario is a route for the scripted planner, a timed fault script, a hazard
rating in the style of ISO 26262 (severity S0-S3, exposure E1-E4) and the pass
criteria. Faults come in three families, told apart by ``kind``:

* planner faults (``safety_gate.kit.world.planner_script.FaultKind``), active for
  script times in [t_start, t_end);
* vehicle faults, sent to the simulated vehicle at t_start and cleared at
  t_end: ``odom_stale`` (no odometry), ``odom_stuck`` (frozen values, fresh
  stamps), ``odom_jump`` (one sample value [5] m/s off), ``imu_bias`` (value
  [0.8] rad/s added to the IMU yaw rate), ``clock_reset`` (/clock back to its
  start), ``odom_covariance`` (the odometry's x and y position variances set
  to value [1.0] m^2, zero again at t_end);
* latching faults, which only an operator reset ends: ``estop`` (engaged at
  t_start, the input released at t_end) and ``gate_restart`` (the gate process
  is killed and started again at t_start).

Like ``safety_gate/config.py`` the model uses the pydantic v1 API, which
pydantic 2 ships as ``pydantic.v1``.
"""

import enum
import hashlib
import json
from pathlib import Path
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

try:
    import pydantic.v1 as pydantic
except ImportError:  # pydantic < 1.10.17 has no v1 alias
    import pydantic

from safety_gate import config, registry
from safety_gate.decision import Reason
from safety_gate.kit.scenarios.variations import apply, Distribution, draw, extremes, RunId
from safety_gate.kit.world import cadence
from safety_gate.kit.world.alpamayo_plans import VARIANTS
from safety_gate.kit.world.plan_script import PlanSpec
from safety_gate.kit.world.planner_script import (FaultKind as PlannerFault, PLAN_KINDS,
                                                  PLAN_ONLY, Script)
from safety_gate.registry import Registry
import yaml


class Severity(str, enum.Enum):
    """Hazard severity, ISO 26262 style."""

    S0 = 'S0'
    S1 = 'S1'
    S2 = 'S2'
    S3 = 'S3'


class Exposure(str, enum.Enum):
    """Exposure to the operating situation, ISO 26262 style."""

    E1 = 'E1'
    E2 = 'E2'
    E3 = 'E3'
    E4 = 'E4'


SEVERITY_MEANING = {
    Severity.S0: 'no injuries',
    Severity.S1: 'light and moderate injuries',
    Severity.S2: 'severe injuries, survival probable',
    Severity.S3: 'life-threatening or fatal injuries',
}
EXPOSURE_MEANING = {
    Exposure.E1: 'very low probability',
    Exposure.E2: 'low probability (under 1 % of operating time)',
    Exposure.E3: 'medium probability (1 % to 10 %)',
    Exposure.E4: 'high probability (over 10 %)',
}

# The vehicle fault kinds and the payloads the runner sends the simulated vehicle
# for them: (payload at t_start, payload at t_end or None); a fault without a value
# takes the vehicle's default (jump_speed) or IMU_BIAS_DEFAULT.
IMU_BIAS_DEFAULT = 0.8  # rad/s: above the gate's default imu.yaw_rate_tolerance
VEHICLE_FAULT_PAYLOADS = {
    'odom_stale': lambda value: ({'odom': 'stop'}, {'odom': 'ok'}),
    'odom_stuck': lambda value: ({'odom': 'freeze'}, {'odom': 'ok'}),
    'odom_jump': lambda value: ({'odom': 'jump', **({} if value is None
                                                    else {'jump_speed': value})}, None),
    'imu_bias': lambda value: ({'imu_bias': IMU_BIAS_DEFAULT if value is None else value},
                               {'imu_bias': 0.0}),
    'clock_reset': lambda value: ({'clock': 'reset'}, None),
    'odom_covariance': lambda value: ({'position_variance': 1.0 if value is None else value},
                                      {'position_variance': 0.0}),
}
VEHICLE_FAULTS = tuple(VEHICLE_FAULT_PAYLOADS)
LATCHING_FAULTS = ('estop', 'gate_restart')
FAULT_KINDS = tuple(k.value for k in PlannerFault) + VEHICLE_FAULTS + LATCHING_FAULTS
# What the runner may set on the simulated vehicle; the clock parameters are its own.
VEHICLE_PARAMS = ('max_accel', 'max_yaw_accel', 'max_speed', 'max_yaw_rate', 'tau',
                  'cmd_timeout', 'imu_noise_std', 'odom_noise_std', 'odom_lag', 'seed')
_ID = re.compile(r'^[a-z][a-z0-9_]*$')


class _Model(pydantic.BaseModel):
    class Config:
        extra = pydantic.Extra.forbid
        allow_mutation = False


class Resume(str, enum.Enum):
    """Whether the gate must hand authority back after a fault clears."""

    REQUIRED = 'required'
    ALLOWED = 'allowed'
    FORBIDDEN = 'forbidden'


class FaultExpect(_Model):
    """Pass criteria for one fault; ``null`` leaves a metric unchecked."""

    reasons: List[Reason] = pydantic.Field(
        [], description='reason codes that must appear in an intervention during the fault')
    max_reaction_s: Optional[pydantic.confloat(gt=0.0)] = pydantic.Field(
        0.5, description='fault onset to the first FALLBACK or ESTOP decision')
    max_standstill_s: Optional[pydantic.confloat(gt=0.0)] = pydantic.Field(
        None, description='fault onset to the vehicle actually standing still')
    min_hold_pct: Optional[pydantic.confloat(ge=0.0, le=100.0)] = pydantic.Field(
        100.0, description='share of the fault window after the first intervention held')
    max_chatter: Optional[pydantic.conint(ge=0)] = pydantic.Field(
        0, description='returns to APPROVE inside the fault window after the intervention')
    resume: Resume = pydantic.Field(
        Resume.REQUIRED, description='must authority come back after the fault clears')
    max_resume_s: pydantic.confloat(gt=0.0) = pydantic.Field(
        1.5, description='fault cleared to the first APPROVE (when resume is required)')


class Fault(_Model):
    """One timed fault; times are script seconds (0 = the planner's first proposal)."""

    kind: str
    t_start: pydantic.confloat(ge=0.0)
    t_end: Optional[float] = None
    value: Optional[float] = None
    alt_value: Optional[float] = None
    expect: FaultExpect = FaultExpect()

    @pydantic.validator('kind')
    def _known_kind(cls, kind):
        if kind not in FAULT_KINDS:
            raise ValueError(f'unknown fault kind {kind!r} (known: {", ".join(FAULT_KINDS)})')
        return kind

    @pydantic.validator('t_end', always=True)
    def _window(cls, t_end, values):
        kind, t_start = values.get('kind'), values.get('t_start')
        if kind is None or t_start is None:
            return t_end
        if t_end is None and kind != 'gate_restart':
            raise ValueError(f'a {kind} fault needs t_end')
        if t_end is not None and not t_end > t_start:
            raise ValueError(f'must be after t_start ({t_start})')
        return t_end

    @property
    def planner(self) -> bool:
        """Return True if the scripted planner plays this fault."""
        return self.kind not in VEHICLE_FAULTS + LATCHING_FAULTS

    @property
    def latching(self) -> bool:
        """Return True if only an operator reset ends this fault."""
        return self.kind in LATCHING_FAULTS


class Route(_Model):
    """The planner's route: a speed profile of [duration, v, w] segments."""

    confidence: pydantic.confloat(ge=0.0, le=1.0) = 0.9
    segments: List[List[float]]


class Timing(_Model):
    """Twist mode: when the planner sends its commands and their metas."""

    period: pydantic.confloat(gt=0.0, le=1.0) = pydantic.Field(
        0.1, description='s between commands (the planner runs at 1/period)')
    jitter: float = pydantic.Field(
        0.0, description='s: each period drawn uniformly from [period - jitter, period + '
        'jitter] (0 <= jitter < period), seeded from the scenario as run')
    meta_delay: pydantic.confloat(le=1.0) = pydantic.Field(
        0.0, description='s each meta goes out after its command (0: just before it, same '
        'stamp; never negative); the late_meta fault replaces it while active')

    @pydantic.root_validator(skip_on_failure=True)
    def _playable(cls, values):
        cadence.check(values['period'], values['jitter'], values['meta_delay'])
        return values

    def planner_params(self, seed: int) -> Dict[str, Any]:
        """Return the scripted planner's parameters for this timing."""
        return {'rate_hz': 1.0 / self.period, 'jitter': self.jitter, 'jitter_seed': seed,
                'meta_delay': self.meta_delay}


class Plan(_Model):
    """Trajectory mode: the planner sends plans along the route instead of commands."""

    input: str = pydantic.Field(  # noqa: A003 - the gate's parameter name
        'path', description='planner.input of the gate: path or autoware_trajectory')
    variant: str = pydantic.Field(
        'alpamayo_1_5', description='the point format: alpamayo_1_5 (20 points, 2.0 s) or '
        'alpamayo_2_super (64 points, 6.4 s)')
    period: List[pydantic.confloat(gt=0.0, le=10.0)] = pydantic.Field(
        [0.1, 0.1], min_items=2, max_items=2,
        description='s between plans: [shortest, longest], drawn from a fixed seed')
    latency: pydantic.confloat(ge=0.0, le=10.0) = pydantic.Field(
        0.0, description='s the stamp is older than the publish time (the input t0)')

    @pydantic.validator('input')
    def _known_input(cls, value):
        if value not in ('path', 'autoware_trajectory'):
            raise ValueError(f'{value!r} is not path or autoware_trajectory')
        return value

    @pydantic.validator('variant')
    def _known_variant(cls, value):
        if value not in VARIANTS:
            raise ValueError(f'{value!r} is not one of {", ".join(sorted(VARIANTS))}')
        return value

    @pydantic.validator('period')
    def _ordered(cls, value):
        if value[0] > value[1]:
            raise ValueError(f'shortest {value[0]} is longer than longest {value[1]}')
        return value

    def spec(self) -> PlanSpec:
        """Return the planner's plan format and timing."""
        return PlanSpec(self.variant, tuple(self.period), self.latency)


class CandidateExpect(_Model):
    """What the shadow stage must show of the candidate (``safety-gate shadow-report``)."""

    min_decisions: pydantic.conint(ge=1) = pydantic.Field(
        20, description='candidate decisions the trace must hold')
    reasons: List[Reason] = pydantic.Field(
        [], description="reason codes that must appear among the candidate's own would-be "
        'interventions (production not refused at the time)')


class Candidate(_Model):
    """A second, scripted planner on ``shadow.namespace``: judged and traced, never actuated."""

    route: Route
    faults: List[Fault] = pydantic.Field(
        [], description='planner faults of the candidate, as for the production planner')
    expect: CandidateExpect = CandidateExpect()

    @pydantic.validator('faults')
    def _planner_faults(cls, faults):
        others = [fault.kind for fault in faults if not fault.planner]
        if others:
            raise ValueError(f'a candidate has only planner faults, not {", ".join(others)}')
        return faults

    def planner_script(self) -> Script:
        """Return the candidate planner's script."""
        return planner_script(self.route, self.faults)


class ConfidenceDriftExpect(_Model):
    """A drift of the confidence mean must engage conservative mode, and nothing else act.

    The crossing is recomputed from the decisions' confidences (an exact
    rolling mean over ``spi.window``); the gate's own window is bucketed in
    ``spi.window / 20`` s steps, so it may cross up to half a bucket earlier.
    """

    max_lag_s: pydantic.confloat(gt=0.0) = pydantic.Field(
        1.0, description='|first LIMIT with CONSERVATIVE_DRIFT - the crossing of '
        'spi.confidence_mean_limit|')


class Expect(_Model):
    """Scenario-wide pass criteria (unsafe commands must always be zero)."""

    max_false_interventions: pydantic.conint(ge=0) = pydantic.Field(
        0, description='interventions that start outside every fault window')
    envelope_margin: pydantic.confloat(ge=0.0, le=1.0) = pydantic.Field(
        0.05, description='allowed excess of the actual motion over the envelope, as a '
        'fraction (the vehicle lags its command)')
    confidence_drift: Optional[ConfidenceDriftExpect] = pydantic.Field(
        None, description='conservative mode (LIMIT, CONSERVATIVE_DRIFT) where the confidence '
        'mean crosses spi.confidence_mean_limit, every decision before it an APPROVE, every '
        'output after it inside the conservative envelope; needs that limit set with action '
        'conservative in gate_params')


class Scenario(_Model):
    """One scenario file."""

    id: str  # noqa: A003 - the key scenario files use
    title: str
    description: str
    severity: Severity
    exposure: Exposure
    duration: pydantic.confloat(gt=0.0, le=120.0)
    route: Route
    plan: Optional[Plan] = pydantic.Field(
        None, description='trajectory mode: the planner sends plans along the route')
    timing: Timing = pydantic.Field(
        Timing(), description="twist mode: the planner's period, jitter and meta delay")
    faults: List[Fault] = []
    resets: List[pydantic.confloat(ge=0.0)] = pydantic.Field(
        [], description='script times at which the operator calls safety_gate/reset')
    gate_params: Dict[str, Any] = pydantic.Field(
        {}, description='dotted gate parameters set on top of the configuration under test')
    vehicle_params: Dict[str, float] = {}
    models: List[Dict[str, Any]] = pydantic.Field(
        [], description='model registry entries (see README): the runner writes them as the '
        "gate's provenance.registry_file")
    candidate: Optional[Candidate] = pydantic.Field(
        None, description='a shadow candidate planner beside the production one '
        '(shadow.enabled)')
    expect: Expect = Expect()
    variations: Dict[str, Distribution] = pydantic.Field(
        {}, description='parameter distributions for campaigns: {dotted path: {uniform: '
        '[low, high]} or {choice: [...]}} (safety_gate.kit.scenarios.variations)')

    @pydantic.validator('id')
    def _id_format(cls, value):
        if not _ID.match(value):
            raise ValueError('must be lower_snake_case')
        return value

    @pydantic.validator('gate_params')
    def _gate_params_exist(cls, params):
        try:
            config.build({**config.defaults(), **params})
        except config.ConfigError as exc:
            raise ValueError(str(exc)) from None
        return params

    @pydantic.validator('models')
    def _models_valid(cls, models):
        try:
            registry.from_records(models, where='models')
        except registry.RegistryError as exc:
            raise ValueError(str(exc)) from None
        return models

    def model_registry(self) -> Registry:
        """Return the scenario's model registry (empty without ``models``)."""
        return registry.from_records(self.models, where='models') if self.models else (
            registry.EMPTY)

    @pydantic.validator('vehicle_params')
    def _vehicle_params_known(cls, params):
        unknown = sorted(set(params) - set(VEHICLE_PARAMS))
        if unknown:
            raise ValueError(f'unknown {", ".join(unknown)} (known: {", ".join(VEHICLE_PARAMS)})')
        return params

    @pydantic.root_validator(skip_on_failure=True)
    def _consistent(cls, values):
        duration, faults = values['duration'], values['faults']
        problems = []
        for i, fault in enumerate(faults):
            end = fault.t_end if fault.t_end is not None else fault.t_start
            if end > duration:
                problems.append(f'fault {i} ({fault.kind}) ends after the duration {duration}')
        resets = values['resets']
        for i, t in enumerate(resets):
            if t > duration:
                problems.append(f'reset {i} at {t} is after the duration {duration}')
        ordered = sorted(faults, key=lambda f: f.t_start)
        for before, after in zip(ordered, ordered[1:]):
            if script_end(before, resets, duration) > after.t_start:
                problems.append(f'fault windows overlap: {before.kind} at {before.t_start} '
                                f'and {after.kind} at {after.t_start}')
        for fault in faults:
            if (fault.latching and fault.expect.resume is Resume.REQUIRED
                    and script_end(fault, resets, duration) >= duration):
                problems.append(f'{fault.kind} at {fault.t_start} must resume but no reset '
                                'follows it')
        plan = values.get('plan')
        problems += _planner_problems(values['route'], faults, plan, '')
        params = values['gate_params']
        if values['expect'].confidence_drift is not None and not (
                params.get('spi.confidence_mean_limit', 0.0) > 0.0
                and params.get('spi.confidence_mean_action') == 'conservative'):
            problems.append('expect.confidence_drift needs gate_params '
                            'spi.confidence_mean_limit > 0 and spi.confidence_mean_action: '
                            'conservative')
        if plan is not None and values['timing'] != Timing():
            problems.append('timing is for twist mode: in trajectory mode plan.period and '
                            'plan.latency time the plans')
        if plan is not None and 'planner.input' in values['gate_params']:
            problems.append('planner.input comes from plan.input, not gate_params')
        candidate = values.get('candidate')
        if candidate is not None:
            problems += _planner_problems(candidate.route, candidate.faults, plan, 'candidate ')
            if 'shadow.enabled' in values['gate_params']:
                problems.append('shadow.enabled comes from candidate, not gate_params')
        if problems:
            raise ValueError('; '.join(problems))
        return values

    @pydantic.root_validator(skip_on_failure=True)
    def _variations_apply(cls, values):
        # Both extremes must make valid scenarios; a campaign checks every draw it runs.
        if not values['variations']:
            return values
        base = cls.construct(**values)
        for name, assignment in zip(('lowest', 'highest'), extremes(values['variations'])):
            try:
                base._with(assignment)
            except ValueError as exc:
                raise ValueError(f'variations at their {name}: {_why(exc)}') from None
        return values

    def _with(self, assignment: Dict[str, Any]) -> 'Scenario':
        data = json.loads(self.json(exclude={'variations'}))
        return Scenario.parse_obj(apply(data, assignment))

    def varied(self, run: RunId) -> Tuple['Scenario', Dict[str, Any]]:
        """Return run ``run`` of this scenario (without variations) and its drawn values.

        Raise ScenarioError naming the run if the draw makes an invalid scenario.
        """
        values = draw(self.variations, run)
        try:
            return self._with(values), values
        except ValueError as exc:
            raise ScenarioError(f'run {run}: {values}: {_why(exc)}') from None

    def planner_script(self) -> Script:
        """Return the planner's script: the route and the planner faults."""
        return planner_script(self.route, self.faults)

    def planner_params(self) -> Dict[str, Any]:
        """Return the twist-mode planner's timing parameters.

        The jitter's seed is a hash of the scenario as run (without its
        variations), so a file or a campaign's run id replays the same periods
        and every drawn variation gets its own.
        """
        digest = hashlib.sha256(self.json(exclude={'variations'}).encode()).digest()
        return self.timing.planner_params(int.from_bytes(digest[:6], 'big'))

    def gate_overrides(self) -> Dict[str, Any]:
        """Return the gate parameters the scenario sets: its own, plan.input, shadow.enabled."""
        overrides = dict(self.gate_params)
        if self.plan is not None:
            overrides['planner.input'] = self.plan.input
        if self.candidate is not None:
            overrides['shadow.enabled'] = True
        return overrides


def _planner_problems(route: Route, faults: Sequence[Fault], plan: Optional[Plan],
                      whose: str) -> List[str]:
    """Return what is wrong with a planner's route and faults in the scenario's mode."""
    problems = []
    for i, fault in enumerate(faults):
        if not fault.planner:
            continue
        kind = PlannerFault(fault.kind)
        if plan is None and kind in PLAN_ONLY:
            problems.append(f'{whose}fault {i} ({fault.kind}) acts on plans: it needs `plan`')
        if plan is not None and kind not in PLAN_KINDS:
            problems.append(f'{whose}fault {i} ({fault.kind}) acts on commands, not plans')
    try:
        planner_script(route, faults)
    except ValueError as exc:
        problems.append(f'{whose}{exc}' if whose else str(exc))
    return problems


def effective_config(config_path: Path, scenario: Scenario,
                     namespace: str = '') -> config.GateConfig:
    """Return the gate configuration a scenario runs with: the file plus its overrides."""
    flat = config.flatten(config.load_yaml(config_path, namespace))
    return config.build({**flat, **scenario.gate_overrides()})


def script_end(fault: Fault, resets: Sequence[float], duration: float) -> float:
    """Return the script time a fault ends: t_end, or for a latching one the next reset."""
    end = fault.t_start if fault.t_end is None else fault.t_end
    if not fault.latching:
        return end
    return min([t for t in resets if t > end], default=duration)


def planner_script(route: Route, faults: Sequence[Fault]) -> Script:
    """Build the planner's script, not looping; raise ValueError if it is invalid."""
    return Script.from_mapping({
        'confidence': route.confidence, 'loop': False, 'segments': route.segments,
        'faults': [{'t_start': f.t_start, 't_end': f.t_end, 'kind': f.kind, 'value': f.value,
                    'alt_value': f.alt_value} for f in faults if f.planner]})


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the field."""


def _describe(error: Dict[str, Any]) -> str:
    where = ' -> '.join(str(part) for part in error['loc'] if part != '__root__')
    return f'{where}: {error["msg"]}' if where else error['msg']


def _why(exc: ValueError) -> str:
    """Return what a validation error says, without pydantic's framing."""
    if isinstance(exc, pydantic.ValidationError):
        return '; '.join(_describe(e) for e in exc.errors())
    return str(exc)


def load(path: Path) -> Scenario:
    """Read and validate one scenario file; raise ScenarioError naming what is wrong."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f'{path}: cannot read: {exc}') from None
    if not isinstance(data, dict):
        raise ScenarioError(f'{path}: must be a YAML mapping')
    try:
        scenario = Scenario.parse_obj(data)
    except pydantic.ValidationError as exc:
        raise ScenarioError(f'{path}: {_why(exc)}') from None
    if scenario.id != path.stem:
        raise ScenarioError(f'{path}: id {scenario.id!r} must match the file name')
    return scenario


def load_library(directory: Path) -> List[Scenario]:
    """Load every ``*.yaml`` scenario in ``directory``: the highest severity first."""
    paths = sorted(Path(directory).glob('*.yaml'))
    if not paths:
        raise ScenarioError(f'{directory}: no scenario files (*.yaml)')
    errors, scenarios = [], []
    for path in paths:
        try:
            scenarios.append(load(path))
        except ScenarioError as exc:
            errors.append(str(exc))
    if errors:
        raise ScenarioError('\n'.join(errors))
    return sorted(scenarios, key=rank)


def rank(scenario: Scenario) -> tuple:
    """Sort key: severity, then exposure, highest first, then the id."""
    return (-int(scenario.severity.value[1]), -int(scenario.exposure.value[1]), scenario.id)
