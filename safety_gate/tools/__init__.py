# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Test and evaluation tools; none of them is part of the safety function."""
