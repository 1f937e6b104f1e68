# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The message converters, fed plain objects of the messages' shape (no ROS needed)."""

import json
import math
from types import SimpleNamespace as Msg

import pytest

from safety_gate import config, convert
from safety_gate.events import Imu, Meta, Odom, Proposal

CFG = config.GateConfig()
NOW = 50.0


def vector(x=0.0, y=0.0, z=0.0):
    return Msg(x=x, y=y, z=z)


def header(sec=12, nanosec=500_000_000):
    return Msg(stamp=Msg(sec=sec, nanosec=nanosec))


def twist(linear=(0.4, 0.0, 0.0), angular=(0.0, 0.0, -0.3)):
    return Msg(linear=vector(*linear), angular=vector(*angular))


def test_a_twist_stamped_carries_its_header_stamp():
    msg = Msg(header=header(), twist=twist())
    assert convert.proposal(msg, NOW, CFG) == Proposal(0.4, -0.3, 12.5, True)


def test_a_plain_twist_is_stamped_on_arrival():
    assert convert.proposal(twist(), NOW, CFG) == Proposal(0.4, -0.3, NOW, False)


@pytest.mark.parametrize('component', range(6))
def test_a_nan_in_any_twist_component_makes_v_nan(component):
    values = [0.4, 0.0, 0.0, 0.0, 0.0, -0.3]
    values[component] = math.nan
    found = convert.proposal(twist(values[:3], values[3:]), NOW, CFG)
    assert math.isnan(found.v)
    if component != 5:
        assert found.w == -0.3


def meta_text(confidence=0.9):
    return json.dumps({'stamp': {'sec': 12, 'nanosec': 500_000_000},
                       'confidence': confidence})


def test_a_meta_is_decoded_then_parsed():
    raw = meta_text().encode()
    assert convert.meta(raw, NOW, CFG, bytes.decode) == Meta(12.5, 0.9)


def test_a_meta_is_refused_unread_only_beyond_its_limit_plus_the_cdr_overhead():
    limit = CFG.confidence.max_meta_bytes + convert.CDR_STRING_OVERHEAD
    assert convert.CDR_STRING_OVERHEAD == 12

    def decode(raw):
        return meta_text()

    assert convert.meta(b'x' * limit, NOW, CFG, decode) == Meta(12.5, 0.9)
    assert convert.meta(b'x' * (limit + 1), NOW, CFG, decode) == Meta(
        None, None, error=f'oversized: more than {CFG.confidence.max_meta_bytes} bytes')


def test_an_undecodable_meta_is_malformed_and_named_by_its_error():
    found = convert.meta(b'\xff', NOW, CFG, bytes.decode)
    assert found == Meta(None, None, error='malformed: undecodable (UnicodeDecodeError)')


def test_the_parsed_meta_is_held_to_the_configured_reasoning_length():
    cfg = config.build({'confidence.max_reasoning_chars': 3})
    text = json.dumps({'stamp': {'sec': 1, 'nanosec': 0}, 'confidence': 0.5,
                       'reasoning': 'abcdef'})
    assert convert.meta(text.encode(), NOW, cfg, bytes.decode).reasoning == 'abc'


def odometry(q, position=(1.5, -2.0), covariance=(0.0,) * 36):
    pose = Msg(position=vector(*position), orientation=Msg(x=q[0], y=q[1], z=q[2], w=q[3]))
    return Msg(header=header(), pose=Msg(pose=pose, covariance=list(covariance)),
               twist=Msg(twist=twist((0.7, 0.1, 0.0), (0.0, 0.0, 0.2))))


@pytest.mark.parametrize('xx, yy, variance', [
    (0.0, 0.0, 0.0), (0.04, 0.25, 0.25), (0.3, 0.1, 0.3)])
def test_odometry_carries_the_larger_position_variance_of_its_covariance(xx, yy, variance):
    covariance = [0.0] * 36
    covariance[0], covariance[7], covariance[14] = xx, yy, 99.0  # z is not the ground plane
    found = convert.odom(odometry((0.0, 0.0, 0.0, 1.0), covariance=covariance), NOW, CFG)
    assert found.position_variance == variance


def test_a_non_finite_position_variance_is_kept_as_nan():
    covariance = [0.0] * 36
    covariance[7] = math.inf
    found = convert.odom(odometry((0.0, 0.0, 0.0, 1.0), covariance=covariance), NOW, CFG)
    assert math.isnan(found.position_variance)


@pytest.mark.parametrize('yaw', [0.0, 0.5, -1.2, 3.0])
def test_odometry_takes_the_yaw_of_its_quaternion(yaw):
    q = (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))
    found = convert.odom(odometry(q), NOW, CFG)
    assert found == Odom(0.7, 0.2, 1.5, -2.0, 12.5, pytest.approx(yaw))


def test_the_yaw_of_a_tilted_quaternion_uses_every_component():
    # Roll 0.3, pitch 0.2, yaw 0.7 (ZYX): the yaw comes out of all four components.
    roll, pitch, yaw = 0.3, 0.2, 0.7
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    q = (sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy,
         cr * cp * sy - sr * sp * cy, cr * cp * cy + sr * sp * sy)
    assert convert.odom(odometry(q), NOW, CFG).yaw == pytest.approx(yaw)


def test_an_imu_gives_its_yaw_rate_and_stamp():
    msg = Msg(header=header(3, 250_000_000), angular_velocity=vector(0.1, 0.2, -0.6))
    assert convert.imu(msg, NOW, CFG) == Imu(-0.6, 3.25)


def test_a_model_announcement_is_capped_before_it_is_decoded():
    cap = CFG.confidence.max_meta_bytes
    text = '{"sha256": "' + 'a' * 64 + '", "name": "m", "version": "1"}'
    assert convert.model_announcement(text.encode(), NOW, CFG, bytes.decode).sha256 == 'a' * 64

    def refuse(raw):
        raise AssertionError('decoded an oversized message')
    oversized = convert.model_announcement(b'x' * (cap + 13), NOW, CFG, refuse)
    assert (oversized.sha256, oversized.error) == ('', f'oversized: more than {cap} bytes')
    broken = convert.model_announcement(b'\xff', NOW, CFG, bytes.decode)
    assert broken.error == 'malformed: undecodable (UnicodeDecodeError)'
