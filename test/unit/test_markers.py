# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The live view on safety_gate/markers: colours by verdict, commands to scale, the plans."""

import math

from hypothesis import given, strategies as st
import pytest
from safety_gate import checks, markers, plan_fallback, plan_output
from safety_gate.config import EnvelopeConfig, GateConfig
from safety_gate.decision import Clamp, Command, Decision, Reason, Verdict
from safety_gate.ego_motion import Pose
from safety_gate.events import Plan, Proposal
from safety_gate.markers import Kind
from safety_gate.plan_mode import PlanState
from safety_gate.plan_profile import profile

CFG = GateConfig()
V = 0.5
STAMP = 10.0
PLAN = Plan(STAMP, 'base_link', tuple((0.1 * i, V * 0.1 * i, 0.0, 0.0) for i in range(20)))
# The vehicle drove the plan for 0.5 s and is where the plan says.
DROVE = ((STAMP, Pose(3.0, 4.0, math.pi / 2)), (STAMP + 0.5, Pose(3.0, 4.25, math.pi / 2)))
COMMANDS = st.floats(-5.0, 5.0, allow_nan=False)


def decision(verdict=Verdict.APPROVE, output=Command(0.4, 0.2), proposal=Proposal(0.5, 0.2, 1.0),
             clamps=(), reasons=(), t=STAMP + 0.5):
    return Decision(t, 'proposal', verdict, reasons, (), proposal, None, output, clamps)


def by_name(found):
    return {(shape.ns, shape.ident): shape for shape in found}


@pytest.mark.parametrize('made, color', [
    (decision(), markers.APPROVED),
    (decision(clamps=(Clamp.LINEAR_ACCEL,)), markers.LIMITED),
    (decision(Verdict.FALLBACK, reasons=(Reason.LOW_CONFIDENCE,)), markers.FALLBACK),
    (decision(Verdict.ESTOP, reasons=(Reason.ESTOP,)), markers.ESTOP),
], ids=['approved', 'limited', 'fallback', 'estop'])
def test_the_commands_and_the_verdict_are_coloured_by_verdict(made, color):
    found = by_name(markers.shapes(made, None, CFG))
    for ident in (0, 1, 2):
        assert found['output', ident].color == color
        assert found['proposal', ident].color == color[:3] + (markers.PROPOSAL_ALPHA,)
    assert found['verdict', 0].color == color
    assert found['verdict', 0].text.startswith(made.verdict.value)
    assert found['envelope', 0].color == markers.ENVELOPE


def test_the_four_colours_differ():
    assert len({markers.APPROVED, markers.LIMITED, markers.FALLBACK, markers.ESTOP}) == 4


@given(COMMANDS, COMMANDS, COMMANDS, COMMANDS)
def test_the_arrows_are_as_long_as_the_commands(v, w, proposed_v, proposed_w):
    made = decision(output=Command(v, w), proposal=Proposal(proposed_v, proposed_w, STAMP))
    found = by_name(markers.shapes(made, None, CFG))
    for ns, (speed, yaw_rate) in (('output', (v, w)), ('proposal', (proposed_v, proposed_w))):
        assert found[ns, 2].points == ((speed, yaw_rate, 0.0),)
        if speed:
            assert found[ns, 0].points == ((0.0, 0.0, 0.0), (speed, 0.0, 0.0))
        else:
            assert (ns, 0) not in found  # no direction to draw
        if yaw_rate:
            assert found[ns, 1].points == ((0.0, 0.0, 0.0), (0.0, yaw_rate, 0.0))
        else:
            assert (ns, 1) not in found


def test_a_non_finite_proposal_is_not_drawn_and_the_output_is():
    made = decision(Verdict.FALLBACK, proposal=Proposal(math.nan, 0.2, STAMP),
                    reasons=(Reason.NON_FINITE_COMMAND,))
    found = by_name(markers.shapes(made, None, CFG))
    assert not [key for key in found if key[0] == 'proposal']
    assert found['output', 0].points[1] == (0.4, 0.0, 0.0)
    assert 'NON_FINITE_COMMAND' in found['verdict', 0].text


