import enum
import uuid
from typing import Any

from pydantic import BaseModel, Field

from app.core.types import UtcOutput


class EventType(enum.StrEnum):
    """What happened. The `decision.*`, `strategy.version_added`, `kpi.revised`, `digest.weekly` and
    `integrity.checkpoint` types are the contract's; the registries' own changes have types of their own."""

    decision_recorded = "decision.recorded"
    decision_corrected = "decision.corrected"
    decision_reversed = "decision.reversed"
    decision_outcome_recorded = "decision.outcome_recorded"
    decision_review_due = "decision.review_due"
    decision_contradiction = "decision.contradiction"
    strategy_created = "strategy.created"
    strategy_version_added = "strategy.version_added"
    kpi_created = "kpi.created"
    kpi_revised = "kpi.revised"
    person_created = "person.created"
    person_updated = "person.updated"
    data_source_created = "data_source.created"
    data_source_updated = "data_source.updated"
    contractor_created = "contractor.created"
    contractor_updated = "contractor.updated"
    digest_weekly = "digest.weekly"
    integrity_checkpoint = "integrity.checkpoint"


class EventRead(BaseModel):
    id: uuid.UUID = Field(description="The event's id: the `webhook-id` of its deliveries.")
    type: EventType
    occurred_at: UtcOutput
    subject: str = Field(description="What the event is about: `decision/<id>`, `kpi/<key>`, `strategy/<key>`, ….")
    data: dict[str, Any] = Field(description="The event's fields: the record as it now stands and what changed.")
