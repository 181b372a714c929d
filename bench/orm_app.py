"""A reference point for ``bench/write.py --reference orm_app``: the same decision row written the way the
FastAPI and SQLModel tutorials write one, an async ORM session with ``add``, ``commit`` and ``refresh``.

Issue #2 measured such an endpoint at 21 % of the raw endpoint's throughput (25 % without the refresh) when
it set the write target of 40 %. Served in the same rounds, it shows where this machine puts that
reference, so the service's ratio can be read on the issue's own scale.

The tutorial's shape: a body model, ``SessionDep`` from ``Depends``, a table model built from the body,
``session.add``, ``await session.commit()``, ``await session.refresh(row)`` (``BENCH_ORM_REFRESH=0`` leaves
it out), and the row returned through a response model. No auth, no history, no error answers: like the
raw endpoint, only the row. Not a way to run the service: a measuring stick.

    BENCH_RAW_DSN=postgresql://postgres@127.0.0.1:5432/db .venv/bin/uvicorn orm_app:app --app-dir bench
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel
from raw_app import classify  # the raw endpoint's classification: the same row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

import app.models  # every table, for the foreign keys the ORM resolves
from app.decisions.models import Decision

REFRESH = os.environ.get("BENCH_ORM_REFRESH", "1") != "0"

# The service's pool: 10 connections, kept (DECISION_LOG_POOL_SIZE's default, no overflow). With SQLAlchemy's
# default overflow, 32 clients would have the pool open and close connections all the time, a cost of the setting
# rather than of the ORM.
engine = create_async_engine(
    os.environ["BENCH_RAW_DSN"].replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=10, max_overflow=0
)
sessionmaker = async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


class ExternalRef(BaseModel):
    system: str
    id: str


class DecisionIn(BaseModel):
    title: str
    description: str | None = None
    rationale: str
    basis: str
    evidence: list[dict[str, Any]] = []
    owner: str
    participants: list[str] = []
    team: str | None = None
    channel: str | None = None
    category: str = "other"
    budget_amount: Decimal | None = None
    budget_currency: str | None = None
    decided_at: datetime | None = None
    expected_outcome: dict[str, Any] | None = None
    tags: list[str] = []
    external_ref: ExternalRef | None = None


class DecisionOut(BaseModel):
    id: uuid.UUID
    title: str
    rationale: str
    basis: str
    basis_class: str
    owner_handle: str
    team: str | None
    decided_at: datetime
    status: str
    revision: int
    recorded_at: datetime


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/decisions", status_code=201, response_model=DecisionOut)
async def create_decision(data: DecisionIn, session: SessionDep) -> Decision:
    evidence_count = len(data.evidence)
    basis_class, reason = classify(data.basis, evidence_count)
    review_by = (data.expected_outcome or {}).get("review_by")
    now = datetime.now(UTC)
    decision = Decision(
        title=data.title,
        description=data.description,
        rationale=data.rationale,
        basis=data.basis,
        basis_class=basis_class,
        classification_reason=reason,
        evidence=data.evidence,
        evidence_count=evidence_count,
        owner_handle=data.owner,
        participants=data.participants,
        team=data.team,
        channel=data.channel,
        category=data.category,
        budget_amount=data.budget_amount,
        budget_currency=data.budget_currency,
        decided_at=data.decided_at or now,
        expected_outcome=data.expected_outcome,
        review_by=datetime.fromisoformat(review_by) if review_by else None,
        tags=data.tags,
        external_system=data.external_ref.system if data.external_ref else None,
        external_id=data.external_ref.id if data.external_ref else None,
        recorded_at=now,
        recorded_by="bench-orm",
        updated_at=now,
    )
    session.add(decision)
    await session.commit()
    if REFRESH:
        await session.refresh(decision)
    return decision
