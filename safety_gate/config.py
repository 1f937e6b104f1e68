# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The one configuration model: names, types, defaults, ranges and docs.

Everything else derives from this tree: the ROS parameter declarations, the
shipped YAML (tested equal to the defaults), the parameter table in docs/parameters.md
(generated) and the config sha256 stamped into every trace record.

The model uses the pydantic v1 API. pydantic 2 ships it as ``pydantic.v1`` and
Ubuntu 24.04's python3-pydantic (1.10) is that API natively, so the same code
runs on a rosdep install of Jazzy and in a pip venv.
"""

import hashlib
import json
import math
from pathlib import Path
import re
from typing import Any, Dict, Iterator, List, Mapping, Tuple

try:
    import pydantic.v1 as pydantic
except ImportError:  # pydantic < 1.10.17 has no v1 alias
    import pydantic

import yaml

NODE_NAME = 'safety_gate'


def _param(default, unit: str, doc: str, ge=None, le=None, decides: bool = True,
           choices: Tuple[str, ...] = ()):
    # decides=False: the parameter only says where and how the gate records and
    # reports; given the same inputs the gate does the same with any value of it,
    # so it stays out of the config hash. ``choices``: the only strings allowed.
    return pydantic.Field(default, ge=ge, le=le, unit=unit, description=doc,
                          decides=decides, choices=choices)


class _Section(pydantic.BaseModel):
    class Config:
        extra = pydantic.Extra.forbid
        allow_mutation = False
        validate_all = True

    @pydantic.validator('*', pre=True)
    def _no_silent_coercion(cls, value, field):
        # pydantic v1 would turn 3.7 into 3 and 'yes' into True; a safety limit
        # that means something other than what was written must not start.
        kind = field.type_
        if issubclass(kind, bool):
            if not isinstance(value, bool):
                raise TypeError('must be true or false')
        elif issubclass(kind, int):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError('must be an integer')
        elif issubclass(kind, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError('must be a number')
        elif issubclass(kind, str):
            if not isinstance(value, str):
                raise TypeError('must be a string')
            choices = field.field_info.extra['choices']
            if choices and value not in choices:
                raise ValueError(f'must be one of {", ".join(choices)}')
        return value


class ConfidenceConfig(_Section):
    """Model confidence gating and the hysteresis that hands authority back."""

    required: bool = _param(
        True, '', 'A proposal without a meta gives FALLBACK (CONFIDENCE_UNKNOWN); a meta '
        'that is late, malformed or oversized gives it whatever this says.')
    threshold: float = _param(
        0.5, '', 'A proposal below this confidence gives FALLBACK.', ge=0.0, le=1.0)
    recover_threshold: float = _param(
        0.6, '', 'Confidence each proposal needs to count toward regaining authority '
        '(at least `threshold`).', ge=0.0, le=1.0)
    recover_count: int = _param(
        3, '', 'Consecutive clean proposals needed to leave FALLBACK.', ge=1, le=1000)
    min_dwell: float = _param(
        0.5, 's', 'Minimum time in FALLBACK before authority can return.', ge=0.0, le=60.0)
    pairing_wait: float = _param(
        0.05, 's', 'How long a stamped command waits for its meta (same stamp) before '
        'its confidence counts as unknown.', ge=0.0, le=0.5)
    meta_max_age: float = _param(
        0.3, 's', 'Twist mode only: the latest meta applies if it is no older than this.',
        ge=0.001, le=5.0)
    max_meta_bytes: int = _param(
        16384, 'B', 'Meta messages larger than this are rejected before parsing.',
        ge=256, le=1048576)
    max_reasoning_chars: int = _param(
        2000, 'chars', 'Reasoning text kept in the trace; longer text is truncated '
        '(the text is recorded, never used to approve).', ge=0, le=100000, decides=False)


class OdomConfig(_Section):
    """Odometry plausibility checks."""

    required: bool = _param(
        True, '', 'Without fresh, plausible odometry every proposal gives FALLBACK.')
    timeout: float = _param(
        0.25, 's', 'Odometry older than this (by stamp or by arrival) is stale.',
        ge=0.001, le=5.0)
    max_speed: float = _param(
        3.0, 'm/s', 'Measured |v| above this is physically implausible.', ge=0.01, le=100.0)
    max_angular_speed: float = _param(
        6.0, 'rad/s', 'Measured |w| above this is physically implausible.',
        ge=0.01, le=100.0)
    max_accel: float = _param(
        15.0, 'm/s^2', 'A jump in measured speed faster than this is implausible.',
        ge=0.01, le=1000.0)
    stuck_timeout: float = _param(
        0.5, 's', 'Odometry (pose, heading and speeds) unchanged this long while motion is '
        'commanded is stuck.', ge=0.001, le=10.0)
    stuck_min_cmd: float = _param(
        0.1, 'm/s', 'Commanded |v| above which unchanged odometry counts as stuck.',
        ge=0.01, le=10.0)
    stuck_min_yaw_rate: float = _param(
        0.1, 'rad/s', 'Commanded |w| above which unchanged odometry counts as stuck.',
        ge=0.01, le=10.0)
    tracking_tolerance: float = _param(
        0.5, 'm/s', 'Allowed |commanded v - measured v| before the tracking timer runs.',
        ge=0.01, le=10.0)
    tracking_yaw_tolerance: float = _param(
        0.5, 'rad/s', 'Allowed |commanded w - measured w| before the tracking timer runs.',
        ge=0.01, le=10.0)
    tracking_timeout: float = _param(
        1.0, 's', 'How long commanded and measured v or w may disagree before FALLBACK.',
        ge=0.001, le=10.0)


class ImuConfig(_Section):
    """Optional IMU cross-check of the odometry yaw rate."""

    enabled: bool = _param(False, '', 'Subscribe to `imu` and cross-check its yaw rate.')
    timeout: float = _param(
        0.25, 's', 'IMU data older than this is stale (when enabled).', ge=0.001, le=5.0)
    yaw_rate_tolerance: float = _param(
        0.5, 'rad/s', 'Allowed |IMU yaw rate - odometry yaw rate| before the timer runs.',
        ge=0.01, le=10.0)
    disagreement_timeout: float = _param(
        0.3, 's', 'How long IMU and odometry yaw rates may disagree before FALLBACK.',
        ge=0.0, le=10.0)


class EnvelopeConfig(_Section):
    """Hard limits, independent of the model: vetoes and output rate clamps."""

    max_linear_speed: float = _param(
        1.0, 'm/s', 'Veto: forward |v| above this.', ge=0.01, le=50.0)
    max_reverse_speed: float = _param(
        0.3, 'm/s', 'Veto: reverse speed above this (0 forbids reversing).', ge=0.0, le=50.0)
    max_angular_speed: float = _param(
        1.5, 'rad/s', 'Veto: |w| above this.', ge=0.01, le=20.0)
    max_lateral_accel: float = _param(
        1.0, 'm/s^2', 'Veto: |v*w| above this.', ge=0.01, le=50.0)
    max_linear_accel: float = _param(
        1.0, 'm/s^2', 'Clamp: output |v| may grow at most this fast.', ge=0.01, le=100.0)
    max_linear_decel: float = _param(
        2.0, 'm/s^2', 'Clamp: output |v| may shrink at most this fast.', ge=0.1, le=100.0)
    max_angular_accel: float = _param(
        3.0, 'rad/s^2', 'Clamp: output w may change at most this fast.', ge=0.1, le=100.0)


class FallbackConfig(_Section):
    """The conservative command: a controlled stop that keeps the curvature."""

    decel: float = _param(
        1.0, 'm/s^2', 'Deceleration toward standstill: v reaches zero within |v|/decel '
        '(at most `envelope.max_linear_decel`).', ge=0.1, le=100.0)
    angular_decel: float = _param(
        2.0, 'rad/s^2', 'Yaw-rate decay: w reaches zero within |w|/angular_decel (at most '
        '`envelope.max_angular_accel`).', ge=0.1, le=100.0)


class MonitorConfig(_Section):
    """The gate watching itself: its own timer and the clock it runs on."""

    warn_late: float = _param(
        0.02, 's', 'A watchdog tick later than this raises a WARN diagnostic.',
        ge=0.001, le=10.0, decides=False)
    max_late: float = _param(
        0.1, 's', 'A watchdog tick later than this gives FALLBACK (GATE_OVERRUN).',
        ge=0.001, le=10.0)
    max_spin_failure: float = _param(
        0.5, 's', 'Steady-clock time without a successful `cmd_vel` publish (callbacks '
        'failing or hung) before the gate logs FATAL and exits with code 1, so that its '
        'supervisor restarts it.', ge=0.01, le=60.0)
    max_proposal_rate: float = _param(
        1000.0, 'Hz', 'Proposals beyond this rate are shed: counted and reported, never '
        'decided.', ge=1.0, le=100000.0)


class TraceConfig(_Section):
    """The decision trace: JSONL file with a hash chain, written off the control path."""

    enabled: bool = _param(True, '', 'Append every decision record to the trace file.',
                           decides=False)
    path: str = _param(
        '', '', 'Trace file; empty means `<ROS log dir>/safety_gate/trace.jsonl`.',
        decides=False)
    max_file_bytes: int = _param(
        50_000_000, 'B', 'Rotate the trace file when it reaches this size; rotated files are '
        'gzip-compressed (`trace.jsonl.1.gz`, ...).', ge=10_000, le=10_000_000_000,
        decides=False)
    max_files: int = _param(
        100, '', 'Trace files kept, the current one included (the oldest is deleted); '
        'with the defaults about 15 h behind a 10 Hz planner in about 0.5 GB.',
        ge=1, le=10000, decides=False)
    queue_size: int = _param(
        10000, '', 'Records buffered for the writer; beyond this they are counted lost.',
        ge=10, le=1_000_000, decides=False)
    required: bool = _param(
        False, '', 'A trace that cannot be written, loses records or stalls forces FALLBACK '
        '(fail closed); needs `trace.enabled`.')
    stall_timeout: float = _param(
        0.5, 's', 'A writer with records to write that completes no write for this long '
        '(e.g. a FIFO nobody reads, a hung mount) counts as unhealthy.', ge=0.01, le=60.0)
    hmac_key_file: str = _param(
        '', '', 'File holding a key that makes records HMAC-authenticated (or set '
        '`SAFETY_GATE_TRACE_HMAC_KEY`); the key itself is never logged or hashed.',
        decides=False)


class EstopConfig(_Section):
    """The e-stop input on `safety_gate/estop`."""

    required: bool = _param(
        False, '', 'Until the first message on `safety_gate/estop` the input is unknown and '
        'counts as engaged: zero output (ESTOP_UNKNOWN), reset refused.')
    heartbeat_timeout: float = _param(
        0.0, 's', 'If > 0, an e-stop input not refreshed for this long counts as engaged: the '
        'gate latches (ESTOP_HEARTBEAT_LOST) and refuses a reset until messages flow again; '
        'implies `required`. 0 turns it off.', ge=0.0, le=10.0)


class PlannerConfig(_Section):
    """What the planner sends: a velocity command, or a trajectory to follow."""

    input: str = _param(  # noqa: A003 - the parameter is named planner.input
        'twist', '', "The planner's output: `twist` (`planner/cmd_vel` and `planner/meta`), "
        '`path` (`nav_msgs/Path` on `planner/trajectory`) or `autoware_trajectory` '
        '(`autoware_planning_msgs/Trajectory` on `planner/trajectory`).',
        choices=('twist', 'path', 'autoware_trajectory'))


class TrajectoryConfig(_Section):
    """Trajectory mode: the checks of a plan and how it is followed and left.

    Each default is set against Autoware's planning_validator (whose defaults
    suit a car on distance-resampled trajectories) and the Alpamayo wrapper's
    published format: 20 or 64 points 0.1 s apart in `base_link` at the input
    time. Kinematic limits not listed here are the envelope's, applied to every
    point of the horizon.
    """

    min_points: int = _param(
        2, '', "Fewer points give FALLBACK (PLAN_SIZE). planning_validator's floor: two "
        'points are the fewest that carry a motion; the horizon check decides whether they '
        'are enough.', ge=2, le=10000)
    max_points: int = _param(
        1000, '', 'More points give FALLBACK (PLAN_SIZE): bounds the decision time (the '
        "wrapper sends 20 or 64, Autoware's planners a few hundred).", ge=2, le=10000)
    dt: float = _param(
        0.1, 's', 'Expected spacing of `time_from_start` (and the spacing given to a `path` '
        "whose pose stamps are zero): the wrapper's and the model's 0.1 s.",
        ge=0.001, le=10.0)
    dt_tolerance: float = _param(
        0.02, 's', 'How far each interval between points may differ from `dt`, and the first '
        "point's time may exceed `dt` (PLAN_SPACING). The wrapper's spacing is exact to the "
        'nanosecond; 20 % of `dt` catches a plan made for another rate. planning_validator '
        'has no time check (its trajectories are spaced by distance).', ge=0.0, le=10.0)
    frame_id: str = _param(
        'base_link', '', 'The ego frame the plan must be in (PLAN_FRAME): the plan is read as '
        "the vehicle's own frame at the plan's stamp, which is what the wrapper sends.")
    max_age: float = _param(
        1.0, 's', 'A plan stamped longer ago than this gives FALLBACK (PLAN_STALE): '
        "planning_validator's latency limit. The Alpamayo 2 wrapper stamps the camera time "
        'and infers for about 3.35 s, so its profile raises this.', ge=0.001, le=60.0)
    start_tolerance: float = _param(
        2.0, 'm', "The plan's point for now may be this far from the vehicle, after "
        "compensating the motion since the stamp (PLAN_START_FAR): the wrapper's own "
        "`check_trajectory` bound, tighter than planning_validator's 100 m distance "
        'deviation.', ge=0.01, le=100.0)
    heading_tolerance: float = _param(
        1.0, 'rad', "Allowed heading difference between the vehicle and the plan's point "
        "for now (PLAN_HEADING_DEVIATION): control_validator's yaw ERROR threshold.",
        ge=0.01, le=3.2)
    speed_tolerance: float = _param(
        1.0, 'm/s', "Allowed difference between the plan's speed for now and the measured speed "
        '(PLAN_SPEED_DEVIATION): '
        "the same order as the wrapper's history-against-odometry check; "
        "planning_validator's 100 m/s never fires.", ge=0.01, le=100.0)
    max_behind: float = _param(
        2.0, 'm', 'No point still ahead in time may lie further than this behind the vehicle '
        "(PLAN_BEHIND_EGO): the wrapper's `check_trajectory` floor. A logged rollout "
        'started 10.6 m behind the axle.', ge=0.0, le=1000.0)
    backward_tolerance: float = _param(
        0.05, 'm', 'With reversing forbidden (`envelope.max_reverse_speed` 0), the total '
        'distance a plan may travel backwards (PLAN_BACKWARD_SWEEP): absorbs the pose jitter '
        'of a plan that stands still. With reversing allowed the limit is `max_behind`.',
        ge=0.0, le=100.0)
    max_lateral_shift: float = _param(
        0.5, 'm', "A new plan's points may lie this far from the previous approved path "
        "over their common horizon (PLAN_SHIFT): planning_validator's critical trajectory "
        'shift. A planner flipping between routes loses authority.', ge=0.01, le=100.0)
    max_forward_shift: float = _param(
        1.0, 'm', "The new plan's point for now may lie this far ahead of the previous "
        "plan's (PLAN_SHIFT): planning_validator's value.", ge=0.01, le=100.0)
    max_backward_shift: float = _param(
        0.5, 'm', "The new plan's point for now may lie this far behind the previous plan's "
        "(PLAN_SHIFT). planning_validator uses 0.1 m on plans re-anchored at the ego's "
        'nearest point; plans made from different camera frames differ by the odometry '
        'error between their stamps as well.', ge=0.01, le=100.0)
    horizon_margin: float = _param(
        0.2, 's', 'From the point the plan is sampled at, the plan must last as long as the '
        "fallback's stop from the measured speed plus this, and its path must hold the stop "
        'plus this long at that speed (PLAN_HORIZON_SHORT); when it no longer does, the gate '
        'stops along it. planning_validator forgives 2 m of the stopping distance instead; a '
        'gate must not.', ge=0.0, le=10.0)
    actuation_delay: float = _param(
        0.2, 's', 'The plan is sampled this far ahead of now: what is commanded now is '
        "driven this much later. control_validator's overrun prediction assumes 0.2 s.",
        ge=0.0, le=2.0)
    max_kink_angle: float = _param(
        0.5, 'rad', 'Largest angle between the directions of consecutive segments '
        '(PLAN_KINK). planning_validator allows 2.0 rad between points at least 1 m apart; at '
        '0.1 s spacing a path inside `max_curvature` turns less than 0.1 rad between segments, '
        'and a reversal (a cusp) turns by pi.', ge=0.01, le=3.2)
    max_jerk: float = _param(
        10.0, 'm/s^3', 'Largest rate of change of the recomputed acceleration (PLAN_OVER_JERK). '
        'vehicle_cmd_gate allows 5 above 0.3 m/s; a plan sampled at 0.1 s that steps its '
        "acceleration by the envelope's 1 m/s^2 in one interval shows 10.", ge=0.1, le=1000.0)
    max_curvature: float = _param(
        0.33, '1/m', 'Largest curvature magnitude anywhere on the plan (PLAN_OVER_CURVATURE): the '
        "Alpamayo R1 model's declared action bound, which nothing enforces at inference "
        '(planning_validator: 1.0).', ge=0.001, le=100.0)
    min_segment_length: float = _param(
        0.01, 'm', 'A segment shorter than this has no direction: it is left out of the '
        'curvature and kink checks (its turn is judged as a yaw rate) and is followed without '
        'turning.', ge=0.0001, le=1.0)
    max_interval: float = _param(
        1.0, 'm', 'Largest distance between neighbouring points (PLAN_INTERVAL). '
        'planning_validator allows 100 m between distance-resampled points; at 0.1 s and '
        'envelope speeds points are centimetres apart.', ge=0.01, le=1000.0)
    stop_jerk: float = _param(
        10.0, 'm/s^3', 'The fallback stop along the path reaches its deceleration at this jerk. '
        "Autoware's emergency stop ramps at 1.5 to 2.5 m/s^2, which at this envelope would "
        'more than double the stopping distance; 10 reaches `fallback.decel` in 0.1 s.',
        ge=0.1, le=1000.0)
    publish: bool = _param(
        True, '', 'Publish `safety_gate/trajectory` (the type of `planner/trajectory`) with '
        'every decision: the approved plan, or the stop the fallback drives, stamped now in '
        "the vehicle's frame now, for a controller that follows trajectories. `cmd_vel` is "
        'the actuator command either way.')


class MarkersConfig(_Section):
    """The optional live view for RViz on `safety_gate/markers`."""

    enabled: bool = _param(
        False, '', 'Publish `safety_gate/markers` (visualization_msgs/MarkerArray): the '
        'envelope, the proposal and the output coloured by verdict, in trajectory mode the '
        'proposed, approved and stop trajectories. Built and published after the command, '
        'never read back.', decides=False)
    max_rate_hz: float = _param(
        10.0, 'Hz', 'At most this many marker arrays a second (steady clock); decisions in '
        'between are not drawn.', ge=0.1, le=100.0, decides=False)


class ProvenanceConfig(_Section):
    """Which model artifacts may have authority: the registry and the gate's own hash."""

    required: bool = _param(
        False, '', 'A proposal whose model (meta `model_sha256`, `planner/model` announcement '
        'or `model_files` hash) is unknown or not in the registry gives FALLBACK '
        '(MODEL_NOT_APPROVED), and a planner that changes its model mid-run loses authority '
        '(MODEL_CHANGED) and regains it through the hysteresis.')
    registry_file: str = _param(
        '', '', 'The model registry (YAML, see README); empty means none. A relative path is '
        'taken from the directory of the params file that sets it (set otherwise, from the '
        "node's working directory). The file's sha256 is part of the config hash as well as "
        'its path (a registry change is a config change).')
    model_files: str = _param(
        '', '', 'Weight files the gate hashes itself at start, in the background, separated by '
        "':' (their bytes in this order: one file hashes as `sha256sum` does). Until the hash "
        'matches a registry entry every proposal gives FALLBACK (MODEL_UNVERIFIED); a mismatch, '
        'or a planner announcing another model, stays MODEL_UNVERIFIED until restart.')


