# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The whole scenario library, closed loop through the real gate node: every scenario passes.

Each scenario starts the gate, the simulated vehicle and the scripted planner
as processes talking DDS on loopback, on sim time. The suite's wall time is
bounded; the bound is a safety net for a loaded 2-core host, not a benchmark.
"""

import json
import time

import pytest
from safety_gate import config
from safety_gate.kit.scenarios import model, report, runner
from safety_gate.paths import config_file
import yaml

pytestmark = [pytest.mark.ros, pytest.mark.slow]

SUITE_BUDGET_S = 420.0


@pytest.fixture(scope='module')
def suite(tmp_path_factory):
    """Run every scenario once against the default configuration and write the report."""
    directory = tmp_path_factory.mktemp('scenarios')
    config_path = config_file('safety_gate.yaml')
    started = time.monotonic()
    results = runner.run_suite(model.load_library(runner.library_dir()), config_path,
                               directory, runner.DEFAULT_SIM_RATE)
    elapsed = time.monotonic() - started
    info = report.SuiteInfo(str(config_path),
                            config.config_sha256(config.load_yaml(config_path)),
                            runner.DEFAULT_SIM_RATE, 'S0', elapsed)
    paths = report.write(results, info, directory)
    print(f'\n{report.console_table(results)}\n{len(results)} scenarios in {elapsed:.0f} s; '
          f'report: {paths.html}')
    return results, paths, elapsed


def test_every_scenario_passes_within_the_time_budget(suite):
    results, paths, elapsed = suite
    assert len(results) >= 16
    failed = {r.scenario.id: r.outcome.error or [f'{c.name}: {c.value} (required {c.limit})'
                                                 for c in r.outcome.failed]
              for r in results if not r.passed}
    assert not failed, json.dumps(failed, indent=1)
    assert all(r.metrics.unsafe == () for r in results)
    for path in (paths.markdown, paths.html, paths.summary):
        assert path.stat().st_size > 1000, path
    assert elapsed < SUITE_BUDGET_S


def test_a_weaker_config_fails_the_release_gate_with_before_after_evidence(suite, tmp_path,
                                                                           capsys):
    _, paths, _ = suite
    weak = tmp_path / 'weak.yaml'
    # An envelope that admits the overspeed proposal: the veto never fires.
    weak.write_text(yaml.safe_dump({'safety_gate': {'ros__parameters': {
        'envelope': {'max_linear_speed': 2.5}, 'odom': {'max_speed': 3.0}}}}))
    code = runner.main(['--config', str(weak), '--only', 'overspeed', '--report',
                        str(tmp_path / 'report'), '--baseline', str(paths.summary)])
    out = capsys.readouterr().out
    assert code == runner.EXIT_FAILED, out
    md = (tmp_path / 'report' / 'report.md').read_text()
    assert '| overspeed | S3 | PASS → FAIL |' in md
    assert 'RELEASE GATE FAILED' not in out  # that goes to stderr
    assert 'overspeed' in out and 'FAIL' in out


def test_a_gate_that_refuses_to_start_is_reported_with_its_own_words(tmp_path):
    from safety_gate.kit.scenarios import closed_loop
    refused = config.write_params_file(tmp_path / 'refused.yaml', {'rate_hz': -1.0})
    scenario = model.load_library(runner.library_dir())[0]
    with pytest.raises(RuntimeError) as error:
        closed_loop.run(scenario, tmp_path / 'run', refused, runner.DEFAULT_SIM_RATE)
    first_line = str(error.value).splitlines()[0]
    assert first_line.startswith('gate exited with 2: safety_gate: refusing to start: '), \
        first_line
    assert "invalid parameter 'rate_hz' = -1.0" in first_line
