# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The start latch and the e-stop latch: zero at once, reset rules, no stale motion after.

Also the e-stop input itself: a value held by a latched (transient local)
publisher reaches a gate that starts later, and a heartbeat that stops
latches the gate.
"""

import time

from harness.ros import UNLATCHED
from safety_gate.decision import Reason
from safety_gate.kit.world.rosutil import LATCHED_QOS
from std_msgs.msg import Bool

RESET_ATTEMPTS_TIMEOUT = 10.0  # s: the e-stop release and the reset travel separately
HEARTBEAT = 0.5  # s: estop.heartbeat_timeout in the heartbeat test


def test_latches_and_reset(bench, start_gate):
    gate = start_gate()  # require_reset_on_start defaults to true
    bench.drive(0.5, 0.0, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    bench.spin_for(0.5)
    assert all(c.is_zero for c in bench.cmd), 'moved before the first reset'
    assert bench.decisions and all(r.data['verdict'] == 'ESTOP' for r in bench.decisions)
    assert Reason.LATCHED_ON_START in bench.decisions[-1].data['reasons']
    assert bench.wait_for(lambda: bench.states) and bench.states[-1].data['verdict'] == 'ESTOP'

    assert bench.call_reset()[0] is True
    assert bench.wait_for_cmd(0.5), (bench.cmd[-1], gate.output())

    # E-stop: zero at once (no ramp), ESTOP verdicts from then on.
    pressed = time.monotonic()
    bench.publish_estop(True)
    assert bench.wait_for(lambda: any(c.is_zero for c in bench.cmd_since(pressed)))
    first_zero = next(c for c in bench.cmd_since(pressed) if c.is_zero)
    assert first_zero.t - pressed < 0.25
    estop = bench.wait_for_decision(lambda r: r['trigger'] == 'estop', pressed)
    assert estop is not None and estop.data['output'] == {'v': 0.0, 'w': 0.0}, estop
    bench.spin_for(0.5)
    assert all(c.is_zero for c in bench.cmd_since(first_zero.t))
    latched = bench.decisions_after(estop)
    assert all(r['verdict'] == 'ESTOP' and Reason.ESTOP in r['reasons'] for r in latched)
    assert bench.states[-1].data['verdict'] == 'ESTOP'

    success, message = bench.call_reset()
    assert (success, message) == (False, 'the e-stop input is still engaged')
    # The log says "refused" once: the reply gives the reason, the node the verdict.
    assert bench.wait_for(lambda: 'reset refused: the e-stop input is still engaged'
                          in gate.output()), gate.output()
    assert 'refused: refused' not in gate.output()

    # Release, then reset. Each attempt first sends a proposal stamped before the
    # reset: whenever the gate sees it, the reset must void it.
    bench.stop_proposals()
    bench.publish_estop(False)
    deadline = time.monotonic() + RESET_ATTEMPTS_TIMEOUT
    success = False
    while not success and time.monotonic() < deadline:
        before_reset = bench.now_ns()
        bench.publish_proposal(0.5, 0.0, 0.9, stamp_ns=before_reset - 1_000_000)
        success, message = bench.call_reset()
    assert success, message
    reset_done = time.monotonic()
    held = bench.publish_proposal(0.5, 0.0, 0.9, stamp_ns=before_reset)
    void = bench.wait_for_decision(
        lambda r: r['proposal'] is not None
        and abs(r['proposal']['stamp'] - held.stamp_ns / 1e9) < 1e-6, reset_done)
    assert void is not None and void.data['verdict'] == 'FALLBACK', void
    assert Reason.PROPOSAL_BEFORE_RESET in void.data['reasons'], void.data
    bench.spin_for(1.0)
    assert all(c.is_zero for c in bench.cmd_since(first_zero.t)), 'moved without a fresh proposal'
    reset = bench.wait_for_decision(lambda r: r['trigger'] == 'reset', pressed)
    assert reset is not None
    assert all(r['verdict'] == 'FALLBACK' for r in bench.decisions_after(reset))

    fresh = time.monotonic()
    bench.drive(0.5, 0.0, confidence=0.9)
    assert bench.wait_for(lambda: any(c.v > 0.0 for c in bench.cmd_since(fresh))), gate.output()
    assert bench.wait_for_cmd(0.5)


def test_an_estop_held_before_the_gate_starts_latches_it(bench, start_gate):
    held = bench.node.create_publisher(Bool, 'safety_gate/estop', LATCHED_QOS)
    held.publish(Bool(data=True))
    gate = start_gate(UNLATCHED)
    assert bench.wait_for_output(), gate.output()
    estop = bench.wait_for_decision(lambda r: r['trigger'] == 'estop', 0.0)
    assert estop is not None, gate.output()
    assert estop.data['verdict'] == 'ESTOP' and Reason.ESTOP in estop.data['reasons']
    bench.drive(0.5, 0.0, confidence=0.9)
    bench.spin_for(1.0)
    assert all(c.is_zero for c in bench.cmd), 'moved with the e-stop held'
    assert not [r for r in bench.decisions if r.data['verdict'] == 'APPROVE']
    success, message = bench.call_reset()
    assert success is False and 'e-stop input is still engaged' in message, message
    # The bench's volatile e-stop publisher cannot match the transient local
    # subscription: expected, so not reported as an error.
    assert 'incompatible QoS' not in gate.output(), gate.output()
    assert gate.returncode is None, gate.output()


def test_a_silent_estop_heartbeat_latches_the_gate(bench, start_gate):
    gate = start_gate({**UNLATCHED, 'estop.heartbeat_timeout': HEARTBEAT})
    beat = bench.node.create_timer(0.1, lambda: bench.publish_estop(False))
    bench.drive(0.5, 0.0, confidence=0.9)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for_cmd(0.5), (bench.cmd[-1], gate.output())

    bench.node.destroy_timer(beat)
    silenced = time.monotonic()
    lost = bench.wait_for_decision(lambda r: 'ESTOP_HEARTBEAT_LOST' in r['reasons'], silenced)
    assert lost is not None, gate.output()
    assert lost.t - silenced < HEARTBEAT + 1.0
    assert lost.data['verdict'] == 'ESTOP' and lost.data['output'] == {'v': 0.0, 'w': 0.0}
    bench.spin_for(0.5)
    assert bench.cmd[-1].is_zero, bench.cmd[-1]
    assert not [r for r in bench.decisions_after(lost) if r['verdict'] != 'ESTOP']
    success, message = bench.call_reset()
    assert success is False and 'heartbeat' in message, message

    # The publisher is back: the latch holds until a reset, which is accepted now.
    bench.node.create_timer(0.1, lambda: bench.publish_estop(False))
    bench.spin_for(0.5)
    assert bench.cmd[-1].is_zero, bench.cmd[-1]
    assert bench.wait_for(lambda: bench.call_reset()[0], RESET_ATTEMPTS_TIMEOUT), gate.output()
    assert bench.wait_for_cmd(0.5), (bench.cmd[-1], gate.output())
