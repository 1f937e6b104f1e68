# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Launch the safety gate node with its parameters file and topic remappings."""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare
from safety_gate.config import NODE_NAME, param_sections
import yaml

# (launch argument, the node's own topic name, what flows on it)
_TOPICS = (
    ('planner_cmd_vel_topic', 'planner/cmd_vel', 'planner velocity proposals (in)'),
    ('planner_meta_topic', 'planner/meta', 'planner confidence and provenance JSON (in)'),
    ('odom_topic', 'odom', 'vehicle odometry (in)'),
    ('imu_topic', 'imu', 'IMU yaw rate (in)'),
    ('cmd_vel_topic', 'cmd_vel', 'gated actuator command (out)'),
)


def _merge(into: dict, update: dict) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def node_parameters(params_file: str, namespace: str) -> dict:
    """Return the gate's parameters from a params file, whatever the namespace.

    rcl applies a file's ``safety_gate:`` section only to ``/safety_gate``, so
    with a namespace an integrator's file would be silently ignored. Reading
    the sections here, in ``config.param_sections`` order (the most specific
    winning, as the tools read a file too), makes the file apply either way.
    """
    with open(params_file) as file:
        data = yaml.safe_load(file) or {}
    params: dict = {}
    for key in param_sections(namespace):
        section = data.get(key) or {}
        _merge(params, section.get('ros__parameters') or {})
    return params


def _gate(context):
    namespace = LaunchConfiguration('namespace').perform(context)
    params = node_parameters(LaunchConfiguration('params_file').perform(context), namespace)
    return [Node(
        package='safety_gate',
        executable='safety_gate_node',
        name=NODE_NAME,
        namespace=namespace,
        parameters=[
            params,
            {'use_sim_time': ParameterValue(LaunchConfiguration('use_sim_time'),
                                            value_type=bool)},
        ],
        remappings=[(topic, LaunchConfiguration(argument)) for argument, topic, _ in _TOPICS],
        ros_arguments=['--log-level', LaunchConfiguration('log_level')],
        output='screen',
        emulate_tty=True,
    )]


def generate_launch_description():
    """Declare the arguments and the one node."""
    arguments = [
        DeclareLaunchArgument('namespace', default_value='',
                              description='namespace of the node and its relative topics'),
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution(
                [FindPackageShare('safety_gate'), 'config', 'safety_gate.yaml']),
            description='ROS parameters file for the safety_gate node'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='follow /clock instead of the wall clock'),
        DeclareLaunchArgument('log_level', default_value='info',
                              description='ROS logger level'),
    ] + [
        DeclareLaunchArgument(argument, default_value=topic, description=doc)
        for argument, topic, doc in _TOPICS
    ]
    return LaunchDescription(arguments + [OpaqueFunction(function=_gate)])
