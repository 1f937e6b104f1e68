# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The alpamayo-autoware wrapper's message types that are not in the ROS wheels.

``autoware_planning_msgs`` (Trajectory, TrajectoryPoint) and
``autoware_internal_debug_msgs`` (StringStamped) are not on PyPI. They are
imported only when something needs them: the gate with ``planner.input``
``autoware_trajectory``, and the wrapper's stand-in. Without them the caller
refuses to start with :class:`InterfacesMissing`'s one-line reason.
"""

from dataclasses import dataclass
from typing import Any, Optional


class InterfacesMissing(RuntimeError):
    """The wrapper's message packages cannot be imported or lack their type support."""


@dataclass(frozen=True)
class WrapperTypes:
    """The message classes of the wrapper's outputs that are not in the ROS wheels."""

    trajectory: Any
    trajectory_point: Any
    string_stamped: Optional[Any]  # None without autoware_internal_debug_msgs


def load_wrapper_types() -> WrapperTypes:
    """Import the message classes; raise :class:`InterfacesMissing` saying how to get them.

    The type support is loaded here too: without the package's ``lib`` on
    LD_LIBRARY_PATH the import works and only the first publisher or
    subscription fails.
    """
    try:
        from autoware_planning_msgs.msg import Trajectory, TrajectoryPoint
        Trajectory.__class__.__import_type_support__()
    # ImportError, or rosidl's UnsupportedTypeSupport: either way the cause is told.
    except Exception as exc:  # noqa: B902
        cause = ' '.join(str(exc).split())  # one line, whatever rosidl's message is
        raise InterfacesMissing(
            f'autoware_planning_msgs is not usable ({cause}). It is not on PyPI: source an '
            'Autoware workspace, or in the safety_gate repository run `make interfaces`, which '
            'builds it into $VENV/interfaces/install, and start this node with that '
            "install's lib/python3.*/site-packages on PYTHONPATH and its lib on "
            'LD_LIBRARY_PATH (or source its local_setup.sh)') from exc
    return WrapperTypes(Trajectory, TrajectoryPoint, load_string_stamped())


def load_string_stamped() -> Optional[Any]:
    """Return autoware_internal_debug_msgs/StringStamped, or None where it is not usable."""
    try:
        from autoware_internal_debug_msgs.msg import StringStamped
        StringStamped.__class__.__import_type_support__()
    except Exception:  # noqa: B902 - as above; the stamped reasoning is then not used
        return None
    return StringStamped
