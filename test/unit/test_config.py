# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The configuration model: defaults, shipped files, validation messages, hash and docs.

Only safety_gate.config is used (never pydantic directly), so the file runs
unchanged on pydantic 1.10 and 2.x.
"""

import hashlib
import importlib.util
import json
import math
from pathlib import Path
import re

import pytest

from safety_gate import config
import yaml

ROOT = Path(__file__).resolve().parents[2]
PARAMS_BEGIN = '<!-- params:begin -->'
PARAMS_END = '<!-- params:end -->'


def config_error(flat) -> str:
    with pytest.raises(config.ConfigError) as error:
        config.build(flat)
    return str(error.value)


# What a parameter needs beside it to take a value other than its default.
NEEDS = {'spi.psi_limit': {'spi.baseline_file': 'baseline.yaml'}}


def changed_value(name, default):
    """Return a valid value for ``name`` other than its default."""
    choices = dict(config.iter_fields())[name].field_info.extra['choices']
    if isinstance(default, bool):
        candidates = [not default]
    elif choices:
        candidates = list(choices)
    elif isinstance(default, str):
        candidates = ['changed']
    elif isinstance(default, int):
        candidates = [default + 1, default - 1]
    else:
        candidates = [default * 0.9, default * 1.1, default + 0.01, 0.5]
    for value in (c for c in candidates if c != default):
        try:
            config.build({name: value, **NEEDS.get(name, {})})
        except config.ConfigError:
            continue
        return value
    raise AssertionError(f'no valid value other than the default for {name}')


def built_from_source():
    """Run safety_gate/config.py once more and return that fresh module.

    The parameter tree is built as the module is imported, before any test runs;
    built again here, its construction runs inside the test, where coverage and
    mutation testing can see it.
    """
    spec = importlib.util.spec_from_file_location(config.__name__, config.__file__)
    module = importlib.util.module_from_spec(spec)
    # pydantic v1 refuses a validator whose qualified name it has seen (a module run
    # twice), so the names of the import's validators are hidden while this copy builds.
    seen = config.pydantic.class_validators._FUNCS
    imported = set(seen)
    seen.clear()
    try:
        spec.loader.exec_module(module)
    finally:
        seen.update(imported)
    return module


def test_defaults_are_valid():
    assert config.build({}) == config.GateConfig()
    assert config.defaults()['confidence.threshold'] == 0.5


def test_shipped_params_file_is_the_generated_defaults():
    shipped = ROOT / 'config' / 'safety_gate.yaml'
    for model in (config, built_from_source()):
        assert shipped.read_text() == model.default_yaml()
    assert config.load_yaml(shipped) == config.GateConfig()


def test_gazebo_profile_changes_only_the_start_latch():
    loaded = config.flatten(config.load_yaml(ROOT / 'config' / 'gazebo_sim.yaml'))
    assert loaded == {**config.defaults(), 'require_reset_on_start': False}


def test_hardware_bench_profile_requires_the_estop_the_trace_a_reset_and_an_approved_model():
    loaded = config.flatten(config.load_yaml(ROOT / 'config' / 'hil_bench.yaml'))
    changed = {name: value for name, value in loaded.items()
               if value != config.defaults()[name]}
    assert changed == {'estop.required': True, 'estop.heartbeat_timeout': 0.5,
                       'trace.required': True, 'imu.enabled': True,
                       'provenance.required': True,
                       'provenance.registry_file': 'model_registry.yaml'}
    assert (ROOT / 'config' / 'model_registry.yaml').is_file()
    assert loaded['require_reset_on_start'] is True


def test_every_parameter_has_a_description_and_a_unit_key():
    fields = list(config.iter_fields())
    assert len(fields) > 30
    for name, field in fields:
        assert field.field_info.description, name
        assert 'unit' in field.field_info.extra, name


@pytest.mark.parametrize('flat, fragments', [
    ({'confidence.threshold': 1.5}, ["'confidence.threshold'", '1.5', '[0.0, 1.0]']),
    ({'rate_hz': 0.5}, ["'rate_hz'", '0.5', '[1.0, 1000.0]']),
    ({'odom.timeout': 0.0}, ["'odom.timeout'", '0.0', '[0.001, 5.0]']),
    ({'envelope.max_lateral_accel': 5e-324}, ["'envelope.max_lateral_accel'", '5e-324',
                                              '[0.01, 50.0]']),
    ({'confidence.recover_count': 3.7}, ["'confidence.recover_count'", '3.7', 'integer',
                                         '[1, 1000]']),
    ({'confidence.recover_count': 0}, ["'confidence.recover_count'", '= 0', '[1, 1000]']),
    ({'imu.enabled': 'yes'}, ["'imu.enabled'", "'yes'", 'true or false']),
    ({'trace.required': 1}, ["'trace.required'", '= 1', 'true or false']),
    ({'rate_hz': True}, ["'rate_hz'", 'True', 'number']),
    ({'rate_hz': '50'}, ["'rate_hz'", "'50'", 'number']),
    ({'trace.path': 5}, ["'trace.path'", '5', 'string']),
    ({'rate_hz': math.nan}, ["'rate_hz'", 'nan', 'finite', '[1.0, 1000.0]']),
    ({'envelope.max_linear_speed': math.inf}, ["'envelope.max_linear_speed'", 'inf']),
    ({'envelope.max_linear_speed': 10 ** 400}, ["'envelope.max_linear_speed'",
                                                '[0.01, 50.0]']),
    ({'no_such_parameter': 1}, ["'no_such_parameter'", 'unknown']),
    ({'confidence.no_such_parameter': 1}, ["'confidence.no_such_parameter'", 'unknown']),
    ({'confidence': 0.5}, ["'confidence'", 'unknown']),
    ({'confidence.recover_threshold': 0.4},
     ['confidence.recover_threshold', '0.4', 'confidence.threshold (0.5)']),
    ({'confidence.pairing_wait': 0.2, 'proposal_timeout': 0.2},
     ['confidence.pairing_wait', '0.2', 'proposal_timeout (0.2)']),
    ({'envelope.max_reverse_speed': 1.5}, ['envelope.max_reverse_speed', '1.5',
                                           'envelope.max_linear_speed (1.0)']),
    ({'fallback.decel': 2.5}, ['fallback.decel', '2.5', 'envelope.max_linear_decel (2.0)']),
    ({'fallback.angular_decel': 3.5}, ['fallback.angular_decel', '3.5',
                                       'envelope.max_angular_accel (3.0)']),
    ({'odom.max_speed': 0.5}, ['odom.max_speed', '0.5', 'envelope.max_linear_speed (1.0)']),
    ({'trace.required': True, 'trace.enabled': False}, ['trace.required', 'trace.enabled']),
    ({'rate_hz': 5.0}, ['monitor.max_spin_failure', '0.5', '2 / rate_hz + monitor.max_late']),
    ({'estop.heartbeat_timeout': -0.1}, ["'estop.heartbeat_timeout'", '[0.0, 10.0]']),
    ({'trace.stall_timeout': 0.0}, ["'trace.stall_timeout'", '[0.01, 60.0]']),
    ({'planner.input': 'Twist'}, ["'planner.input'", "'Twist'",
                                  'one of twist, path, autoware_trajectory']),
    ({'planner.input': 1}, ["'planner.input'", 'string']),
    ({'trajectory.min_points': 30, 'trajectory.max_points': 20},
     ['trajectory.max_points', '20', 'trajectory.min_points (30)']),
], ids=lambda value: str(value)[:60] if isinstance(value, dict) else '')
def test_invalid_value_names_parameter_value_and_range(flat, fragments):
    message = config_error(flat)
    for fragment in fragments:
        assert fragment in message


def test_every_problem_is_reported_at_once():
    message = config_error({'fallback.decel': 2.5, 'odom.max_speed': 0.5})
    assert 'fallback.decel' in message
    assert 'odom.max_speed' in message


@pytest.mark.parametrize('flat, message', [
    ({'confidence.threshold': 2.0},
     "invalid parameter 'confidence.threshold' = 2.0: ensure this value is less than or equal "
     'to 1.0 (allowed: [0.0, 1.0])'),
    # A rule across parameters is the model's or a section's, not a parameter's own.
    ({'trace.required': True, 'trace.enabled': False},
     'invalid configuration: trace.required = True: must be false when trace.enabled is '
     'false: a disabled trace cannot be required'),
    ({'spi.psi_limit': 0.2},
     'invalid configuration: spi.psi_limit = 0.2: needs spi.baseline_file'),
    ({'rate_hz': 0.5, 'confidence.threshold': 2.0},
     "invalid parameter 'rate_hz' = 0.5: ensure this value is greater than or equal to 1.0 "
     "(allowed: [1.0, 1000.0]); invalid parameter 'confidence.threshold' = 2.0: ensure this "
     'value is less than or equal to 1.0 (allowed: [0.0, 1.0])'),
    # Names and non-finite values are refused before any range is checked.
    ({'no_such_parameter': 1, 'rate_hz': math.nan},
     "unknown parameter 'no_such_parameter' (known: see docs/parameters.md); invalid "
     "parameter 'rate_hz' = nan: not a finite number (allowed: [1.0, 1000.0])"),
], ids=['range', 'model-rule', 'section-rule', 'two-ranges', 'two-refused-first'])
def test_the_refusal_is_exactly_one_sentence_per_problem(flat, message):
    assert config_error(flat) == message


@pytest.mark.parametrize('flat', [
    {'confidence.recover_threshold': 0.5},
    {'fallback.decel': 2.0},
    {'fallback.angular_decel': 3.0},
    {'envelope.max_reverse_speed': 1.0},
    {'envelope.max_reverse_speed': 0.0},
    {'odom.max_speed': 1.0},
    {'confidence.pairing_wait': 0.0},
    {'rate_hz': 50},
    {'trajectory.min_points': 64, 'trajectory.max_points': 64},
    {'planner.input': 'autoware_trajectory'},
])
def test_values_on_a_boundary_are_accepted(flat):
    flattened = config.flatten(config.build(flat))
    for name, value in flat.items():
        assert flattened[name] == value


def test_load_yaml_reports_the_bad_value(tmp_path):
    params = tmp_path / 'params.yaml'
    params.write_text('safety_gate:\n  ros__parameters:\n    use_sim_time: true\n'
                      '    confidence:\n      threshold: 2.0\n')
    with pytest.raises(config.ConfigError, match=r"'confidence.threshold' = 2.0"):
        config.load_yaml(params)


def test_the_most_specific_params_section_wins(tmp_path):
    # The launch file reads a file in the same order, so tools hash what the node runs.
    assert config.param_sections('robot1') == (
        '/**', 'safety_gate', '/safety_gate', '/robot1/safety_gate')
    assert config.param_sections() == ('/**', 'safety_gate', '/safety_gate')
    params = config.write_params_file(tmp_path / 'params.yaml', {'rate_hz': 30.0})
    params.write_text(params.read_text() + '/**:\n  ros__parameters:\n    rate_hz: 20.0\n')
    assert config.load_yaml(params).rate_hz == 30.0


@pytest.mark.parametrize('namespace, expected', [
    ('', '/safety_gate'), ('robot1', '/robot1/safety_gate'),
    ('/robot1/', '/robot1/safety_gate'), ('/fleet/AGX/', '/fleet/AGX/safety_gate'),
])
def test_the_qualified_name_ignores_the_slashes_around_the_namespace(namespace, expected):
    assert config.qualified_name(namespace) == expected


def test_names_default_to_the_gate_at_the_root_and_follow_the_node_name():
    assert config.qualified_name() == '/safety_gate'
    assert config.param_sections('robot1', 'gate2') == (
        '/**', 'gate2', '/gate2', '/robot1/gate2')


def test_a_written_params_file_keeps_the_parameters_in_the_order_given(tmp_path):
    # The model's order, as in docs/parameters.md, not the alphabet's.
    path = config.write_params_file(tmp_path / 'params.yaml', config.defaults())
    written = yaml.safe_load(path.read_text())['safety_gate']['ros__parameters']
    assert list(written) == list(config.nest(config.defaults()))
    assert list(written)[:2] == ['rate_hz', 'proposal_timeout']


RECORDING_ONLY = {'confidence.max_reasoning_chars', 'monitor.warn_late', 'trace.enabled',
                  'trace.path', 'trace.max_file_bytes', 'trace.max_files', 'trace.queue_size',
                  'trace.hmac_key_file', 'markers.enabled', 'markers.max_rate_hz',
                  'shadow.enabled', 'shadow.namespace', 'shadow.max_rate_hz',
                  'spi.baseline_file'}


def test_config_hash_covers_exactly_the_parameters_that_decide():
    """Where the trace goes never changes the hash; every parameter that can decide does."""
    base = config.config_sha256(config.GateConfig())
    assert base == config.config_sha256(config.build({}))
    assert len(base) == 64
    for name, default in config.defaults().items():
        changed = config.build({name: changed_value(name, default), **NEEDS.get(name, {})})
        reference = config.config_sha256(config.build(NEEDS.get(name, {})))
        assert (config.config_sha256(changed) == reference) == (name in RECORDING_ONLY), name
    hashed = {name for name, field in config.iter_fields() if config.decides(field)}
    assert hashed == set(config.defaults()) - RECORDING_ONLY


def canonical_sha256(parameters):
    return hashlib.sha256(
        json.dumps(parameters, sort_keys=True, separators=(',', ':')).encode()).hexdigest()


def test_the_config_hash_is_the_sha256_of_the_canonical_json_of_what_decides():
    # Keys sorted, no spaces: the hash can be recomputed from a config record's parameters.
    cfg = config.build({'rate_hz': 30.0})
    flat = config.flatten(cfg)
    deciding = {name: value for name, value in flat.items() if name not in RECORDING_ONLY}
    assert config.config_sha256(cfg) == config.params_sha256(flat) == canonical_sha256(deciding)
    # A registry file's sha256 is hashed with them under its own name.
    registry = 'ab' * 32
    assert (config.config_sha256(cfg, registry) == config.params_sha256(flat, registry)
            == canonical_sha256({**deciding, 'provenance.registry_sha256': registry}))


def test_a_parameter_cannot_also_be_a_section():
    with pytest.raises(config.ConfigError) as error:
        config.nest({'rate_hz': 30.0, 'rate_hz.max': 2.0})
    assert str(error.value) == "parameter 'rate_hz' is a section, not a value"


def markdown_rows():
    return config.markdown_table().splitlines()[2:]


def test_markdown_table_has_one_row_per_parameter():
    names = [name for name, _ in config.iter_fields()]
    rows = markdown_rows()
    assert [row.split('`')[1] for row in rows] == names
    assert all(row.count(' | ') == 5 for row in rows)
    assert [row.split(' | ')[4] == 'yes' for row in rows] == [
        name not in RECORDING_ONLY for name in names]


def test_docs_parameter_table_is_generated():
    page = (ROOT / 'docs' / 'parameters.md').read_text()
    assert PARAMS_BEGIN in page and PARAMS_END in page, 'docs/parameters.md lacks the markers'
    table = page.split(PARAMS_BEGIN, 1)[1].split(PARAMS_END, 1)[0]
    # Defaults, units, ranges, choices, hashing and meaning, as the source declares them.
    for model in (config, built_from_source()):
        assert table.strip('\n') + '\n' == model.markdown_table(), (
            'regenerate the table in docs/parameters.md with `python -m safety_gate.config`')


@pytest.mark.parametrize('argv, expected', [([], config.markdown_table),
                                            (['--yaml'], config.default_yaml)])
def test_command_line_prints_the_generated_docs(capsys, argv, expected):
    assert config.main(argv) == 0
    assert capsys.readouterr().out == expected()


def test_command_line_help_names_the_module_and_what_yaml_prints(capsys):
    with pytest.raises(SystemExit) as done:
        config.main(['--help'])
    assert done.value.code == 0
    usage = capsys.readouterr().out
    assert usage.startswith('usage: python -m safety_gate.config [-h] [--yaml]\n')
    assert re.search(r'\n  --yaml +print config/safety_gate\.yaml\n', usage)


def _params_file(tmp_path, data):
    path = tmp_path / 'params.yaml'
    path.write_text(yaml.safe_dump(data))
    return path


def test_sections_are_flattened_before_they_merge(tmp_path):
    # A dotted key in the bare section and a nested one in the namespaced section
    # are one parameter: the most specific wins, as under rcl.
    path = _params_file(tmp_path, {
        'safety_gate': {'ros__parameters': {'envelope': {'max_angular_speed': 1.2},
                                            'envelope.max_linear_speed': 0.8}},
        '/robot1/safety_gate': {'ros__parameters': {'envelope': {'max_linear_speed': 0.9}}}})
    assert config.read_params_file(path, 'robot1') == {
        'envelope.max_angular_speed': 1.2, 'envelope.max_linear_speed': 0.9}
    assert config.load_yaml(path, namespace='robot1').envelope.max_linear_speed == 0.9
    assert config.load_yaml(path).envelope.max_linear_speed == 0.8


def test_rcl_nested_namespace_sections_are_read(tmp_path):
    path = _params_file(tmp_path, {'robot1': {'safety_gate': {'ros__parameters': {
        'rate_hz': 30.0}}}})
    assert config.load_yaml(path, 'robot1').rate_hz == 30.0


def test_nested_namespaces_make_the_fully_qualified_section_name(tmp_path):
    parameters = {'ros__parameters': {'rate_hz': 30.0}}
    path = _params_file(tmp_path, {'/fleet': {'robot1': {'safety_gate': parameters}},
                                   'robot2': {'safety_gate': parameters},
                                   'safety_gate': parameters})
    assert config.parse_params_file(path) == {
        '/fleet/robot1/safety_gate': {'rate_hz': 30.0},
        '/robot2/safety_gate': {'rate_hz': 30.0}, 'safety_gate': {'rate_hz': 30.0}}


def test_a_params_file_is_read_for_the_node_name_asked(tmp_path):
    path = _params_file(tmp_path, {'safety_gate': {'ros__parameters': {'rate_hz': 30.0}},
                                   'gate2': {'ros__parameters': {'rate_hz': 20.0}}})
    assert config.read_params_file(path) == {'rate_hz': 30.0}
    assert config.read_params_file(path, node_name='gate2') == {'rate_hz': 20.0}
    assert config.load_yaml(path, node_name='gate2').rate_hz == 20.0


def test_without_a_namespace_the_refusal_names_the_root_node(tmp_path):
    path = _params_file(tmp_path, {'/robot1/gate2': {'ros__parameters': {'rate_hz': 30.0}},
                                   'other': {'ros__parameters': {}}})
    with pytest.raises(config.ConfigError) as error:
        config.read_params_file(path, node_name='gate2')
    assert str(error.value) == (
        f"params file {path} applies nothing to /gate2: its sections are '/robot1/gate2', "
        "'other'; the gate reads '/**', 'gate2', '/gate2'")


@pytest.mark.parametrize('data, expected', [
    ({'safety_gate': {'envelope.max_linear_speed': 0.8}},
     "section 'safety_gate' has no 'ros__parameters'"),
    ({'safety_gate': {'ros_parameters': {'rate_hz': 30.0}}},
     "section 'safety_gate' has no 'ros__parameters'"),
    ({'safety_gate': None}, "section 'safety_gate' has no 'ros__parameters'"),
    ({'safety_gate': {'ros__parameters': [1]}}, "section 'safety_gate' must hold only"),
    ({'safety_gate': {'ros__parameters': {'rate_hz': 30.0}, 'rate_hz': 20.0}},
     "section 'safety_gate' must hold only"),
    ({'gate': {'ros__parameters': {'rate_hz': 30.0}}},
     "applies nothing to /safety_gate: its sections are 'gate'; the gate reads '/**', "
     "'safety_gate', '/safety_gate'"),
    ({'/robot2/safety_gate': {'ros__parameters': {'rate_hz': 30.0}}},
     'applies nothing to /safety_gate'),
    (['a', 'list'], 'no node sections'),
], ids=['no-ros__parameters', 'typo', 'empty-section', 'parameters-not-a-mapping',
        'beside-parameters', 'other-node', 'other-namespace', 'not-a-mapping'])
def test_a_params_file_that_would_apply_nothing_is_refused(tmp_path, data, expected):
    path = _params_file(tmp_path, data)
    with pytest.raises(config.ConfigError) as error:
        config.load_yaml(path)
    assert str(path) in str(error.value) and expected in str(error.value)


@pytest.mark.parametrize('write, expected', [
    (None, 'No such file or directory'),
    ('mkdir', 'Is a directory'),
    ('safety_gate: [\n',
     "not valid YAML at line 2: expected the node content, but found '<stream end>'"),
    ('safety_gate: ros__parameters: {}\n',
     'not valid YAML at line 1: mapping values are not allowed here'),
    # PyYAML's reader has no line mark and no problem text for a control character.
    ('safety_gate:\x07\n', 'not valid YAML: unacceptable character #x0007: special '
     'characters are not allowed\n  in "<unicode string>", position 12'),
    (b'\xff\xfe', 'not a text file'),
], ids=['missing', 'directory', 'unparsable', 'one-line', 'control-character', 'binary'])
def test_an_unreadable_params_file_is_a_config_error_naming_it(tmp_path, write, expected):
    path = tmp_path / 'params.yaml'
    if write == 'mkdir':
        path.mkdir()
    elif isinstance(write, bytes):
        path.write_bytes(write)
    elif write is not None:
        path.write_text(write)
    with pytest.raises(config.ConfigError) as error:
        config.parse_params_file(path)
    assert str(error.value) == f'params file {path}: {expected}'


@pytest.mark.parametrize('section, matches', [
    # Checked against rclpy: which of /safety_gate and /robot1/safety_gate get the section.
    ('/**', (True, True)), ('/*/safety_gate', (False, True)),
    ('/**/safety_gate', (True, True)), ('safety_gate', (True, False)),
    ('/safety_gate', (True, False)), ('robot1/safety_gate', (False, True)),
    ('/robot1/*', (False, True)), ('/*', (True, False)), ('/**/other', (False, False)),
])
def test_rcl_section_matching(section, matches):
    assert tuple(config.rcl_applies(section, name)
                 for name in ('/safety_gate', '/robot1/safety_gate')) == matches


def test_the_node_refuses_a_params_file_rcl_applies_nothing_to(tmp_path):
    # rcl itself silently skips such a file: the node would run on its defaults.
    path = _params_file(tmp_path, {'/*/safety_gate': {'ros__parameters': {'rate_hz': 30.0}},
                                   'robot2/safety_gate': {'ros__parameters': {}}})
    assert config.require_rcl_section(path, '/robot1/safety_gate') is None
    with pytest.raises(config.ConfigError) as error:
        config.require_rcl_section(path, '/fleet/robot1/safety_gate')
    assert str(error.value) == (
        f'params file {path} applies nothing to /fleet/robot1/safety_gate: its sections are '
        "'/*/safety_gate', 'robot2/safety_gate'; rcl applies /**, /fleet/robot1/safety_gate "
        "and wildcards matching it (the launch file also applies a bare 'safety_gate' section "
        'in any namespace)')


def test_alpamayo_profile_reads_the_wrappers_trajectory_without_a_meta():
    loaded = config.flatten(config.load_yaml(ROOT / 'config' / 'alpamayo_autoware.yaml'))
    changed = {name: value for name, value in loaded.items()
               if value != config.defaults()[name]}
    assert changed == {'planner.input': 'autoware_trajectory', 'confidence.required': False,
                       'confidence.pairing_wait': 0.0,
                       'trajectory.max_age': 4.0}
    assert loaded['trajectory.frame_id'] == 'base_link' and loaded['trajectory.dt'] == 0.1
