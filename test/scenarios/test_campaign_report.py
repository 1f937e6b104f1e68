# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The campaign report from synthetic rows: pass rates, the gate, the comparison (no ROS)."""

import random

import pytest
from safety_gate.kit.scenarios import campaign, campaign_report
from safety_gate.kit.scenarios.campaign_run import METRICS


def rows(scenario, severity, n, failing=(), reaction=0.2, seed=0, errors=()):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        status = 'ERROR' if i in errors else 'FAIL' if i in failing else 'PASS'
        out.append({
            'run_id': f'{scenario}.s1.r{i}', 'scenario': scenario, 'seed': 1, 'index': i,
            'severity': severity, 'exposure': 'E3', 'status': status,
            'passed': status == 'PASS', 'error': 'RuntimeError: died' if i in errors else '',
            'failed': 'reaction: 0.9 s (required <= 0.5 s)' if i in failing else '',
            'values': '{"faults.0.t_start": %d}' % i, 'requested_sim_rate': 2.0,
            'sim_rate': 2.0, 'wall_s': 9.0, 'host': 'h', 'scenario_sha256': 'ab',
            **{m: None for m in METRICS},
            'reaction_s': None if i in errors else reaction + rng.uniform(0, 0.05),
            'hold_pct': None if i in errors else 100.0,
            'reaction_budget_s': 0.5, 'standstill_budget_s': None, 'hold_budget_pct': 100.0,
            'resume_budget_s': 1.5,
        })
    return out


META = {'seed': 1, 'runs': 20, 'scenarios': [], 'config_path': 'c.yaml',
        'config_sha256': 'f' * 64, 'config_arg': 'c.yaml', 'namespace': '',
        'library_arg': None, 'sim_rate': 2.0, 'default_sim_rate': 2.0, 'jobs': 2, 'ray': None,
        'requirements': {'S3': 1.0, 'S2': 0.99}, 'wall_s': 60.0}


def test_pass_rates_count_errors_neither_way_and_gate_by_severity():
    data = (rows('freeze', 'S3', 20, failing={4}) + rows('meta', 'S2', 20, errors={1, 2})
            + rows('cruise', 'S0', 20, failing={0, 1}))
    rates = {r.scenario: r for r in campaign_report.pass_rates(data)}
    order = [r.scenario for r in campaign_report.pass_rates(data)]
    assert order == ['freeze', 'meta', 'cruise']
    assert (rates['freeze'].passed, rates['freeze'].judged) == (19, 20)
    assert (rates['meta'].passed, rates['meta'].judged, rates['meta'].rate) == (18, 18, 1.0)
    low, high = rates['freeze'].interval
    assert low < 0.95 < high < 1.0
    failing = campaign_report.gate_failures(campaign_report.pass_rates(data),
                                            META['requirements'])
    assert [r.scenario for r in failing] == ['freeze']  # S0 is not gated
    assert campaign.verdict(data, META['requirements']) == campaign.EXIT_RUNNER
    passing = rows('freeze', 'S3', 5) + rows('cruise', 'S0', 5, failing={0})
    assert campaign.verdict(passing, META['requirements']) == campaign.EXIT_OK
    assert campaign.verdict(rows('freeze', 'S3', 5, failing={3}),
                            META['requirements']) == campaign.EXIT_FAILED
    # A gated scenario without a single judged run is no evidence: it fails the gate.
    assert campaign_report.gate_failures(
        campaign_report.pass_rates(rows('meta', 'S2', 2, errors={0, 1})), {'S2': 0.5})


def test_requirements_parse_and_refuse_nonsense():
    assert campaign_report.parse_requirements('S3=100, S2=99.5') == {'S3': 1.0, 'S2': 0.995}
    for bad in ('S4=100', 'S3=abc', 'S3=101', 'S3'):
        with pytest.raises(ValueError, match='--require'):
            campaign_report.parse_requirements(bad)


def test_the_comparison_flags_a_real_shift_and_not_noise():
    baseline = rows('freeze', 'S3', 20, reaction=0.10, seed=1) + rows('cruise', 'S0', 20)
    slower = rows('freeze', 'S3', 20, reaction=0.30, seed=2, failing={3}) + \
        rows('cruise', 'S0', 20, seed=5)
    found = {(d.scenario, d.quantity): d for d in campaign_report.compare(slower, baseline)}
    assert found['freeze', 'reaction'].significant
    assert found['freeze', 'reaction'].test == 'Mann-Whitney U'
    # One failure in 20 against none is not evidence of a difference (Fisher p = 1).
    assert not found['freeze', 'pass rate'].significant
    assert found['freeze', 'pass rate'].before == '20/20'
    # The same distribution drawn twice: no difference claimed.
    assert not found['cruise', 'reaction'].significant


def test_the_report_names_the_worst_runs_with_their_rerun_command(tmp_path):
    data = rows('freeze', 'S3', 12, failing={7}) + rows('cruise', 'S0', 5)
    base = rows('freeze', 'S3', 12, reaction=0.1)
    paths = campaign_report.write(META, data, tmp_path, base)
    meta, back = campaign_report.read_results(tmp_path)
    assert back == data and meta == META
    text = paths.markdown.read_text()
    worst = campaign_report.worst_runs(data)
    assert worst[0]['run_id'] == 'freeze.s1.r7'
    assert ('`safety-gate campaign --rerun freeze.s1.r7 --config c.yaml '
            '-o reports/rerun/freeze.s1.r7`') in text
    assert '| freeze | S3 | E3 | 12 | 11 | 1 | 0 | 91.7 %' in text
    assert '## Against the baseline' in text
    assert (tmp_path / 'plots' / 'freeze.reaction_s.svg').exists()
    page = paths.html.read_text()
    assert page.count('<svg') == len(list((tmp_path / 'plots').glob('*.svg'))) >= 3
    assert 'budget 0.5' in page
