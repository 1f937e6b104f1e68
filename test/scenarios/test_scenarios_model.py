# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The scenario files: every shipped one validates, broken ones are refused clearly (no ROS)."""

from pathlib import Path

import pytest
from safety_gate.kit.scenarios import model, runner
import yaml

REPO = Path(__file__).resolve().parents[2]
# The hazards the library must cover (issue: "at least these scenarios").
REQUIRED_KINDS = {
    'low_confidence', 'confidence_flicker', 'no_meta', 'late_meta', 'malformed_meta',
    'stamp_mismatch', 'nan', 'inf', 'overspeed', 'yaw_rate', 'freeze', 'burst',
    'duplicate_stamp', 'backwards_stamp', 'odom_stale', 'odom_jump', 'odom_stuck',
    'imu_bias', 'estop', 'clock_reset', 'gate_restart',
}
VALID = {
    'id': 'example', 'title': 'Example', 'description': 'A test scenario.',
    'severity': 'S2', 'exposure': 'E3', 'duration': 6.0,
    'route': {'confidence': 0.9, 'segments': [[6.0, 0.6, 0.0]]},
    'faults': [{'kind': 'low_confidence', 't_start': 2.0, 't_end': 3.0, 'value': 0.3,
                'expect': {'reasons': ['LOW_CONFIDENCE']}}],
}


def test_every_shipped_scenario_validates():
    scenarios = model.load_library(REPO / 'scenarios')
    ids = [s.id for s in scenarios]
    assert len(ids) == len(set(ids)) >= 16
    kinds = {f.kind for s in scenarios for f in s.faults}
    assert REQUIRED_KINDS <= kinds, REQUIRED_KINDS - kinds
    # Nominal scenarios without a fault: cruise and turning near the limits.
    assert {'nominal_cruise', 'nominal_turning_near_limits'} <= set(ids)
    # Ranked: highest severity first.
    ranks = [model.rank(s) for s in scenarios]
    assert ranks == sorted(ranks)
    for s in scenarios:
        s.planner_script().validate()


def test_an_installed_library_holds_the_source_files():
    # The package finds the same files installed (colcon) as in the source tree.
    source, installed = REPO / 'scenarios', runner.library_dir()
    if installed.resolve() == source.resolve():
        pytest.skip('no colcon install: runner.library_dir() is the source scenarios/ itself')
    assert sorted(p.name for p in installed.glob('*.yaml')) == \
        sorted(p.name for p in source.glob('*.yaml'))


def write(tmp_path, data, name='example') -> Path:
    path = tmp_path / f'{name}.yaml'
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_valid_file_loads(tmp_path):
    scenario = model.load(write(tmp_path, VALID))
    assert scenario.faults[0].expect.max_reaction_s == 0.5  # the default
    assert scenario.planner_script().faults[0].amount == 0.3