# The envelope limits conservative mode and a canary's scale reduce.
REDUCIBLE = ('max_linear_speed', 'max_reverse_speed', 'max_angular_speed', 'max_lateral_accel',
             'max_linear_accel', 'max_linear_decel')


class ConservativeConfig(_Section):
    """Conservative mode: a reduced envelope (verdict LIMIT) while the situation is doubtful.

    Entered at once when a trigger fires: a confidence below `confidence_below`,
    a localisation variance above `max_position_variance`, an operator's request
    on `safety_gate/conservative`, or a drift action. Left through the same
    hysteresis as authority (`confidence.recover_count`, `confidence.min_dwell`).
    A proposal inside the full envelope is clamped into this one, not vetoed.
    Each limit applies as far as it is below the full envelope's.
    """

    max_linear_speed: float = _param(
        0.5, 'm/s', 'Forward |v| in conservative mode.', ge=0.01, le=50.0)
    max_reverse_speed: float = _param(
        0.15, 'm/s', 'Reverse speed in conservative mode.', ge=0.0, le=50.0)
    max_angular_speed: float = _param(
        0.75, 'rad/s', '|w| in conservative mode.', ge=0.01, le=20.0)
    max_lateral_accel: float = _param(
        0.5, 'm/s^2', '|v*w| in conservative mode.', ge=0.01, le=50.0)
    max_linear_accel: float = _param(
        0.5, 'm/s^2', 'Output |v| grows at most this fast in conservative mode.',
        ge=0.01, le=100.0)
    max_linear_decel: float = _param(
        2.0, 'm/s^2', 'Output |v| shrinks at most this fast toward an approved command in '
        'conservative mode; entering the mode cuts the output into the reduced envelope at '
        'once.', ge=0.1, le=100.0)
    confidence_below: float = _param(
        0.5, '', 'A confidence at or above `confidence.threshold` but below this gives LIMIT '
        '(CONSERVATIVE_CONFIDENCE); at or below `confidence.threshold` it never does.',
        ge=0.0, le=1.0)
    max_position_variance: float = _param(
        0.0, 'm^2', 'Odometry pose covariance (the larger of x and y variance) above this gives '
        'LIMIT (CONSERVATIVE_LOCALIZATION); an all-zero covariance means the publisher does '
        'not fill it and never triggers; a non-finite one does. 0 turns it off.',
        ge=0.0, le=1.0e6)


