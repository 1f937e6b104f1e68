# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The go/no-go document: each input judged, the verdict the worst finding."""

import json

from safety_gate import config, evidence

MODEL = 'f' * 64


def write(path, data):
    path.write_text(json.dumps(data))
    return path


def spi_summary(drift='none', psi=0.05, model=MODEL):
    changes = [] if drift == 'none' else [{'file': 'run/trace.jsonl', 'seq': 7,
                                           'wall_time': 1.0, 'drift': drift}]
    return {'by': 'model', 'groups': {model: {'psi': psi}}, 'drift_changes': changes}


def compare_result(gained=(), lost=(), trace_ok=True):
    return {'candidate_sha256': 'c' * 64, 'decisions': 100, 'trace_ok': trace_ok,
            'approvals_gained': [{'model': MODEL, 'reason': r, 'decisions': 3} for r in gained],
            'approvals_lost': [{'model': MODEL, 'reason': r, 'decisions': 2} for r in lost]}


def run(tmp_path, **inputs):
    argv = []
    for name, data in inputs.items():
        argv += [f'--{name}', str(write(tmp_path / f'{name}.json', data))]
    out = tmp_path / 'evidence.md'
    code = evidence.main(argv + ['-o', str(out)])
    return code, out.read_text()


def test_clean_inputs_give_go(tmp_path):
    registry = tmp_path / 'models.yaml'
    registry.write_text(f'models:\n  - sha256: "{MODEL}"\n    name: alpamayo-r1\n'
                        '    version: "1.0"\n    stage: canary\n    approved_by: board\n')
    params = config.write_params_file(tmp_path / 'new.yaml', {'rate_hz': 40.0})
    code, text = run(tmp_path, spi=spi_summary(), compare=compare_result(lost=['ODOM_STUCK']),
                     scenarios={'config_sha256': 'x', 'scenarios': [
                         {'id': 'nominal_cruise', 'status': 'PASS'}]})
    assert code == 0 and '**Verdict: GO**' in text
    out = tmp_path / 'e.md'
    assert evidence.main(['--config', str(params), '--registry', str(registry), '-o', str(out),
                          '--spi', str(tmp_path / 'spi.json')]) == 0
    text = out.read_text()
    assert config.config_sha256(config.load_yaml(params)) in text and 'alpamayo-r1 1.0' in text


def test_each_finding_sets_its_level(tmp_path):
    cases = [
        ({'scenarios': {'scenarios': [{'id': 'overspeed', 'status': 'FAIL'}]}}, 'NO-GO'),
        ({'compare': compare_result(trace_ok=False)}, 'NO-GO'),
        ({'compare': compare_result(gained=['LOW_CONFIDENCE'])}, 'REVIEW'),
        ({'compare': compare_result(lost=['OVER_SPEED'])}, 'REVIEW'),
        ({'spi': spi_summary(drift='warn')}, 'REVIEW'),
        ({'spi': spi_summary(drift='withdraw')}, 'NO-GO'),
        ({'spi': spi_summary(psi=0.4)}, 'REVIEW'),
        ({'spi': spi_summary(), 'compare': compare_result(gained=['HYSTERESIS']),
          'scenarios': {'scenarios': [{'id': 'a', 'status': 'ERROR', 'error': 'boom'}]}},
         'NO-GO'),
    ]
    for inputs, level in cases:
        code, text = run(tmp_path, **inputs)
        assert code == 1 and f'**Verdict: {level}**' in text, (inputs, text)


def shadow_json(*verdicts):
    rows = [{'criterion': f'row {i}', 'measured': '1', 'limit': '<= 2', 'verdict': verdict}
            for i, verdict in enumerate(verdicts)]
    overall = 'NO-GO' if 'NO-GO' in verdicts else 'GO'
    return {'verdict': overall, 'decisions': 80, 'criteria': rows,
            'slices': [{'name': 'run', 'verdict': overall, 'criteria': rows}]}


def test_the_shadow_rows_go_into_the_document_and_a_no_go_propagates(tmp_path):
    code, text = run(tmp_path, shadow=shadow_json('GO', 'n/a', 'GO'),
                     scenarios={'scenarios': [{'id': 'a', 'status': 'PASS'}]})
    assert code == 0 and '**Verdict: GO**' in text
    assert '| GO | shadow | row 0: 1 (limit <= 2) |' in text and 'row 1' not in text
    assert 'shadow stage: GO over 1 slice(s), 80 candidate decisions' in text
    code, text = run(tmp_path, shadow=shadow_json('GO', 'NO-GO'),
                     scenarios={'scenarios': [{'id': 'a', 'status': 'PASS'}]})
    assert code == 1 and '**Verdict: NO-GO**' in text
    assert '| NO-GO | shadow | row 1: 1 (limit <= 2) |' in text


def test_a_model_outside_the_registry_is_no_go(tmp_path):
    registry = tmp_path / 'models.yaml'
    registry.write_text('models:\n  - sha256: "' + 'a' * 64 + '"\n')
    out = tmp_path / 'e.md'
    assert evidence.main(['--registry', str(registry), '--spi',
                          str(write(tmp_path / 'spi.json', spi_summary())),
                          '-o', str(out)]) == 1
    assert '| NO-GO | registry |' in out.read_text()


def test_nothing_to_judge_is_a_usage_error(tmp_path):
    assert evidence.main(['-o', str(tmp_path / 'e.md')]) == 2
