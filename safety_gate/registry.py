# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The model registry: which model artifacts may have authority, and at which stage.

A YAML file (``provenance.registry_file``) lists the approved models::

    models:
      - sha256: <64 hex>
        name: alpamayo-r1
        version: "1.0"
        approved_by: "J. Doe, safety board 2026-11-02"
        evidence: "https://... or a note"
        stage: production      # shadow | canary | production
        envelope_scale: 1.0    # canary: e.g. 0.5
        confidence_threshold: null  # canary: a stricter threshold; null = the global one

Pure: no ROS. The node loads it once at start (a bad file refuses the start,
naming the entry and the field); the config record carries the parsed entries
and the file's sha256, which is part of the config hash, so a registry change
is a config change and a trace replays with the registry it ran with.
"""

import hashlib
import os
from pathlib import Path
import re
from typing import Any, Dict, List, Optional, Tuple

try:
    import pydantic.v1 as pydantic
except ImportError:  # pydantic < 1.10.17 has no v1 alias
    import pydantic

import yaml

STAGES = ('shadow', 'canary', 'production')
_HEX64 = re.compile(r'[0-9a-f]{64}')


class RegistryError(ValueError):
    """An unreadable or invalid registry file: the message names the entry and field."""


class Entry(pydantic.BaseModel):
    """One approved model artifact."""

    class Config:
        extra = pydantic.Extra.forbid
        allow_mutation = False

    sha256: pydantic.StrictStr
    name: pydantic.StrictStr
    version: pydantic.StrictStr
    approved_by: pydantic.StrictStr
    evidence: pydantic.StrictStr
    stage: pydantic.StrictStr
    envelope_scale: pydantic.confloat(strict=False, gt=0.0, le=1.0) = 1.0
    confidence_threshold: Optional[pydantic.confloat(ge=0.0, le=1.0)] = None

    @pydantic.validator('sha256')
    def _hex(cls, value):
        if not _HEX64.fullmatch(value):
            raise ValueError('must be 64 lower-case hex digits (sha256sum of the weights)')
        return value

    @pydantic.validator('stage')
    def _stage(cls, value):
        if value not in STAGES:
            raise ValueError(f'must be one of {", ".join(STAGES)}')
        return value

    @pydantic.validator('name', 'version', 'approved_by')
    def _named(cls, value):
        if not value.strip():
            raise ValueError('must not be empty')
        return value

    @pydantic.validator('envelope_scale', 'confidence_threshold', pre=True)
    def _number(cls, value):
        if isinstance(value, bool) or not (value is None or isinstance(value, (int, float))):
            raise TypeError('must be a number')
        return value


class _File(pydantic.BaseModel):
    class Config:
        extra = pydantic.Extra.forbid

    models: List[Entry]


class Registry:
    """The approved entries by sha256, and the sha256 of the file they came from."""

    def __init__(self, entries: Tuple[Entry, ...] = (), sha256: str = '') -> None:
        """Index ``entries``; ``sha256`` is the file's ('' for no file)."""
        self.entries = tuple(entries)
        self.sha256 = sha256
        self._by_hash = {entry.sha256: entry for entry in self.entries}

    def lookup(self, model_sha256: str) -> Optional[Entry]:
        """Return the entry approving ``model_sha256``, or None."""
        return self._by_hash.get(model_sha256)

    def to_records(self) -> List[Dict[str, Any]]:
        """Return the entries as plain dicts (the config record's ``registry``)."""
        return [entry.dict() for entry in self.entries]

    def __eq__(self, other) -> bool:
        """Registries are equal when their entries are."""
        return isinstance(other, Registry) and self.entries == other.entries

    def __hash__(self) -> int:
        """Hash by the entries."""
        return hash(self.entries)


EMPTY = Registry()


def from_records(records: Any, sha256: str = '', where: str = 'registry') -> Registry:
    """Validate entries given as plain data (a parsed file, a config record's ``registry``)."""
    try:
        parsed = _File.parse_obj({'models': records})
    except pydantic.ValidationError as exc:
        raise RegistryError('; '.join(_describe(where, error, records)
                                      for error in exc.errors())) from None
    seen: Dict[str, int] = {}
    for index, entry in enumerate(parsed.models):
        if entry.sha256 in seen:
            raise RegistryError(f'{where}: models[{index}] ({entry.name}) repeats the sha256 '
                                f'of models[{seen[entry.sha256]}]')
        seen[entry.sha256] = index
    return Registry(tuple(parsed.models), sha256)


def _describe(where: str, error: Dict[str, Any], records: Any) -> str:
    loc = [part for part in error['loc'] if part != 'models']
    if loc and isinstance(loc[0], int):
        index, field = loc[0], '.'.join(str(p) for p in loc[1:]) or 'entry'
        name = records[index].get('name', '?') if isinstance(records[index], dict) else '?'
        return f'{where}: models[{index}] ({name}) field {field!r}: {error["msg"]}'
    return f'{where}: {error["msg"]}'


def resolve(path: str, params_file: Optional[str] = None) -> str:
    """Return ``provenance.registry_file`` as a path: relative to the params file that set it.

    Without a params file (a ``-p`` override, the default) a relative path is
    relative to the working directory.
    """
    if not path or os.path.isabs(path) or params_file is None:
        return path
    return os.path.join(os.path.dirname(os.path.abspath(params_file)), path)


def of_config(cfg, params_file: Optional[str] = None) -> Registry:
    """Load the registry a GateConfig names, read from ``params_file`` (None: given otherwise)."""
    return load(resolve(cfg.provenance.registry_file, params_file))


def load(path: str) -> Registry:
    """Load a registry file (empty path: no registry); RegistryError names the problem."""
    if not path:
        return EMPTY
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise RegistryError(f'registry file {path}: {exc.strerror or exc}') from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise RegistryError(f'registry file {path}: not valid YAML: {exc}') from None
    if not isinstance(data, dict) or set(data) != {'models'}:
        raise RegistryError(f'registry file {path}: must be a mapping with one key, models')
    if not isinstance(data['models'], list):
        raise RegistryError(f'registry file {path}: models must be a list')
    return from_records(data['models'], hashlib.sha256(raw).hexdigest(), f'registry file {path}')
