# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The gate as a managed (lifecycle) node, for stacks that bring nodes up through a manager.

The transitions follow Nav2's lifecycle manager conventions:

* configure validates the configuration (refused with the same one-line
  message as the plain node gives at start, naming parameter, value and
  range: the transition fails and the gate stays unconfigured), creates the
  outputs and opens the trace;
* activate starts from the initial state (latched until
  ``safety_gate/reset`` when ``require_reset_on_start``, as after a restart),
  hears the inputs and publishes at ``rate_hz``;
* deactivate publishes and traces a final zero, says so, and goes quiet;
* cleanup closes the trace and removes the outputs; shutdown does what is
  left of both from any state, and the process then exits (code 0).

"Never silent" holds while the gate is active. An inactive gate publishes
nothing on ``cmd_vel``, as every managed node: its last word was a zero, and
the base controller's own command timeout holds the robot from then on. The
exit watchdog (``monitor.max_spin_failure``) watches only an active gate.
"""

from functools import partial
import sys

from lifecycle_msgs.msg import State
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.lifecycle import LifecycleNodeMixin, LifecycleState, TransitionCallbackReturn
from safety_gate import config
from safety_gate.node import catch_stop_signals, init_process, refuse, SafetyGateNode, serve


class ManagedSafetyGate(LifecycleNodeMixin, SafetyGateNode):
    """The safety gate, configured and activated by lifecycle transitions."""

    def __init__(self, params_files=(), **kwargs):
        """Create an unconfigured gate; ``params_files`` are checked at configure."""
        # As rclpy builds LifecycleNode: the node first, then the state machine.
        SafetyGateNode.__init__(self, params_files, managed=True, **kwargs)
        LifecycleNodeMixin.__init__(self, enable_communication_interface=True)
        self.configured = False
        # rclpy raises out of the service callback on a transition the state
        # does not allow, and the caller never gets an answer: refuse it instead.
        change_state = self._service_change_state
        change_state.callback = partial(self._refuse_impossible, change_state.callback)

    def _refuse_impossible(self, change_state, request, response):
        try:
            return change_state(request, response)
        except _rclpy.RCLError as exc:
            label = self._state_machine.current_state[1]
            self.get_logger().warning(
                f'transition {request.transition.label or request.transition.id} refused in '
                f'state {label}: {exc}')
            response.success = False
            return response

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Validate the configuration, create the outputs, open the trace."""
        try:
            self.configure_gate()
        except config.ConfigError as exc:
            self.get_logger().error(f'refusing to configure: {exc}')
            return TransitionCallbackReturn.FAILURE
        self.configured = True
        self.get_logger().info(
            f'configured: config sha256 {self.config_sha256[:12]}, inactive: nothing on cmd_vel')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Start the output at rate_hz from the initial state."""
        self.activate_gate()
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Publish a final zero, then go quiet."""
        self.deactivate_gate()
        self.get_logger().info('deactivated: final zero published; nothing on cmd_vel until '
                               'activated again (the base controller timeout holds the robot)')
        return TransitionCallbackReturn.SUCCESS

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Close the trace and remove the outputs."""
        self.cleanup_gate()
        self.configured = False
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything, whatever state the gate was in."""
        self.release()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Fail closed after a transition raised: a final zero if active, then unconfigured."""
        self.get_logger().error(f'a transition from {state.label} raised; releasing the gate')
        self.release()
        return TransitionCallbackReturn.SUCCESS

    def release(self) -> None:
        """Deactivate and clean up what is still active or configured."""
        if self.active:
            self.deactivate_gate()
        if self.configured:
            self.cleanup_gate()
            self.configured = False

    @property
    def finalized(self) -> bool:
        """Return True once the shutdown transition has run."""
        return self._state_machine.current_state[0] == State.PRIMARY_STATE_FINALIZED


def main(args=None) -> int:
    """Run the managed gate until SIGINT, SIGTERM or its shutdown transition.

    Exit 2 with one line on a problem with the params files or ROS arguments
    (found before any transition); an invalid parameter value fails the
    configure transition instead, and the process stays up for the manager.
    """
    try:
        params_files = init_process(args)
    except config.ConfigError as exc:
        return refuse(exc)
    stop = catch_stop_signals()
    node = ManagedSafetyGate(params_files)

    def finish():
        if stop:
            node.get_logger().info(f'signal {stop[0]}: releasing the gate and stopping')

    serve(node, lambda: bool(stop) or node.finalized, finish)
    return 0


if __name__ == '__main__':
    sys.exit(main())