class ShadowConfig(_Section):
    """A candidate planner judged beside the production one, never actuated."""

    enabled: bool = _param(
        False, '', 'Subscribe to the candidate planner on `<shadow.namespace>/...` (the '
        "production planner's topics with `planner` replaced) and judge its proposals with "
        'the same core in a separate state; its decisions go to the trace, never to '
        '`cmd_vel`.', decides=False)
    namespace: str = _param(
        'candidate', '', 'Where the candidate planner publishes: `<namespace>/cmd_vel` or '
        '`<namespace>/trajectory`, `<namespace>/meta`, `<namespace>/reasoning`.',
        decides=False)
    max_rate_hz: float = _param(
        50.0, 'Hz', 'At most this many candidate messages a second are judged (steady '
        'clock); the rest are shed and counted.', ge=0.1, le=1000.0, decides=False)


# A relative ROS namespace: tokens that start with a letter, joined by '/'.
_RELATIVE_NAMESPACE = r'[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)*'
_ACTIONS = ('warn', 'conservative', 'withdraw')
_ACTION_DOC = ('What crossing it does: `warn` (diagnostics WARN, a log line, a trace record), '
               '`conservative` (conservative mode) or `withdraw` (FALLBACK, DRIFT_WITHDRAWN, '
               'until an accepted reset).')


