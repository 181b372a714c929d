"""The outbox: one ``event`` row per change of the record or derived signal, written in its cause's transaction.

Order and positions. A reader pages by ``(txid, position)``; the pair is safe under concurrent commits:

- PostgreSQL: ``txid`` is the writing transaction's id (``pg_current_xact_id()``), ``position`` an identity.
  A reader shows only events whose ``txid`` lies below the oldest transaction of this database still in flight
  (:func:`app.events.repository.horizon`): every transaction below it has ended, so no event can later
  commit with a lower ``(txid, position)`` than one already shown. Writers take no lock for it.
- SQLite: one writer at a time (``BEGIN IMMEDIATE``), so positions are handed out in commit order;
  ``txid`` is 0 and ``position`` never reused (AUTOINCREMENT).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from app.core.types import JsonDocument, UtcDateTime

Position = BigInteger().with_variant(Integer, "sqlite")  # SQLite: INTEGER PRIMARY KEY is the rowid


class Event(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_txid_position", "txid", "position", unique=True), {"sqlite_autoincrement": True})

    position: int | None = Field(default=None, sa_column=Column(Position, primary_key=True, autoincrement=True))
    txid: int = Field(sa_column=Column(BigInteger, nullable=False))
    id: uuid.UUID = Field(unique=True)
    type: str = Field(max_length=40, index=True)
    # What the event is about: `decision/<id>`, `kpi/<key>`, `strategy/<key>/versions/<n>`, …
    subject: str = Field(max_length=200)
    occurred_at: datetime = Field(sa_type=UtcDateTime)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonDocument, nullable=False))
    # Set for an event that happens at most once (`decision.review_due:<decision id>`): a second is not written.
    once_key: str | None = Field(default=None, max_length=100, unique=True)


class ReviewDue(SQLModel, table=True):
    """A decision whose ``decision.review_due`` has fired: its primary key makes it once per decision, whichever
    process scans and however often."""

    __tablename__ = "review_due"

    decision_id: uuid.UUID = Field(sa_column=Column(ForeignKey("decision.id"), primary_key=True))
    event_id: uuid.UUID
    # The review date that had passed when it fired.
    review_by: datetime = Field(sa_type=UtcDateTime)
    fired_at: datetime = Field(sa_type=UtcDateTime)
