"""The errors of webhooks: each carries its status and problem code."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound


class WebhookNotFound(NotFound):
    code = "webhook_not_found"
    title = "Webhook not found"


class WebhookKeyMissing(Conflict):
    code = "webhook_secret_key_missing"
    title = "Webhooks need an encryption key"