@pytest.mark.parametrize('change, message', [
    ({'severity': 'S4'}, 'severity'),
    ({'exposure': 'E0'}, 'exposure'),
    ({'duration': 0}, 'duration'),
    ({'colour': 'red'}, 'colour'),
    ({'faults': [{'kind': 'meteor', 't_start': 1, 't_end': 2}]}, "unknown fault kind 'meteor'"),
    ({'faults': [{'kind': 'freeze', 't_start': 2, 't_end': 1}]}, 't_end: must be after t_start'),
    ({'faults': [{'kind': 'freeze', 't_start': 2}]}, 'needs t_end'),
    ({'faults': [{'kind': 'freeze', 't_start': 5, 't_end': 7}]}, 'ends after the duration'),
    ({'faults': [{'kind': 'freeze', 't_start': 1, 't_end': 3},
                 {'kind': 'nan', 't_start': 2, 't_end': 4}]}, 'fault windows overlap'),
    ({'faults': [{'kind': 'freeze', 't_start': 1, 't_end': 2,
                  'expect': {'reasons': ['BAD_LUCK']}}]}, 'reasons'),
    ({'faults': [{'kind': 'freeze', 't_start': 1, 't_end': 2,
                  'expect': {'max_reaction': 1}}]}, 'max_reaction'),
    ({'faults': [{'kind': 'estop', 't_start': 1, 't_end': 2}]}, 'no reset follows it'),
    ({'faults': [{'kind': 'burst', 't_start': 1, 't_end': 2, 'value': 500}]}, 'burst'),
    ({'faults': [{'kind': 'confidence_ramp', 't_start': 1, 't_end': 2, 'alt_value': 1.5}]},
     'a confidence_ramp confidence must be in [0, 1]'),
    ({'expect': {'confidence_drift': {}}}, 'expect.confidence_drift needs gate_params'),
    ({'expect': {'confidence_drift': {}}, 'gate_params': {
        'spi.confidence_mean_limit': 0.7}}, 'spi.confidence_mean_action: conservative'),
    ({'resets': [7.0]}, 'after the duration'),
    ({'gate_params': {'confidence.treshold': 0.4}}, "unknown parameter 'confidence.treshold'"),
    ({'gate_params': {'confidence.threshold': 1.5}}, "'confidence.threshold' = 1.5"),
    ({'vehicle_params': {'publish_clock': 0}}, 'unknown publish_clock'),
    ({'route': {'segments': [[0.0, 0.5, 0.0]]}}, 'duration must be > 0'),
    ({'id': 'Example'}, 'lower_snake_case'),
    ({'candidate': {'route': VALID['route'], 'faults': [
        {'kind': 'estop', 't_start': 1, 't_end': 2}]}}, 'a candidate has only planner faults'),
    ({'candidate': {'route': VALID['route'], 'faults': [
        {'kind': 'kink', 't_start': 1, 't_end': 2}]}}, 'candidate fault 0 (kink) acts on plans'),
    ({'candidate': {'route': VALID['route']}, 'gate_params': {'shadow.enabled': True}},
     'shadow.enabled comes from candidate'),
    ({'timing': {'jitter': 0.1}}, 'timing: jitter 0.1 s must be at least 0 and below the period'),
    ({'timing': {'period': 0.2, 'jitter': -0.01}}, 'jitter -0.01 s must be at least 0'),
    ({'timing': {'meta_delay': -0.02}}, 'timing: meta_delay -0.02 s must be at least 0'),
    ({'timing': {'meta_delay': 1.5}}, 'timing -> meta_delay'),
    ({'timing': {'period': 0}}, 'timing -> period'),
    ({'timing': {'rate_hz': 20}}, 'timing -> rate_hz'),
    ({'timing': {'jitter': 0.01}, 'faults': [], 'plan': {}}, 'timing is for twist mode'),
])
def test_invalid_scenarios_are_refused_naming_file_and_field(tmp_path, change, message):
    path = write(tmp_path, {**VALID, **change})
    with pytest.raises(model.ScenarioError) as error:
        model.load(path)
    text = str(error.value)
    assert str(path) in text and message in text, text


def test_timing_reaches_the_planner_and_defaults_to_its_old_cadence(tmp_path):
    plain = model.load(write(tmp_path, VALID))
    params = plain.planner_params()
    # Without `timing` the planner runs as it always has: 10 Hz, no jitter, meta first.
    assert {k: params[k] for k in ('rate_hz', 'jitter', 'meta_delay')} == {
        'rate_hz': 10.0, 'jitter': 0.0, 'meta_delay': 0.0}
    timed = model.load(write(tmp_path, {**VALID, 'timing': {
        'period': 0.125, 'jitter': 0.02, 'meta_delay': 0.03}}))
    assert timed.planner_params() == {'rate_hz': 8.0, 'jitter': 0.02, 'meta_delay': 0.03,
                                      'jitter_seed': timed.planner_params()['jitter_seed']}
    # The seed is the scenario's: the same file gives the same, another file another.
    assert model.load(write(tmp_path, VALID)).planner_params() == params
    assert timed.planner_params()['jitter_seed'] != params['jitter_seed']


