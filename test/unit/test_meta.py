# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The planner meta parser: untrusted text in, a Meta out, never an exception."""

import json
import math

from harness.meta_caps import MAX_BYTES, MAX_REASONING
from hypothesis import given, settings, strategies as st
import pytest

from safety_gate.events import Meta, ModelAnnouncement, stamp_to_seconds
from safety_gate.meta import parse_meta, parse_model_announcement

STAMP = {'sec': 1700000000, 'nanosec': 250000000}


def parse(data, max_bytes=MAX_BYTES, max_reasoning=MAX_REASONING) -> Meta:
    return parse_meta(data, max_bytes, max_reasoning)


def meta_json(**fields) -> str:
    """Return a valid meta document with some fields replaced (None removes a field)."""
    doc = {'stamp': STAMP, 'confidence': 0.8, 'model_sha256': 'ab' * 32,
           'reasoning': 'clear road'}
    doc.update(fields)
    return json.dumps({k: v for k, v in doc.items() if v is not None}, ensure_ascii=False)


def assert_rejected(meta: Meta, error_start='malformed', confidence=None):
    """Assert the meta has an error; ``confidence`` is what parsed of it all the same."""
    assert meta.confidence == confidence
    assert meta.error is not None and meta.error.startswith(error_start), meta.error


def test_valid_meta_parses():
    meta = parse(meta_json())
    assert meta == Meta(stamp_to_seconds(1700000000, 250000000), 0.8, 'ab' * 32,
                        'clear road', None)


@pytest.mark.parametrize('confidence', [0, 1, 0.0, 1.0, 0.5])
def test_confidence_in_the_closed_unit_interval_is_accepted(confidence):
    meta = parse(meta_json(confidence=confidence))
    assert meta.confidence == confidence
    assert isinstance(meta.confidence, float)


def test_oversized_meta_is_rejected_before_parsing():
    padded = meta_json(reasoning='x' * MAX_BYTES)
    assert_rejected(parse(padded), 'oversized')
    assert_rejected(parse('[' * (MAX_BYTES + 1)), 'oversized')


def test_the_size_cap_counts_utf8_bytes_not_characters():
    text = meta_json(reasoning='é' * 450)
    assert len(text) < 1024 < len(text.encode())
    assert_rejected(parse(text, max_bytes=1024), 'oversized')
    assert parse(text, max_bytes=len(text.encode())).confidence == 0.8


@pytest.mark.parametrize('data', ['', '{', 'null', '[]', '"text"', '0.9', '{"confidence": }',
                                  '\ud800', '{"stamp": {"sec": 1, "nanosec": 0}} trailing'])
def test_malformed_json_is_rejected(data):
    assert_rejected(parse(data))


@pytest.mark.parametrize('data', ['[' * 5000, '{"a":' * 3000, '[' * MAX_BYTES],
                         ids=['lists', 'objects', 'at-the-cap'])
def test_deep_nesting_is_rejected_without_crashing(data):
    assert_rejected(parse(data))


@pytest.mark.parametrize('data', ['1' * 5000, '{"confidence": ' + '1' * 5000 + '}'],
                         ids=['bare', 'confidence'])
def test_an_integer_too_long_to_convert_is_rejected(data):
    # Python refuses to convert ints of more than 4300 digits with a plain
    # ValueError, not a JSONDecodeError.
    assert_rejected(parse(data))


@pytest.mark.parametrize('literal', [
    'true', 'false', '"0.9"', 'null', '[0.9]', '{}', 'NaN', 'Infinity', '-Infinity', '1e400',
    '-0.1', '1.0001', '2'])
def test_confidence_of_a_wrong_type_or_outside_the_unit_interval_is_rejected(literal):
    meta = parse(meta_json(confidence=None)[:-1] + f', "confidence": {literal}}}')
    assert_rejected(meta)
    assert 'confidence' in meta.error


@pytest.mark.parametrize('stamp', [
    None, 5, 'now', {}, {'sec': 1}, {'nanosec': 0}, {'sec': 1.0, 'nanosec': 0},
    {'sec': 1, 'nanosec': 0.5}, {'sec': True, 'nanosec': 0}, {'sec': 1, 'nanosec': -1},
    {'sec': 1, 'nanosec': 1000000000}, {'sec': 2 ** 31, 'nanosec': 0}])
def test_a_missing_or_bad_stamp_is_rejected(stamp):
    meta = parse(meta_json(stamp=stamp))
    assert_rejected(meta, confidence=0.8)
    assert meta.stamp is None
    assert 'stamp' in meta.error


def test_the_reasoning_is_kept_truncated():
    meta = parse(meta_json(reasoning='why ' * 1000))
    assert meta.reasoning == ('why ' * 1000)[:MAX_REASONING]
    assert meta.confidence == 0.8
    assert parse(meta_json(), max_reasoning=0).reasoning == ''


@pytest.mark.parametrize('field', ['reasoning', 'model_sha256'])
@pytest.mark.parametrize('value', [42, ['text'], {'text': 1}, True])
def test_a_text_field_of_another_type_is_rejected(field, value):
    # The confidence that parsed stays visible in the trace; the error alone fails the check.
    meta = parse(meta_json(**{field: value}))
    assert_rejected(meta, confidence=0.8)
    assert field in meta.error
    assert getattr(meta, field) == ''


