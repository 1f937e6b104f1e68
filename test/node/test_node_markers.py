# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The live view over DDS: safety_gate/markers with markers.enabled, and no such topic without."""

import time

from harness.ros import Received, UNLATCHED
import pytest
from safety_gate import markers
from safety_gate.node import MARKERS_QOS
from visualization_msgs.msg import Marker, MarkerArray

V, W = 0.5, 0.2
RATE_HZ = 5.0
MARKERS_ON = {**UNLATCHED, 'markers.enabled': True, 'markers.max_rate_hz': RATE_HZ}
TOPIC = '/safety_gate/markers'


def record_views(bench):
    """Return the list the bench appends each MarkerArray on safety_gate/markers to."""
    views = []
    bench.node.create_subscription(
        MarkerArray, 'safety_gate/markers',
        lambda msg: views.append(Received(time.monotonic(), msg)), MARKERS_QOS)
    return views


def by_name(view: MarkerArray):
    return {(marker.ns, marker.id): marker for marker in view.markers[1:]}


def color(marker: Marker):
    return pytest.approx((marker.color.r, marker.color.g, marker.color.b, marker.color.a),
                         abs=1e-6)


def end(marker: Marker):
    point = marker.points[-1]
    return pytest.approx((point.x, point.y, point.z), abs=1e-6)


def wait_for_view(bench, views, accept, since: float = 0.0) -> MarkerArray:
    """Wait for and return the newest view received after ``since`` whose verdict text passes."""
    def match():
        return next((r.data for r in reversed(views) if r.t > since
                     and accept(by_name(r.data)['verdict', 0].text)), None)
    assert bench.wait_for(lambda: match() is not None), [
        by_name(r.data)['verdict', 0].text for r in views[-5:]]
    return match()


def record_of(bench, view: MarkerArray) -> dict:
    """Return the decision record the view was drawn from (the same time)."""
    stamp = view.markers[0].header.stamp
    stamp_ns = stamp.sec * 1_000_000_000 + stamp.nanosec

    def match():
        return next((r.data for r in bench.decisions if round(r.data['t'] * 1e9) == stamp_ns),
                    None)
    assert bench.wait_for(lambda: match() is not None), stamp_ns
    return match()


def test_the_view_is_coloured_by_verdict_and_drawn_to_scale(bench, start_gate):
    views = record_views(bench)
    gate = start_gate(MARKERS_ON)
    bench.drive(V, W, confidence=0.9)
    assert bench.wait_for_cmd(V, W), gate.output()
    assert bench.wait_for(lambda: bench.node.count_publishers(TOPIC) == 1)

    # Past the ramp, whose clamps show as limited.
    approved = wait_for_view(bench, views, lambda label: label == 'APPROVE')
    first, shown = approved.markers[0], by_name(approved)
    assert first.action == Marker.DELETEALL  # what the last view had and this one lacks goes
    assert all(m.header.frame_id == 'base_link' for m in approved.markers)
    for ident in (0, 1, 2):
        assert color(shown['output', ident]) == markers.APPROVED
        assert color(shown['proposal', ident]) == markers.APPROVED[:3] + (
            markers.PROPOSAL_ALPHA,)
    assert shown['output', 0].type == Marker.ARROW
    assert shown['envelope', 0].type == Marker.LINE_STRIP
    assert end(shown['output', 0]) == (V, 0.0, 0.0) and end(shown['output', 1]) == (0.0, W, 0.0)
    assert end(shown['proposal', 0]) == (V, 0.0, 0.0)

    refused_since = time.monotonic()
    bench.drive(V, W, confidence=0.1)
    refused = wait_for_view(bench, views, lambda label: label.startswith('FALLBACK'),
                            refused_since)
    shown = by_name(refused)
    assert 'LOW_CONFIDENCE' in shown['verdict', 0].text
    assert color(shown['verdict', 0]) == markers.FALLBACK
    assert color(shown['output', 2]) == markers.FALLBACK
    assert color(shown['proposal', 0]) == markers.FALLBACK[:3] + (markers.PROPOSAL_ALPHA,)
    # The output arrow is the command the decision sent, stopping.
    output = record_of(bench, refused)['output']
    assert output['v'] < V
    assert shown['output', 2].pose.position.x == pytest.approx(output['v'], abs=1e-9)
    if output['v']:
        assert end(shown['output', 0]) == (output['v'], 0.0, 0.0)

    # At most markers.max_rate_hz, while cmd_vel runs at rate_hz (50).
    counted, commands = len(views), len(bench.cmd)
    bench.spin_for(2.0)
    assert 1 <= len(views) - counted <= 2.0 * RATE_HZ + 2, len(views) - counted
    assert len(bench.cmd) - commands > 4 * (len(views) - counted)


def test_without_markers_enabled_there_is_no_markers_topic(bench, start_gate):
    gate = start_gate(UNLATCHED)
    bench.drive(V, W, confidence=0.9)
    assert bench.wait_for_cmd(V, W), gate.output()
    # The gate's last publisher before the view's would be is seen, and some time after it.
    assert bench.wait_for(lambda: bench.node.count_publishers('/diagnostics') >= 1)
    bench.spin_for(1.0)
    assert bench.node.count_publishers(TOPIC) == 0
