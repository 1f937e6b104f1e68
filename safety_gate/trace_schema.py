# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The JSON Schema of trace records, generated from their types in ``trace_record``.

``safety-gate export`` gives it to the MCAP channels of the records, where
Foxglove reads it to name the fields of a message path. Generated, not
written: a field added to a record type is in the schema, and the export
tests validate every record of real traces against it (no member that the
types do not declare), so a record built differently from its type fails them.

An event record is its dataclass's fields plus ``type`` (its name in
``trace_record.EVENT_TYPES``) and ``t``, as ``trace_record.event_to_dict``
builds it; a field with a default may be absent (older traces). A float may
be spelled ``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` (``trace_format``).
"""

import dataclasses
import enum
from typing import Any, Dict, get_args, get_origin, get_type_hints, is_typeddict, Union

from safety_gate.trace_record import ConfigRecord, DecisionRecord, EVENT_NAMES, \
    NON_FINITE_SPELLINGS, SpiRecord

DIALECT = 'https://json-schema.org/draft/2020-12/schema'
_FLOAT = {'anyOf': [{'type': 'number'}, {'enum': list(NON_FINITE_SPELLINGS)}]}
_SCALARS = {bool: {'type': 'boolean'}, int: {'type': 'integer'}, float: _FLOAT,
            str: {'type': 'string'}, type(None): {'type': 'null'}}


def decision_schema() -> Dict[str, Any]:
    """Return the JSON Schema of a decision record."""
    return _document(DecisionRecord)


def config_schema() -> Dict[str, Any]:
    """Return the JSON Schema of a config record."""
    return _document(ConfigRecord)


def spi_schema() -> Dict[str, Any]:
    """Return the JSON Schema of an SPI record."""
    return _document(SpiRecord)


def _document(record_type: type) -> Dict[str, Any]:
    return {'$schema': DIALECT, 'title': f'safety_gate {record_type.__name__}',
            **schema_of(record_type)}


def schema_of(annotation: Any) -> Dict[str, Any]:
    """Return the JSON Schema of values of a type annotation of a trace record."""
    if annotation in (Any, object):
        return {}
    if annotation in _SCALARS:
        return dict(_SCALARS[annotation])
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {'type': 'string', 'enum': [member.value for member in annotation]}
    if is_typeddict(annotation):
        return _object(annotation.__doc__, get_type_hints(annotation),
                       annotation.__required_keys__)
    if dataclasses.is_dataclass(annotation):
        return _event(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Union:
        return {'anyOf': [schema_of(arg) for arg in args]}
    if origin is list or (origin is tuple and args[1:] == (Ellipsis,)):
        return {'type': 'array', 'items': schema_of(args[0])}
    if origin is tuple:
        return {'type': 'array', 'prefixItems': [schema_of(arg) for arg in args],
                'items': False}
    if origin is dict and args[0] is str:
        return {'type': 'object', 'additionalProperties': schema_of(args[1])}
    raise TypeError(f'no JSON Schema for {annotation!r} in a trace record')


def _object(doc: str, fields: Dict[str, Any], required) -> Dict[str, Any]:
    schema = {'type': 'object',
              'properties': {name: schema_of(tp) for name, tp in fields.items()},
              'required': [name for name in fields if name in required],
              'additionalProperties': False}
    if doc:
        schema['description'] = ' '.join(doc.split())
    return schema


def _event(cls: type) -> Dict[str, Any]:
    hints = get_type_hints(cls)
    fields = {'type': Any, 't': float, **{f.name: hints[f.name] for f in dataclasses.fields(cls)}}
    defaults = {f.name for f in dataclasses.fields(cls)
                if f.default is not dataclasses.MISSING}
    schema = _object(cls.__doc__.split('\n\n')[0], fields, set(fields) - defaults)
    schema['properties']['type'] = {'const': EVENT_NAMES[cls]}
    return schema
