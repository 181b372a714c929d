import enum
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.secrets import SHOWN_ONCE, ShownOnceSecret
from app.core.text import Text
from app.core.types import UtcOutput
from app.events.schemas import EventType


class WebhookFormat(enum.StrEnum):
    standard = "standard"  # Standard Webhooks: `{type, timestamp, data}`, signed
    slack = "slack"  # a Slack/Mattermost incoming-webhook message: `{text, blocks}`


# The events a subscription may name: a type of the feed, or `*` for all of them.
Subscribable = enum.StrEnum("Subscribable", {"all": "*", **{t.name: t.value for t in EventType}})  # type: ignore[misc]

Url = Annotated[str, Text(min_length=1, max_length=2000, blank=False)]
Events = Annotated[list[Subscribable], Field(min_length=1, max_length=50)]
Description = Annotated[str, Text(max_length=500)]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://crm.example.com/hooks/decision-log",
                    "events": ["decision.recorded", "decision.review_due"],
                    "description": "CRM sync",
                }
            ]
        },
    )

    url: Url = Field(description="Where to POST: `http` or `https`, a public address.")
    events: Events = Field(description='Event types to deliver, or `["*"]` for every type.')
    format: WebhookFormat = WebhookFormat.standard
    description: Description | None = None


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: Events | None = None
    format: WebhookFormat | None = None
    description: Description | None = None
    enabled: bool | None = Field(default=None, description="Re-enabling clears the reason it was disabled.")


class WebhookRead(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    format: WebhookFormat
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(description="Why the service disabled the subscription, if it did.")
    failing_since: UtcOutput | None = Field(description="Since when every delivery attempt has failed.")
    created_at: UtcOutput
    updated_at: UtcOutput


class WebhookCreated(WebhookRead):
    secret: ShownOnceSecret = Field(
        description="The signing secret (`whsec_…`, Standard Webhooks): verify `webhook-signature` with it. "
        + SHOWN_ONCE
    )


class DeliveryAttemptRead(BaseModel):
    event_id: uuid.UUID = Field(description="The event delivered: the `webhook-id` header, the same on every retry.")
    event_type: str
    attempt: int
    status_code: int | None = Field(description="The receiver's answer; null when none came (timeout, refused).")
    error: str | None
    duration_ms: float
    attempted_at: UtcOutput
    next_attempt_at: UtcOutput | None = Field(description="When the next retry is due; null when none will be.")


class TestSent(BaseModel):
    event_id: uuid.UUID = Field(description="The id of the `webhook.test` event queued for delivery.")
