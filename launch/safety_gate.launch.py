# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Launch the safety gate node with its parameters file and topic remappings.

The launch ends when the gate exits, so ``ros2 launch`` never outlives the
gate silently; with ``respawn`` the gate is restarted instead, except after a
refused configuration, which a restart would only repeat. With
``lifecycle:=true`` the gate is a managed node that starts unconfigured and
waits for a lifecycle manager (or ``change_state`` calls) to bring it up.
"""

from functools import partial

from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, OpaqueFunction, RegisterEventHandler,
                            Shutdown)
from launch.event_handlers import OnProcessExit
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode, Node
from launch_ros.substitutions import FindPackageShare
from safety_gate import registry
from safety_gate.config import NODE_NAME, read_params_file

# (launch argument, the node's own topic name, what flows on it)
_TOPICS = (
    ('planner_cmd_vel_topic', 'planner/cmd_vel', 'planner velocity proposals (in)'),
    ('planner_meta_topic', 'planner/meta', 'planner confidence and provenance JSON (in)'),
    ('odom_topic', 'odom', 'vehicle odometry (in)'),
    ('imu_topic', 'imu', 'IMU yaw rate (in)'),
    ('cmd_vel_topic', 'cmd_vel', 'gated actuator command (out)'),
    ('planner_trajectory_topic', 'planner/trajectory',
     'planner trajectory, nav_msgs/Path or autoware Trajectory (in, trajectory modes)'),
    ('planner_reasoning_topic', 'planner/reasoning',
     'planner reasoning text, std_msgs/String (in, trajectory modes)'),
    ('planner_reasoning_stamped_topic', 'planner/reasoning_stamped',
     'planner reasoning text, autoware StringStamped (in, trajectory modes)'),
    ('trajectory_topic', 'safety_gate/trajectory',
     'gated trajectory: the approved plan or the stop (out, trajectory modes)'),
)
# The node's exit code for a configuration it refuses (see safety_gate.node.main).
EXIT_CONFIG_REFUSED = 2


class GateExited(RuntimeError):
    """The gate exited while the launch was running and no respawn follows."""


def _flag(context, name: str) -> bool:
    value = LaunchConfiguration(name).perform(context).strip().lower()
    if value not in ('true', 'false'):
        raise ValueError(f'launch argument {name}:={value!r}: must be true or false')
    return value == 'true'


def _on_gate_exit(respawn: bool, event, context):
    if context.is_shutdown:  # the launch is stopping the gate itself
        return None
    code = event.returncode
    if respawn and code != EXIT_CONFIG_REFUSED:
        return None  # ExecuteProcess starts it again after respawn_delay
    if code == 0:
        return [Shutdown(reason='safety_gate exited cleanly (code 0)')]
    why = 'it refused its configuration' if code == EXIT_CONFIG_REFUSED else 'it failed'
    # Upstream launch exits 0 after a Shutdown event; only an exception makes
    # `ros2 launch` exit non-zero, which is what its own supervisor must see.
    raise GateExited(f'safety_gate exited with code {code}: {why} (see its output above)')


def _gate(context):
    namespace = LaunchConfiguration('namespace').perform(context)
    params_file = LaunchConfiguration('params_file').perform(context)
    params = read_params_file(params_file, namespace)
    # The node gets the parameters, not the file: a relative registry path is the file's.
    if params.get('provenance.registry_file'):
        params['provenance.registry_file'] = registry.resolve(
            params['provenance.registry_file'], params_file)
    if LaunchConfiguration('use_sim_time').perform(context):  # given: it overrides the file
        params['use_sim_time'] = _flag(context, 'use_sim_time')
    respawn = _flag(context, 'respawn')
    respawn_delay = float(LaunchConfiguration('respawn_delay').perform(context))
    # A positive delay lets the shutdown after a refused configuration win over a respawn.
    if not respawn_delay > 0.0:
        raise ValueError(f'launch argument respawn_delay:={respawn_delay}: must be > 0 s')
    managed = _flag(context, 'lifecycle')
    gate = (LifecycleNode if managed else Node)(
        package='safety_gate',
        executable='safety_gate_lifecycle_node' if managed else 'safety_gate_node',
        name=NODE_NAME,
        namespace=namespace,
        parameters=[params],
        remappings=[(topic, LaunchConfiguration(argument)) for argument, topic, _ in _TOPICS],
        ros_arguments=['--log-level', LaunchConfiguration('log_level')],
        output='screen',
        emulate_tty=True,
        respawn=respawn,
        respawn_delay=respawn_delay,
    )
    return [gate, RegisterEventHandler(OnProcessExit(target_action=gate,
                                                     on_exit=partial(_on_gate_exit, respawn)))]


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
        DeclareLaunchArgument('use_sim_time', default_value='',
                              description='true: follow /clock, false: the wall clock; '
                              "empty: the params file's value (false if absent)"),
        DeclareLaunchArgument('respawn', default_value='false',
                              description='restart the gate whenever it exits, except after '
                              'a refused configuration (exit 2); it restarts latched while '
                              'require_reset_on_start is true'),
        DeclareLaunchArgument('respawn_delay', default_value='1.0',
                              description='seconds before a respawn (> 0)'),
        DeclareLaunchArgument('lifecycle', default_value='false',
                              description='true: run the gate as a managed (lifecycle) node, '
                              'unconfigured until a lifecycle manager configures and activates '
                              'it; false: the plain node, active at once'),
        DeclareLaunchArgument('log_level', default_value='info',
                              description='ROS logger level'),
    ] + [
        DeclareLaunchArgument(argument, default_value=topic, description=doc)
        for argument, topic, doc in _TOPICS
    ]
    return LaunchDescription(arguments + [OpaqueFunction(function=_gate)])
