# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Parameters as ros2 param sees them: full descriptors, read-only, use_sim_time included."""

from harness.ros import UNLATCHED
from rcl_interfaces.msg import ParameterType
from rcl_interfaces.srv import DescribeParameters, GetParameters, ListParameters, SetParameters
from rclpy.parameter import Parameter
from safety_gate import config
from safety_gate.config import GateConfig

CFG = GateConfig()


def _call(bench, service, name, request):
    client = bench.node.create_client(service, f'/safety_gate/{name}')
    assert bench.wait_for(client.service_is_ready), f'no {name} service'
    future = client.call_async(request)
    assert bench.wait_for(future.done), f'the {name} service did not answer'
    return future.result()


def test_no_parameter_can_be_set_while_the_gate_runs(bench, start_gate):
    gate = start_gate(UNLATCHED)  # trace.path comes from the params file, rate_hz does not
    assert bench.wait_for_output(), gate.output()
    refusals = {}
    for name, value in (('use_sim_time', True), ('rate_hz', 10.0),
                        ('trace.path', '/tmp/elsewhere.jsonl')):
        parameter = Parameter(name, value=value).to_parameter_msg()
        result = _call(bench, SetParameters, 'set_parameters',
                       SetParameters.Request(parameters=[parameter])).results[0]
        assert not result.successful, name
        refusals[name] = result.reason
    assert refusals['use_sim_time'].startswith('use_sim_time is read-only while the gate runs')
    assert 'restart the node' in refusals['use_sim_time'], refusals
    # The gate's own parameters are read-only in their descriptors: rclpy refuses them.
    assert refusals['rate_hz'] == 'Trying to set a read-only parameter: rate_hz.', refusals
    assert refusals['trace.path'].startswith('Trying to set a read-only parameter'), refusals

    values = _call(bench, GetParameters, 'get_parameters',
                   GetParameters.Request(names=['use_sim_time', 'rate_hz'])).values
    assert values[0].bool_value is False and values[1].double_value == CFG.rate_hz
    counted = len(bench.cmd)
    bench.spin_for(1.0)
    assert len(bench.cmd) - counted >= 0.8 * CFG.rate_hz, 'cmd_vel stopped flowing'
    assert gate.returncode is None, gate.output()


def test_every_parameter_is_described_alike_whether_or_not_the_file_gave_it(bench, start_gate):
    # trace.path and rate_hz are in the file (rate_hz as an integer), the rest are defaults.
    gate = start_gate({**UNLATCHED, 'rate_hz': 40, 'envelope.max_linear_speed': 0.8})
    assert bench.wait_for_output(), gate.output()
    fields = dict(config.iter_fields())
    listed = _call(bench, ListParameters, 'list_parameters', ListParameters.Request()).result
    assert set(fields) <= set(listed.names), set(fields) - set(listed.names)
    # Nothing beyond the config tree except what rclpy itself declares.
    assert {n for n in listed.names if n not in fields} <= {
        'use_sim_time', 'start_type_description_service'} | {
        n for n in listed.names if n.startswith('qos_overrides.')}, listed.names

    names = sorted(fields)
    described = _call(bench, DescribeParameters, 'describe_parameters',
                      DescribeParameters.Request(names=names)).descriptors
    for name, descriptor in zip(names, described, strict=True):
        field = fields[name]
        info = field.field_info
        assert descriptor.name == name
        assert descriptor.read_only, name
        assert descriptor.description.startswith(info.description), name
        assert f'allowed: {config.allowed_range(field)}' in descriptor.additional_constraints
        if info.extra['unit']:
            assert descriptor.description.endswith(f'[{info.extra["unit"]}]'), name
        kind = type(field.default)
        if kind is float:
            assert descriptor.type == ParameterType.PARAMETER_DOUBLE, name
            (bounds,) = descriptor.floating_point_range
            assert (bounds.from_value, bounds.to_value) == (info.ge, info.le), name
        elif kind is int:
            assert descriptor.type == ParameterType.PARAMETER_INTEGER, name
            (bounds,) = descriptor.integer_range
            assert (bounds.from_value, bounds.to_value, bounds.step) == (info.ge, info.le, 1)
        else:
            assert not descriptor.floating_point_range and not descriptor.integer_range, name

    values = _call(bench, GetParameters, 'get_parameters', GetParameters.Request(
        names=['rate_hz', 'envelope.max_linear_speed', 'envelope.max_angular_speed'])).values
    assert [v.type for v in values] == [ParameterType.PARAMETER_DOUBLE] * 3
    assert [v.double_value for v in values] == [40.0, 0.8, CFG.envelope.max_angular_speed]
    assert gate.returncode is None, gate.output()
