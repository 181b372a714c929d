"""The summary's day rollup (app/analytics/day_rollup.py) answers exactly what the decisions answer.

Random decisions (owners, directors, bases, signals, KPIs, confidences, data recommendations, review dates, times
around UTC and local midnights) and random corrections, outcome reviews, reversals, supersessions and a role change,
all through the API; after each step the summary, accountability and KPI hygiene of the service (cells, pending
deltas or both) equal those of the same service reading only the decisions (``DECISION_LOG_ANALYTICS_ROLLUPS=false``),
for ranges with and without whole days, in zones far from UTC. A tampered cell is reported by verify.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select, update

from app.analytics import rollup
from app.analytics.day_rollup import KpiRollup, KpiRollupDelta, SummaryRollup, SummaryRollupDelta
from app.core.config import Settings
from app.core.unit_of_work import Database
from app.integrity.verify import verify_database
from app.main import create_app
from tests import factories
from tests.conftest import make_client

OWNERS = ["anna.petrova", "boris.ivanov", "vera.orlova"]
DIRECTORS = [None, None, "olga.owner", "ivan.lead"]
BASES = ["data", "experiment", "intuition", "emotion", "authority"]
RATIONALES = [
    "Paid search converts at 3.4% against 0.6% for display.",
    "I feel this will work, everyone knows it.",
    "It will obviously work, I am sure of it.",
]
KPIS = ["cpa", "leads", "roas"]
EVIDENCE = [{"source": "ga4", "reference": "https://analytics.example.com/r/1"}]
START = datetime(2026, 3, 1, tzinfo=UTC)
# UTC midnights, Vladivostok's (+10) and Kathmandu's (+5:45), and the instants just before them.
EDGES = ["2026-03-10T00:00:00Z", "2026-03-09T14:00:00Z", "2026-03-09T18:15:00Z", "2026-03-09T23:59:59.999999Z",
         "2026-03-20T13:59:59Z", "2026-04-01T00:00:00Z"]  # fmt: skip
RANGES = [
    ("2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"),
    ("2026-03-09T18:15:00Z", "2026-04-15T13:30:00Z"),
    ("2026-03-05", "2026-04-20"),  # local midnights of the zone asked
    ("2026-03-09T12:00:00Z", "2026-03-10T12:00:00Z"),  # no whole UTC day
    ("2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z"),  # one whole day
    ("2025-01-01T00:00:00Z", "2028-01-01T00:00:00Z"),  # reviews due later than now
]
ZONES = ["UTC", "Asia/Vladivostok", "Asia/Kathmandu", "America/Los_Angeles"]
CELLS = SummaryRollup.__table__  # type: ignore[attr-defined]
DELTAS = (SummaryRollupDelta.__table__, KpiRollupDelta.__table__)  # type: ignore[attr-defined]
KPI_CELLS = KpiRollup.__table__  # type: ignore[attr-defined]


def _moment(rng: random.Random) -> str:
    if rng.random() < 0.25:
        return rng.choice(EDGES)
    moment = START + timedelta(seconds=rng.randrange(60 * 86400))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _expected_outcome(rng: random.Random, decided_at: str) -> dict[str, Any] | None:
    """None, or an expected outcome reviewed a few days after ``decided_at``: on a date (a midnight) or an instant."""
    choice = rng.random()
    if choice < 0.3:
        return None
    decided = datetime.fromisoformat(decided_at.replace("Z", "+00:00"))
    later = decided + timedelta(days=rng.randrange(2, 40), seconds=rng.randrange(86400))
    review_by = later.strftime("%Y-%m-%d") if choice < 0.7 else later.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"description": "CPA drops below 40 EUR", "review_by": review_by}


def _fields(rng: random.Random) -> dict[str, Any]:
    """Every field a day cell depends on, drawn at random."""
    fields: dict[str, Any] = {
        "owner": rng.choice(OWNERS),
        "basis": rng.choice(BASES),
        "rationale": rng.choice(RATIONALES),
        "evidence": EVIDENCE if rng.random() < 0.6 else [],
        "decided_at": _moment(rng),
        "strategy": rng.choice([None, "growth-2026"]),
        "kpis": rng.sample(KPIS, rng.randint(0, 2)),
        "directed_by": rng.choice(DIRECTORS),
    }
    fields["expected_outcome"] = _expected_outcome(rng, fields["decided_at"])
    if rng.random() < 0.6:
        fields["confidence"] = rng.choice([0.0, 0.1, 0.35, 0.7, 0.95, 1.0, rng.random()])
    if rng.random() < 0.4:
        fields["data_recommendation"] = {"option": "What the data said", "followed": rng.random() < 0.5}
    return fields


def _edit(rng: random.Random) -> dict[str, Any]:
    drawn = _fields(rng)
    names = rng.sample(["owner", "directed_by", "basis", "evidence", "decided_at", "kpis", "confidence",
                        "expected_outcome", "strategy", "rationale"], rng.randint(1, 3))  # fmt: skip
    if "decided_at" in names or "expected_outcome" in names:  # a review date is never before the decision
        names += ["decided_at", "expected_outcome"]
    return {name: drawn.get(name) for name in set(names)}


@pytest.fixture
async def base_only(settings: Settings, keys: dict[str, str], db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The same service reading only the decisions."""
    app = create_app(settings.model_copy(update={"analytics_rollups": False, "rollup_fold_interval_seconds": 0}))
    async with LifespanManager(app), make_client(app, keys["analytics"]) as client:
        yield client


QUESTIONS = [
    ("/v1/analytics/summary", {}),
    ("/v1/analytics/accountability", {}),
    ("/v1/analytics/kpis", {}),
    ("/v1/analytics/accountability", {"owner": "anna.petrova"}),  # a filter: the decisions
]


