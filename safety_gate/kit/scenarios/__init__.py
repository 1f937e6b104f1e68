# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The scenario library: closed-loop hazard scenarios, their metrics and the report.

Layer 2 of the evaluation kit, beside the bench; not part of the safety function.
"""
