"""The errors of webhooks: each carries its status and problem code, but :class:`TargetRefused`, which the service
answers as a field error and a delivery records."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound


class TargetRefused(ValueError):
    """The URL may not be a webhook's target; the message says why."""


class WebhookNotFound(NotFound):
    code = "webhook_not_found"
    title = "Webhook not found"


class WebhookKeyMissing(Conflict):
    code = "webhook_secret_key_missing"
    title = "Webhooks need an encryption key"
