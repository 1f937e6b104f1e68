# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A runtime safety gate between an AI planner and the actuator command topic."""
