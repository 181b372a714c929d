"""The forecast rollup (app/analytics/models.py, ``ForecastRollup``) answers calibration exactly as the decisions do.

Random forecasts (a confidence and a review) and random edits through the API (created one by one and in a batch,
confidences corrected and cleared, the fields of a cell corrected, reviews, reversals, outcomes changed directly in
the database), across month edges; after each step the calibration of the service, whose rollup holds pending
deltas, folded cells or both, must equal that of the same service reading only the decisions
(``DECISION_LOG_ANALYTICS_ROLLUPS=false``), for every grouping, the filters, ranges cutting months and zones far
from UTC, on both engines. Confidences are multiples of 1/8 (and the bins' edges in a test of their own), so that
every sum is exact whatever order it is added in: the answers must be equal, not close.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from app.analytics import rollup
from app.analytics.models import ForecastRollup, ForecastRollupDelta
from app.core.unit_of_work import Database
from app.decisions.models import Decision
from tests import factories
from tests.analytics.random_records import CELL_FIELDS, FILTERS, cell_fields, correction, count, moment, register

CHOICES = {
    "team": [None, "growth", "brand"],
    "channel": [None, "paid_search", "email", "seo"],
    "category": ["budget", "creative", "pricing"],
    "strategy": [None, "growth-2026"],
    "basis": ["data", "experiment", "intuition", "emotion", "authority"],
}
CONFIDENCES = [k / 8 for k in range(9)]
RESULTS = ["success", "partial", "failure", "inconclusive"]
START = datetime(2025, 11, 1, tzinfo=UTC)
DAYS = 330
# Month edges, and instants that are another month in Kiritimati (UTC+14) or Pago Pago (UTC-11).
EDGES = ["2026-01-01T00:00:00Z", "2026-03-31T23:59:59.999999Z", "2026-04-30T11:00:00Z", "2026-05-31T13:00:00Z"]
ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"]

ROLLUP = ForecastRollup.__table__  # type: ignore[attr-defined]
DELTA = ForecastRollupDelta.__table__  # type: ignore[attr-defined]
DECISION = Decision.__table__  # type: ignore[attr-defined]


def _cell_fields(rng: random.Random) -> dict[str, Any]:
    """Every field a forecast's cells depend on, drawn at random (a confidence most of the time)."""
    fields = cell_fields(rng, CHOICES, moment(rng, START, DAYS, EDGES))
    fields["confidence"] = rng.choice(CONFIDENCES) if rng.random() < 0.85 else None
    return fields


def _edit(rng: random.Random) -> dict[str, Any]:
    """A correction of one to three fields: the confidence (cleared at times) more often than the others."""
    return correction(rng, _cell_fields(rng), ["confidence"] * 4 + CELL_FIELDS)


def _questions(rng: random.Random, count: int) -> list[dict[str, Any]]:
    ranges: list[dict[str, str]] = [
        {},
        {"from": "2026-01-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"},
        {"from": "2025-12-15T06:00:00Z", "to": "2026-09-20T18:30:00Z"},
        {"from": "2026-02-10T00:00:00Z", "to": "2026-03-20T00:00:00Z"},  # no whole month
        {"from": "2026-01-01", "to": "2026-06-01"},  # local midnights: months cut at the zone's edges
        {"from": "2025-01-01T00:00:00Z", "to": "2028-01-01T00:00:00Z"},
    ]
    out = []
    for _ in range(count):
        question: dict[str, Any] = {"tz": rng.choice(ZONES), **rng.choice(ranges), **rng.choice(FILTERS)}
        filtered = next((name for name in ("owner", "team", "channel") if name in question), None)
        groups = ["basis_class", "none", "owner", "team", "channel"]
        question["group_by"] = rng.choice([filtered, filtered, "basis_class", "none"] if filtered else groups)
        out.append(question)
    return out