def assert_well_formed(meta):
    assert isinstance(meta, Meta)
    if meta.confidence is None:
        assert meta.error
    else:
        assert math.isfinite(meta.confidence) and 0.0 <= meta.confidence <= 1.0
    if meta.error is None:
        assert isinstance(meta.stamp, float)
    assert len(meta.reasoning) <= MAX_REASONING


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)

meta_like = st.fixed_dictionaries({}, optional={
    'stamp': json_values | st.fixed_dictionaries({'sec': json_values, 'nanosec': json_values}),
    'confidence': json_values,
    'model_sha256': json_values,
    'reasoning': json_values | st.text(min_size=MAX_REASONING, max_size=MAX_REASONING + 5),
})


@settings(max_examples=300, deadline=None)
@given(st.text() | st.binary().map(lambda b: b.decode('utf-8', 'surrogateescape')))
def test_any_text_gives_a_meta(data):
    assert_well_formed(parse(data))


@settings(max_examples=300, deadline=None)
@given(meta_like | json_values)
def test_any_json_document_gives_a_meta(doc):
    assert_well_formed(parse(json.dumps(doc)))


@pytest.mark.parametrize('stamp', [
    {'sec': 1, 'nanosec': 0}, {'sec': 1, 'nanosec': 999_999_999},
    {'sec': -2 ** 31, 'nanosec': 0}, {'sec': 2 ** 31 - 1, 'nanosec': 0}])
def test_a_stamp_on_each_edge_of_its_ranges_is_accepted(stamp):
    meta = parse(meta_json(stamp=stamp))
    assert meta.error is None
    assert meta.stamp == stamp_to_seconds(stamp['sec'], stamp['nanosec'])


@pytest.mark.parametrize('stamp, error', [
    ('now', 'stamp is not an object'),
    ({'sec': 1, 'nanosec': -1}, 'stamp needs integer sec and nanosec in [0, 1e9)'),
    ({'sec': -2 ** 31 - 1, 'nanosec': 0}, 'stamp.sec out of the int32 range')])
def test_a_bad_stamp_is_named_in_the_error(stamp, error):
    assert parse(meta_json(stamp=stamp)).error == f'malformed: {error}'


@pytest.mark.parametrize('confidence, error', [
    ('0.9', 'confidence is not a number'), (True, 'confidence is not a number'),
    (1.5, 'confidence is not in [0, 1]'), (-0.1, 'confidence is not in [0, 1]')])
def test_a_bad_confidence_is_named_in_the_error(confidence, error):
    assert parse(meta_json(confidence=confidence)).error == f'malformed: {error}'


@pytest.mark.parametrize('data, error', [
    ('{', 'malformed: Expecting property name enclosed in double quotes'),
    ('[1]', 'malformed: not a JSON object'),
    ('{"confidence": 1' + '0' * 5000 + '}', 'malformed: Exceeds the limit')])
def test_a_document_that_is_no_meta_is_named_in_the_error(data, error):
    # JSON's own message without its position; a plain ValueError's text.
    assert parse(data).error.startswith(error)
    assert 'line 1' not in parse(data).error


def test_a_meta_without_a_model_hash_or_reasoning_is_well_formed_with_empty_ones():
    meta = parse(meta_json(model_sha256=None, reasoning=None))
    assert (meta.error, meta.model_sha256, meta.reasoning) == (None, '', '')


def test_a_model_hash_or_reasoning_that_is_no_string_is_named_and_dropped():
    meta = parse(meta_json(model_sha256=5, reasoning=['x']))
    assert meta.error == ('malformed: model_sha256 is not a string; '
                          'reasoning is not a string')
    assert (meta.model_sha256, meta.reasoning, meta.confidence) == ('', '', 0.8)


def test_a_model_announcement_parses_and_keeps_its_strings_capped():
    text = json.dumps({'sha256': 'a' * 64, 'name': 'alpamayo-r1', 'version': '1.1',
                       'other': 1})
    assert parse_model_announcement(text, MAX_BYTES) == ModelAnnouncement(
        'a' * 64, 'alpamayo-r1', '1.1')
    long = parse_model_announcement(json.dumps({'sha256': 'a' * 500, 'name': 'n' * 500}),
                                    MAX_BYTES)
    assert len(long.sha256) == 128 and len(long.name) == 256 and long.error is None


@pytest.mark.parametrize('text, error', [
    ('{"name": "x"}', 'malformed: no sha256'),
    ('{"sha256": 5}', 'malformed: sha256 not a string'),
    ('{"sha256": "ab", "version": 1.1}', 'malformed: version not a string'),
    ('{"sha256": 5, "name": null}', 'malformed: sha256, name not a string'),
    ('[1]', 'malformed: not a JSON object'),
    ('{"sha256": ', 'malformed: Expecting value'),
    ('{"sha256": "' + 'a' * MAX_BYTES + '"}', f'oversized: more than {MAX_BYTES} bytes'),
])
def test_a_bad_model_announcement_names_no_model_and_says_why(text, error):
    assert parse_model_announcement(text, MAX_BYTES) == ModelAnnouncement('', error=error)
