# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The managed gate over DDS: every transition, refused ones included, as a manager drives it.

The gate runs as its own process (``python -m safety_gate.lifecycle_node``);
the bench calls its lifecycle services as Nav2's lifecycle manager does.
"""

from pathlib import Path

from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
import pytest
from safety_gate import replay
from safety_gate.config import GateConfig
from safety_gate.node import MARKERS_QOS
from visualization_msgs.msg import MarkerArray

CFG = GateConfig()
V = 0.5
QUIET = 0.5  # s without a command that counts as silence (25 periods at 50 Hz)

pytestmark = [pytest.mark.ros]


class Manager:
    """The lifecycle services as a manager calls them: one client per service, kept."""

    def __init__(self, bench):
        self._bench = bench
        self._clients = {}

    def _call(self, service, name, request):
        client = self._clients.get(name)
        if client is None:
            client = self._bench.node.create_client(service, f'/safety_gate/{name}')
            assert self._bench.wait_for(client.service_is_ready), f'no {name} service'
            # Ready means the request path has matched; the answer path matches on
            # its own, and an answer sent before it is lost (Fast DDS: "failed to
            # send response (timeout)", seen in CI with a client per call).
            self._bench.spin_for(0.2)
            self._clients[name] = client
        assert self._bench.wait_for(client.service_is_ready), f'no {name} service'
        future = client.call_async(request)
        assert self._bench.wait_for(future.done), f'{name} did not answer'
        return future.result()

    def transition(self, transition_id) -> bool:
        request = ChangeState.Request(transition=Transition(id=transition_id))
        return self._call(ChangeState, 'change_state', request).success

    def state(self) -> int:
        return self._call(GetState, 'get_state', GetState.Request()).current_state.id


@pytest.fixture
def manager(bench):
    return Manager(bench)


def _silent(bench, seconds: float = QUIET) -> bool:
    counted = len(bench.cmd)
    bench.spin_for(seconds)
    return len(bench.cmd) == counted


def test_every_transition_over_dds(bench, start_managed_gate, manager, tmp_path):
    gate = start_managed_gate({})  # require_reset_on_start keeps its default: true
    bench.drive(V)
    assert manager.state() == State.PRIMARY_STATE_UNCONFIGURED
    assert _silent(bench), 'an unconfigured gate published'
    # Refused: a transition the state does not have is answered, not left hanging.
    assert not manager.transition(Transition.TRANSITION_ACTIVATE)
    assert manager.state() == State.PRIMARY_STATE_UNCONFIGURED

    assert manager.transition(Transition.TRANSITION_CONFIGURE)
    assert manager.state() == State.PRIMARY_STATE_INACTIVE
    assert _silent(bench), 'an inactive gate published'

    for activation in range(2):
        assert manager.transition(Transition.TRANSITION_ACTIVATE)
        assert manager.state() == State.PRIMARY_STATE_ACTIVE
        # Each activation starts latched, whatever the planner sends, until the reset.
        assert bench.wait_for(lambda: len(bench.cmd) >= CFG.rate_hz / 2), gate.output()
        assert all(c.is_zero for c in bench.cmd), activation
        assert bench.decisions[-1].data['reasons'][0] == 'LATCHED_ON_START', activation
        assert bench.call_reset()[0] is True
        assert bench.wait_for_cmd(V), (bench.cmd[-1], gate.output())

        assert manager.transition(Transition.TRANSITION_DEACTIVATE)
        assert manager.state() == State.PRIMARY_STATE_INACTIVE
        bench.spin_for(0.2)
        assert bench.cmd[-1].is_zero, bench.cmd[-3:]
        last = bench.decisions[-1].data
        assert last['trigger'] == 'shutdown' and last['output'] == {'v': 0.0, 'w': 0.0}, last
        assert _silent(bench), 'a deactivated gate kept publishing'
        bench.cmd.clear()

    assert manager.transition(Transition.TRANSITION_CLEANUP)
    assert manager.state() == State.PRIMARY_STATE_UNCONFIGURED
    assert not manager.transition(Transition.TRANSITION_DEACTIVATE)
    # A second configure after the cleanup: the same (read-only) configuration again.
    assert manager.transition(Transition.TRANSITION_CONFIGURE)
    assert manager.transition(Transition.TRANSITION_INACTIVE_SHUTDOWN)
    assert gate.wait(10.0) == 0, gate.output()
    assert _silent(bench)

    # Each activation is a config record: the trace replays exactly, across both.
    report = replay.replay([Path(tmp_path) / 'trace0.jsonl'])
    assert report.ok, (report.differences[:3], report.integrity)
    assert len(report.trace_configs) == 2, report.trace_configs


def test_the_view_is_an_output_configure_creates_and_cleanup_removes(bench, start_managed_gate,
                                                                     manager):
    topic = '/safety_gate/markers'
    views = []
    bench.node.create_subscription(MarkerArray, 'safety_gate/markers', views.append, MARKERS_QOS)
    gate = start_managed_gate({'require_reset_on_start': False, 'markers.enabled': True})
    bench.drive(V)
    assert manager.state() == State.PRIMARY_STATE_UNCONFIGURED
    bench.spin_for(QUIET)
    assert bench.node.count_publishers(topic) == 0

    assert manager.transition(Transition.TRANSITION_CONFIGURE)
    assert bench.wait_for(lambda: bench.node.count_publishers(topic) == 1), gate.output()
    assert manager.transition(Transition.TRANSITION_ACTIVATE)
    assert bench.wait_for(lambda: views), gate.output()
    assert manager.transition(Transition.TRANSITION_DEACTIVATE)
    assert manager.transition(Transition.TRANSITION_CLEANUP)
    assert bench.wait_for(lambda: bench.node.count_publishers(topic) == 0), gate.output()


def test_a_refused_configuration_fails_configure_and_says_why(bench, start_managed_gate,
                                                              manager):
    gate = start_managed_gate({'confidence.threshold': 1.5})
    assert not manager.transition(Transition.TRANSITION_CONFIGURE)
    assert manager.state() == State.PRIMARY_STATE_UNCONFIGURED
    assert bench.wait_for(lambda: 'refusing to configure' in gate.output()), gate.output()
    assert ("invalid parameter 'confidence.threshold' = 1.5" in gate.output()
            and '(allowed: [0.0, 1.0])' in gate.output()), gate.output()
    assert _silent(bench) and gate.returncode is None, gate.output()
    # It stays refused: the parameters cannot change while the process runs.
    assert not manager.transition(Transition.TRANSITION_CONFIGURE)


def test_a_signal_while_active_ends_in_a_final_zero(bench, start_managed_gate, manager):
    gate = start_managed_gate({'require_reset_on_start': False})
    bench.drive(V)
    assert manager.transition(Transition.TRANSITION_CONFIGURE)
    assert manager.transition(Transition.TRANSITION_ACTIVATE)
    assert bench.wait_for_cmd(V), (bench.cmd[-1:], gate.output())
    assert gate.stop() == 0, gate.output()
    bench.spin_for(0.2)
    assert bench.cmd[-1].is_zero, bench.cmd[-3:]
