# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Parameters are read-only while the gate runs, use_sim_time included; a refusal says why."""

from harness.ros import UNLATCHED
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.parameter import Parameter
from safety_gate.config import GateConfig

CFG = GateConfig()


def _call(bench, client, request):
    assert bench.wait_for(client.service_is_ready), 'no parameter service'
    future = client.call_async(request)
    assert bench.wait_for(future.done), 'the parameter service did not answer'
    return future.result()


def test_no_parameter_can_be_set_while_the_gate_runs(bench, start_gate):
    gate = start_gate(UNLATCHED)  # trace.path comes from the params file, rate_hz does not
    assert bench.wait_for_output(), gate.output()
    setter = bench.node.create_client(SetParameters, '/safety_gate/set_parameters')
    getter = bench.node.create_client(GetParameters, '/safety_gate/get_parameters')
    for name, value, why in (('use_sim_time', True, 'timing'),
                             ('rate_hz', 10.0, 'behaviour or timing'),
                             ('trace.path', '/tmp/elsewhere.jsonl', 'behaviour or timing')):
        parameter = Parameter(name, value=value).to_parameter_msg()
        result = _call(bench, setter, SetParameters.Request(parameters=[parameter])).results[0]
        assert not result.successful, name
        assert result.reason.startswith(f'{name} is read-only while the gate runs'), result.reason
        assert why in result.reason and 'restart the node' in result.reason, result.reason

    values = _call(bench, getter, GetParameters.Request(names=['use_sim_time', 'rate_hz'])).values
    assert values[0].bool_value is False and values[1].double_value == CFG.rate_hz
    counted = len(bench.cmd)
    bench.spin_for(1.0)
    assert len(bench.cmd) - counted >= 0.8 * CFG.rate_hz, 'cmd_vel stopped flowing'
    assert gate.returncode is None, gate.output()
