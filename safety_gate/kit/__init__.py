# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The evaluation kit: what tests, measures and demonstrates the gate; never part of it.

Layered bottom to top (docs/architecture.md): ``kit.world`` plays the robot
around the gate and records it; ``kit.scenarios`` (closed-loop hazard
scenarios, the demo) and ``kit.bench`` (the benchmarks) are built on it, side
by side. The safety function never imports the kit.
"""
