# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Fuzz the meta path: byte-level mutations of valid metas, the size cap, and CDR decoding.

test_meta.py checks the parser's rules one by one and over random JSON;
this file mutates real planner metas (flipped, inserted and deleted
characters, much like a corrupted link or a hostile planner), checks the
size cap against the exact UTF-8 length for any text and cap, and feeds
arbitrary bytes to the CDR decoding the node applies to raw meta messages.
``SAFETY_GATE_HYPOTHESIS_EXAMPLES`` scales the budget (``make fuzz`` raises it).
"""

import json
import math
import os

from harness.meta_caps import MAX_BYTES, MAX_REASONING
from harness.ros import CDR_HEADER
from hypothesis import given, HealthCheck, settings, strategies as st
from rclpy.serialization import deserialize_message, serialize_message
from safety_gate.events import Meta, stamp_to_seconds
from safety_gate.meta import parse_meta
from std_msgs.msg import String

EXAMPLES = 4 * int(os.environ.get('SAFETY_GATE_HYPOTHESIS_EXAMPLES', '150'))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# Characters that change JSON structure, plus a few that stress decoders.
JSON_CHARS = '{}[]":,\\0123456789.eE+-ntrufalsNIy \x00\u2028\ud800\U0001f600é'

stamps = st.fixed_dictionaries(
    {'sec': st.integers(-2**31, 2**31 - 1), 'nanosec': st.integers(0, 999_999_999)})
valid_docs = st.fixed_dictionaries({
    'stamp': stamps,
    'confidence': st.floats(0.0, 1.0),
    'model_sha256': st.text(max_size=200),
    'reasoning': st.text(max_size=3 * MAX_REASONING),
})
mutations = st.lists(st.tuples(st.sampled_from(['insert', 'delete', 'replace']),
                               st.floats(0.0, 1.0), st.sampled_from(list(JSON_CHARS))),
                     min_size=1, max_size=8)


def mutate(text, edits):
    """Apply (kind, position as a fraction of the length, character) edits to ``text``."""
    for kind, where, char in edits:
        at = min(int(where * len(text)), max(len(text) - 1, 0))
        if kind == 'insert':
            text = text[:at] + char + text[at:]
        elif kind == 'delete':
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + char + text[at + 1:]
    return text


def assert_well_formed(meta, text):
    assert isinstance(meta, Meta)
    assert meta.confidence is not None or meta.error is not None, meta
    assert len(meta.reasoning) <= MAX_REASONING and len(meta.model_sha256) <= 128
    if meta.error is None:
        assert isinstance(meta.stamp, float) and math.isfinite(meta.stamp)
    if meta.confidence is not None:
        assert math.isfinite(meta.confidence) and 0.0 <= meta.confidence <= 1.0
        # Whatever parsed, parsed from this text: the differential oracle is json itself.
        assert json.loads(text)['confidence'] == meta.confidence


@FUZZ
@given(valid_docs)
def test_a_valid_meta_parses_exactly(doc):
    meta = parse_meta(json.dumps(doc, ensure_ascii=False), 10**9, MAX_REASONING)
    stamp = doc['stamp']
    assert meta == Meta(stamp_to_seconds(stamp['sec'], stamp['nanosec']), doc['confidence'],
                        doc['model_sha256'][:128], doc['reasoning'][:MAX_REASONING], None)


@FUZZ
@given(valid_docs, mutations, st.booleans())
def test_a_mutated_meta_never_raises_and_never_invents_a_confidence(doc, edits, ascii_only):
    text = mutate(json.dumps(doc, ensure_ascii=ascii_only), edits)
    assert_well_formed(parse_meta(text, MAX_BYTES * 100, MAX_REASONING), text)


@FUZZ
@given(st.text(alphabet=st.characters(codec='utf-8') | st.sampled_from(list(JSON_CHARS))),
       st.integers(0, 64))
def test_the_size_cap_is_the_exact_utf8_length(text, max_bytes):
    meta = parse_meta(text, max_bytes, MAX_REASONING)
    oversized = len(text.encode('utf-8', 'surrogatepass')) > max_bytes
    assert (meta.error or '').startswith('oversized') == oversized, (text, meta)
    if oversized:
        assert meta == Meta(None, None, error=meta.error)


# Planner metas as a planner would send them: small enough to parse, with
# confidences inside, at and outside [0, 1] and of the wrong type.
planner_docs = st.fixed_dictionaries({
    'stamp': stamps,
    'confidence': st.one_of(st.floats(0.0, 1.0), st.sampled_from(
        [0.0, 1.0, 1.0000001, -0.0, -1e-9, 2, True, None, '0.9', math.inf])),
    'model_sha256': st.just('ab' * 32),
    'reasoning': st.text(max_size=40),
})
planner_texts = st.one_of(
    planner_docs.map(json.dumps), planner_docs.map(json.dumps),
    st.tuples(planner_docs, mutations).map(lambda drawn: mutate(json.dumps(drawn[0]), *drawn[1:])))


def _cdr(text):
    """Serialize like a publisher: a text it cannot encode (NUL, lone surrogate) as empty."""
    try:
        return serialize_message(String(data=text))
    except Exception:  # noqa: B902 - rclpy raises various types for unencodable text
        return serialize_message(String(data=''))


meta_payloads = st.one_of(
    planner_texts.map(_cdr),
    st.tuples(planner_texts.map(_cdr), mutations).map(
        lambda drawn: mutate(drawn[0].decode('latin-1'), drawn[1]).encode('latin-1', 'replace')),
    st.tuples(st.binary(max_size=64), st.booleans()).map(
        lambda drawn: (CDR_HEADER + drawn[0]) if drawn[1] else drawn[0]))


def test_any_bytes_on_the_meta_topic_decode_or_raise():
    reached = {'examples': 0, 'decoded': 0, 'confidence': 0}

    @FUZZ
    @given(meta_payloads)
    def decode(data):
        reached['examples'] += 1
        try:
            text = deserialize_message(data, String).data
        except Exception:  # noqa: B902 - the node maps any decoding failure to malformed
            return
        assert isinstance(text, str)
        meta = parse_meta(text, MAX_BYTES, MAX_REASONING)
        assert_well_formed(meta, text)
        reached['decoded'] += 1
        reached['confidence'] += meta.confidence is not None

    decode()
    print(f'meta topic fuzz: {reached}')
    # A strategy that drifted to bytes that never decode would check nothing.
    assert reached['decoded'] >= 0.4 * reached['examples'], reached
    assert reached['confidence'] >= 0.1 * reached['examples'], reached


@FUZZ
@given(st.text(alphabet=st.characters(codec='utf-8', exclude_characters='\x00')),
       mutations)
def test_mutated_cdr_of_a_meta_decodes_or_raises(text, edits):
    raw = serialize_message(String(data=text))
    assert deserialize_message(raw, String).data == text
    corrupted = mutate(raw.decode('latin-1'), edits).encode('latin-1', 'replace')
    try:
        decoded = deserialize_message(corrupted, String).data
    except Exception:  # noqa: B902 - the node maps any decoding failure to malformed
        return
    assert_well_formed(parse_meta(decoded, MAX_BYTES, MAX_REASONING), decoded)
