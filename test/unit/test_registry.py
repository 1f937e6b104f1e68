# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Pure tests of the model registry file (safety_gate.registry)."""

import hashlib
from pathlib import Path

import pytest
from safety_gate import config, registry, trace_record
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHA_A, SHA_B = 'a' * 64, 'b' * 64


def entry(sha=SHA_A, **changes):
    """Return one registry entry as the file holds it."""
    return {'sha256': sha, 'name': 'alpamayo-r1', 'version': '1.0',
            'approved_by': 'J. Doe', 'evidence': 'note', 'stage': 'production', **changes}


def write(tmp_path, models) -> str:
    path = tmp_path / 'models.yaml'
    path.write_text(yaml.safe_dump({'models': models}))
    return str(path)


def test_a_file_loads_with_its_sha256_and_finds_entries_by_hash(tmp_path):
    path = write(tmp_path, [entry(), entry(SHA_B, stage='canary', envelope_scale=0.5,
                                           confidence_threshold=0.8)])
    models = registry.load(path)
    assert models.sha256 == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert models.lookup(SHA_A).stage == 'production'
    assert models.lookup(SHA_B).envelope_scale == 0.5
    assert models.lookup(SHA_B).confidence_threshold == 0.8
    assert models.lookup('c' * 64) is None
    assert registry.load('') is registry.EMPTY


@pytest.mark.parametrize('changes, field', [
    ({'sha256': 'A' * 64}, 'sha256'), ({'sha256': 'a' * 63}, 'sha256'),
    ({'stage': 'beta'}, 'stage'), ({'envelope_scale': 0.0}, 'envelope_scale'),
    ({'envelope_scale': 1.5}, 'envelope_scale'), ({'envelope_scale': True}, 'envelope_scale'),
    ({'confidence_threshold': 2.0}, 'confidence_threshold'), ({'name': ' '}, 'name'),
    ({'version': 1.0}, 'version'), ({'colour': 'red'}, 'colour')])
def test_a_bad_entry_is_refused_naming_the_entry_and_field(tmp_path, changes, field):
    path = write(tmp_path, [entry(SHA_B), entry(**changes)])
    with pytest.raises(registry.RegistryError) as caught:
        registry.load(path)
    assert 'models[1] (alpamayo-r1)' in str(caught.value) or field == 'name'
    assert repr(field) in str(caught.value)


def test_a_missing_field_and_a_repeated_hash_are_refused(tmp_path):
    broken = entry()
    del broken['approved_by']
    with pytest.raises(registry.RegistryError, match="'approved_by'"):
        registry.load(write(tmp_path, [broken]))
    with pytest.raises(registry.RegistryError, match='repeats the sha256'):
        registry.load(write(tmp_path, [entry(), entry(version='2.0')]))


@pytest.mark.parametrize('text', ['models: 3', 'other: []', '[1, 2]', 'models: [\n'])
def test_a_file_of_another_shape_is_refused(tmp_path, text):
    path = tmp_path / 'models.yaml'
    path.write_text(text)
    with pytest.raises(registry.RegistryError, match=str(path)):
        registry.load(str(path))
    with pytest.raises(registry.RegistryError, match='No such file'):
        registry.load(str(tmp_path / 'missing.yaml'))


def test_the_registry_file_is_part_of_the_config_hash_and_travels_in_the_config_record(
        tmp_path):
    cfg = config.build({})
    models = registry.load(write(tmp_path, [entry()]))
    assert config.config_sha256(cfg) == config.config_sha256(cfg, '')
    assert config.config_sha256(cfg, models.sha256) != config.config_sha256(cfg)
    record = trace_record.config_to_dict(0, 0.0, 0.0, config.flatten(cfg),
                                         config.config_sha256(cfg, models.sha256), models)
    assert record['registry_sha256'] == models.sha256
    assert trace_record.record_registry(record) == models
    assert trace_record.record_registry(record).sha256 == models.sha256
    del record['registry_sha256']
    assert trace_record.record_registry(record).sha256 == ''
    record['registry'][0]['stage'] = 'beta'
    with pytest.raises(registry.RegistryError, match="^the config record's registry: models"):
        trace_record.record_registry(record)
    plain = trace_record.config_to_dict(0, 0.0, 0.0, config.flatten(cfg),
                                        config.config_sha256(cfg))
    assert 'registry' not in plain and trace_record.record_registry(plain) is registry.EMPTY


def test_the_shipped_example_registry_loads():
    models = registry.load(str(ROOT / 'config' / 'model_registry.yaml'))
    assert {e.stage for e in models.entries} == set(registry.STAGES)


def test_a_refusal_says_where_which_entry_which_field_and_why(tmp_path):
    # The start refuses a bad registry with this one message: it must point at
    # the file, each bad entry by index and name, and what is wrong with it.
    path = write(tmp_path, [entry(stage='beta'), entry(SHA_B, envelope_scale=2.0)])
    with pytest.raises(registry.RegistryError) as caught:
        registry.load(path)
    assert str(caught.value) == (
        f"registry file {path}: models[0] (alpamayo-r1) field 'stage': must be one of shadow, "
        f'canary, production; registry file {path}: models[1] (alpamayo-r1) field '
        "'envelope_scale': ensure this value is less than or equal to 1.0")
    with pytest.raises(registry.RegistryError) as caught:
        registry.load(write(tmp_path, [entry(), entry(SHA_B), entry(version='2.0')]))
    assert str(caught.value).endswith('models[2] (alpamayo-r1) repeats the sha256 of models[0]')
    missing = tmp_path / 'missing.yaml'
    with pytest.raises(registry.RegistryError) as caught:
        registry.load(str(missing))
    assert str(caught.value) == f'registry file {missing}: No such file or directory'


@pytest.mark.parametrize('records, message', [
    ([3], "registry: models[0] (?) field 'entry': value is not a valid dict"),
    ([{key: value for key, value in entry().items() if key != 'name'}],
     "registry: models[0] (?) field 'name': field required"),
    ({'models': []}, 'registry: value is not a valid list'),
])
def test_entries_given_as_plain_data_are_refused_even_when_not_entries(records, message):
    # A config record's registry comes from a trace, which may hold anything.
    with pytest.raises(registry.RegistryError) as caught:
        registry.from_records(records)
    assert str(caught.value) == message


def test_registries_are_equal_by_their_entries_and_without_a_file_have_no_sha256():
    one, other = registry.from_records([entry()]), registry.from_records([entry(SHA_B)])
    assert one == registry.from_records([entry()], 'f' * 64) and one != other
    assert one != one.entries
    assert one.sha256 == '' and registry.EMPTY.sha256 == '' and registry.Registry().sha256 == ''


def test_a_relative_registry_file_is_found_beside_the_params_file_that_names_it(tmp_path):
    params = tmp_path / 'params.yaml'
    assert registry.resolve('models.yaml', str(params)) == str(tmp_path / 'models.yaml')
    assert registry.resolve('/etc/models.yaml', str(params)) == '/etc/models.yaml'
    # Without a params file (a -p override, the default) it is the working directory's.
    assert registry.resolve('models.yaml') == 'models.yaml'
    assert registry.resolve('', str(params)) == ''
    write(tmp_path, [entry()])
    cfg = config.build({'provenance.registry_file': 'models.yaml'})
    assert registry.of_config(cfg, str(params)).lookup(SHA_A).name == 'alpamayo-r1'
