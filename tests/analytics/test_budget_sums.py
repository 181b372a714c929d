"""weight=budget adds amounts exactly, in SQL, on both engines: with the rollup (folded cells, pending deltas)
and without it, in JSON and CSV, and past what a 64-bit sum of the amounts could hold."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.analytics import rollup
from app.core.config import Settings
from app.core.unit_of_work import Database
from app.main import create_app
from tests import factories
from tests.conftest import make_client
from tests.decisions.helpers import assert_problem, error_at

MARCH = {"from": "2026-01-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"}  # March is a whole month: rollup cells


@pytest.fixture
async def decisions_only(settings: Settings, keys: dict[str, str], db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The same service adding up the decisions themselves (``DECISION_LOG_ANALYTICS_ROLLUPS=false``)."""
    app = create_app(settings.model_copy(update={"analytics_rollups": False, "rollup_fold_interval_seconds": 0}))
    async with LifespanManager(app), make_client(app, keys["analytics"]) as client:
        yield client


async def _batch(client: httpx.AsyncClient, amount: str, count: int, **fields: Any) -> None:
    body = factories.decision_body(budget_amount="__AMOUNT__", decided_at="2026-03-10T10:00:00Z", **fields)
    item = json.dumps(body).replace('"__AMOUNT__"', amount)
    response = await client.post(
        "/v1/decisions/batch",
        content='{"items": [' + ", ".join([item] * count) + "]}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


async def _rows(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/analytics/basis", params={**MARCH, "weight": "budget", **params})
    assert response.status_code == 200, response.text
    return json.loads(response.content, parse_float=Decimal)["rows"]  # type: ignore[no-any-return]


async def _every_way(client: httpx.AsyncClient, decisions_only: httpx.AsyncClient, db: Database, **params: Any):
    """The rows asked of the rollup's pending deltas, of its folded cells, and of the decisions alone: all equal."""
    pending = await _rows(client, **params)
    await rollup.fold(db)
    folded = await _rows(client, **params)
    assert pending == folded == await _rows(decisions_only, **params)
    return folded


async def test_budget_sums_do_not_drift(client, decisions_only, db):
    """Ten budgets of 0.1 make 1, not 0.9999999999999999; three of 99999999999999.99 make …97, not …94."""
    await factories.basics(client)
    await _batch(client, "0.1", 10, budget_currency="EUR", evidence=[])
    await _batch(client, "99999999999999.99", 3, budget_currency="USD", basis="intuition")

    euros = await _every_way(client, decisions_only, db, currency="EUR", bucket="none")
    dollars = await _every_way(client, decisions_only, db, currency="USD", bucket="month", group_by="owner")

    assert [(r["total"], r["data"], r["emotion"], r["emotion_unsupported"]) for r in euros] == [(1, 0, 1, 1)]
    assert [(r["period_start"], r["group"], r["total"], r["emotion"]) for r in dollars] == [
        ("2026-03-01", "anna.petrova", Decimal("299999999999999.97"), Decimal("299999999999999.97"))
    ]


async def test_budget_sums_past_64_bits_stay_exact(client, decisions_only, db):
    """A thousand of the largest amounts: 10**21 ten-thousandths, past what SQLite's 64-bit SUM takes."""
    await factories.basics(client)
    await _batch(client, "99999999999999.99", 1000, budget_currency="EUR")
    await _batch(client, "0.01", 1, budget_currency="EUR", basis="emotion")

    rows = await _every_way(client, decisions_only, db, currency="EUR", bucket="quarter")

    march = next(r for r in rows if r["period_start"] == "2026-01-01")
    assert (march["total"], march["data"], march["emotion"]) == (
        Decimal("99999999999999990.01"),
        Decimal("99999999999999990"),
        Decimal("0.01"),
    )
    response = await client.get(
        "/v1/analytics/basis", params={**MARCH, "weight": "budget", "currency": "EUR", "bucket": "none"}
    )
    assert '"total":99999999999999990.01,"data":99999999999999990,' in response.text
    as_csv = await client.get(
        "/v1/analytics/basis",
        params={**MARCH, "weight": "budget", "currency": "EUR", "bucket": "none", "format": "csv"},
    )
    row = next(csv.DictReader(io.StringIO(as_csv.text)))
    assert (row["total"], row["data"], row["emotion"]) == ("99999999999999990.01", "99999999999999990", "0.01")


@pytest.mark.parametrize("currency", ["XXY", "ABC", "XXX", "eur"])
async def test_budget_weight_with_a_currency_not_in_iso_4217_returns_422(client, currency):
    response = await client.get("/v1/analytics/basis", params={"weight": "budget", "currency": currency})

    error_at(assert_problem(response, 422, "validation_failed"), ["query", "currency"])