def _limit(doc: str, unit: str = '', le: float = 1.0):
    return _param(0.0, unit, doc + ' 0 turns it off.', ge=0.0, le=le)


def _action():
    return _param('warn', '', _ACTION_DOC, choices=_ACTIONS)


class SpiConfig(_Section):
    """Safety performance indicators: rolling windows per model and the drift actions.

    Each indicator is computed over the last `window` seconds of node time, per
    model hash; its limit, once `min_samples` proposals are in the window of
    the model in charge, sets the drift action the next decision honours.
    """

    window: float = _param(
        300.0, 's', 'The rolling window of every indicator, on the node clock.',
        ge=1.0, le=86400.0)
    min_samples: int = _param(
        100, '', 'Proposals a model needs in the window before any limit can raise an alarm.',
        ge=1, le=1_000_000)
    baseline_file: str = _param(
        '', '', 'Confidence baseline histogram (YAML, written by `safety-gate baseline`) the '
        'population-stability index compares against; empty: no PSI. Its content is pinned '
        'by `spi.baseline_sha256`.', decides=False)
    baseline_sha256: str = _param(
        '', '', 'sha256 of `spi.baseline_file` (printed by `safety-gate baseline`); the gate '
        'refuses to start if the file has another.')
    intervention_rate_limit: float = _limit(
        'Alarm when the share of proposals not approved exceeds this.')
    intervention_rate_action: str = _action()
    fallback_rate_limit: float = _limit(
        'Alarm when the share of proposals refused for any one reason exceeds this.')
    fallback_rate_action: str = _action()
    confidence_mean_limit: float = _limit('Alarm when the mean confidence falls below this.')
    confidence_mean_action: str = _action()
    confidence_p10_limit: float = _limit(
        "Alarm when the confidence's 10th percentile falls below this.")
    confidence_p10_action: str = _action()
    psi_limit: float = _limit(
        'Alarm when the population-stability index of confidence against the baseline '
        'exceeds this (0.1 a shift, 0.25 a large one); needs `spi.baseline_file`.', le=100.0)
    psi_action: str = _action()
    plan_shift_limit: float = _limit(
        'Trajectory mode: alarm when the mean lateral shift between consecutive plans '
        '(the plan.shift_lateral check) exceeds this.', 'm', le=100.0)
    plan_shift_action: str = _action()
    ego_start_limit: float = _limit(
        "Trajectory mode: alarm when the mean distance of the plan's point for now from the "
        'vehicle (the plan.start check) exceeds this.', 'm', le=100.0)
    ego_start_action: str = _action()
    tracking_error_limit: float = _limit(
        'Alarm when the mean |commanded - measured| forward speed exceeds this.', 'm/s',
        le=100.0)
    tracking_error_action: str = _action()

    @pydantic.root_validator(skip_on_failure=True)
    def _psi_needs_a_baseline(cls, values):
        if values['psi_limit'] > 0.0 and not values['baseline_file']:
            raise ValueError(f"spi.psi_limit = {values['psi_limit']!r}: needs "
                             'spi.baseline_file')
        return values


