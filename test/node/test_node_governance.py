# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Governance over DDS: model approval and swap, the operator's conservative request."""

import hashlib

from harness.ros import MODEL_SHA256, UNLATCHED
import pytest
from safety_gate import config, conservative, limits
from safety_gate.decision import Reason
from safety_gate.node import COMMAND_QOS
from std_msgs.msg import Bool
import yaml

OTHER_SHA256 = 'cd' * 32
DEFAULTS = config.build({})
CONFIDENCE, CONSERVATIVE = DEFAULTS.confidence, DEFAULTS.conservative
CONSERVATIVE_ENVELOPE = conservative.envelope(DEFAULTS)


def _registry(tmp_path, *shas):
    """Write a registry beside the params files; return its path relative to them."""
    path = tmp_path / 'models.yaml'
    path.write_text(yaml.safe_dump({'models': [
        {'sha256': sha, 'name': 'alpamayo-r1', 'version': f'1.{index}',
         'approved_by': 'test', 'evidence': 'test', 'stage': 'production'}
        for index, sha in enumerate(shas)]}))
    return path.name


def _governed(tmp_path, *shas, **more):
    return {**UNLATCHED, 'provenance.required': True,
            'provenance.registry_file': _registry(tmp_path, *shas), **more}


@pytest.mark.slow
def test_an_unapproved_model_never_moves_the_robot(bench, start_gate, tmp_path):
    gate = start_gate(_governed(tmp_path, OTHER_SHA256))
    bench.drive(0.5, 0.2)
    assert bench.wait_for_output(), gate.output()
    bench.spin_for(2.0)
    proposals = [r.data for r in bench.decisions if r.data['trigger'] == 'proposal']
    assert len(proposals) >= 10, gate.output()
    assert all(r['verdict'] == 'FALLBACK' and Reason.MODEL_NOT_APPROVED in r['reasons']
               and r['model']['sha256'] == MODEL_SHA256 and r['model']['name'] is None
               for r in proposals), proposals[-1]
    assert all(c.is_zero for c in bench.cmd), [c for c in bench.cmd if not c.is_zero][:3]


@pytest.mark.slow
def test_weight_files_that_hash_to_no_entry_never_move_the_robot(bench, start_gate, tmp_path):
    weights = tmp_path / 'model.safetensors'
    weights.write_bytes(b'not the approved weights' * 1000)
    gate = start_gate(_governed(tmp_path, MODEL_SHA256,
                                **{'provenance.model_files': str(weights)}))
    bench.drive(0.5, 0.2)
    assert bench.wait_for_output(), gate.output()
    bench.spin_for(2.0)
    proposals = [r.data for r in bench.decisions if r.data['trigger'] == 'proposal']
    assert len(proposals) >= 10 and all(
        Reason.MODEL_UNVERIFIED in r['reasons'] for r in proposals), proposals[-1]
    assert all(c.is_zero for c in bench.cmd)
    files = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert f'model files not verified: {files} is in no registry entry' in gate.output()


@pytest.mark.slow
def test_a_model_swap_mid_run_withdraws_authority(bench, start_gate, tmp_path):
    gate = start_gate(_governed(tmp_path, MODEL_SHA256, OTHER_SHA256))
    bench.drive(0.5, 0.0)
    assert bench.wait_for_cmd(0.5, 0.0), gate.output()
    approved = bench.decisions[-1].data
    assert approved['model'] == {'sha256': MODEL_SHA256, 'source': 'meta',
                                 'name': 'alpamayo-r1', 'version': '1.0',
                                 'stage': 'production'}

    swap_since = bench.cmd[-1].t
    bench.model_sha256 = OTHER_SHA256
    swapped = bench.wait_for_decision(
        lambda r: (r['proposal'] or {}).get('model_sha256') == OTHER_SHA256, swap_since)
    assert swapped is not None, gate.output()
    assert swapped.data['verdict'] == 'FALLBACK'
    assert swapped.data['reasons'] == [Reason.MODEL_CHANGED]
    # The new model is approved, but authority returns only through the hysteresis.
    back = bench.wait_for_decision(lambda r: r['verdict'] == 'APPROVE', swapped.t)
    assert back is not None, gate.output()
    between = [r for r in bench.decisions_after(swapped) if r['t'] < back.data['t']
               and r['trigger'] == 'proposal']
    assert between and all(r['reasons'] == [Reason.HYSTERESIS] for r in between), between
    assert back.data['model']['version'] == '1.1'
    assert any(c.v < 0.5 - 1e-6 for c in bench.cmd_since(swapped.t))


@pytest.mark.slow
def test_an_operator_request_limits_cmd_vel_to_the_conservative_envelope(bench, start_gate):
    gate = start_gate(UNLATCHED)
    request = bench.node.create_publisher(Bool, 'safety_gate/conservative', COMMAND_QOS)
    bench.drive(0.9, 0.3)
    assert bench.wait_for_cmd(0.9, 0.3), gate.output()

    since = bench.cmd[-1].t
    request.publish(Bool(data=True))
    entered = bench.wait_for_decision(lambda r: r['verdict'] == 'LIMIT', since)
    assert entered is not None, gate.output()
    assert entered.data['reasons'] == [Reason.CONSERVATIVE_OPERATOR]
    assert entered.data['trigger'] == 'conservative'
    assert bench.wait_for_cmd(CONSERVATIVE.max_linear_speed, 0.3), bench.cmd[-1]
    bench.spin_for(1.0)
    limited = bench.cmd_since(entered.t)
    assert limited and all(
        limits.inside_envelope(c.v, c.w, CONSERVATIVE_ENVELOPE, 1e-9) for c in limited), [
        c for c in limited if not limits.inside_envelope(c.v, c.w, CONSERVATIVE_ENVELOPE, 1e-9)]

    released = bench.cmd[-1].t
    request.publish(Bool(data=False))
    assert bench.wait_for_cmd(0.9, 0.3), bench.cmd[-1]
    back = bench.wait_for_decision(lambda r: r['verdict'] == 'APPROVE', released)
    assert back is not None and back.t - released >= CONFIDENCE.min_dwell * 0.5


@pytest.mark.slow
def test_a_bad_registry_file_refuses_the_start_naming_the_entry_and_field(start_gate, tmp_path):
    path = tmp_path / 'models.yaml'
    path.write_text(yaml.safe_dump({'models': [
        {'sha256': MODEL_SHA256, 'name': 'alpamayo-r1', 'version': '1.0', 'approved_by': 't',
         'evidence': 't', 'stage': 'beta'}]}))
    gate = start_gate({'provenance.registry_file': str(path)})
    assert gate.wait(10.0) == 2, gate.output()
    assert "models[0] (alpamayo-r1) field 'stage'" in gate.output(), gate.output()
    assert 'Traceback' not in gate.output()
