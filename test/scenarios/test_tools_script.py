# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The test tools' pure parts: planner script faults, monotonic sim time, vehicle limits."""

import pytest
from safety_gate.kit.world.planner_script import FaultKind, Script
from safety_gate.kit.world.rosutil import MonotonicTime
from safety_gate.kit.world.sim_vehicle import Unicycle


def test_new_fault_kinds_and_their_defaults():
    script = Script.from_mapping({'segments': [[5.0, 0.5, 0.1]], 'faults': [
        {'t_start': 0.0, 't_end': 1.0, 'kind': 'confidence_flicker'},
        {'t_start': 1.0, 't_end': 2.0, 'kind': 'confidence_flicker', 'value': 0.3,
         'alt_value': 0.9},
        {'t_start': 2.0, 't_end': 3.0, 'kind': 'yaw_rate'},
        {'t_start': 3.0, 't_end': 4.0, 'kind': 'burst'},
        {'t_start': 4.0, 't_end': 5.0, 'kind': 'inf'},
    ]})
    flicker = script.faults_at(0.5)[FaultKind.CONFIDENCE_FLICKER]
    assert (flicker.amount, flicker.alt_amount) == (0.45, 0.55)
    flicker = script.faults_at(1.5)[FaultKind.CONFIDENCE_FLICKER]
    assert (flicker.amount, flicker.alt_amount) == (0.3, 0.9)
    assert script.faults_at(2.5)[FaultKind.YAW_RATE].amount == 2.0
    assert script.faults_at(3.5)[FaultKind.BURST].amount == 5.0
    assert FaultKind.INF in script.faults_at(4.5)
    assert Script.from_mapping(script.to_mapping()) == script


def test_a_confidence_ramp_moves_linearly_from_value_to_alt_value_inside_its_window():
    script = Script.from_mapping({'confidence': 0.95, 'segments': [[70.0, 0.8, 0.0]],
                                  'faults': [{'t_start': 5.0, 't_end': 65.0,
                                              'kind': 'confidence_ramp', 'value': 0.95,
                                              'alt_value': 0.55}]})
    assert script.confidence_at(4.9, 0.1) == 0.95
    assert script.confidence_at(5.0, 0.1) == pytest.approx(0.95)
    assert script.confidence_at(20.0, 0.1) == pytest.approx(0.85)
    assert script.confidence_at(35.0, 0.1) == pytest.approx(0.75)
    assert script.confidence_at(64.9, 0.1) == pytest.approx(0.55 + 0.04 * 0.1 / 6)
    assert script.confidence_at(65.0, 0.1) == 0.95  # the window is over
    ramp = Script.from_mapping({'segments': [[2.0, 0.5, 0.0]], 'faults': [
        {'t_start': 0.0, 't_end': 2.0, 'kind': 'confidence_ramp'}]})
    assert ramp.confidence_at(0.0, 0.1) == pytest.approx(0.9)  # the defaults: 0.9 ...
    assert ramp.confidence_at(1.0, 0.1) == pytest.approx(0.75)  # ... to 0.6
    assert Script.from_mapping(script.to_mapping()) == script


def test_confidence_faults_keep_to_one_tick_of_flicker_and_the_low_value():
    script = Script.from_mapping({'segments': [[4.0, 0.5, 0.0]], 'faults': [
        {'t_start': 1.0, 't_end': 2.0, 'kind': 'confidence_flicker', 'value': 0.3,
         'alt_value': 0.9},
        {'t_start': 3.0, 't_end': 4.0, 'kind': 'low_confidence'}]})
    assert [script.confidence_at(1.0 + k * 0.1, 0.1) for k in range(4)] == [0.3, 0.9, 0.3, 0.9]
    assert script.confidence_at(3.5, 0.1) == 0.2
    assert script.confidence_at(2.5, 0.1) == 0.9


@pytest.mark.parametrize('fault', [
    {'kind': 'confidence_ramp', 'value': 0.9, 'alt_value': 1.2},
    {'kind': 'confidence_ramp', 'value': -0.1, 'alt_value': 0.5},
    {'kind': 'confidence_ramp', 'value': float('nan')},
    {'kind': 'confidence_flicker', 'alt_value': 1.5},
    {'kind': 'low_confidence', 'value': 2.0},
])
def test_a_confidence_fault_outside_0_to_1_is_refused(fault):
    with pytest.raises(ValueError, match='confidence must be in'):
        Script.from_mapping({'segments': [[1.0, 0.5, 0.0]], 'faults': [
            {'t_start': 0.0, 't_end': 1.0, **fault}]})


def test_a_burst_is_bounded():
    with pytest.raises(ValueError, match='burst'):
        Script.from_mapping({'segments': [[1.0, 0.5, 0.0]], 'faults': [
            {'t_start': 0.0, 't_end': 1.0, 'kind': 'burst', 'value': 0}]})


def test_monotonic_time_runs_on_across_a_backwards_jump():
    clock = MonotonicTime()
    assert [clock(t) for t in (100, 120, 140)] == [100, 120, 140]
    # The clock is reset to 10: time goes on by the last step, then follows the clock.
    assert clock(10) == 160 and clock.jumps == 1 and clock.offset == 150
    assert clock(30) == 180
    assert clock(30) == 180  # a repeated reading is no step


def test_the_vehicle_saturates_at_its_own_limits_and_lags():
    vehicle = Unicycle(max_speed=1.0, max_yaw_rate=0.5)
    for _ in range(200):
        vehicle.step(5.0, -2.0, 0.02)
    assert vehicle.v == pytest.approx(1.0) and vehicle.w == pytest.approx(-0.5)
    vehicle = Unicycle(max_accel=2.0)
    vehicle.step(1.0, 0.0, 0.02)
    assert vehicle.v == pytest.approx(2.0 * 0.02)  # rate-capped, not a jump to 1.0
