# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""End-to-end added latency and CPU: every arm at each rate, in interleaved blocks.

At each rate every arm gets ``blocks`` measured blocks, in an order that
rotates from block to block, so a change in the machine's background load
falls on all arms alike. Each block starts with a short warm-up (not
measured: the gate regains authority and its clamps settle after idling
through the other arms' blocks). CPU is the arm process's CPU time over its
measured blocks, divided by their wall time.
"""

import time
from typing import Any, Dict, List, Sequence

from safety_gate.kit.bench.report import summarize
from safety_gate.kit.bench.rig import Rig, Sent

# Late outputs of the last block still count.
_DRAIN_S = 1.0


def run_e2e(rig: Rig, arms: Sequence[str], rates: Sequence[float], blocks: int,
            block_s: float, warmup_s: float) -> Dict[str, Dict[str, Any]]:
    """Return {rate: {arm: sent, drops, latency_us summary, cpu_percent, achieved_hz}}."""
    results: Dict[str, Dict[str, Any]] = {}
    for rate in rates:
        sent: Dict[str, List[Sent]] = {name: [] for name in arms}
        cpu = {name: 0.0 for name in arms}
        wall = {name: 0.0 for name in arms}
        for block in range(blocks):
            shift = block % len(arms)
            for name in list(arms[shift:]) + list(arms[:shift]):
                arm = rig.arms[name]
                rig.drive(arm, rate, warmup_s)
                cpu_before, wall_before = arm.cpu_seconds(), time.monotonic()
                sent[name] += rig.drive(arm, rate, block_s)
                cpu[name] += arm.cpu_seconds() - cpu_before
                wall[name] += time.monotonic() - wall_before
        rig.spin_for(_DRAIN_S)
        by_arm = {}
        for name in arms:
            latencies, drops = rig.latencies(rig.arms[name], sent[name])
            by_arm[name] = {
                'sent': len(sent[name]),
                'drops': drops,
                'latency_us': summarize(latencies),
                'cpu_percent': 100.0 * cpu[name] / wall[name],
                'achieved_hz': len(sent[name]) / wall[name],
            }
        results[f'{rate:g}'] = by_arm
    return results
