# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Parse the planner's JSON messages: size cap first, then JSON, then types.

The meta (``planner/meta``) and the model announcement (``planner/model``) are
untrusted input. Nothing in them can approve a proposal: a parse failure sets
the event's ``error``, which fails the confidence check or leaves the model
unknown, and the reasoning text is kept as data (truncated) for the trace.
"""

import json
import math
from typing import Any

from safety_gate.events import Meta, ModelAnnouncement, stamp_to_seconds

_MAX_MODEL_HASH_CHARS = 128
_MAX_MODEL_NAME_CHARS = 256


def _json_object(data: str, max_bytes: int):
    """Return (the JSON object in ``data``, None) or (None, the error)."""
    # Characters never outnumber UTF-8 bytes, so the cheap length test rejects
    # a huge string before it is encoded or parsed.
    if len(data) > max_bytes or len(data.encode('utf-8', 'surrogatepass')) > max_bytes:
        return None, f'oversized: more than {max_bytes} bytes'
    try:
        doc = json.loads(data)
    except RecursionError:
        return None, 'malformed: nested too deeply'
    except ValueError as exc:
        # Only JSONDecodeError has .msg; an over-long integer raises a plain ValueError.
        return None, f'malformed: {getattr(exc, "msg", exc)}'
    if not isinstance(doc, dict):
        return None, 'malformed: not a JSON object'
    return doc, None


def parse_model_announcement(data: str, max_bytes: int) -> ModelAnnouncement:
    """Return the announcement in ``data`` (JSON: sha256, name, version); never raise.

    Anything wrong leaves ``sha256`` empty and says why in ``error``.
    """
    doc, error = _json_object(data, max_bytes)
    if doc is None:
        return ModelAnnouncement('', error=error)
    fields = {key: doc.get(key, '') for key in ('sha256', 'name', 'version')}
    wrong = [key for key, value in fields.items() if not isinstance(value, str)]
    if wrong or not fields['sha256']:
        what = f'{", ".join(wrong)} not a string' if wrong else 'no sha256'
        return ModelAnnouncement('', error=f'malformed: {what}')
    return ModelAnnouncement(fields['sha256'][:_MAX_MODEL_HASH_CHARS],
                             fields['name'][:_MAX_MODEL_NAME_CHARS],
                             fields['version'][:_MAX_MODEL_NAME_CHARS])


def parse_meta(data: str, max_bytes: int, max_reasoning_chars: int) -> Meta:
    """Return the Meta in ``data``; failures come back as ``Meta.error``, never raise."""
    doc, error = _json_object(data, max_bytes)
    if doc is None:
        return Meta(None, None, error=error)
    stamp, stamp_error = _stamp(doc.get('stamp'))
    confidence, confidence_error = _confidence(doc.get('confidence'))
    model = doc.get('model_sha256', '')
    reasoning = doc.get('reasoning', '')
    errors = [e for e in (stamp_error, confidence_error) if e]
    if not isinstance(model, str):
        errors.append('model_sha256 is not a string')
        model = ''
    if not isinstance(reasoning, str):
        errors.append('reasoning is not a string')
        reasoning = ''
    # A confidence that parsed is kept even when another field did not, so the
    # trace shows it; the error alone makes the confidence check fail.
    return Meta(stamp, confidence,
                model_sha256=model[:_MAX_MODEL_HASH_CHARS],
                reasoning=reasoning[:max_reasoning_chars],
                error=('malformed: ' + '; '.join(errors)) if errors else None)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _stamp(value: Any):
    if not isinstance(value, dict):
        return None, 'stamp is not an object'
    sec, nanosec = value.get('sec'), value.get('nanosec')
    if not (_is_int(sec) and _is_int(nanosec)) or not 0 <= nanosec < 1_000_000_000:
        return None, 'stamp needs integer sec and nanosec in [0, 1e9)'
    if not -2**31 <= sec < 2**31:
        return None, 'stamp.sec out of the int32 range'
    return stamp_to_seconds(sec, nanosec), None


def _confidence(value: Any):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, 'confidence is not a number'
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        return None, 'confidence is not in [0, 1]'
    return float(value), None
