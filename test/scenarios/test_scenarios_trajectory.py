# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The trajectory scenarios: their files, the plans they script, and three runs closed loop.

The plans are judged by the gate's own pure checks (``plan_checks.judge``)
first, so a scenario whose fault the gate could not see, or whose nominal
plans it would refuse, fails here without ROS. Then a nominal scenario and
two faults run through the real gate node, the simulated vehicle and the
scripted planner over DDS on loopback, and their verdicts are asserted.
"""

from pathlib import Path

import pytest
from safety_gate.ego_motion import ORIGIN
from safety_gate.events import Plan
from safety_gate.kit.scenarios import model, runner
from safety_gate.kit.scenarios.path_plot import placed_plans
from safety_gate.kit.scenarios.recording import Recording
from safety_gate.kit.world.alpamayo_plans import FRAME_ID
from safety_gate.kit.world.plan_script import PlanScript
from safety_gate.paths import config_file
from safety_gate.plan_checks import Ego, judge

LIBRARY = runner.library_dir()
TRAJECTORY = [s for s in model.load_library(LIBRARY) if s.plan is not None]
CONFIG = config_file('safety_gate.yaml')
STAMP = 50.0


def core_plan(scenario, s):
    """Return the plan sent at script time ``s`` as the gate reads it, and its stamp's age."""
    script = PlanScript(scenario.planner_script(), scenario.plan.spec())
    age = script.stamp_age(s)
    points = script.plan(s - age)
    return Plan(STAMP, FRAME_ID, tuple((p.time_from_start_ns / 1e9, p.x, p.y, p.yaw)
                                       for p in points), scenario.plan.input), age


def refusals(scenario, s):
    """Return the reasons the gate's pure checks give a plan sent at ``s``.

    The vehicle is where the plan starts, at the route's speed: the gate's
    view of a planner that keeps up with it.
    """
    plan, age = core_plan(scenario, s)
    cfg = runner.effective_config(CONFIG, scenario)
    speed = scenario.planner_script().motion_at(s)[0]
    checks, _ = judge(plan, STAMP + age, Ego(ORIGIN, speed), None, cfg)
    return {check.reason.value for check in checks if not check.ok}


def test_the_library_holds_the_trajectory_scenarios_the_issue_asks_for():
    assert len(TRAJECTORY) >= 12
    kinds = {f.kind for s in TRAJECTORY for f in s.faults}
    assert kinds >= {'backward_sweep', 'start_far', 'kink', 'overspeed', 'yaw_rate',
                     'curvature', 'backwards_stamp', 'nan', 'time_order', 'flip', 'freeze',
                     'period'}
    variants = {(s.plan.variant, tuple(s.plan.period)) for s in TRAJECTORY if not s.faults}
    assert ('alpamayo_2_super', (0.1, 0.1)) in variants
    assert ('alpamayo_2_super', (2.0, 3.35)) in variants


@pytest.mark.parametrize('scenario', TRAJECTORY, ids=lambda s: s.id)
def test_nominal_plans_pass_every_check_and_each_fault_shows_its_reasons(scenario):
    duration = scenario.duration
    nominal = [t / 10 for t in range(int(duration * 10))
               if not any(f.t_start - 0.1 <= t / 10 < f.t_end + 0.1 for f in scenario.faults)]
    for s in nominal[::5]:
        assert refusals(scenario, s) == set(), s
    for fault in scenario.faults:
        if fault.kind in ('freeze', 'period', 'flip'):  # judged between plans, not in one
            continue
        found = refusals(scenario, (fault.t_start + fault.t_end) / 2)
        assert {r.value for r in fault.expect.reasons} <= found, found


def kink_with(**changes):
    """Return the kink scenario's data with ``changes`` on top."""
    data = model.load(LIBRARY / 'trajectory_kink.yaml').dict()
    data.update(changes)
    return data


@pytest.mark.parametrize('changes, message', [
    ({'plan': None}, 'kink) acts on plans: it needs `plan`'),
    ({'faults': [{'kind': 'burst', 't_start': 1.0, 't_end': 2.0}]},
     'burst) acts on commands, not plans'),
    ({'gate_params': {'planner.input': 'path'}}, 'planner.input comes from plan.input'),
    ({'plan': {'input': 'twist'}}, "'twist' is not path or autoware_trajectory"),
    ({'plan': {'variant': 'alpamayo_3'}}, "'alpamayo_3' is not one of"),
    ({'plan': {'period': [3.0, 2.0]}}, 'shortest 3.0 is longer than longest 2.0'),
])
def test_the_model_refuses_a_plan_section_that_does_not_fit(changes, message):
    with pytest.raises(ValueError) as raised:
        model.Scenario.parse_obj(kink_with(**changes))
    assert message in str(raised.value)


def test_the_plan_section_sets_the_gates_input():
    scenario = model.load(LIBRARY / 'trajectory_kink.yaml')
    assert scenario.gate_overrides()['planner.input'] == 'path'
    assert runner.effective_config(CONFIG, scenario).planner.input == 'path'


# ---------------------------------------------------------------- closed loop

CLOSED_LOOP = ('trajectory_nominal_64_fast', 'trajectory_backward_sweep',
               'trajectory_planner_silence')


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.parametrize('scenario_id', CLOSED_LOOP)
def test_closed_loop_verdicts(scenario_id, tmp_path):
    scenario = model.load(LIBRARY / f'{scenario_id}.yaml')
    result = runner.run_scenario(scenario, CONFIG, Path(tmp_path) / scenario_id,
                                 runner.DEFAULT_SIM_RATE)
    assert result.outcome.error is None, result.outcome.error
    assert result.passed, [f'{c.name}: {c.value} (required {c.limit})'
                           for c in result.outcome.failed]
    metrics = result.metrics
    assert metrics.unsafe == () and metrics.false_interventions == 0
    rec = Recording.load(result.recording_path)
    assert len(placed_plans(rec)) > 0.8 * len(rec.plans) > 0
    in_fault = [d for d in rec.decisions
                if any(w.start <= d.t < w.end for w in metrics.windows)]
    if not scenario.faults:
        assert {d.verdict for d in rec.decisions if d.t >= rec.t0} == {'APPROVE'}
        assert metrics.max_speed > 0.5
    else:
        expected = {r.value for f in scenario.faults for r in f.expect.reasons}
        assert expected <= {r for d in in_fault for r in d.reasons}
        assert all(w.standstill_s is not None for w in metrics.windows)
