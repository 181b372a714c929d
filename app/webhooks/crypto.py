"""Webhook signing secrets: made here, stored encrypted (Fernet, DECISION_LOG_WEBHOOK_SECRET_KEY), signed with.

A secret is shown once, when its subscription is created; afterwards it is only decrypted to sign a delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken

from app.core.config import Settings
from app.webhooks.errors import WebhookKeyMissing

PREFIX = "whsec_"


def new_key() -> str:
    """A new value for DECISION_LOG_WEBHOOK_SECRET_KEY."""
    return Fernet.generate_key().decode()


def _fernet(settings: Settings) -> Fernet:
    if settings.webhook_secret_key is None:
        raise WebhookKeyMissing(
            "Set DECISION_LOG_WEBHOOK_SECRET_KEY (make one with `decision-log webhook-key`): signing secrets are "
            "stored encrypted with it."
        )
    return Fernet(settings.webhook_secret_key.get_secret_value().encode())


def new_secret() -> str:
    """``whsec_`` and 24 random bytes in base64, as Standard Webhooks' libraries read it."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def seal(settings: Settings, secret: str) -> str:
    return _fernet(settings).encrypt(secret.encode()).decode()


def unseal(settings: Settings, sealed: str) -> str:
    try:
        return _fernet(settings).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise WebhookKeyMissing(
            "A stored signing secret does not decrypt with DECISION_LOG_WEBHOOK_SECRET_KEY: the key changed."
        ) from None


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with the secret's bytes."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
