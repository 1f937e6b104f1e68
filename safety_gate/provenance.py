# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Which model is in charge of a decision, and whether it may have authority.

Pure: the core calls these with what its state holds. The model's identity
comes, in this order, from the paired meta's ``model_sha256`` (command mode),
the latest ``planner/model`` announcement, and the gate's own hash of
``provenance.model_files``. Its registry entry decides the stage: a ``shadow``
model is never actuated (MODEL_SHADOW_ONLY), a ``canary`` one runs under its
entry's envelope scale and confidence threshold, a ``production`` one under
the full envelope.
"""

from typing import List, Optional

from safety_gate.config import EnvelopeConfig, GateConfig, REDUCIBLE
from safety_gate.decision import Check, Model, Reason
from safety_gate.events import Meta, ModelAnnouncement, ModelFilesHashed
from safety_gate.registry import Entry, Registry


def in_charge(meta: Optional[Meta], announced: Optional[ModelAnnouncement],
              files: Optional[ModelFilesHashed], registry: Registry) -> Optional[Model]:
    """Return the model the decision is made for, or None if nothing names one."""
    if meta is not None and meta.model_sha256:
        sha256, source = meta.model_sha256, 'meta'
    elif announced is not None and announced.sha256:
        sha256, source = announced.sha256, 'announcement'
    elif files is not None and files.sha256:
        sha256, source = files.sha256, 'files'
    else:
        return None
    entry = registry.lookup(sha256)
    if entry is None:
        return Model(sha256, source)
    return Model(sha256, source, entry.name, entry.version, entry.stage)


def checks(model: Optional[Model], previous_sha256: str, meta: Optional[Meta],
           files: Optional[ModelFilesHashed], registry: Registry,
           cfg: GateConfig) -> List[Check]:
    """Judge the model in charge: verified files, approval, change, stage, canary confidence.

    ``previous_sha256`` is the model of the decision before ('' for none).
    """
    found = []
    if cfg.provenance.model_files:
        found += _files_checks(model, files, registry)
    if cfg.provenance.required:
        found.append(Check('model.approved', model is not None and model.stage is not None,
                           'unknown' if model is None else model.sha256, 'a registry entry',
                           Reason.MODEL_NOT_APPROVED))
        if model is not None and previous_sha256 and model.sha256 != previous_sha256:
            found.append(Check('model.unchanged', False, model.sha256, previous_sha256,
                               Reason.MODEL_CHANGED))
    if model is None or model.stage is None:
        return found
    if model.stage == 'shadow':
        found.append(Check('model.stage', False, 'shadow', 'canary or production',
                           Reason.MODEL_SHADOW_ONLY))
    entry = registry.lookup(model.sha256)
    if (model.stage == 'canary' and entry.confidence_threshold is not None
            and meta is not None and meta.confidence is not None):
        threshold = max(entry.confidence_threshold, cfg.confidence.threshold)
        found.append(Check('model.canary_confidence', meta.confidence >= threshold,
                           meta.confidence, threshold, Reason.LOW_CONFIDENCE))
    return found


def _files_checks(model: Optional[Model], files: Optional[ModelFilesHashed],
                  registry: Registry) -> List[Check]:
    if files is None:
        return [Check('model.files', False, 'hashing', 'an approved sha256',
                      Reason.MODEL_UNVERIFIED)]
    if files.error is not None:
        return [Check('model.files', False, files.error, 'an approved sha256',
                      Reason.MODEL_UNVERIFIED)]
    found = [Check('model.files', registry.lookup(files.sha256) is not None, files.sha256,
                   'an approved sha256', Reason.MODEL_UNVERIFIED)]
    if model is not None and model.sha256 != files.sha256:
        found.append(Check('model.files_match', False, model.sha256, files.sha256,
                           Reason.MODEL_UNVERIFIED))
    return found


def canary_entry(model: Optional[Model], registry: Registry) -> Optional[Entry]:
    """Return the registry entry of a canary model in charge, else None."""
    if model is None or model.stage != 'canary':
        return None
    return registry.lookup(model.sha256)


def scaled(env: EnvelopeConfig, scale: float) -> EnvelopeConfig:
    """Return ``env`` with speeds, yaw rate, lateral and linear accelerations times ``scale``.

    The angular acceleration is kept: it bounds how fast the yaw rate may
    change, and the fallback's yaw decay is checked against it.
    """
    return env.copy(update={name: getattr(env, name) * scale for name in REDUCIBLE})