class GateConfig(_Section):
    """Every parameter of the safety_gate node."""

    rate_hz: float = _param(
        50.0, 'Hz', 'Watchdog timer on the node clock; the output is never slower.',
        ge=1.0, le=1000.0)
    proposal_timeout: float = _param(
        0.3, 's', 'A proposal older than this (by stamp or by arrival) is stale.',
        ge=0.001, le=10.0)
    future_tolerance: float = _param(
        0.05, 's', 'A stamp further in the future than this is rejected.', ge=0.0, le=5.0)
    require_reset_on_start: bool = _param(
        True, '', 'Start latched: no motion until `safety_gate/reset` is called.')
    enable_stamped_cmd_vel: bool = _param(
        True, '', 'TwistStamped on `planner/cmd_vel` and `cmd_vel` (false: Twist).')
    confidence: ConfidenceConfig = ConfidenceConfig()
    odom: OdomConfig = OdomConfig()
    imu: ImuConfig = ImuConfig()
    envelope: EnvelopeConfig = EnvelopeConfig()
    fallback: FallbackConfig = FallbackConfig()
    monitor: MonitorConfig = MonitorConfig()
    trace: TraceConfig = TraceConfig()
    estop: EstopConfig = EstopConfig()
    planner: PlannerConfig = PlannerConfig()
    trajectory: TrajectoryConfig = TrajectoryConfig()
    markers: MarkersConfig = MarkersConfig()
    provenance: ProvenanceConfig = ProvenanceConfig()
    conservative: ConservativeConfig = ConservativeConfig()
    shadow: ShadowConfig = ShadowConfig()
    spi: SpiConfig = SpiConfig()

    @pydantic.root_validator(skip_on_failure=True)
    def _cross_field_rules(cls, values):
        rate, conf, env, fb, odom, mon, trace, plan = (
            values['rate_hz'], values['confidence'], values['envelope'], values['fallback'],
            values['odom'], values['monitor'], values['trace'], values['trajectory'])
        candidate = values['shadow'].namespace
        rules = [
            ('confidence.recover_threshold', conf.recover_threshold,
             conf.recover_threshold >= conf.threshold,
             f'must be >= confidence.threshold ({conf.threshold})'),
            ('confidence.pairing_wait', conf.pairing_wait,
             conf.pairing_wait < values['proposal_timeout'],
             f"must be < proposal_timeout ({values['proposal_timeout']})"),
            ('envelope.max_reverse_speed', env.max_reverse_speed,
             env.max_reverse_speed <= env.max_linear_speed,
             f'must be <= envelope.max_linear_speed ({env.max_linear_speed})'),
            ('fallback.decel', fb.decel, fb.decel <= env.max_linear_decel,
             f'must be <= envelope.max_linear_decel ({env.max_linear_decel})'),
            ('fallback.angular_decel', fb.angular_decel,
             fb.angular_decel <= env.max_angular_accel,
             f'must be <= envelope.max_angular_accel ({env.max_angular_accel})'),
            ('odom.max_speed', odom.max_speed, odom.max_speed >= env.max_linear_speed,
             f'must be >= envelope.max_linear_speed ({env.max_linear_speed})'),
            ('monitor.warn_late', mon.warn_late, mon.warn_late <= mon.max_late,
             f'must be <= monitor.max_late ({mon.max_late})'),
            ('monitor.max_spin_failure', mon.max_spin_failure,
             mon.max_spin_failure > 2.0 / rate + mon.max_late,
             f'must be > 2 / rate_hz + monitor.max_late ({2.0 / rate + mon.max_late:.4g} s): '
             'the longest a working gate can be silent'),
            ('trace.required', trace.required, trace.enabled or not trace.required,
             'must be false when trace.enabled is false: a disabled trace cannot be required'),
            ('trajectory.max_points', plan.max_points, plan.max_points >= plan.min_points,
             f'must be >= trajectory.min_points ({plan.min_points})'),
            ('shadow.namespace', candidate,
             re.fullmatch(_RELATIVE_NAMESPACE, candidate) is not None and candidate != 'planner',
             'must be a relative ROS namespace (letters, digits, _ and /) other than planner'),
        ]
        broken = [f'{name} = {value!r}: {why}' for name, value, ok, why in rules if not ok]
        if broken:
            raise ValueError('; '.join(broken))
        return values


