# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Self-monitoring: the gate measures its own late cycles, warns, and falls back beyond a bound.

The gate process itself is frozen (SIGSTOP, then SIGCONT), as a starved or
descheduled process would be. A short freeze, beyond monitor.warn_late but
within monitor.max_late, must be reported as a WARN on /diagnostics
('safety_gate: timing') without a fallback; a long one as an ERROR with
FALLBACK (GATE_OVERRUN) at the first tick after it, and authority back only
under the hysteresis rules.
"""

import signal
import time

from harness.faults import (
    approved_after, assert_hysteresis, diagnostic, has_reason, reaction, SLACK, start_campaign)
import pytest
from safety_gate import config

PARAMS = {'monitor.warn_late': 0.04, 'monitor.max_late': 0.3}
CFG = config.build(PARAMS)
V = 0.5
TIMING = 'safety_gate: timing'
OVERRUN = 'gate process frozen (SIGSTOP): late watchdog cycles'
SHORT, LONG = 0.12, 0.8  # s: frozen for


def _freeze(gate, seconds):
    gate.signal(signal.SIGSTOP)
    time.sleep(seconds)
    gate.signal(signal.SIGCONT)
    return time.monotonic()


@pytest.mark.ros
def test_late_cycles_warn_then_fall_back(bench, start_gate, tmp_path):
    gate, trace, campaign = start_campaign(bench, start_gate, tmp_path, CFG, PARAMS)
    bench.drive(V)
    assert bench.wait_for_output(), gate.output()
    assert bench.wait_for_cmd(V), (bench.cmd[-1:], gate.output())

    frozen = time.monotonic()
    resumed = _freeze(gate, SHORT)
    assert bench.wait_for(lambda: [s for s in diagnostic(bench, TIMING, resumed)
                                   if s[1] == 1
                                   and float(s[3]['tick_late_max_s']) > CFG.monitor.warn_late])
    assert not [r for r in bench.decisions_since(frozen) if 'GATE_OVERRUN' in r['reasons']]

    frozen = time.monotonic()
    resumed = _freeze(gate, LONG)
    decision, seconds = reaction(bench, resumed, has_reason('GATE_OVERRUN'))
    assert decision is not None, gate.output()
    assert seconds is not None and seconds <= 1.0 / CFG.rate_hz + SLACK, seconds
    late = next(c for c in decision.data['checks'] if c['reason'] == 'GATE_OVERRUN')
    assert late['value'] >= LONG - 0.1, late
    assert bench.wait_for(lambda: [s for s in diagnostic(bench, TIMING, resumed)
                                   if s[1] == 2 and 'GATE_OVERRUN' in s[2]])
    approval = bench.wait_for_decision(approved_after(decision), decision.t, 20.0)
    assert approval is not None, gate.output()
    assert_hysteresis(bench, approval, CFG)
    assert bench.wait_for_cmd(V), bench.cmd[-1]
    # The gate cannot act while frozen: its reaction counts from SIGCONT.
    campaign.case(OVERRUN, f'frozen {LONG} s', frozen, seconds)
    lost, problems = campaign.finish(gate, [trace])
    assert lost == 0 and not problems, (lost, problems)
