# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The trace line format: encode, hash-chain, sign and split one JSONL line.

Line format (one JSON object per line, UTF-8, newline terminated)::

    {<the caller's fields>, "prev_sha256": HEX,
     ["chain_start": true,] ["lost_before": N,] ["hmac_sha256": HEX]}

* ``prev_sha256`` is the sha256 of the exact bytes of the previous line (without
  its newline), so changing, removing or reordering a line breaks the chain.
  The chain runs on across rotated files and across restarts.
* ``chain_start`` marks the first record a writer wrote after it started. Its
  ``prev_sha256`` names the last line already in the file (or 64 zeros for a
  fresh trace), so a restart keeps the chain unbroken; only the caller's ``seq``
  starts again at 0 there.
* ``lost_before`` is the number of records the writer lost (queue full, write
  error, not serialisable) between the previous line of the file and this one,
  so a verifier can tell a gap the writer reported from a deleted record.
* ``hmac_sha256`` (only with a key) is always the last member. Its value is
  HMAC-SHA256(key, line without the ``,"hmac_sha256":"..."`` member), so a
  verifier strips that suffix and checks the exact bytes without re-encoding.
  ``prev_sha256`` of the next line covers the whole line, HMAC included.

Non-finite floats (a planner can send NaN) are kept as the JSON strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``; ``float()`` reads them back.

The writer (:mod:`safety_gate.trace_writer`) and the verifier
(:mod:`safety_gate.verify`) take the format from here.
"""

import hashlib
import hmac
import json
import math
import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, TypedDict

HMAC_ENV_VAR = 'SAFETY_GATE_TRACE_HMAC_KEY'
GENESIS = '0' * 64


class _Link(TypedDict):
    prev_sha256: str


class ChainFields(_Link, total=False):
    """The members the writer adds to every record's line (see the module docstring)."""

    chain_start: bool
    lost_before: int
    hmac_sha256: str


WRITER_FIELDS = tuple(ChainFields.__annotations__)
NON_FINITE = {math.inf: 'Infinity', -math.inf: '-Infinity'}
HMAC_MEMBER = b',"hmac_sha256":"'
HMAC_SUFFIX_LEN = len(HMAC_MEMBER) + 64 + len(b'"}')


def load_hmac_key(key_file: str, env_var: str = HMAC_ENV_VAR) -> Optional[bytes]:
    """Return the trace HMAC key from ``key_file``, else from ``env_var``, else None.

    The file holds the raw key; one trailing newline (LF or CRLF) is dropped. Raise OSError if
    the file cannot be read and ValueError if it is empty. Messages never quote the key.
    """
    if key_file:
        key = Path(key_file).read_bytes()
        key = key[:-1] if key.endswith(b'\n') else key
        key = key[:-1] if key.endswith(b'\r') else key
        if not key:
            raise ValueError(f'HMAC key file {key_file} is empty')
        return key
    value = os.environ.get(env_var, '')
    return value.encode() if value else None


def sha256_hex(line: bytes) -> str:
    """Return the chain hash of one trace line (its bytes without the newline)."""
    return hashlib.sha256(line).hexdigest()


def hmac_hex(key: bytes, signed: bytes) -> str:
    """Return the HMAC-SHA256 of the signed part of a line."""
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def sign_line(key: bytes, line: bytes) -> bytes:
    """Append the ``hmac_sha256`` member, signing the line as it is (a JSON object)."""
    return line[:-1] + HMAC_MEMBER + hmac_hex(key, line).encode() + b'"}'


def split_signature(line: bytes) -> Optional[Tuple[bytes, bytes]]:
    """Return (the signed bytes, the hex HMAC) of a signed line, or None if it has none.

    Only a top-level last member matches: inside a string the quotes would be
    escaped, and inside a nested object the line would end in ``}}``.
    """
    member = line[-HMAC_SUFFIX_LEN:-HMAC_SUFFIX_LEN + len(HMAC_MEMBER)]
    if len(line) <= HMAC_SUFFIX_LEN or member != HMAC_MEMBER or not line.endswith(b'"}'):
        return None
    return line[:-HMAC_SUFFIX_LEN] + b'}', line[-66:-2]


def _dumps(obj: Any, ascii_only: bool = False) -> str:
    return json.dumps(obj, separators=(',', ':'), ensure_ascii=ascii_only, allow_nan=False)


def _finite(obj: Any) -> Any:
    """Return a copy of ``obj`` with non-finite floats replaced by their names."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return NON_FINITE.get(obj, 'NaN')
    if isinstance(obj, dict):
        return {key: _finite(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(value) for value in obj]
    return obj


def encode_record(record: Mapping[str, Any]) -> bytes:
    """Serialise one record as a compact JSON line (no newline), keeping NaN as text.

    Raise TypeError or ValueError if the record is not JSON-serialisable.
    """
    obj: Any = record
    try:
        text = _dumps(obj)
    except ValueError:
        obj = _finite(record)
        text = _dumps(obj)
    try:
        return text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (a '\ud800' escape in planner JSON) has no UTF-8 form;
        # the escaped spelling is still the same JSON value.
        return _dumps(obj, ascii_only=True).encode()


class HashChain:
    """Turn records into chained (and, with a key, signed) lines, one after another."""

    def __init__(self, hmac_key: Optional[bytes] = None) -> None:
        """Start a chain that links to nothing yet (``last_sha256`` is :data:`GENESIS`)."""
        self._hmac_key = hmac_key
        self.last_sha256 = GENESIS
        self.started = False

    def resume_after(self, line: Optional[bytes]) -> None:
        """Link the next line to ``line`` (a trace's last line; None: a fresh trace)."""
        self.last_sha256 = sha256_hex(line) if line is not None else GENESIS

    def link(self, record: Mapping[str, Any], lost_before: int) -> bytes:
        """Return ``record`` as the next line of the chain (without its newline).

        The writer's own fields in ``record`` are replaced. Raise TypeError,
        ValueError, AttributeError or RecursionError if the record cannot be
        encoded; the chain then stays where it was.
        """
        fields: Dict[str, Any] = {k: v for k, v in record.items() if k not in WRITER_FIELDS}
        fields['prev_sha256'] = self.last_sha256
        if not self.started:
            fields['chain_start'] = True
        if lost_before:
            fields['lost_before'] = lost_before
        line = encode_record(fields)
        if self._hmac_key is not None:
            line = sign_line(self._hmac_key, line)
        self.last_sha256 = sha256_hex(line)
        self.started = True
        return line
