"""Webhook subscriptions (scope `admin`): `POST /v1/webhooks` and the rest."""

import uuid
from typing import Annotated

from fastapi import Path, Request, Response

from app.auth.dependencies import AdminCaller
from app.core.errors import problem_responses
from app.core.pagination import Page, PageDep, list_responses, set_link_header
from app.core.routing import SessionDep, domain_router
from app.idempotency.service import Idempotent
from app.webhooks import service
from app.webhooks.schemas import (
    DeliveryAttemptRead,
    TestSent,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

router = domain_router(prefix="/webhooks", tags=["webhooks"])

WebhookId = Annotated[uuid.UUID, Path(description="The subscription's id.")]


@router.post("", status_code=201, operation_id="createWebhook", responses=problem_responses(409, 413, 415, 422))
async def create_webhook(
    data: WebhookCreate, session: SessionDep, _: AdminCaller, __: Idempotent, response: Response
) -> WebhookCreated:
    """Subscribe a URL to events. The answer holds the signing secret (`whsec_…`), shown this once: the service
    keeps it encrypted, to sign with, and never shows it again.

    Deliveries follow Standard Webhooks: a POST of `{type, timestamp, data}` with `webhook-id` (the event's id, the
    same on every retry), `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
    id.timestamp.body>`). Any 2xx answer acknowledges; anything else, or no answer within
    `DECISION_LOG_WEBHOOK_TIMEOUT_SECONDS`, is retried on `DECISION_LOG_WEBHOOK_RETRY_SCHEDULE`. A subscription
    whose every attempt has failed for `DECISION_LOG_WEBHOOK_DISABLE_AFTER_DAYS` is disabled, with the reason.
    The URL must be `http` or `https` and resolve to public addresses (checked again at every delivery) unless
    `DECISION_LOG_WEBHOOK_ALLOW_PRIVATE_TARGETS`. `format: slack` posts a Slack/Mattermost message instead."""
    created = await service.create_webhook(session, data)
    response.headers["Location"] = f"/v1/webhooks/{created.id}"
    return created


@router.get("", operation_id="listWebhooks", responses=list_responses(422))
async def list_webhooks(
    session: SessionDep, _: AdminCaller, page: PageDep, request: Request, response: Response
) -> Page[WebhookRead]:
    """Every subscription (never a secret)."""
    items, next_cursor = await service.list_webhooks(session, limit=page.limit, cursor=page.cursor)
    set_link_header(request, response, next_cursor)
    return Page[WebhookRead](items=items, next_cursor=next_cursor)


@router.get("/{webhook_id}", operation_id="getWebhook", responses=problem_responses(404, 422))
async def get_webhook(webhook_id: WebhookId, session: SessionDep, _: AdminCaller) -> WebhookRead:
    return await service.get_webhook(session, webhook_id)


@router.patch("/{webhook_id}", operation_id="updateWebhook", responses=problem_responses(404, 413, 415, 422))
async def update_webhook(
    webhook_id: WebhookId, data: WebhookUpdate, session: SessionDep, _: AdminCaller
) -> WebhookRead:
    """Change the URL, the events, the format or the description, or disable and enable the subscription."""
    return await service.update_webhook(session, webhook_id, data)


@router.delete("/{webhook_id}", status_code=204, operation_id="deleteWebhook", responses=problem_responses(404, 422))
async def delete_webhook(webhook_id: WebhookId, session: SessionDep, _: AdminCaller) -> Response:
    """Remove the subscription, its pending deliveries and its delivery log."""
    await service.delete_webhook(session, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", operation_id="listWebhookDeliveries", responses=list_responses(404, 422))
async def list_webhook_deliveries(
    webhook_id: WebhookId, session: SessionDep, _: AdminCaller, page: PageDep, request: Request, response: Response
) -> Page[DeliveryAttemptRead]:
    """Every delivery attempt, oldest first: the event, the attempt's number, the answer or the error, how long it
    took, and when the next retry is due."""
    items, next_cursor = await service.list_attempts(session, webhook_id, limit=page.limit, cursor=page.cursor)
    set_link_header(request, response, next_cursor)
    return Page[DeliveryAttemptRead](items=items, next_cursor=next_cursor)


@router.post("/{webhook_id}/test", status_code=202, operation_id="testWebhook", responses=problem_responses(404, 422))
async def test_webhook(
    webhook_id: WebhookId, session: SessionDep, _: AdminCaller, __: Idempotent, request: Request
) -> TestSent:
    """Send a `webhook.test` event to this subscription now; its attempts show in the delivery log."""
    sent = await service.send_test(session, webhook_id)
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        session.after_commit(dispatcher.wake.set)
    return sent
