"""decision.review_due: once per decision whose review date passed with no review, by a scan that one process
runs at a time, never twice, never missed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.core.unit_of_work import Database
from app.events import reviews
from app.main import create_app
from tests import factories
from tests.auth.test_cli_keys import run_cli
from tests.conftest import make_client
from tests.events.helpers import feed


def _review_by(date: str) -> dict[str, object]:
    return {"expected_outcome": {"description": "CPA below 40 EUR", "review_by": date}}


async def _due_events(client: httpx.AsyncClient) -> list[dict[str, object]]:
    return await feed(client, type="decision.review_due")


async def test_fires_once_for_each_decision_due_and_unreviewed(client: httpx.AsyncClient, db: Database) -> None:
    await factories.basics(client)
    due = await factories.decision(client, **_review_by("2026-06-01"))
    reviewed = await factories.decision(client, title="Reviewed", **_review_by("2026-06-01"))
    await factories.outcome(client, reviewed["id"])
    await factories.decision(client, title="Not yet", **_review_by("2099-01-01"))
    await factories.decision(client, title="No review date")

    assert await reviews.scan(db) == 1
    assert await reviews.scan(db) == 0  # never twice

    [event] = await _due_events(client)
    assert event["subject"] == f"decision/{due['id']}"
    current = (await client.get(f"/v1/decisions/{due['id']}")).json()
    assert current.pop("contradicts") == []  # not part of the decision's record
    assert event["data"] == {"decision": current, "owner": "anna.petrova", "review_by": "2026-06-01T00:00:00.000000Z"}


async def test_a_decision_that_fell_due_while_nothing_scanned_fires_at_the_next_scan(
    client: httpx.AsyncClient, db: Database
) -> None:
    await factories.basics(client)
    decision = await factories.decision(client, **_review_by("2026-06-01"))
    assert await reviews.scan(db, now=datetime(2026, 5, 31, tzinfo=UTC)) == 0  # not due yet

    # No scan ran when it fell due (the service was down): the next one, whenever it runs, fires it.
    assert await reviews.scan(db, now=datetime(2026, 9, 1, tzinfo=UTC)) == 1
    assert [e["subject"] for e in await _due_events(client)] == [f"decision/{decision['id']}"]


async def test_a_review_date_moved_into_the_past_fires(client: httpx.AsyncClient, db: Database) -> None:
    await factories.basics(client)
    decision = await factories.decision(client, **_review_by("2099-01-01"))
    assert await reviews.scan(db) == 0

    await factories.edit(client, decision["id"], **_review_by("2026-07-01"))

    assert await reviews.scan(db) == 1


async def test_two_workers_scanning_at_once_fire_exactly_one_event_per_decision(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await factories.basics(client)
    body = factories.decision_body(**_review_by("2026-06-01"))
    response = await client.post("/v1/decisions/batch", json={"items": [{**body, "title": f"D{n}"} for n in range(40)]})
    assert response.status_code == 201, response.text
    # Two processes' worth of engines and pools, each scanning twice at the same time.
    workers = [Database(settings), Database(settings)]
    try:
        results = await asyncio.gather(*(reviews.scan(worker) for worker in workers + workers))
    finally:
        for worker in workers:
            await worker.dispose()

    assert sum(r or 0 for r in results) == 40
    subjects = [e["subject"] for e in await _due_events(client)]
    assert len(subjects) == len(set(subjects)) == 40


async def test_serve_scans_in_the_background(
    client: httpx.AsyncClient, settings: Settings, keys: dict[str, str]
) -> None:
    await factories.basics(client)
    decision = await factories.decision(client, **_review_by("2026-06-01"))

    app = create_app(settings.model_copy(update={"review_scan_interval_seconds": 0.05}))
    async with LifespanManager(app), make_client(app, keys["read"]) as reader:
        for _ in range(200):
            events = await _due_events(reader)
            if events:
                break
            await asyncio.sleep(0.05)
    assert [e["subject"] for e in events] == [f"decision/{decision['id']}"]


async def test_scan_reviews_command(client: httpx.AsyncClient) -> None:
    await factories.basics(client)
    await factories.decision(client, **_review_by("2026-06-01"))
    await factories.decision(client, title="Second", **_review_by("2026-06-02"))

    code, out, err = await run_cli("scan-reviews")
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "decision.review_due fired for 2 decision(s)."
    code, out, err = await run_cli("scan-reviews")
    assert out.strip().splitlines()[-1] == "decision.review_due fired for 0 decision(s)."
    assert len(await _due_events(client)) == 2
