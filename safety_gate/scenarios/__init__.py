# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The scenario library: closed-loop hazard scenarios, their metrics and the report.

A test and evaluation tool, not part of the safety function.
"""
