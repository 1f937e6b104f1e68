# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Properties of the core in trajectory mode (Hypothesis).

Two properties, each over its own strategy:

* every output of a trajectory-mode gate is finite and inside the envelope:
  Hypothesis drives the trajectory fuzzer's episodes (random and broken
  plans, sensor, clock and operator faults; ``safety_gate.kit.world.plan_fuzz``)
  through a random number generator it controls;
* the stop the gate publishes on ``safety_gate/trajectory`` decelerates to
  standstill within the limits: over random paths, speeds, gears, braking
  already under way and configurations, and on every FALLBACK of those
  episodes that stops along a path.

The stop's speed profile must never speed up, lose speed faster than
``envelope.max_linear_decel`` between points, reach zero no later than the
comfortable stop (``fallback.decel`` reached at ``trajectory.stop_jerk``)
takes, and move along the path no further than its speeds drive.
``SAFETY_GATE_HYPOTHESIS_EXAMPLES`` sets the number of examples.
"""

from collections import Counter
import math
import random

from harness.event_scripts import PROPERTY_SETTINGS
from harness.plans import polyline
from hypothesis import given, HealthCheck, settings, strategies as st
from safety_gate import config, plan_fallback, plan_output
from safety_gate.decision import Verdict
from safety_gate.kit.world import fuzz
from safety_gate.kit.world.plan_fuzz import TRAJECTORY
from safety_gate.plan_profile import profile

TOLERANCE = 1e-9
# An episode draws thousands of random numbers: its smallest input is large by nature.
EPISODE_SETTINGS = settings(PROPERTY_SETTINGS, suppress_health_check=list(
    PROPERTY_SETTINGS.suppress_health_check) + [HealthCheck.large_base_example])


def assert_inside_the_envelope(decision, env):
    v, w = decision.output.v, decision.output.w
    assert math.isfinite(v) and math.isfinite(w), decision
    assert -env.max_reverse_speed - TOLERANCE <= v <= env.max_linear_speed + TOLERANCE, decision
    assert abs(w) <= env.max_angular_speed + TOLERANCE, decision
    assert abs(v * w) <= env.max_lateral_accel + TOLERANCE, decision


def assert_the_stop_decelerates_within_the_limits(points, speed, cfg):
    """Hold published stop points (t, x, y, yaw, signed speed) to the limits, from ``speed``."""
    traj = cfg.trajectory
    assert all(math.isfinite(value) for point in points for value in point), points
    times = [point[0] for point in points]
    assert times[0] == 0.0 and all(
        math.isclose(b - a, traj.dt) for a, b in zip(times, times[1:])), times
    speeds = [abs(point[4]) for point in points]
    assert math.isclose(speeds[0], abs(speed), abs_tol=TOLERANCE), (speeds[0], speed)
    assert speeds[-1] == 0.0, speeds
    assert all(math.copysign(1.0, point[4]) == math.copysign(1.0, speed) or point[4] == 0.0
               for point in points), points
    for a, b, (p, q) in zip(speeds, speeds[1:], zip(points, points[1:])):
        assert b <= a + TOLERANCE, speeds
        assert a - b <= cfg.envelope.max_linear_decel * traj.dt + TOLERANCE, speeds
        # The poses advance along the path by what the speeds drive, never more.
        assert math.hypot(q[1] - p[1], q[2] - p[2]) <= (a + b) / 2.0 * traj.dt + 1e-6, (p, q)
    # Standstill at the first point after the comfortable stop's end, at the latest.
    comfortable, _ = plan_fallback.stopping(abs(speed), cfg.fallback.decel, traj.stop_jerk)
    assert times[-1] < comfortable + traj.dt + TOLERANCE, (times[-1], comfortable)


# ---------------------------------------------------------------- outputs of random episodes

def test_every_trajectory_mode_output_is_inside_the_envelope_and_every_stop_decelerates():
    reached = Counter()

    @EPISODE_SETTINGS
    @given(st.randoms(use_true_random=False))
    def episode(rng):
        # The episode draws its config first: the same seed gives the same config here.
        seed = rng.random()
        cfg = TRAJECTORY.config(random.Random(seed))
        decisions = []

        def observe(now, event, result):
            decisions.extend(result.decisions)
            state = result.state
            for decision in result.decisions:
                assert_inside_the_envelope(decision, cfg.envelope)
                reached[f'verdict {decision.verdict.value}'] += 1
            stop = state.plans.stop
            if result.decisions and result.decisions[-1].verdict is Verdict.FALLBACK and (
                    stop is not None):
                published = plan_output.points(state.plans, False, now, cfg)
                assert_the_stop_decelerates_within_the_limits(
                    published, stop.direction * stop.speed, cfg)
                reached['stops published'] += 1
                reached['stops published while moving'] += stop.speed > 0.0
        fuzz.run_episode(random.Random(seed), 600, TRAJECTORY, observe=observe)

    episode()
    print(f'trajectory property regions: {dict(reached)}')
    # A strategy that never approves or never stops along a path checks little.
    assert reached['verdict APPROVE'] >= 0.02 * sum(
        n for key, n in reached.items() if key.startswith('verdict')), reached
    assert reached['stops published while moving'] >= 20, reached


# ---------------------------------------------------------------- the stop itself

@st.composite
def stops(draw):
    """Draw a configuration and a stop along a random path, possibly already braking."""
    decel = draw(st.floats(0.1, 10.0))
    cfg = config.build({
        'envelope.max_linear_decel': decel,
        'fallback.decel': draw(st.floats(0.1, decel)),
        'trajectory.stop_jerk': draw(st.floats(0.1, 100.0)),
        'trajectory.dt': draw(st.sampled_from([0.02, 0.1, 0.25])),
    })
    count = draw(st.integers(1, 63))
    reverse = draw(st.booleans())
    lengths = draw(st.lists(st.floats(0.0, 0.3), min_size=count, max_size=count))
    turns = draw(st.lists(st.floats(-0.3, 0.3), min_size=count, max_size=count))
    path = profile(polyline([-x if reverse else x for x in lengths], turns),
                   cfg.trajectory.min_segment_length)
    speed = draw(st.floats(0.0, 5.0)) * (-1.0 if reverse else 1.0)
    stop = plan_fallback.start(path, draw(st.floats(-1.0, 0.1 * count + 1.0)), speed, cfg)
    for dt in draw(st.lists(st.floats(0.0, 0.05), max_size=5)):
        stop, _ = plan_fallback.step(stop, dt, cfg)
    return cfg, stop


@PROPERTY_SETTINGS
@given(stops())
def test_the_published_stop_decelerates_to_standstill_within_the_limits(drawn):
    cfg, stop = drawn
    points = plan_fallback.stop_points(stop, cfg.trajectory.dt, cfg)
    assert_the_stop_decelerates_within_the_limits(points, stop.direction * stop.speed, cfg)
