# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The benchmark suite (``make bench``): what the gate costs against a plain rclpy relay.

A measurement tool, not part of the safety function. ``python -m safety_gate.kit.bench``
runs every benchmark and writes BENCHMARKS.md and a JSON file; see that file for
the method and the numbers.
"""