async def _same_answers(client: httpx.AsyncClient, base_only: httpx.AsyncClient, rng: random.Random) -> int:
    compared = 0
    for start, end in RANGES:
        zone = rng.choice(ZONES)
        for path, filters in QUESTIONS:
            params = {"from": start, "to": end, "tz": zone, **filters}
            answer = await client.get(path, params=params)
            expected = await base_only.get(path, params=params)
            assert answer.status_code == expected.status_code == 200, (params, answer.text)
            assert answer.json() == expected.json(), (path, params)
            compared += 1
    return compared


async def _count(db: Database, table: Any) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def _setup(client: httpx.AsyncClient) -> None:
    for handle in OWNERS:
        await factories.person(client, handle)
    await factories.person(client, "olga.owner", role="owner")
    await factories.person(client, "ivan.lead", role="lead")
    await factories.source(client, "ga4")
    await factories.strategy(client, "growth-2026")
    for key in KPIS:
        await factories.kpi(client, key)


@pytest.mark.parametrize("seed", [1, 2])
async def test_day_rollup_answers_equal_the_decisions_answers(
    client: httpx.AsyncClient, base_only: httpx.AsyncClient, db: Database, seed: int
) -> None:
    rng = random.Random(seed)
    await _setup(client)
    batch = [factories.decision_body(**_fields(rng)) for _ in range(40)]
    response = await client.post("/v1/decisions/batch", json={"items": batch})
    assert response.status_code == 201, response.text
    ids = [item["id"] for item in response.json()["items"]]
    for _ in range(10):
        ids.append((await factories.decision(client, **_fields(rng)))["id"])

    # 1. Every change pending as deltas.
    assert [await _count(db, table) > 0 for table in DELTAS] == [True, True] and await _count(db, CELLS) == 0
    assert await _same_answers(client, base_only, rng) == len(RANGES) * len(QUESTIONS)

    # 2. Folded into the cells.
    await rollup.fold(db)
    assert [await _count(db, table) for table in DELTAS] == [0, 0] and await _count(db, CELLS) > 0
    await _same_answers(client, base_only, rng)

    # 3. Corrections, outcome reviews, reversals and supersessions on top of the cells.
    for decision_id in rng.sample(ids, 20):
        await factories.edit(client, decision_id, **_edit(rng))
    for decision_id in rng.sample(ids, 12):
        result = rng.choice(["success", "partial", "failure", "inconclusive"])
        await client.post(f"/v1/decisions/{decision_id}/outcome", json=factories.outcome_body(result=result))
    reversed_ = rng.sample(ids, 6)
    for n, decision_id in enumerate(reversed_):
        body = factories.reverse_body(**({"superseded_by": ids[0]} if n % 2 and decision_id != ids[0] else {}))
        assert (await client.post(f"/v1/decisions/{decision_id}/reverse", json=body)).status_code == 200
    assert await _count(db, DELTAS[0]) > 0
    await _same_answers(client, base_only, rng)

    # 4. Folded again; a role changed (roles are joined when asked, nothing to rebuild).
    await rollup.fold(db)
    await _same_answers(client, base_only, rng)
    await factories.person(client, "ivan.lead", role="owner")
    await factories.person(client, "anna.petrova", role="owner")
    await _same_answers(client, base_only, rng)
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(CELLS).where(CELLS.c.decisions <= 0)) == 0


async def test_the_service_reads_the_day_cells(client: httpx.AsyncClient, base_only: httpx.AsyncClient, db: Database):
    """Whole UTC days come from the cells (a cell changed behind the service's back shows, and verify reports it);
    the partial days at the edges, and questions with filters, from the decisions."""
    await _setup(client)
    await factories.decision(client, decided_at="2026-03-10T10:00:00Z", kpis=["cpa"])
    await factories.decision(client, decided_at="2026-03-11T10:00:00Z", kpis=["cpa"])
    await rollup.fold(db)
    assert [p for p in (await verify_database(db)).problems if p.code == "rollup_differs"] == []
    async with db.sessionmaker() as session, session.begin():
        day = datetime(2026, 3, 10, tzinfo=UTC)
        await session.execute(update(CELLS).where(CELLS.c.day == day).values(decisions=CELLS.c.decisions + 100))
        await session.execute(update(KPI_CELLS).where(KPI_CELLS.c.day == day).values(decisions=7))
    # Until after the KPIs were recorded (now), so that KPI hygiene lists them.
    whole = {"from": "2026-03-10T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
    partial = {"from": "2026-03-10T00:00:01Z", "to": "2030-01-01T00:00:00Z"}

    async def figures(c: httpx.AsyncClient, params: dict[str, str]) -> tuple[int, int, int]:
        accountable = (await c.get("/v1/analytics/accountability", params=params)).json()["rows"]
        uses = (await c.get("/v1/analytics/kpis", params=params)).json()["rows"]
        return (
            sum(r["decisions"] for r in accountable),
            (await c.get("/v1/analytics/summary", params=params)).json()["rows"][0]["reviewed"],
            sum(r["decisions"] for r in uses if r["kpi"] == "cpa"),
        )

    assert await figures(client, whole) == (102, 0, 8)
    assert await figures(client, partial) == (2, 0, 2)
    assert await figures(base_only, whole) == (2, 0, 2)
    report = await verify_database(db)
    assert {(p.code, p.entity) for p in report.problems} == {
        ("rollup_differs", "summary_rollup/anna.petrova/2026-03-10"),
        ("rollup_differs", "kpi_rollup/cpa/2026-03-10"),
    }
