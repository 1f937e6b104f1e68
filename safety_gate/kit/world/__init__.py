# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The world around the gate: ROS stand-ins (vehicle, planner), a recorder and utilities.

The bottom layer of the evaluation kit; it imports only the safety function.
"""
