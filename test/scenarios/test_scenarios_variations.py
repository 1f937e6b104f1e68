# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Scenario variations: declared in the file, drawn from the run id alone (no ROS)."""

import copy

import pytest
from safety_gate.kit.scenarios import model
from safety_gate.kit.scenarios.variations import draw, RunId
import yaml

BASE = {
    'id': 'example', 'title': 'Example', 'description': 'A test scenario.',
    'severity': 'S2', 'exposure': 'E3', 'duration': 8.0,
    'route': {'confidence': 0.9, 'segments': [[4.0, 0.6, 0.0], [4.0, 0.4, 0.1]]},
    'faults': [{'kind': 'low_confidence', 't_start': 2.0, 't_end': 3.0, 'value': 0.3,
                'expect': {'reasons': ['LOW_CONFIDENCE']}}],
    'variations': {
        'faults.0.t_start': {'uniform': [1.0, 3.0]},
        'faults.0.duration': {'uniform': [0.5, 1.5]},
        'faults.0.value': {'choice': [0.1, 0.3]},
        'route.segments.1.1': {'uniform': [0.2, 0.8]},
        'route.confidence': {'uniform': [0.8, 0.95]},
        'vehicle_params.imu_noise_std': {'uniform': [0.0, 0.02]},
    },
}


def scenario(**changes):
    data = copy.deepcopy(BASE)
    data.update(changes)
    return model.Scenario.parse_obj(data)


def test_a_run_id_alone_determines_the_draw():
    s = scenario()
    run = RunId('example', 7, 3)
    varied, values = s.varied(run)
    # The same id again, from a freshly parsed file: the same values.
    assert scenario().varied(RunId.parse(str(run))) == (varied, values)
    assert str(run) == 'example.s7.r3'
    # Other indices and seeds draw other values.
    others = {str(scenario().varied(RunId('example', seed, i))[1])
              for seed in (7, 8) for i in range(5)}
    assert len(others) == 10
    assert varied.variations == {}
    fault = varied.faults[0]
    assert fault.t_start == values['faults.0.t_start']
    assert fault.t_end == pytest.approx(fault.t_start + values['faults.0.duration'])
    assert fault.value == values['faults.0.value']
    assert varied.route.segments[1][1] == values['route.segments.1.1']
    assert varied.vehicle_params['imu_noise_std'] == values['vehicle_params.imu_noise_std']


def test_the_draw_is_pinned():
    # The generator must not change under anyone's feet: a stored run id would then
    # re-run a different variation. These values were drawn when the format was made.
    values = draw(scenario().variations, RunId('example', 1, 0))
    assert values == {'faults.0.duration': 1.0488, 'faults.0.t_start': 2.5734,
                      'faults.0.value': 0.1, 'route.confidence': 0.8672,
                      'route.segments.1.1': 0.7414, 'vehicle_params.imu_noise_std': 0.0133}


def test_draws_stay_inside_their_distributions():
    s = scenario()
    for i in range(200):
        _, v = s.varied(RunId('example', 1, i))
        assert 1.0 <= v['faults.0.t_start'] <= 3.0
        assert 0.5 <= v['faults.0.duration'] <= 1.5
        assert v['faults.0.value'] in (0.1, 0.3)
    seen = {s.varied(RunId('example', 1, i))[1]['faults.0.value'] for i in range(50)}
    assert seen == {0.1, 0.3}


@pytest.mark.parametrize('variations, message', [
    ({'faults.2.t_start': {'uniform': [1, 2]}}, 'faults.2.t_start: the scenario has no 2'),
    ({'route.nope': {'uniform': [1, 2]}}, 'route -> nope'),
    ({'faults.0.duration': {'uniform': [0.5, 9.0]}}, 'at their highest'),
    ({'route.confidence': {'uniform': [0.9, 0.8]}}, 'low 0.9 is above high 0.8'),
    ({'route.confidence': {'uniform': [0.8, 0.9], 'choice': [1]}}, 'exactly one'),
    ({'route.confidence': {'choice': []}}, 'at least 1'),
])
def test_a_variation_that_cannot_apply_is_refused_naming_it(tmp_path, variations, message):
    data = {**copy.deepcopy(BASE), 'variations': variations}
    path = tmp_path / 'example.yaml'
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(model.ScenarioError) as error:
        model.load(path)
    assert message in str(error.value)


def test_the_planner_timing_varies_per_run():
    varied = scenario(variations={'timing.jitter': {'uniform': [0.0, 0.03]},
                                  'timing.meta_delay': {'uniform': [0.0, 0.04]}})
    runs = [varied.varied(RunId('example', 3, i))[0] for i in range(4)]
    params = [run.planner_params() for run in runs]
    assert all(0.0 <= p['jitter'] <= 0.03 and 0.0 <= p['meta_delay'] <= 0.04 for p in params)
    assert len({(p['jitter'], p['meta_delay'], p['jitter_seed']) for p in params}) == 4
    # A run id replays its timing, jitter seed included.
    assert varied.varied(RunId('example', 3, 2))[0].planner_params() == params[2]
    with pytest.raises(ValueError, match='at their highest: timing: jitter 0.2'):
        scenario(variations={'timing.jitter': {'uniform': [0.0, 0.2]}})


def test_a_draw_that_breaks_the_scenario_names_the_run():
    # Both extremes (early and long, late and short) are valid, but a late start with a
    # long fault overruns the duration: the campaign refuses it before running anything.
    s = scenario(variations={'faults.0.t_start': {'choice': [1.0, 6.0]},
                             'faults.0.duration': {'choice': [3.0, 1.0]}})
    bad = [i for i in range(40) if _fails(s, i)]
    assert bad
    with pytest.raises(model.ScenarioError, match=rf'run example\.s1\.r{bad[0]}: .*duration'):
        s.varied(RunId('example', 1, bad[0]))


def _fails(s, index):
    try:
        s.varied(RunId('example', 1, index))
    except model.ScenarioError:
        return True
    return False


@pytest.mark.parametrize('text', ['example', 'example.s1', 'Example.s1.r2', 'example.s-1.r0'])
def test_a_malformed_run_id_is_refused(text):
    with pytest.raises(ValueError, match='not a run id'):
        RunId.parse(text)