@pytest.mark.parametrize('env', [
    EnvelopeConfig(),
    EnvelopeConfig(max_linear_speed=15.0, max_reverse_speed=3.0, max_angular_speed=0.5,
                   max_lateral_accel=3.0),
    EnvelopeConfig(max_linear_speed=0.5, max_reverse_speed=0.5, max_angular_speed=1.0,
                   max_lateral_accel=5.0),  # the lateral acceleration never binds
], ids=['defaults', 'car', 'no lateral limit'])
def test_the_envelope_outline_is_where_the_veto_starts(env):
    outline = markers.envelope_outline(env)
    assert outline[0] == outline[-1]

    def vetoed(v, w):
        return not all(check.ok for check in checks.envelope(Proposal(v, w, 0.0), env))
    for v, w, z in outline:
        assert z == 0.0
        assert not vetoed(0.999 * v, 0.999 * w), (v, w)
        assert vetoed(1.001 * v, 1.001 * w), (v, w)
    speeds = [v for v, _, _ in outline]
    yaw_rates = [w for _, w, _ in outline]
    assert max(speeds) == env.max_linear_speed and min(speeds) == -env.max_reverse_speed
    assert max(yaw_rates) == env.max_angular_speed == -min(yaw_rates)


def xy(points):
    return [pytest.approx((x, y)) for _, x, y, _, _ in points]


def strip_xy(shape):
    assert shape.kind is Kind.LINE_STRIP
    return [(x, y) for x, y, _ in shape.points]


def test_on_approve_the_proposed_and_the_approved_plans_are_drawn_as_of_now():
    plans = PlanState(poses=DROVE, latest=PLAN, approved=PLAN,
                      approved_profile=profile(PLAN, 0.01))
    found = by_name(markers.shapes(decision(proposal=PLAN), plans, CFG))
    proposed, followed = found['proposed_plan', 0], found['approved_plan', 0]
    # The vehicle is 0.25 m along the plan: the plan as sent starts behind it.
    assert strip_xy(proposed)[0] == pytest.approx((-0.25, 0.0))
    assert strip_xy(proposed)[-1] == pytest.approx((0.7, 0.0))
    assert len(proposed.points) == len(PLAN.points)
    assert proposed.color == markers.APPROVED[:3] + (markers.PROPOSAL_ALPHA,)
    # What the gate follows from now on, as safety_gate/trajectory publishes it.
    assert strip_xy(followed) == xy(plan_output.points(plans, True, STAMP + 0.5, CFG))
    assert strip_xy(followed)[0] == pytest.approx((0.0, 0.0))
    assert followed.color == markers.APPROVED
    assert ('stop_plan', 0) not in found
    assert ('proposal', 0) not in found  # a plan is drawn as a plan, not as arrows


def test_on_fallback_the_stop_is_drawn_instead_of_the_approved_plan():
    prof = profile(PLAN, 0.01)
    stop = plan_fallback.start(prof, 0.5, V, CFG)
    plans = PlanState(poses=DROVE, latest=PLAN, approved=PLAN, approved_profile=prof, stop=stop)
    made = decision(Verdict.FALLBACK, output=Command(0.48, 0.0), proposal=PLAN,
                    reasons=(Reason.PLAN_SHIFT,))
    found = by_name(markers.shapes(made, plans, CFG))
    stopping = found['stop_plan', 0]
    assert strip_xy(stopping) == xy(plan_output.points(plans, False, STAMP + 0.5, CFG))
    assert stopping.color == markers.FALLBACK
    assert 0.0 < stopping.points[-1][0] < 0.25  # stops within v^2 / (2 decel), ahead
    assert ('approved_plan', 0) not in found
    assert found['proposed_plan', 0].color == markers.FALLBACK[:3] + (markers.PROPOSAL_ALPHA,)


def test_without_an_approved_plan_only_the_proposed_one_is_drawn():
    plans = PlanState(poses=DROVE, latest=PLAN)
    found = by_name(markers.shapes(decision(Verdict.ESTOP, proposal=PLAN), plans, CFG))
    assert {ns for ns, _ in found if ns.endswith('_plan')} == {'proposed_plan'}


def test_a_long_plan_is_thinned_to_its_end_and_non_finite_points_are_left_out():
    points = tuple((0.1 * i, 0.01 * i, 0.0, 0.0) for i in range(2345))
    broken = points[:5] + ((0.5, math.nan, 0.0, 0.0),) + points[6:]
    plans = PlanState(latest=Plan(STAMP, 'base_link', broken))
    strip = by_name(markers.shapes(decision(proposal=None), plans, CFG))['proposed_plan', 0]
    assert len(strip.points) <= markers.MAX_STRIP_POINTS + 1
    assert all(math.isfinite(value) for point in strip.points for value in point)
    # Without odometry the vehicle is at the plan's first point.
    assert strip.points[0] == (0.0, 0.0, 0.0)
    assert strip.points[-1] == pytest.approx((23.44, 0.0, 0.0))
