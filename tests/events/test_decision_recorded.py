"""``decision.recorded``: a new decision's event is written by the statement that writes the decision, on both
writers (the references read first, or checked by the insert itself), and a refused create writes none."""

from __future__ import annotations

import re

import httpx
import pytest

from tests import factories
from tests.events.helpers import feed

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
RECORDED = {"type": "decision.recorded"}

# The owner's team read first (no team given) or the references checked by the insert itself (team given).
PATHS = pytest.mark.parametrize("team", [{}, {"team": "growth"}], ids=["references read first", "checked by insert"])


@PATHS
async def test_a_created_decision_has_its_recorded_event(client: httpx.AsyncClient, team: dict[str, str]) -> None:
    await factories.basics(client)
    decision = await factories.decision(client, budget_amount=1250.5, budget_currency="EUR", **team)

    [event] = await feed(client, **RECORDED)

    assert event["subject"] == f"decision/{decision['id']}"
    assert TIMESTAMP.match(event["occurred_at"])
    assert event["occurred_at"] == decision["recorded_at"]
    data = event["data"]
    assert data.pop("decision") == decision
    assert data == {
        "revision": 1,
        "kind": "created",
        "changed_at": decision["recorded_at"],
        "changed_by": "test-write",
        "recorded_by": decision["recorded_by"],
        "edited_by": None,
        "reason": None,
        "changes": {},
    }


@PATHS
async def test_a_batch_has_one_recorded_event_per_decision_in_order(
    client: httpx.AsyncClient, team: dict[str, str]
) -> None:
    await factories.basics(client)
    items = [factories.decision_body(title=f"Item {i}", **team) for i in range(5)]
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert response.status_code == 201, response.text
    created = response.json()["items"]

    events = await feed(client, **RECORDED)

    assert [e["subject"] for e in events] == [f"decision/{d['id']}" for d in created]
    assert [e["data"]["decision"] for e in events] == created
    assert len({e["id"] for e in events}) == len(created)


@PATHS
async def test_a_refused_create_or_batch_has_no_event(client: httpx.AsyncClient, team: dict[str, str]) -> None:
    await factories.basics(client)
    unknown_owner = await client.post("/v1/decisions", json=factories.decision_body(owner="nobody", **team))
    assert unknown_owner.status_code == 422
    items = [factories.decision_body(title=f"Item {i}", **team) for i in range(3)]
    items[2]["evidence"][0]["source"] = "nowhere"
    bad_batch = await client.post("/v1/decisions/batch", json={"items": items})
    assert bad_batch.status_code == 422
    future = await client.post("/v1/decisions", json=factories.decision_body(decided_at="2999-01-01T00:00:00Z"))
    assert future.status_code == 422

    assert await feed(client, **RECORDED) == []


async def test_a_used_external_ref_writes_no_event(client: httpx.AsyncClient) -> None:
    await factories.basics(client)
    existing = await factories.decision(client, team="growth", external_ref={"system": "crm", "id": "A-1"})
    items = [
        factories.decision_body(title="New", team="growth", external_ref={"system": "crm", "id": "A-2"}),
        factories.decision_body(title="Clash", team="growth", external_ref={"system": "crm", "id": "A-1"}),
    ]
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert response.status_code == 409

    assert [e["subject"] for e in await feed(client, **RECORDED)] == [f"decision/{existing['id']}"]


async def test_an_idempotent_replay_writes_no_second_event(client: httpx.AsyncClient) -> None:
    await factories.basics(client)
    body = factories.decision_body()
    first = await client.post("/v1/decisions", json=body, headers={"Idempotency-Key": "k-1"})
    replay = await client.post("/v1/decisions", json=body, headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    mismatch = await client.post(
        "/v1/decisions", json=factories.decision_body(title="Another"), headers={"Idempotency-Key": "k-1"}
    )
    assert mismatch.status_code == 422

    assert [e["subject"] for e in await feed(client, **RECORDED)] == [f"decision/{first.json()['id']}"]
