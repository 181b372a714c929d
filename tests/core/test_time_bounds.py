"""Every timestamp a client sends lies from 1970-01-01 to 2100-01-01 (UTC, both included; app/core/types.py), and
the default analytics range answers whatever is already stored (data from before the bound existed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from app.decisions.repository import decision as decision_table
from app.strategies.repository import strategy as strategy_table
from app.strategies.repository import version as version_table
from tests import factories
from tests.decisions.helpers import assert_problem, error_at

RANGE = "must lie from 1970-01-01 to 2100-01-01 (UTC, both included)"
OUTSIDE = ["1969-12-31T23:59:59.999999Z", "2100-01-01T00:00:00.000001Z", "0001-01-01", "9999-12-31T23:59:59Z"]


async def _records(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    await factories.basics(client)
    await factories.strategy(client, "growth-2026")
    await factories.kpi(client, "cpa")
    return await factories.decision(client)


def _cases() -> list[Any]:
    """(method, url, body, params, loc) with ``VALUE`` where the timestamp goes."""
    return [
        ("POST", "/v1/decisions", factories.decision_body(decided_at="VALUE"), None, ["body", "decided_at"]),
        (
            "POST",
            "/v1/decisions",
            factories.decision_body(expected_outcome={"description": "CPA down", "review_by": "VALUE"}),
            None,
            ["body", "expected_outcome", "review_by"],
        ),
        (
            "POST",
            "/v1/decisions/batch",
            {"items": [factories.decision_body(), factories.decision_body(decided_at="VALUE")]},
            None,
            ["body", "items", 1, "decided_at"],
        ),
        ("PATCH", "/v1/decisions/{id}", {"edit_reason": "Date.", "decided_at": "VALUE"}, None, ["body", "decided_at"]),
        (
            "POST",
            "/v1/decisions/{id}/outcome",
            {"result": "success", "reviewed_by": "anna.petrova", "reviewed_at": "VALUE"},
            None,
            ["body", "reviewed_at"],
        ),
        (
            "POST",
            "/v1/strategies/growth-2026/versions",
            {"summary": "v1", "effective_from": "VALUE"},
            None,
            ["body", "effective_from"],
        ),
        ("GET", "/v1/kpis/cpa", None, {"at": "VALUE"}, ["query", "at"]),
        ("GET", "/v1/exports/decisions", None, {"updated_since": "VALUE"}, ["query", "updated_since"]),
        ("GET", "/v1/decisions", None, {"decided_from": "VALUE"}, ["query", "decided_from"]),
        ("GET", "/v1/decisions", None, {"decided_to": "VALUE"}, ["query", "decided_to"]),
    ]


def _with(value: Any, placeholder: str) -> Any:
    if isinstance(value, dict):
        return {k: _with(v, placeholder) for k, v in value.items()}
    if isinstance(value, list):
        return [_with(v, placeholder) for v in value]
    return placeholder if value == "VALUE" else value


@pytest.mark.parametrize("value", OUTSIDE)
@pytest.mark.parametrize(("method", "url", "body", "params", "loc"), _cases())
async def test_timestamp_outside_the_range_returns_422_naming_it(client, method, url, body, params, loc, value):
    created = await _records(client)

    response = await client.request(
        method, url.format(id=created["id"]), json=_with(body, value), params=_with(params, value)
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert error_at(problem, loc)["msg"] == RANGE
    assert error_at(problem, loc)["type"] == "timestamp_out_of_range"
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}


@pytest.mark.parametrize("value", ["1970-01-01", "1970-01-01T00:00:00Z", "1970-01-01T01:00:00+01:00"])
async def test_the_earliest_timestamp_is_accepted(client, value):
    await factories.basics(client)

    created = await factories.decision(client, decided_at=value)

    assert created["decided_at"] == "1970-01-01T00:00:00.000000Z"


async def test_the_latest_timestamp_is_accepted_where_the_future_is(client):
    await factories.strategy(client, "growth-2026")

    version = await factories.version(client, "growth-2026", effective_from="2100-01-01T00:00:00Z")

    assert version["effective_from"] == "2100-01-01T00:00:00.000000Z"


async def _store(db, table, key, **values) -> None:  # type: ignore[no-untyped-def]
    """Write values straight to the database, as data imported or recorded before the bound existed."""
    async with db.engine.begin() as connection:
        await connection.execute(update(table).where(key).values(**values))


ANALYTICS = [
    ("/v1/analytics/basis", {"bucket": "week"}),
    ("/v1/analytics/basis", {"bucket": "month"}),
    ("/v1/analytics/basis", {"bucket": "none"}),
    ("/v1/analytics/strategy-changes", {"bucket": "week"}),
    ("/v1/analytics/kpis", {}),
    ("/v1/analytics/accountability", {}),
    ("/v1/analytics/outcomes", {}),
    ("/v1/analytics/summary", {}),
]


@pytest.mark.parametrize(("path", "params"), ANALYTICS)
async def test_default_range_answers_a_decision_stored_in_year_1(client, db, path, params):
    """A decision dated 0001-01-01 (stored before the bound) made the default range hold 24,000 months: 422 (or
    500 for weeks) for everyone. The default range now starts at the earliest accepted timestamp at the latest."""
    await factories.basics(client)
    ancient = await factories.decision(client)
    await factories.decision(client, decided_at="2026-03-01T10:00:00Z")
    year_1 = datetime(1, 1, 1, tzinfo=UTC)
    await _store(db, decision_table, decision_table.c.id == uuid.UUID(ancient["id"]), decided_at=year_1)
    assert (await client.get(f"/v1/decisions/{ancient['id']}")).json()["decided_at"] == "0001-01-01T00:00:00.000000Z"

    response = await client.get(path, params=params)

    assert response.status_code == 200, response.text
    body = response.json()
    if path != "/v1/analytics/summary":
        assert body["from"][:10] in {"1970-01-01", "1969-12-29"}  # the bound, or the start of its week
    if params.get("bucket") == "week" and path.endswith("basis"):
        assert body["rows"][0]["period_start"] == "1969-12-29"
        assert sum(row["total"] for row in body["rows"]) == 1  # the decision of 2026; year 1 lies outside


async def test_default_strategy_change_range_answers_a_version_stored_in_year_9999(client, db):
    await factories.strategy(client, "growth-2026")
    await factories.version(client, "growth-2026", effective_from="2026-01-01")
    await factories.version(client, "growth-2026", effective_from="2026-02-01")
    far = datetime(9999, 12, 31, tzinfo=UTC)
    await _store(db, version_table, version_table.c.number == 2, effective_from=far)
    await _store(db, strategy_table, strategy_table.c.key == "growth-2026", latest_effective_from=far)

    response = await client.get("/v1/analytics/strategy-changes", params={"bucket": "month"})

    assert response.status_code == 200, response.text
    assert response.json()["from"] == "2026-01-01T00:00:00.000000Z"