async def _same_answers(
    client: httpx.AsyncClient, base_only: httpx.AsyncClient, questions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The answers, each checked equal to the decisions' own."""
    answers = []
    for question in questions:
        answer = await client.get("/v1/analytics/calibration", params=question)
        expected = await base_only.get("/v1/analytics/calibration", params=question)
        assert answer.status_code == expected.status_code == 200, (question, answer.text, expected.text)
        body = answer.json()
        assert (body["rows"], body["bins"]) == (expected.json()["rows"], expected.json()["bins"]), question
        answers.append(body)
    return answers


async def _review(client: httpx.AsyncClient, decision_id: str, rng: random.Random) -> None:
    body = factories.outcome_body(result=rng.choice(RESULTS), reviewed_at=None)
    response = await client.post(f"/v1/decisions/{decision_id}/outcome", json=body)
    assert response.status_code in (201, 409), response.text  # 409: reviewed already


@pytest.mark.parametrize("seed", [1, 2])
async def test_rollup_answers_equal_the_decisions_answers(
    client: httpx.AsyncClient, base_only: httpx.AsyncClient, db: Database, seed: int
) -> None:
    rng = random.Random(seed)
    await register(client, ["growth-2026"])
    batch = [factories.decision_body(**_cell_fields(rng)) for _ in range(50)]
    response = await client.post("/v1/decisions/batch", json={"items": batch})
    assert response.status_code == 201, response.text
    ids = [item["id"] for item in response.json()["items"]]
    for _ in range(10):
        ids.append((await factories.decision(client, **_cell_fields(rng)))["id"])
    for decision_id in rng.sample(ids, 45):
        await _review(client, decision_id, rng)

    # 1. Every forecast still pending as deltas.
    assert await count(db, DELTA) > 0 and await count(db, ROLLUP) == 0
    answers = await _same_answers(client, base_only, _questions(rng, 30))
    assert sum(row["forecasts"] for answer in answers for row in answer["rows"]) > 100  # the questions saw forecasts

    # 2. Folded: the deltas are gone, the cells hold everything.
    await rollup.fold(db)
    assert await count(db, DELTA) == 0 and await count(db, ROLLUP) > 0
    await _same_answers(client, base_only, _questions(rng, 30))

    # 3. Corrections, reviews, reversals and outcomes changed in the database on top of the folded cells.
    for decision_id in rng.sample(ids, 25):
        await factories.edit(client, decision_id, **_edit(rng))
    for decision_id in rng.sample(ids, 10):
        await _review(client, decision_id, rng)
    for decision_id in rng.sample(ids, 5):
        await client.post(f"/v1/decisions/{decision_id}/reverse", json=factories.reverse_body())
    async with db.sessionmaker() as session, session.begin():  # several rows in one statement
        await session.execute(
            update(DECISION).where(DECISION.c.outcome_result == "partial").values(outcome_result="failure")
        )
    assert await count(db, DELTA) > 0
    await _same_answers(client, base_only, _questions(rng, 30))

    # 4. Folded again: cells emptied by the corrections are dropped, not kept at zero.
    await rollup.fold(db)
    await _same_answers(client, base_only, _questions(rng, 30))
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ROLLUP).where(ROLLUP.c.forecasts <= 0)) == 0


async def test_the_service_reads_the_rollup(
    client: httpx.AsyncClient, base_only: httpx.AsyncClient, db: Database
) -> None:
    """Whole months come from the cells (a cell changed behind the service's back shows), partial months and the
    questions the rollup has no dimension for from the decisions; the bins' edges fall in the same bins."""
    await register(client, ["growth-2026"])
    for at, confidence, result in [
        ("2026-03-10T10:00:00Z", 0.1, "failure"),  # bin [0.1, 0.2)
        ("2026-03-11T10:00:00Z", 0.9, "success"),  # bin [0.9, 1.0]
        ("2026-03-12T10:00:00Z", 1.0, "partial"),  # bin [0.9, 1.0]
        ("2026-03-13T10:00:00Z", 0.0, "failure"),  # bin [0, 0.1)
        ("2026-04-10T10:00:00Z", 0.7, "success"),
    ]:
        created = await factories.decision(client, decided_at=at, owner="anna.petrova", confidence=confidence)
        await factories.outcome(client, created["id"], result=result, reviewed_at=None)
    whole = {"from": "2026-03-01T00:00:00Z", "to": "2026-05-01T00:00:00Z", "group_by": "none"}
    before = await _same_answers(client, base_only, [whole, {**whole, "group_by": "owner"}])
    assert [(b["bin_from"], b["forecasts"]) for b in before[0]["bins"] if b["forecasts"]] == [
        (0.0, 1), (0.1, 1), (0.7, 1), (0.9, 2)
    ]  # fmt: skip
    assert before[0]["rows"][0]["brier_score"] == 0.072  # (0.1² + 0.1² + 0.5² + 0 + 0.3²) / 5
    await rollup.fold(db)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(ROLLUP)
            .where(ROLLUP.c.period == datetime(2026, 3, 1, tzinfo=UTC), ROLLUP.c.dimension.in_(["all", "owner"]))
            .where(ROLLUP.c.bin == 9)
            .values(forecasts=ROLLUP.c.forecasts + 100)
        )
    for question in (whole, {**whole, "group_by": "owner"}, {**whole, "owner": "anna.petrova"}):
        answer = (await client.get("/v1/analytics/calibration", params=question)).json()["rows"]
        assert [row["forecasts"] for row in answer] == [105], question
    for question in (
        {**whole, "from": "2026-03-02T00:00:00Z"},  # March is not whole: from the decisions
        {**whole, "from": "2026-03-01", "tz": "Pacific/Pago_Pago"},  # nor from the zone's midnight (11:00 UTC)
        {**whole, "tag": "q1"},
        {**whole, "group_by": "channel", "owner": "anna.petrova"},
    ):
        answer = (await client.get("/v1/analytics/calibration", params=question)).json()["rows"]
        assert sum(row["forecasts"] for row in answer) == (0 if "tag" in question else 5), question
    assert (await base_only.get("/v1/analytics/calibration", params=whole)).json()["rows"][0]["forecasts"] == 5
