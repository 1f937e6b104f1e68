# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Core runs that keep every step, and write the trace the node would: for the export tests.

:class:`RecordedRun` is the core driver (``harness.core_driver.Gate``) that
also keeps each step (for ``event_scripts.records_of``) and, per decision,
the trajectory the node would publish with it (``plan_output`` on the run's
own state). :func:`twist_run` and :func:`trajectory_run` are the fixed runs.
"""

from harness.core_driver import fail_once, Gate, TICK
from harness.event_scripts import records_of, Step
from harness.plans import straight
from safety_gate import config, plan_output, registry, trace_record, trace_writer
from safety_gate.decision import Verdict
from safety_gate.events import Estop, Meta, Proposal

CONFIG_T = 99.0  # the node time of the config record


class RecordedRun(Gate):
    """The core driver, keeping every step and, in trajectory mode, what the node publishes."""

    def __init__(self, params=None, models=registry.EMPTY):
        super().__init__(params, models=models)
        self.steps = []
        self.published = []  # per decision: plan_output points, as node._publish_trajectory

    def feed(self, event, dt=0.0):
        result = super().feed(event, dt)
        self.steps.append(Step(self.now, event, result.decisions, result.reply))
        for decision in result.decisions:
            self.published.append(plan_output.points(
                result.state.plans, decision.verdict.approves, decision.t, self.cfg))
        return result

    def write_trace(self, path):
        models = self.state.registry
        sha = config.config_sha256(self.cfg, models.sha256)
        records = [trace_record.config_to_dict(0, CONFIG_T, 0.0, config.flatten(self.cfg), sha,
                                               models)]
        for record in records_of(self.steps, sha):
            records.append({**record, 'seq': record['seq'] + 1})
        with trace_writer.TraceWriter(path, 10**7, 1, len(records) + 1) as writer:
            assert all(writer.submit(record) for record in records)
        return path


def twist_run() -> RecordedRun:
    """Drive, turn, lose authority, wait for a meta, e-stop: every verdict, clamps."""
    run = RecordedRun()
    run.drive(0.8, 0.4)
    fail_once(run)
    run.cycles(3, 0.6, -0.2)
    run.cycle(2.5)  # over the envelope
    # A command before its meta is decided when the meta comes: logged at its arrival.
    run.advance()
    run.feed(Proposal(0.3, 0.1, run.now))
    run.feed(Meta(run.now, 0.9), dt=TICK / 2)
    run.decide(Estop(True))
    run.cycles(2, 0.3)
    return run


def trajectory_run(mode) -> RecordedRun:
    """Plans followed, then left without a successor: the stop along the path."""
    run = RecordedRun({'planner.input': mode, 'confidence.required': False})
    run.advance()
    for _ in range(8):
        run.feed(straight(0.5, 20, stamp=run.now))
        for _ in range(3):
            run.advance()
            run.tick()
    for _ in range(80):
        run.advance()
        run.tick()
    verdicts = {d.verdict for d in run.decisions}
    assert verdicts == {Verdict.APPROVE, Verdict.FALLBACK}, verdicts
    return run
