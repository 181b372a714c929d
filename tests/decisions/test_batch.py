import pytest

from tests import factories


async def _count(client) -> int:
    listed = await client.get("/v1/decisions", params={"limit": 500})
    return len(listed.json()["items"])


async def test_batch_creates_every_item_in_order(client):
    await factories.basics(client)
    items = [factories.decision_body(title=f"Item {i}", basis="intuition", evidence=[]) for i in range(5)]
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert response.status_code == 201, response.text
    created = response.json()["items"]
    assert [d["title"] for d in created] == [f"Item {i}" for i in range(5)]
    assert all(d["classification_reason"] == "declared_intuition" and d["revision"] == 1 for d in created)
    for decision in created:
        stored = await client.get(f"/v1/decisions/{decision['id']}")
        assert stored.json() == decision | {"contradicts": []}
    revisions = await client.get(f"/v1/decisions/{created[0]['id']}/revisions")
    assert [r["kind"] for r in revisions.json()["items"]] == ["created"]


async def test_batch_with_one_bad_item_writes_nothing_and_names_the_index(client):
    await factories.basics(client)
    items = [factories.decision_body(title=f"Item {i}") for i in range(4)]
    items[2]["title"] = ""
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "items", 2, "title"]]
    assert await _count(client) == 0


@pytest.mark.parametrize("team", [{}, {"team": "growth"}], ids=["owner's team", "team given"])
async def test_batch_with_an_unknown_reference_writes_nothing_and_names_the_index(client, team):
    await factories.basics(client)
    items = [factories.decision_body(title=f"Item {i}", **team) for i in range(3)]
    items[1]["owner"] = "nobody"
    items[2]["evidence"][0]["source"] = "nowhere"
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "unknown_reference"
    assert {tuple(e["loc"]) for e in body["errors"]} == {
        ("body", "items", 1, "owner"),
        ("body", "items", 2, "evidence", 0, "source"),
    }
    assert "nobody" in body["detail"] and "nowhere" in body["detail"]
    assert await _count(client) == 0


async def test_batch_with_a_used_external_ref_is_409_and_writes_nothing(client):
    await factories.basics(client)
    existing = await factories.decision(client, external_ref={"system": "crm", "id": "A-1"})
    items = [
        factories.decision_body(title="New", external_ref={"system": "crm", "id": "A-2"}),
        factories.decision_body(title="Clash", external_ref={"system": "crm", "id": "A-1"}),
    ]
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "duplicate_external_ref"
    assert body["existing_id"] == existing["id"]
    assert body["errors"][0]["loc"] == ["body", "items", 1, "external_ref"]
    assert await _count(client) == 1


async def test_batch_repeating_an_external_ref_within_itself_is_refused(client):
    await factories.basics(client)
    items = [factories.decision_body(external_ref={"system": "crm", "id": "X"}) for _ in range(2)]
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "items", 1, "external_ref"]
    assert await _count(client) == 0


async def test_batch_size_limits(client):
    await factories.basics(client)
    empty = await client.post("/v1/decisions/batch", json={"items": []})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["loc"] == ["body", "items"]
    body = factories.decision_body(rationale="r", evidence=[], basis="intuition", title="t")
    too_many = await client.post("/v1/decisions/batch", json={"items": [body] * 1001})
    assert too_many.status_code == 422
    assert await _count(client) == 0


async def test_batch_of_1000_is_accepted(client):
    await factories.basics(client)
    body = factories.decision_body(title="t", rationale="r")
    response = await client.post("/v1/decisions/batch", json={"items": [body] * 1000})
    assert response.status_code == 201
    assert len(response.json()["items"]) == 1000


async def test_batch_honours_idempotency_key(client):
    await factories.basics(client)
    payload = {"items": [factories.decision_body(title=f"Item {i}") for i in range(3)]}
    first = await client.post("/v1/decisions/batch", json=payload, headers={"Idempotency-Key": "batch-1"})
    again = await client.post("/v1/decisions/batch", json=payload, headers={"Idempotency-Key": "batch-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _count(client) == 3


async def test_batch_items_get_the_strategy_version_in_force_at_their_own_time(client):
    await factories.basics(client)
    await client.post("/v1/strategies", json={"key": "growth", "title": "Growth"})
    for effective_from in ("2026-01-01", "2026-02-01"):
        await client.post("/v1/strategies/growth/versions", json={"summary": "s", "effective_from": effective_from})
    items = [
        factories.decision_body(strategy="growth", decided_at=when)
        for when in ("2025-12-31T23:59:59Z", "2026-01-15", "2026-02-01", "2026-03-01")
    ]
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert [d["strategy_version"] for d in response.json()["items"]] == [None, 1, 2, 2]