class ConfigError(ValueError):
    """An invalid configuration: the message names parameter, value and range."""


# ---------------------------------------------------------------- flattening

def iter_fields(model=GateConfig, prefix: str = '') -> Iterator[Tuple[str, Any]]:
    """Yield (dotted name, pydantic ModelField) for every leaf parameter."""
    for name, field in model.__fields__.items():
        if isinstance(field.type_, type) and issubclass(field.type_, _Section):
            yield from iter_fields(field.type_, f'{prefix}{name}.')
        else:
            yield f'{prefix}{name}', field


def allowed_range(field) -> str:
    """Describe a field's allowed values, e.g. '[0.0, 1.0]'."""
    info = field.field_info
    if field.type_ is bool:
        return 'true or false'
    if field.type_ is str:
        choices = info.extra['choices']
        return f'one of {", ".join(choices)}' if choices else 'any string'
    # Every limit has both bounds inclusive: an open bound let subnormal
    # values through, which made the envelope guard's arithmetic non-finite.
    return f'[{info.ge}, {info.le}]'


def flatten(config: GateConfig) -> Dict[str, Any]:
    """Return {dotted name: value} for every parameter of ``config``."""
    flat = {}
    for name, _ in iter_fields():
        value = config
        for part in name.split('.'):
            value = getattr(value, part)
        flat[name] = value
    return flat


