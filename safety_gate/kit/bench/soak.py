# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Soak: a fresh gate at a high rate for minutes; memory, trace loss and backlog.

RSS is sampled every second; growth is the last sample minus the first one
after the warm-up. Trace loss is the gate's own count (diagnostics
``safety_gate: trace`` ``lost``) plus every ``lost_before`` in its trace
file. *Behind* is, at an instant T, the proposals sent by T that the gate decided
only after T (the records' ``wall_time``): the backlog, reported at the end of
the soak and as the maximum over one-second steps. A proposal the gate never
decided is a drop, not backlog.
"""

import bisect
import json
import time
from typing import Any, Dict, List, Tuple

from safety_gate.kit.bench.report import summarize
from safety_gate.kit.bench.rig import ArmSpec, Rig
from safety_gate.trace_file import open_trace

# Long enough for late outputs and a fresh diagnostics message (1 Hz).
_GRACE_S = 2.5


def _trace_decisions(trace_dir, proposals: Dict[float, int]) -> Dict[str, Any]:
    """Read the trace files: (sent ns, decided ns) of each proposal decision, lost_before marks.

    ``proposals`` maps each sent proposal's w to its send time (ns).
    """
    decided: List[Tuple[int, int]] = []
    lost_marked = 0
    records = 0
    for path in sorted(trace_dir.glob('trace.jsonl*')):
        with open_trace(path) as file:
            for line in file:
                records += 1
                has_lost = b'"lost_before"' in line
                if not has_lost and b'"trigger":"proposal"' not in line:
                    continue
                data = json.loads(line)
                lost_marked += data.get('lost_before', 0)
                proposal = data.get('proposal')
                if (data.get('trigger') == 'proposal' and proposal
                        and proposal.get('w') in proposals):
                    decided.append((proposals[proposal['w']], int(data['wall_time'] * 1e9)))
    return {'decided': decided, 'lost_marked': lost_marked, 'records': records}


def run_soak(rig: Rig, spec: ArmSpec, rate_hz: float, seconds: float,
             warmup_s: float) -> Dict[str, Any]:
    """Start a fresh gate ``spec``, soak it, stop it and return the figures."""
    rig.start([spec])
    arm = rig.arms[spec.name]
    rig.drive(arm, rate_hz, warmup_s)
    rss: List[int] = [arm.cpu.memory_info().rss]
    queue_depths: List[int] = []

    def sample() -> None:
        rss.append(arm.cpu.memory_info().rss)
        queue_depths.append(int(arm.diagnostics.get('safety_gate: trace/queue_depth', 0)))

    timer = rig.node.create_timer(1.0, sample)
    cpu_before, wall_before = arm.cpu_seconds(), time.monotonic()
    sent = rig.drive(arm, rate_hz, seconds)
    cpu = arm.cpu_seconds() - cpu_before
    wall = time.monotonic() - wall_before
    sample()
    rig.node.destroy_timer(timer)
    rig.spin_for(_GRACE_S)
    lost_reported = int(arm.diagnostics.get('safety_gate: trace/lost', -1))
    latencies, drops = rig.latencies(arm, sent)
    exit_code = rig.stop(spec.name)

    trace = _trace_decisions(arm.trace_path.parent, {s.key: s.ns for s in sent})
    decided_sent = sorted(sent_ns for sent_ns, _ in trace['decided'])
    decided_at = sorted(decided_ns for _, decided_ns in trace['decided'])
    sent_ns = [s.ns for s in sent]

    def behind(instant_ns: int) -> int:
        return (bisect.bisect_right(decided_sent, instant_ns)
                - bisect.bisect_right(decided_at, instant_ns))

    instants = [*range(sent_ns[0], sent_ns[-1], 1_000_000_000), sent_ns[-1]]
    return {
        'rate_hz': rate_hz,
        'seconds': seconds,
        'sent': len(sent),
        'drops': drops,
        'latency_us': summarize(latencies),
        'rss_start_mb': rss[0] / 2**20,
        'rss_end_mb': rss[-1] / 2**20,
        'rss_max_mb': max(rss) / 2**20,
        'rss_growth_mb': (rss[-1] - rss[0]) / 2**20,
        # Both count the same losses, seen from the writer and from the file.
        'trace_lost': max(lost_reported, trace['lost_marked']),
        'trace_lost_reported': lost_reported,
        'trace_lost_marked': trace['lost_marked'],
        'trace_records': trace['records'],
        'proposal_decisions': len(trace['decided']),
        'behind_at_end': behind(sent_ns[-1]),
        'behind_max': max(behind(t) for t in instants),
        'writer_queue_max': max(queue_depths, default=0),
        'cpu_percent': 100.0 * cpu / wall,
        'exit_code': exit_code,
    }
