"""Every cursor of every list is checked before it reaches SQL (app/core/pagination.py): a forged one (an integer
beyond its column's range, a boolean, a timestamp that does not exist in UTC, a malformed UUID, text the databases
cannot store or longer than the column) is a 422 naming `cursor` on both engines, never a 500.

The lists are read from the served OpenAPI document (every operation with a `cursor` parameter): a new list must
be added to LISTS, with the records that give it a second page.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from app.main import app
from tests import factories
from tests.decisions.helpers import assert_problem, error_at

LISTS = {
    "listPeople": "/v1/people",
    "listDataSources": "/v1/data-sources",
    "listContractors": "/v1/contractors",
    "listDecisions": "/v1/decisions",
    "listDecisionRevisions": "/v1/decisions/{decision}/revisions",
    "listStrategies": "/v1/strategies",
    "listStrategyVersions": "/v1/strategies/growth-2026/versions",
    "listKpis": "/v1/kpis",
    "listKpiRevisions": "/v1/kpis/cpa/revisions",
    "listEvents": "/v1/events",
}
# Lists behind the admin scope, whose records need a receiver: their forged cursors are tried in
# tests/webhooks/test_webhook_cursors.py.
COVERED_ELSEWHERE = {"listWebhooks", "listWebhookDeliveries"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T")
FORGED: dict[str, list[Any]] = {
    "integer": [2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**40, True, 1.5, "2", None, 1e400],
    "uuid": ["not-a-uuid", "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b\x00", 5, None, ["x"]],
    "timestamp": ["not a date", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-02-30", 5, None],
    "text": ["a\x00", "\ud800", "x" * 65, 5, True, None, {"k": "v"}],
}
# Lists whose cursor integers are 64-bit columns (the event feed's transaction ids and positions).
BIGINT_LISTS = {"listEvents"}
FORGED_BIGINT = [2**63, -(2**63) - 1, 10**40, True, 1.5, "2", None, 1e400]


def _encode(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))  # type: ignore[no-any-return]


def _kind(value: Any) -> str:
    if isinstance(value, int):
        return "integer"
    if UUID.match(value):
        return "uuid"
    return "timestamp" if TIMESTAMP.match(value) else "text"


def test_every_list_of_the_spec_is_covered():
    spec = app.openapi()
    listed = {
        operation["operationId"]
        for methods in spec["paths"].values()
        for operation in methods.values()
        if any(p["name"] == "cursor" for p in operation.get("parameters", []))
    }
    assert listed == set(LISTS) | COVERED_ELSEWHERE


@pytest.fixture
async def two_pages(client) -> dict[str, str]:
    """Two records in every list (a decision with two revisions, a strategy with two versions, a KPI with two
    revisions); the URL of each list."""
    await factories.basics(client)
    decision = await factories.decision(client)
    await factories.decision(client, title="Another")
    await factories.edit(client, decision["id"], title="Corrected")
    await factories.strategy(client, "growth-2026")
    await factories.strategy(client, "brand-2026")
    await factories.version(client, "growth-2026", effective_from="2026-01-01")
    await factories.version(client, "growth-2026", effective_from="2026-02-01")
    await factories.kpi(client, "cpa")
    await factories.kpi(client, "cpa", target=40, change_reason="Target agreed.")
    await factories.kpi(client, "leads", kind="activity", unit="leads")
    for key in ("acme", "bravo"):
        assert (await client.put(f"/v1/contractors/{key}", json={"name": key, "kind": "agency"})).status_code == 201
    return {name: url.format(decision=decision["id"]) for name, url in LISTS.items()}


@pytest.mark.parametrize("operation", list(LISTS))
async def test_forged_cursor_values_return_422_naming_the_cursor(client, two_pages, operation):
    url = two_pages[operation]
    first = await client.get(url, params={"limit": 1})
    assert first.status_code == 200, first.text
    genuine = _decode(first.json()["next_cursor"])
    second = await client.get(url, params={"limit": 1, "cursor": first.json()["next_cursor"]})
    assert second.status_code == 200 and second.json()["items"], second.text

    forged = [[*genuine, 1], genuine[:-1], {"values": genuine}, "x"]
    for position, value in enumerate(genuine):
        kind = _kind(value)
        bad_values = FORGED_BIGINT if kind == "integer" and operation in BIGINT_LISTS else FORGED[kind]
        forged += [[*genuine[:position], bad, *genuine[position + 1 :]] for bad in bad_values]
    for values in forged:
        response = await client.get(url, params={"limit": 1, "cursor": _encode(values)})
        problem = assert_problem(response, 422, "validation_failed")
        assert error_at(problem, ["query", "cursor"])["msg"].startswith("cursor is not valid"), values


async def test_revision_and_version_cursors_hold_a_column_range_integer(client, two_pages):
    # The cases that answered 500: an integer beyond PostgreSQL's `integer` (and SQLite's 64 bits).
    for operation in ("listDecisionRevisions", "listStrategyVersions", "listKpiRevisions"):
        for huge in (2**31, 2**64, 10**30):
            response = await client.get(two_pages[operation], params={"cursor": _encode([huge])})
            error_at(assert_problem(response, 422, "validation_failed"), ["query", "cursor"])
        largest = await client.get(two_pages[operation], params={"cursor": _encode([2**31 - 1])})
        assert largest.status_code == 200 and largest.json() == {"items": [], "next_cursor": None}, largest.text
