# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The gate's configuration as ROS parameters, with descriptors from the config tree.

The node declares nothing from its overrides automatically: it validates what
the params file and ``-p`` arguments give (``config.build``, whose refusal
names parameter, value and range), then declares every parameter of the
config tree with the validated value and a full descriptor: description with
its unit, the allowed range as ``FloatingPointRange`` / ``IntegerRange``, the
choices of a string, and ``read_only``. So ``ros2 param describe`` shows the
same thing whether or not a parameter was in the file, and rclpy refuses a
set of any of them.
"""

from typing import Any, Dict

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.node import Node
from safety_gate import config

READ_ONLY_WHY = ("read-only while the gate runs: it sets the gate's behaviour or timing, and the "
                 'config sha256 in the trace names the values it started with; restart the node '
                 'to change it')


def given(node: Node) -> Dict[str, Any]:
    """Return {name: value} of the node's overrides that configure the gate.

    The ROS-level ones (``use_sim_time``, ``qos_overrides.*``) are rclpy's to
    declare; every other name, known or not, goes to ``config.build``, which
    refuses the unknown ones.
    """
    return {name: parameter.value for name, parameter in node._parameter_overrides.items()
            if not name.startswith(config.ROS_LEVEL_PARAMETERS)
            and name != 'start_type_description_service'}


def descriptor(name: str, field) -> ParameterDescriptor:
    """Return the ROS descriptor of config parameter ``name`` (a pydantic field)."""
    info = field.field_info
    unit = info.extra['unit']
    described = ParameterDescriptor(
        name=name, read_only=True,
        description=f'{info.description} [{unit}]' if unit else info.description,
        additional_constraints=f'allowed: {config.allowed_range(field)}; {READ_ONLY_WHY}')
    # Bounded fields are pydantic's constrained subclasses of float and int.
    if issubclass(field.type_, float):
        described.floating_point_range = [FloatingPointRange(
            from_value=float(info.ge), to_value=float(info.le), step=0.0)]
    elif issubclass(field.type_, int) and not issubclass(field.type_, bool):
        described.integer_range = [IntegerRange(from_value=info.ge, to_value=info.le, step=1)]
    return described


def declare(node: Node, cfg: config.GateConfig) -> None:
    """Declare every parameter of ``cfg`` on ``node`` with its value and descriptor."""
    values = config.flatten(cfg)
    # ignore_override: the override is the raw value (an integer for a float
    # limit); the declared value is the one validated into ``cfg``.
    node.declare_parameters('', [(name, values[name], descriptor(name, field))
                                 for name, field in config.iter_fields()], ignore_override=True)
