# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Read back what ``safety-gate export`` wrote, with readers it does not write with.

MCAP with mcap's reader, CDR decoded by mcap-ros2-support and JSON validated
against the schema the file carries; a rosbag2 bag with rosbags' AnyReader.
Both give ``{topic: [(log time ns, message as nested dicts)]}`` in file order.
:data:`MISSING` says why they cannot run here (None when they can).
"""

import dataclasses
import json

try:
    import jsonschema
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory
    import numpy
    from rosbags.highlevel import AnyReader
    MISSING = None
except ImportError as exc:
    MISSING = (f'the export libraries are absent ({exc.name} is not installed; `make venv` '
               "installs the Makefile's EXPORT list: mcap rosbags mcap-ros2-support "
               'jsonschema)')


def plain(message):
    """Return a decoded message (either reader's classes) as nested dicts and lists."""
    if isinstance(message, (list, tuple, numpy.ndarray)):
        return [plain(item) for item in message]
    if dataclasses.is_dataclass(message):
        names = [f.name for f in dataclasses.fields(message) if not f.name.startswith('__')]
    elif hasattr(message, '__slots__'):
        names = message.__slots__
    else:
        return message
    return {name: plain(getattr(message, name)) for name in names}


def schema_errors(schema, value):
    """Return what is wrong with ``value`` under the JSON Schema ``schema`` (a valid schema)."""
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    return [error.message for error in validator.iter_errors(value)]


def read_mcap(path):
    """Read with mcap's reader; CDR decoded by mcap-ros2-support, JSON by json."""
    found, factory, decoders = {}, DecoderFactory(), {}
    with open(path, 'rb') as file:
        reader = make_reader(file)
        for schema, channel, message in reader.iter_messages(log_time_order=False):
            if schema.id not in decoders:
                decoders[schema.id] = decoder(factory, schema, channel)
            assert message.publish_time == message.log_time
            found.setdefault(channel.topic, []).append(
                (message.log_time, decoders[schema.id](message.data)))
    return found


def decoder(factory, schema, channel):
    """Return a function from a message's bytes to its fields; JSON is validated."""
    if channel.message_encoding == 'json':
        assert schema.encoding == 'jsonschema'
        validator = jsonschema.Draft202012Validator(json.loads(schema.data))

        def validated(data):
            fields = json.loads(data)
            validator.validate(fields)
            return fields
        return validated
    assert (channel.message_encoding, schema.encoding) == ('cdr', 'ros2msg')
    decode = factory.decoder_for('cdr', schema)
    return lambda data: plain(decode(data))


def read_bag(path):
    """Read with rosbags' AnyReader; the records' JSON lines from their std_msgs/String."""
    found, types = {}, {}
    with AnyReader([path]) as reader:
        for connection, timestamp, raw in reader.messages():
            fields = plain(reader.deserialize(raw, connection.msgtype))
            if connection.msgtype == 'std_msgs/msg/String':
                fields = json.loads(fields['data'])
            types[connection.topic] = connection.msgtype
            found.setdefault(connection.topic, []).append((timestamp, fields))
    return found, types
