# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Core tests of recovery: what a reset, an internal error or a clock jump leave for the next step.

The operator's reset: its reply, its own decision and what it voids or keeps;
an internal error: how the decisions after it go on; and what else must carry
from one step to the next (the e-stop heartbeat, the proposal that overtook a
waiting one).
"""

from harness.core_driver import driving, Gate, PERIOD, reset, TICK
from harness.plans import straight
import pytest

from safety_gate import core, fallback
from safety_gate.decision import Check, Command, Reason, Verdict, ZERO
from safety_gate.events import Estop, Proposal, Reset, Tick

HEARTBEAT = 8 * TICK
# Drift withdraws authority once the confidence mean of 10 proposals is below 0.8.
WITHDRAW = {'spi.min_samples': 10, 'spi.window': 30.0, 'spi.confidence_mean_limit': 0.8,
            'spi.confidence_mean_action': 'withdraw'}
TRAJECTORY = {'planner.input': 'autoware_trajectory', 'confidence.required': False,
              'confidence.pairing_wait': 0.0}


# ---------------------------------------------------------------- the reset's reply

def pressed() -> Gate:
    gate = driving()
    gate.decide(Estop(True))
    return gate


def released() -> Gate:
    gate = pressed()
    gate.feed(Estop(False))
    gate.advance()
    return gate


def heartbeat_lost() -> Gate:
    gate = Gate({'estop.heartbeat_timeout': HEARTBEAT})
    gate.feed(Estop(False))
    gate.cycles(3, 0.5)  # 3 periods without a message: 0.375 s
    return gate


def two_inputs_unhealthy() -> Gate:
    gate = Gate({'require_reset_on_start': True, 'imu.enabled': True}, follow=False)
    gate.odom(0.0)
    gate.advance(gate.cfg.odom.timeout + TICK)
    return gate


def stuck_and_withdrawn() -> Gate:
    """Return an unlatched gate holding ODOM_STUCK whose drift action has become withdraw.

    Its odometry is frozen at standstill under 0.2 m/s proposals of confidence
    0.6, which pass the gate's threshold but drag the mean below the SPI limit.
    """
    gate = Gate(WITHDRAW, follow=False)
    for k in range(96):
        gate.now += TICK
        gate.odom(0.0, 0.0, x=0.0, yaw=0.0)
        if k % 4 == 3:
            gate.propose(0.2, confidence=0.6)
        else:
            gate.tick()
        if gate.state.drift != 'none':
            break
    assert gate.state.drift == 'withdraw' and not gate.state.latched
    assert Reason.ODOM_STUCK in gate.decisions[-1].reasons
    return gate


REPLIES = {
    'e-stop engaged': (pressed, (False, 'the e-stop input is still engaged')),
    'heartbeat lost': (heartbeat_lost, (
        False, 'the e-stop heartbeat is lost (last message 0.375 s ago, '
               'estop.heartbeat_timeout 0.25 s)')),
    'two inputs unhealthy': (two_inputs_unhealthy,
                             (False, 'inputs unhealthy (ODOM_STALE, IMU_MISSING)')),
    'latched': (released, (True, 'latch cleared: waiting for a fresh, valid proposal')),
    'nothing to reset': (driving, (True, 'not latched, no held sensor fault and no drift '
                                         'withdrawal: nothing to reset')),
    'held and withdrawn': (stuck_and_withdrawn, (
        True, 'released the held ODOM_STUCK: the checks are re-armed; '
              'cleared the drift withdrawal')),
}


@pytest.mark.parametrize('situation', REPLIES)
def test_the_reset_reply_says_in_words_why_it_was_accepted_or_refused(situation):
    # The node answers the Trigger call with it and logs it: it is all the operator sees.
    build, reply = REPLIES[situation]
    assert build().feed(Reset()).reply == reply


# ---------------------------------------------------------------- what the reset restores

def test_a_reset_that_clears_a_withdrawal_decides_at_once_as_a_reset_without_it():
    (decision,) = stuck_and_withdrawn().feed(Reset()).decisions
    assert decision.trigger == 'reset'
    # Neither the released fault nor the withdrawal: authority, once held, returns
    # through the hysteresis.
    assert decision.reasons == (Reason.HYSTERESIS,)


def test_a_reset_restarts_only_held_checks_so_a_robot_ignoring_the_stop_is_still_caught():
    # A robot that keeps driving after the e-stop fails its tracking check only
    # after tracking_timeout; a reset accepted before that must not restart the
    # timer, or every reset in time would hide it for another timeout.
    gate = driving(0.8)
    gate.follow = False
    gate.decide(Estop(True))
    gate.feed(Estop(False))
    ticks = []
    for k in range(64):
        gate.now += TICK
        gate.x += 0.8 * TICK
        gate.odom(0.8, 0.0, x=gate.x)
        if k == 16:
            assert gate.feed(Reset()).reply[0] is True
        ticks.append(gate.tick())
    disobeying = ticks[0].t  # the first odometry at 0.8 m/s against the zero output
    caught = next(d for d in ticks if Reason.TRACKING_ERROR in d.reasons)
    assert caught.t - disobeying <= gate.cfg.odom.tracking_timeout + TICK


def test_a_reset_in_trajectory_mode_forgets_the_plan_approved_before_it():
    gate = Gate(TRAJECTORY)
    gate.advance()
    assert gate.decide(straight(0.5, stamp=gate.now)).verdict is Verdict.APPROVE
    for _ in range(16):
        gate.advance()
        gate.tick()
    gate.decide(Estop(True))
    # As after start: no proposal, not an old plan waiting for authority.
    assert reset(gate).reasons == (Reason.NO_PROPOSAL,)


def test_a_backwards_clock_forgets_the_reset_time_with_every_other_stored_time():
    gate = pressed()
    reset(gate)
    gate.cycles(6, 0.5)
    gate.decide(Tick(), dt=-1.0)  # back to before the reset
    after = gate.cycles(8, 0.5)
    assert all(Reason.PROPOSAL_BEFORE_RESET not in d.reasons for d in after)
    assert after[-1].verdict is Verdict.APPROVE


def test_an_estop_held_pressed_by_a_live_publisher_loses_no_heartbeat():
    gate = Gate({'estop.heartbeat_timeout': HEARTBEAT})
    gate.feed(Estop(False))
    gate.cycle(0.5)
    start = len(gate.decisions)
    for _ in range(6):  # 0.75 s, three heartbeat timeouts, of messages saying 'pressed'
        gate.feed(Estop(True))
        gate.cycle(0.5)
    pressed_for = gate.decisions[start:]
    assert all(d.reasons[0] is Reason.ESTOP for d in pressed_for)
    assert all(Reason.ESTOP_HEARTBEAT_LOST not in d.reasons for d in pressed_for)


# ---------------------------------------------------------------- after an internal error

def failed(gate: Gate):
    """Decide an internal error at the gate's time, as the node does when a step raises."""
    result = core.internal_error(gate.state, gate.now, gate.cfg, 'tick', 'injected')
    gate.state = result.state
    gate.decisions.extend(result.decisions)
    (decision,) = result.decisions
    return decision