def nest(flat: Mapping[str, Any]) -> Dict[str, Any]:
    """Turn {dotted name: value} into the nested dict the model takes."""
    tree: Dict[str, Any] = {}
    for name, value in flat.items():
        node = tree
        *parents, leaf = name.split('.')
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f'parameter {part!r} is a section, not a value')
        node[leaf] = value
    return tree


def defaults() -> Dict[str, Any]:
    """Return {dotted name: default value} for every parameter."""
    return flatten(GateConfig())


# ---------------------------------------------------------------- validation

def _describe_error(error: Mapping[str, Any], flat: Mapping[str, Any]) -> str:
    # build has refused every unknown name, and every default is valid, so an
    # error on a leaf is on a value flat holds; the rest are cross-field checks.
    name = '.'.join(str(part) for part in error['loc'] if part != '__root__')
    fields = dict(iter_fields())
    if name in fields:
        return (f'invalid parameter {name!r} = {flat[name]!r}: {error["msg"]} '
                f'(allowed: {allowed_range(fields[name])})')
    return f'invalid configuration: {error["msg"]}'


def _finite(value) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def build(flat: Mapping[str, Any]) -> GateConfig:
    """Validate {dotted name: value} into a GateConfig, or raise ConfigError.

    Values that are not finite are refused here, before any range check, so a
    NaN limit can never disable a check by comparing false.
    """
    known = dict(iter_fields())
    problems = []
    for name, value in flat.items():
        if name not in known:
            problems.append(f'unknown parameter {name!r} (known: see docs/parameters.md)')
        elif isinstance(value, (int, float)) and not _finite(value):
            problems.append(f'invalid parameter {name!r} = {value!r}: not a finite number '
                            f'(allowed: {allowed_range(known[name])})')
    if problems:
        raise ConfigError('; '.join(problems))
    try:
        return GateConfig.parse_obj(nest(flat))
    except pydantic.ValidationError as exc:
        raise ConfigError('; '.join(_describe_error(e, flat) for e in exc.errors())) from None


def param_sections(namespace: str = '', node_name: str = NODE_NAME) -> Tuple[str, ...]:
    """Return the sections of a params file that apply to the gate, least specific first.

    ``/**``, the bare name, ``/<name>``, then the fully qualified name under
    ``namespace``: the most specific wins. The launch file and every tool read
    a file in this order, so a file means one configuration to all of them.
    """
    return tuple(dict.fromkeys(('/**', node_name, f'/{node_name}',
                                qualified_name(namespace, node_name))))


# The tools' --namespace option: the same file means what the launch file makes of it.
NAMESPACE_HELP = ('the namespace the gate runs in (the launch argument namespace:=NS), which '
                  "selects the params file's sections as the launch file does (default: none)")


def qualified_name(namespace: str = '', node_name: str = NODE_NAME) -> str:
    """Return the node's fully qualified name, e.g. ``/robot1/safety_gate``."""
    return '/' + '/'.join(p for p in (namespace.strip('/'), node_name) if p)


ROS_LEVEL_PARAMETERS = ('use_sim_time', 'qos_overrides')
_LAYOUT = 'a params file is <node name>: ros__parameters: <parameters>'


def parse_params_file(path) -> Dict[str, Dict[str, Any]]:
    """Return {node name: flat parameters} of a ROS params file, or raise ConfigError.

    Every problem names the file: missing or unreadable, not YAML, not a
    mapping, or a section without ``ros__parameters`` (which rcl refuses too;
    a typo such as ``ros_parameters`` must not leave the defaults running).
    rcl's nested form (``robot1: safety_gate: ros__parameters:``) gives
    ``/robot1/safety_gate``. Each section is flattened here, so ``a.b: 1`` and
    ``a: {b: 1}`` are one parameter however the sections are merged later.
    """
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f'params file {path}: {exc.strerror or exc}') from None
    except UnicodeDecodeError:
        raise ConfigError(f'params file {path}: not a text file') from None
    except yaml.YAMLError as exc:
        where = getattr(exc, 'problem_mark', None)
        line = f' at line {where.line + 1}' if where is not None else ''
        problem = getattr(exc, 'problem', None) or exc
        raise ConfigError(f'params file {path}: not valid YAML{line}: {problem}') from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(f'params file {path}: no node sections ({_LAYOUT})')
    sections: Dict[str, Dict[str, Any]] = {}

    def collect(tree: Mapping, prefix: str, top: str) -> None:
        for key, value in tree.items():
            name = f'{prefix}/{key}' if prefix else str(key)
            if not isinstance(value, dict) or not value:
                raise ConfigError(f'params file {path}: section {top or name!r} has no '
                                  f"'ros__parameters' ({_LAYOUT})")
            if 'ros__parameters' not in value:
                collect(value, name if name.startswith('/') else '/' + name, top or name)
            elif len(value) > 1 or not isinstance(value['ros__parameters'], dict):
                raise ConfigError(f'params file {path}: section {name!r} must hold only '
                                  f"a mapping under 'ros__parameters' ({_LAYOUT})")
            else:
                sections[name] = _flat_params(value['ros__parameters'])

    collect(data, '', '')
    return sections


def rcl_applies(section: str, fully_qualified_name: str) -> bool:
    """Return True if rcl applies a params file section to the node of that name.

    A relative section name is taken from the root; ``*`` matches one name
    token and ``/**`` any number of them, as rcl's own matching does.
    """
    pattern = section if section.startswith('/') else '/' + section
    regex = ''.join('(/[^/]+)*' if token == '/**' else '[^/]+' if token == '*'
                    else re.escape(token) for token in re.split(r'(/\*\*|\*)', pattern))
    return re.fullmatch(regex, fully_qualified_name) is not None


