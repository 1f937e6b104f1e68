# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The tests' shared helpers: ROS processes and bench, fault campaigns, pure core drivers."""
