"""The errors of the tamper-evident log: each carries its status and problem code, but :class:`SigningKeyInvalid`,
a configuration error (the key in the settings cannot be read) rather than an answer."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound


class SigningKeyInvalid(ValueError):
    """DECISION_LOG_SIGNING_KEY holds neither a base64 Ed25519 seed nor an Ed25519 PEM key."""


class SigningKeyNotConfigured(NotFound):
    code = "signing_key_not_configured"
    title = "No signing key configured"


class CheckpointNotFound(NotFound):
    code = "checkpoint_not_found"
    title = "No signed checkpoint yet"


class CheckpointUnverifiable(Conflict):
    code = "checkpoint_unverifiable"
    title = "The latest checkpoint does not verify"
