"""Webhook subscriptions: create (the secret shown once), read, change, delete; the delivery log; test sends."""

from __future__ import annotations

import uuid
from typing import Any

from app.core.errors import Unprocessable
from app.core.types import column_getter, format_utc, new_id, utcnow
from app.core.unit_of_work import DatabaseSession
from app.webhooks import crypto, guard, repository
from app.webhooks.errors import TargetRefused, WebhookNotFound
from app.webhooks.schemas import (
    DeliveryAttemptRead,
    TestSent,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

TEST_EVENT = "webhook.test"


def _read(row: Any) -> WebhookRead:
    get = column_getter(row)
    return WebhookRead(
        id=get("id"),
        url=get("url"),
        events=get("events"),
        format=get("format"),
        description=get("description"),
        enabled=get("enabled"),
        disabled_reason=get("disabled_reason"),
        failing_since=get("failing_since"),
        created_at=get("created_at"),
        updated_at=get("updated_at"),
    )


async def _check_url(session: DatabaseSession, url: str) -> None:
    try:
        await guard.resolve(url, allow_private=session.settings.webhook_allow_private_targets)
    except TargetRefused as refused:
        raise Unprocessable.field(["body", "url"], str(refused), "target_refused") from None


def _events(values: list[Any]) -> list[str]:
    names = list(dict.fromkeys(str(getattr(v, "value", v)) for v in values))
    return ["*"] if "*" in names else names


async def create_webhook(session: DatabaseSession, data: WebhookCreate) -> WebhookCreated:
    settings = session.settings
    await _check_url(session, data.url)
    secret = crypto.new_secret()
    now = utcnow()
    txid, position = await repository.feed_end(session)  # delivers what happens from now on
    values = {
        "id": new_id(),
        "url": data.url,
        "events": _events(data.events),
        "format": data.format.value,
        "description": data.description,
        "enabled": True,
        "secret_encrypted": crypto.seal(settings, secret),
        "created_at": now,
        "updated_at": now,
        "failing_since": None,
        "disabled_reason": None,
        "feed_txid": txid,
        "feed_position": position,
    }
    await repository.insert(session, values)
    return WebhookCreated(**_read(values).model_dump(), secret=secret)


async def get_webhook(session: DatabaseSession, webhook_id: uuid.UUID, *, for_update: bool = False) -> WebhookRead:
    row = await repository.get(session, webhook_id, for_update=for_update)
    if row is None:
        raise WebhookNotFound(f"No webhook with id {webhook_id}.")
    return _read(row)


async def list_webhooks(
    session: DatabaseSession, *, limit: int, cursor: str | None
) -> tuple[list[WebhookRead], str | None]:
    rows, next_cursor = await repository.list_page(session, limit=limit, cursor=cursor)
    return [_read(row) for row in rows], next_cursor


async def update_webhook(session: DatabaseSession, webhook_id: uuid.UUID, data: WebhookUpdate) -> WebhookRead:
    current = await get_webhook(session, webhook_id, for_update=True)
    values: dict[str, Any] = {}
    if data.url is not None and data.url != current.url:
        await _check_url(session, data.url)
        values["url"] = data.url
    if data.events is not None:
        values["events"] = _events(data.events)
    if data.format is not None:
        values["format"] = data.format.value
    if "description" in data.model_fields_set:
        values["description"] = data.description
    if data.enabled is not None and data.enabled != current.enabled:
        values["enabled"] = data.enabled
        if data.enabled:  # a fresh start: the failures that disabled it are forgiven
            values |= {"disabled_reason": None, "failing_since": None}
    if not values:
        return current
    values["updated_at"] = utcnow()
    await repository.update_webhook(session, webhook_id, values)
    return WebhookRead.model_validate(
        current.model_dump() | {k: v for k, v in values.items() if k in WebhookRead.model_fields}
    )


async def delete_webhook(session: DatabaseSession, webhook_id: uuid.UUID) -> None:
    if not await repository.delete_webhook(session, webhook_id):
        raise WebhookNotFound(f"No webhook with id {webhook_id}.")


async def list_attempts(
    session: DatabaseSession, webhook_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[DeliveryAttemptRead], str | None]:
    await get_webhook(session, webhook_id)
    rows, next_cursor = await repository.attempts_page(session, webhook_id, limit=limit, cursor=cursor)
    return [
        DeliveryAttemptRead(
            event_id=row.event_id,
            event_type=row.event_type,
            attempt=row.attempt,
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
            attempted_at=row.attempted_at,
            next_attempt_at=row.next_attempt_at,
        )
        for row in rows
    ], next_cursor


def payload(
    event_id: uuid.UUID, event_type: str, occurred_at: Any, subject: str, data: dict[str, Any]
) -> dict[str, Any]:
    """The Standard Webhooks body: ``{type, timestamp, data}``, ``data`` holding the event's id, subject and
    fields."""
    return {
        "type": event_type,
        "timestamp": format_utc(occurred_at),
        "data": {"id": str(event_id), "subject": subject, **data},
    }


async def send_test(session: DatabaseSession, webhook_id: uuid.UUID) -> TestSent:
    """Queue a ``webhook.test`` event for this subscription alone (whatever its event types); the dispatcher sends it
    at once and logs the attempt like any other."""
    webhook = await get_webhook(session, webhook_id)
    now = utcnow()
    event_id = new_id()
    body = payload(event_id, TEST_EVENT, now, f"webhook/{webhook.id}", {"webhook": str(webhook.id)})
    await repository.insert_messages(
        session,
        [
            {
                "id": new_id(),
                "webhook_id": webhook.id,
                "event_id": event_id,
                "event_type": TEST_EVENT,
                "payload": body,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        ],
    )
    return TestSent(event_id=event_id)
