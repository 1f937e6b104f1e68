# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Play a production script with a candidate planner beside it, as the node does.

:func:`play_shadowed` steps the production core through a script of
``harness.event_scripts`` and, before chosen production events, a candidate's
events through ``shadow.step`` with the production state of that moment,
then a tick into the shadow when :func:`shadow.due` says so. It builds the
trace records the node builds: each decision record with the shadow entries
judged since the previous one, each entry placed by ``at`` among the record's
events.
"""

from typing import Dict, List, NamedTuple, Sequence

from harness.event_scripts import _ros_stamp, _World, Step
from hypothesis import strategies as st

from safety_gate import config, core, shadow, trace_record, trace_writer
from safety_gate.events import Meta, Proposal, Tick

CANDIDATE_MODEL = 'cd' * 32
_SPECIAL = [float('nan'), float('inf'), -float('inf'), 1e308, 50.0, -50.0]
_speeds = st.one_of(st.floats(-1.5, 1.5), st.sampled_from(_SPECIAL))
# A candidate's message pair (meta then stamped command), a stamped command without its
# meta (it waits, then a due tick decides it), an unstamped command, or a meta alone.
candidate_templates = st.one_of(
    st.tuples(st.just('pair'), _speeds, _speeds, st.floats(0.0, 1.0)),
    st.tuples(st.just('lone'), _speeds, _speeds),
    st.tuples(st.just('bare'), _speeds, _speeds),
    st.tuples(st.just('meta'), st.floats(0.0, 1.0)),
)


def candidate_events(template, now: float):
    """Return the candidate events of one template sent at ``now``."""
    kind, *args = template
    stamp, _ = _ros_stamp(now)
    if kind == 'pair':
        v, w, confidence = args
        return [Meta(stamp, confidence, CANDIDATE_MODEL), Proposal(v, w, stamp)]
    if kind == 'lone':
        return [Proposal(args[0], args[1], stamp)]
    if kind == 'bare':
        return [Proposal(args[0], args[1], now, stamped=False)]
    return [Meta(stamp, args[0], CANDIDATE_MODEL)]


class ShadowedPlay(NamedTuple):
    """The production steps, the trace records and every candidate decision."""

    steps: List[Step]
    records: List[dict]
    candidate: List[shadow.ShadowDecision]


def play_shadowed(cfg, script, candidates: Dict[int, Sequence[tuple]],
                  shutdown: bool = False) -> ShadowedPlay:
    """Play ``script``; before production event ``i`` send the templates ``candidates[i]``.

    With ``shutdown`` the gate is deactivated at the end, as ``node.deactivate_gate``
    does: its last decision's record takes the events and the shadow entries held
    since the record before (``candidates`` at the index after the last event first).
    """
    world, state = _World(cfg), shadow.initial_state(cfg)
    steps, records, found, events, entries = [], [], [], [], []
    index = 0

    def judge(event):
        nonlocal state
        result = shadow.step(state, event, world.now, world.state, cfg)
        state = result.state
        found.extend(result.decisions)
        entries.append(trace_record.shadow_entry_to_dict(len(events), world.now, event,
                                                         result.decisions))

    for dt, template in script:
        world.now += dt
        for event in world.events(template):
            for candidate in candidates.get(index, ()):
                for candidate_event in candidate_events(candidate, world.now):
                    judge(candidate_event)
            index += 1
            result = core.step(world.state, event, world.now, cfg)
            world.state = result.state
            events.append((world.now, event))
            steps.append(Step(world.now, event, result.decisions, result.reply))
            for decision in result.decisions:
                record = trace_record.decision_to_dict(decision, len(records), events, 0, 0,
                                                       'x')
                if entries:
                    record['shadow'] = entries
                records.append(record)
                events, entries = [], []
            if isinstance(event, Tick) and shadow.due(state, world.now, cfg):
                judge(event)
    if shutdown:
        for candidate in candidates.get(index, ()):
            for candidate_event in candidate_events(candidate, world.now):
                judge(candidate_event)
        result = core.shutdown(world.state, world.now)
        world.state = result.state
        (decision,) = result.decisions
        records.append({**trace_record.decision_to_dict(decision, len(records), events, 0, 0,
                                                        'x'),
                        **({'shadow': entries} if entries else {})})
    return ShadowedPlay(steps, records, found)


def without_shadow(records: List[dict]) -> List[dict]:
    """Return the records as they would be without the shadow stage."""
    return [{key: value for key, value in record.items() if key != 'shadow'}
            for record in records]


def write_trace(path, cfg, records, max_file_bytes: int = 10**7, max_files: int = 1) -> None:
    """Write ``records`` as a trace after the config record of ``cfg``, as the node does."""
    sha = config.config_sha256(cfg)
    head = trace_record.config_to_dict(0, 0.0, 0.0, config.flatten(cfg), sha)
    for index, record in enumerate(records):
        record.update(seq=index + 1, config_sha256=sha)
    with trace_writer.TraceWriter(path, max_file_bytes, max_files, len(records) + 2) as writer:
        assert all(writer.submit(record) for record in [head] + records)