def test_a_candidate_enables_the_shadow_stage(tmp_path):
    scenario = model.load(write(tmp_path, {**VALID, 'candidate': {
        'route': {'segments': [[6.0, 0.8, -0.2]]},
        'faults': [{'kind': 'overspeed', 't_start': 1, 't_end': 2, 'value': 3.0}],
        'expect': {'reasons': ['OVER_SPEED']}}}))
    assert scenario.gate_overrides() == {'shadow.enabled': True}
    assert scenario.candidate.planner_script().faults[0].amount == 3.0
    assert scenario.candidate.expect.min_decisions == 20
    assert model.load(write(tmp_path, VALID)).gate_overrides() == {}


def test_the_id_must_match_the_file_name(tmp_path):
    with pytest.raises(model.ScenarioError, match='must match the file name'):
        model.load(write(tmp_path, VALID, name='other'))


def test_a_library_reports_every_broken_file(tmp_path):
    write(tmp_path, {**VALID, 'id': 'a', 'severity': 'S9'}, name='a')
    write(tmp_path, {**VALID, 'id': 'b', 'duration': -1}, name='b')
    (tmp_path / 'c.yaml').write_text('- just\n- a list\n')
    with pytest.raises(model.ScenarioError) as error:
        model.load_library(tmp_path)
    text = str(error.value)
    assert 'a.yaml' in text and 'b.yaml' in text and 'c.yaml: must be a YAML mapping' in text


def test_the_command_lists_and_refuses_bad_input_without_running(tmp_path, capsys):
    assert runner.main(['--list']) == runner.EXIT_OK
    assert 'gate_restart' in capsys.readouterr().out
    assert runner.main(['--only', 'no_such_scenario']) == runner.EXIT_USAGE
    assert 'unknown scenario(s): no_such_scenario' in capsys.readouterr().err
    bad = tmp_path / 'bad.yaml'
    bad.write_text('safety_gate:\n  ros__parameters:\n    rate_hz: -1.0\n')
    assert runner.main(['--config', str(bad), '--report', str(tmp_path / 'r')]) == \
        runner.EXIT_USAGE
    assert "invalid parameter 'rate_hz'" in capsys.readouterr().err
    assert runner.main(['--library', str(tmp_path), '--list']) == runner.EXIT_USAGE


@pytest.mark.parametrize('sections, expected', [
    ({'gate': {'ros__parameters': {'rate_hz': 30.0}}},
     "applies nothing to /safety_gate: its sections are 'gate'"),
    ({'safety_gate': {'ros_parameters': {'rate_hz': 30.0}}},
     "section 'safety_gate' has no 'ros__parameters'"),
], ids=['other-node', 'ros_parameters-typo'])
def test_a_config_that_applies_nothing_is_refused_before_any_run(tmp_path, capsys, sections,
                                                                 expected):
    # It used to run on the defaults and pass the release gate.
    config_path = tmp_path / 'gate.yaml'
    config_path.write_text(yaml.safe_dump(sections))
    assert runner.main(['--config', str(config_path), '--only', 'nominal_cruise',
                        '--report', str(tmp_path / 'r')]) == runner.EXIT_USAGE
    assert expected in capsys.readouterr().err


def test_the_namespace_selects_the_sections_the_launched_gate_gets(tmp_path, capsys):
    config_path = tmp_path / 'robot1.yaml'
    config_path.write_text(yaml.safe_dump(
        {'/robot1/safety_gate': {'ros__parameters': {'rate_hz': -1.0}}}))
    args = ['--config', str(config_path), '--only', 'nominal_cruise',
            '--report', str(tmp_path / 'r')]
    assert runner.main(args + ['--namespace', 'robot1']) == runner.EXIT_USAGE
    assert "invalid parameter 'rate_hz'" in capsys.readouterr().err
    assert runner.main(args) == runner.EXIT_USAGE
    assert 'applies nothing to /safety_gate' in capsys.readouterr().err
