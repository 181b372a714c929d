"""The basis rollup (app/analytics/models.py) answers exactly what the decisions themselves answer.

Property test: random decisions and random edits (corrections of every field a cell depends on, reversals,
outcome reviews) through the API; after each step the answers of the service, whose rollup holds pending
deltas, folded cells or both, must equal those of the same service reading only the decisions
(``DECISION_LOG_ANALYTICS_ROLLUPS=false``), for a random sample of every bucket, grouping, weight, filter
and range, on both engines.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, update

from app.analytics import rollup
from app.analytics.models import BasisRollup, BasisRollupDelta
from app.core.unit_of_work import Database
from app.decisions.models import Decision, DecisionRevision
from tests import factories
from tests.analytics.random_records import CELL_FIELDS, FILTERS, cell_fields, correction, count, moment, register

TEAMS = [None, "growth", "brand", "field sales"]
CHOICES = {
    "team": TEAMS,
    "channel": [None, "paid_search", "email", "seo", "social"],
    "category": ["budget", "creative", "pricing", "other"],
    "strategy": [None, "growth-2026", "brand-refresh"],
    "basis": ["data", "experiment", "research", "intuition", "emotion", "authority"],
}
CURRENCIES = ["EUR", "USD"]
# 2025-07-01 … 2026-10-23: months, quarters and years with edges; some decisions exactly on a boundary.
START = datetime(2025, 7, 1, tzinfo=UTC)
DAYS = 480
BOUNDARIES = ["2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-06-30T23:59:59.999999Z", "2025-12-31T23:59:59Z"]

ROLLUP = BasisRollup.__table__  # type: ignore[attr-defined]
DELTA = BasisRollupDelta.__table__  # type: ignore[attr-defined]
DECISION = Decision.__table__  # type: ignore[attr-defined]
REVISION = DecisionRevision.__table__  # type: ignore[attr-defined]


def _cell_fields(rng: random.Random) -> dict[str, Any]:
    """Every field a rollup cell depends on, drawn at random."""
    fields = cell_fields(rng, CHOICES, moment(rng, START, DAYS, BOUNDARIES))
    if rng.random() < 0.6:
        fields["budget_amount"] = rng.choice([0, 99.99, 1500, 2500.5, rng.randrange(1, 100_000) / 100])
        fields["budget_currency"] = rng.choice(CURRENCIES)
    return fields


def _edit(rng: random.Random) -> dict[str, Any]:
    """A correction of one to three fields, some clearing an optional one."""
    drawn = _cell_fields(rng)
    edit = correction(rng, drawn, [*CELL_FIELDS, "budget"])
    if "budget" in edit:
        del edit["budget"]
        edit["budget_amount"] = drawn.get("budget_amount")
        edit["budget_currency"] = drawn.get("budget_currency")
    return edit


def _questions(rng: random.Random, count: int) -> list[dict[str, Any]]:
    ranges: list[dict[str, str]] = [
        {},
        {"from": "2026-01-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"},
        {"from": "2025-12-15T06:00:00Z", "to": "2026-11-20T18:30:00Z"},
        {"from": "2026-02-10T00:00:00Z", "to": "2026-03-20T00:00:00Z"},  # no whole month
        {"from": "2025-01-01T00:00:00Z", "to": "2028-01-01T00:00:00Z"},
    ]
    out = []
    for _ in range(count):
        question: dict[str, Any] = {
            "bucket": rng.choice(["none", "week", "month", "quarter", "year"]),
            **rng.choice(ranges),
            **rng.choice(FILTERS),
        }
        filtered = next(
            (name for name in ("owner", "team", "channel", "strategy", "category") if name in question), None
        )
        question["group_by"] = rng.choice(
            [filtered] * 3 + ["none"] if filtered else ["none", "owner", "team", "channel", "category", "strategy"]
        )
        if rng.random() < 0.3:
            question.update(weight="budget", currency=rng.choice(CURRENCIES))
        out.append(question)
    return out


async def _same_answers(
    client: httpx.AsyncClient, base_only: httpx.AsyncClient, questions: list[dict[str, Any]]
) -> int:
    compared = 0
    for question in questions:
        answer = await client.get("/v1/analytics/basis", params=question)
        expected = await base_only.get("/v1/analytics/basis", params=question)
        assert answer.status_code == expected.status_code == 200, (question, answer.text, expected.text)
        # `to` defaults to now, which moves between the two calls: the rows are what must agree.
        assert answer.json()["rows"] == expected.json()["rows"], question
        compared += 1
    return compared


@pytest.mark.parametrize("seed", [1, 2])
async def test_rollup_answers_equal_the_decisions_answers(
    client: httpx.AsyncClient, base_only: httpx.AsyncClient, db: Database, seed: int
) -> None:
    rng = random.Random(seed)
    await register(client, ["growth-2026", "brand-refresh"])
    batch = [factories.decision_body(**_cell_fields(rng)) for _ in range(60)]
    response = await client.post("/v1/decisions/batch", json={"items": batch})
    assert response.status_code == 201, response.text
    ids = [item["id"] for item in response.json()["items"]]
    for _ in range(10):
        ids.append((await factories.decision(client, **_cell_fields(rng)))["id"])

    # 1. Every change still pending as deltas.
    assert await count(db, DELTA) > 0 and await count(db, ROLLUP) == 0
    assert await _same_answers(client, base_only, _questions(rng, 30)) == 30

    # 2. Folded: the deltas are gone, the cells hold everything.
    await rollup.fold(db)
    assert await count(db, DELTA) == 0 and await count(db, ROLLUP) > 0
    await _same_answers(client, base_only, _questions(rng, 30))

    # 3. Random corrections, reversals and reviews on top of the folded cells: cells and deltas together.
    for decision_id in rng.sample(ids, 30):
        await factories.edit(client, decision_id, **_edit(rng))
    for decision_id in rng.sample(ids, 5):
        await client.post(f"/v1/decisions/{decision_id}/reverse", json=factories.reverse_body())
    for decision_id in rng.sample(ids, 5):
        await client.post(f"/v1/decisions/{decision_id}/outcome", json=factories.outcome_body())
    assert await count(db, DELTA) > 0
    await _same_answers(client, base_only, _questions(rng, 30))

    # 4. Folded again: cells emptied by the corrections are dropped, not kept at zero.
    await rollup.fold(db)
    await _same_answers(client, base_only, _questions(rng, 30))
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ROLLUP).where(ROLLUP.c.decisions <= 0)) == 0


async def test_the_service_reads_the_rollup(
    client: httpx.AsyncClient, base_only: httpx.AsyncClient, db: Database
) -> None:
    """The figures of whole months come from the cells (a cell changed behind the service's back shows), those
    of partial months and of questions the rollup cannot answer from the decisions."""
    await register(client, ["growth-2026", "brand-refresh"])
    await factories.decision(client, decided_at="2026-03-10T10:00:00Z", owner="anna.petrova")
    await factories.decision(client, decided_at="2026-04-10T10:00:00Z", owner="anna.petrova")
    await rollup.fold(db)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(ROLLUP)
            .where(ROLLUP.c.period == datetime(2026, 3, 1, tzinfo=UTC), ROLLUP.c.dimension.in_(["all", "owner"]))
            .values(decisions=ROLLUP.c.decisions + 100)
        )
    whole = {"from": "2026-03-01T00:00:00Z", "to": "2026-05-01T00:00:00Z", "bucket": "month"}
    answer = (await client.get("/v1/analytics/basis", params=whole)).json()["rows"]
    assert [row["total"] for row in answer] == [101, 1]
    grouped = (await client.get("/v1/analytics/basis", params={**whole, "group_by": "owner"})).json()["rows"]
    assert [row["total"] for row in grouped] == [101, 1]
    for question in (
        {**whole, "from": "2026-03-02T00:00:00Z"},  # March is not whole: from the decisions
        {**whole, "bucket": "week"},
        {**whole, "tag": "q1"},
        {**whole, "owner": "anna.petrova", "group_by": "channel"},
    ):
        answer = (await client.get("/v1/analytics/basis", params=question)).json()["rows"]
        assert sum(row["total"] for row in answer) == (0 if "tag" in question else 2), question
    assert (await base_only.get("/v1/analytics/basis", params=whole)).json()["rows"][0]["total"] == 1


async def test_every_write_path_keeps_the_rollup(client: httpx.AsyncClient, db: Database) -> None:
    """Triggers, not the service, keep the deltas: a decision deleted or changed directly in the database (as
    an import or an operator would) moves the figures too."""
    await register(client, ["growth-2026", "brand-refresh"])
    created = await factories.decision(client, decided_at="2026-03-10T10:00:00Z", owner="anna.petrova")
    await factories.decision(client, decided_at="2026-03-11T10:00:00Z", owner="boris.ivanov")
    await rollup.fold(db)
    params = {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z", "bucket": "none", "group_by": "owner"}
    before = (await client.get("/v1/analytics/basis", params=params)).json()["rows"]
    assert [(row["group"], row["total"]) for row in before] == [("anna.petrova", 1), ("boris.ivanov", 1)]
    created_id = uuid.UUID(created["id"])
    async with db.sessionmaker() as session, session.begin():
        await session.execute(delete(REVISION).where(REVISION.c.decision_id == created_id))
        await session.execute(delete(DECISION).where(DECISION.c.id == created_id))
        await session.execute(update(DECISION).values(owner_handle="vera.orlova"))
    after = (await client.get("/v1/analytics/basis", params=params)).json()["rows"]
    assert [(row["group"], row["total"]) for row in after] == [("vera.orlova", 1)]
    await rollup.fold(db)
    assert (await client.get("/v1/analytics/basis", params=params)).json()["rows"] == after
