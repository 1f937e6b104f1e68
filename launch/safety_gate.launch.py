# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Launch the safety gate node with its parameters file and topic remappings."""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

# (launch argument, the node's own topic name, what flows on it)
_TOPICS = (
    ('planner_cmd_vel_topic', 'planner/cmd_vel', 'planner velocity proposals (in)'),
    ('planner_meta_topic', 'planner/meta', 'planner confidence and provenance JSON (in)'),
    ('odom_topic', 'odom', 'vehicle odometry (in)'),
    ('imu_topic', 'imu', 'IMU yaw rate (in)'),
    ('cmd_vel_topic', 'cmd_vel', 'gated actuator command (out)'),
)


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
    node = Node(
        package='safety_gate',
        executable='safety_gate_node',
        name='safety_gate',
        namespace=LaunchConfiguration('namespace'),
        parameters=[
            LaunchConfiguration('params_file'),
            {'use_sim_time': ParameterValue(LaunchConfiguration('use_sim_time'),
                                            value_type=bool)},
        ],
        remappings=[(topic, LaunchConfiguration(argument)) for argument, topic, _ in _TOPICS],
        ros_arguments=['--log-level', LaunchConfiguration('log_level')],
        output='screen',
        emulate_tty=True,
    )
    return LaunchDescription(arguments + [node])