def require_rcl_section(path, fully_qualified_name: str) -> None:
    """Raise ConfigError unless rcl applies some section of a params file to that node."""
    sections = parse_params_file(path)
    if not any(rcl_applies(section, fully_qualified_name) for section in sections):
        raise ConfigError(
            f'params file {path} applies nothing to {fully_qualified_name}: its sections are '
            f'{", ".join(map(repr, sections))}; rcl applies /**, {fully_qualified_name} and '
            'wildcards matching it (the launch file also applies a bare '
            f'{fully_qualified_name.rsplit("/", 1)[-1]!r} section in any namespace)')


def read_params_file(path, namespace: str = '', node_name: str = NODE_NAME) -> Dict[str, Any]:
    """Return the flat parameters a params file gives the gate, ROS-level ones included.

    The sections are merged in :func:`param_sections` order, each flattened
    first. A file that applies nothing to the gate is refused: its sections
    name some other node, and the gate would silently run on defaults.
    """
    sections = parse_params_file(path)
    applicable = param_sections(namespace, node_name)
    params: Dict[str, Any] = {}
    for key in applicable:
        params.update(sections.get(key, {}))
    if not any(key in sections for key in applicable):
        raise ConfigError(
            f'params file {path} applies nothing to {qualified_name(namespace, node_name)}: '
            f'its sections are {", ".join(map(repr, sections))}; the gate reads '
            f'{", ".join(map(repr, applicable))}')
    return params


def load_yaml(path, namespace: str = '', node_name: str = NODE_NAME) -> GateConfig:
    """Load the gate's configuration from a ROS params file, as the launch file would.

    ``use_sim_time`` and other ROS-level parameters are ignored here.
    """
    return build({name: value
                  for name, value in read_params_file(path, namespace, node_name).items()
                  if not name.startswith(ROS_LEVEL_PARAMETERS)})


def write_params_file(path, flat: Mapping[str, Any], node_name: str = NODE_NAME) -> Path:
    """Write {dotted name: value} as a ROS params file for ``node_name``; return its path."""
    path = Path(path)
    path.write_text(yaml.safe_dump({node_name: {'ros__parameters': nest(flat)}},
                                   sort_keys=False))
    return path


def _flat_params(tree: Mapping[str, Any], prefix: str = '') -> Dict[str, Any]:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(_flat_params(value, f'{prefix}{key}.'))
        else:
            flat[f'{prefix}{key}'] = value
    return flat


def decides(field) -> bool:
    """Return True if the parameter can change what the gate does, so it is in the hash."""
    return field.field_info.extra['decides']


def params_sha256(flat: Mapping[str, Any], registry_sha256: str = '') -> str:
    """Hash {dotted name: value}: canonical JSON of the parameters that decide.

    Where the trace goes, how it rotates and what the diagnostics warn about
    are left out, so the same safety behaviour has one hash wherever it records.
    A name missing from ``flat`` hashes as null, so a record written with
    other parameters never matches by accident. The model registry file's
    sha256, when there is one, is hashed with them (a configuration without a
    registry keeps the hash it always had).
    """
    deciding = {name: flat.get(name) for name, field in iter_fields() if decides(field)}
    if registry_sha256:
        deciding['provenance.registry_sha256'] = registry_sha256
    canonical = json.dumps(deciding, sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(canonical.encode()).hexdigest()


def config_sha256(config: GateConfig, registry_sha256: str = '') -> str:
    """Hash of the effective config and its registry file: see :func:`params_sha256`."""
    return params_sha256(flatten(config), registry_sha256)


# ---------------------------------------------------------------- docs

def _format_default(value) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value == '':
        return '""'
    return repr(value)


def markdown_table() -> str:
    """Return the parameter table of docs/parameters.md, generated from the model."""
    rows: List[str] = ['| parameter | default | unit | allowed | hashed | meaning |',
                       '|---|---|---|---|---|---|']
    for name, field in iter_fields():
        info = field.field_info
        unit = info.extra.get('unit') or ''
        hashed = 'yes' if decides(field) else 'no'
        rows.append(f'| `{name}` | `{_format_default(field.default)}` | {unit} | '
                    f'{allowed_range(field)} | {hashed} | {info.description} |')
    return '\n'.join(rows) + '\n'


def _yaml_value(value) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def default_yaml() -> str:
    """Return the shipped ``config/safety_gate.yaml``: every parameter at its default."""
    lines = ['# Generated by `python -m safety_gate.config --yaml`; a test keeps it equal to',
             '# the defaults in safety_gate/config.py. Units and ranges: docs/parameters.md.',
             f'{NODE_NAME}:', '  ros__parameters:']
    section = None
    for name, field in iter_fields():
        *parents, leaf = name.split('.')
        if parents and parents[0] != section:
            section = parents[0]
            lines.append(f'    {section}:')
        indent = '      ' if parents else '    '
        lines.append(f'{indent}# {field.field_info.description}')
        lines.append(f'{indent}{leaf}: {_yaml_value(field.default)}')
    return '\n'.join(lines) + '\n'


def main(argv=None) -> int:
    """Print the docs/parameters.md parameter table, or with ``--yaml`` the default params file."""
    import argparse
    parser = argparse.ArgumentParser(prog='python -m safety_gate.config')
    parser.add_argument('--yaml', action='store_true', help='print config/safety_gate.yaml')
    args = parser.parse_args(argv)
    print(default_yaml() if args.yaml else markdown_table(), end='')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
