"""The errors of the tamper-evident log: each carries its status and problem code."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound


class SigningKeyNotConfigured(NotFound):
    code = "signing_key_not_configured"
    title = "No signing key configured"


class CheckpointNotFound(NotFound):
    code = "checkpoint_not_found"
    title = "No signed checkpoint yet"


class CheckpointUnverifiable(Conflict):
    code = "checkpoint_unverifiable"
    title = "The latest checkpoint does not verify"