def test_the_tick_after_an_internal_error_finds_authority_revoked_at_the_error():
    gate = driving()
    failed(gate)
    gate.advance()
    decisions = gate.feed(Tick()).decisions
    # One decision: an internal error is no clock jump.
    assert [d.trigger for d in decisions] == ['tick']
    assert decisions[0].reasons == (Reason.HYSTERESIS,)
    confidence = gate.cfg.confidence
    assert Check('hysteresis', False, {'streak': 0, 'dwell': TICK},
                 {'streak': confidence.recover_count, 'dwell': confidence.min_dwell},
                 Reason.HYSTERESIS) in decisions[0].checks


@pytest.mark.parametrize('count, dwell, approved_by', [
    (2, 6 * PERIOD, 6),  # min_dwell after the error sets the time
    (5, TICK, 5),  # recover_count clean proposals set it
])
def test_after_an_internal_error_authority_returns_through_the_whole_hysteresis(
        count, dwell, approved_by):
    gate = driving(params={'confidence.recover_count': count, 'confidence.min_dwell': dwell})
    failed(gate)
    verdicts = [d.verdict for d in gate.cycles(approved_by, 0.5)]
    assert verdicts == [Verdict.FALLBACK] * (approved_by - 1) + [Verdict.APPROVE]


def test_the_fallback_after_an_internal_error_goes_on_braking_from_its_output():
    # The error's decision is a FALLBACK in force: the next one continues its
    # ramp, and is no first step after an approval, which would drop the
    # output to the (lower) measured speed.
    gate = driving(0.5)
    gate.follow = False
    step = gate.cfg.fallback.decel * TICK
    gate.advance()
    gate.odom(0.5)
    assert failed(gate).output == Command(0.5 - step, 0.0)
    gate.advance()
    gate.odom(0.25)
    assert gate.tick().output == Command(0.5 - 2 * step, 0.0)


def test_an_internal_error_whose_fallback_ramp_raises_too_outputs_zero(monkeypatch):
    gate = driving(0.5)
    gate.advance()

    def broken(*args):
        raise ZeroDivisionError('injected')
    monkeypatch.setattr(fallback, 'step', broken)
    monkeypatch.setattr(fallback, 'first_step', broken)
    decision = failed(gate)
    assert (decision.verdict, decision.reasons, decision.output) == (
        Verdict.FALLBACK, (Reason.INTERNAL_ERROR,), ZERO)
    monkeypatch.undo()
    gate.advance()
    assert gate.tick().output == ZERO


# ---------------------------------------------------------------- carried between steps

def test_a_plain_twist_overtaking_a_waiting_stamped_proposal_is_named_in_its_refusal():
    gate = driving(params={'confidence.pairing_wait': 2 * TICK})
    gate.advance()
    waiting = Proposal(0.4, 0.0, gate.now)
    assert gate.feed(waiting).decisions == ()
    gate.advance()
    plain = Proposal(0.3, 0.0, gate.now, stamped=False)
    superseded, decided = gate.feed(plain).decisions
    assert superseded.proposal is waiting and decided.proposal is plain
    assert superseded.checks == (Check('proposal.superseded', False, waiting.stamp, plain.stamp,
                                       Reason.SUPERSEDED),)


def test_a_reset_that_reveals_a_backwards_clock_still_answers():
    # The jump refuses the proposal waiting for its meta; the reset's reply must
    # reach the operator all the same. The jump forgot the odometry's time with
    # every other stored time, so the reset is refused until odometry comes again.
    gate = released()
    gate.feed(Proposal(0.4, 0.0, gate.now))
    result = gate.feed(Reset(), dt=-1.0)
    assert [d.trigger for d in result.decisions] == ['superseded', 'clock_jump']
    assert result.reply == (False, 'inputs unhealthy (ODOM_MISSING)')
