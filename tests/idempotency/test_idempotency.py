import asyncio
import uuid

from tests import factories


async def _count(client) -> int:
    listed = await client.get("/v1/decisions", params={"limit": 500})
    return len(listed.json()["items"])


async def test_same_key_and_body_replays_the_first_response(client):
    await factories.basics(client)
    body = factories.decision_body()
    first = await client.post("/v1/decisions", json=body, headers={"Idempotency-Key": "k-1"})
    second = await client.post("/v1/decisions", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await _count(client) == 1


async def test_same_key_with_another_body_is_refused(client):
    await factories.basics(client)
    await client.post("/v1/decisions", json=factories.decision_body(), headers={"Idempotency-Key": "k-2"})
    other = await client.post(
        "/v1/decisions", json=factories.decision_body(title="Another"), headers={"Idempotency-Key": "k-2"}
    )
    assert other.status_code == 422
    assert other.headers["Content-Type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["errors"] == [
        {
            "loc": ["header", "Idempotency-Key"],
            "msg": "used with another request body or endpoint",
            "type": "idempotency_key_reused",
        }
    ]
    assert await _count(client) == 1


async def test_same_key_on_another_endpoint_is_refused(client):
    await factories.basics(client)
    await client.post("/v1/decisions", json=factories.decision_body(), headers={"Idempotency-Key": "k-3"})
    other = await client.post(
        "/v1/strategies", json={"key": "growth", "title": "Growth"}, headers={"Idempotency-Key": "k-3"}
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_keys_are_scoped_per_api_key(client, client_for):
    await factories.basics(client)
    admin = client_for("admin")
    body = factories.decision_body()
    first = await client.post("/v1/decisions", json=body, headers={"Idempotency-Key": "shared"})
    second = await admin.post(
        "/v1/decisions", json=factories.decision_body(title="Other key"), headers={"Idempotency-Key": "shared"}
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


async def test_a_refused_request_is_not_stored_and_can_be_retried_with_the_same_key(client):
    await factories.basics(client)
    body = factories.decision_body(owner="nobody")
    refused = await client.post("/v1/decisions", json=body, headers={"Idempotency-Key": "k-4"})
    assert refused.status_code == 422
    await factories.person(client, "nobody")
    retried = await client.post("/v1/decisions", json=body, headers={"Idempotency-Key": "k-4"})
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers


async def test_concurrent_duplicates_create_exactly_one_decision(client):
    """30 in flight at once: one runs, the others wait for it and replay its response."""
    await factories.basics(client)
    body = factories.decision_body()
    responses = await asyncio.gather(
        *(client.post("/v1/decisions", json=body, headers={"Idempotency-Key": "burst"}) for _ in range(30))
    )
    assert [r.status_code for r in responses] == [201] * 30
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 29
    assert await _count(client) == 1


async def test_replay_works_for_reverse_and_outcome(client):
    await factories.basics(client)
    decision = await factories.decision(client)
    url = f"/v1/decisions/{decision['id']}/reverse"
    body = {"reason": "Cancelled", "by": "anna.petrova"}
    first = await client.post(url, json=body, headers={"Idempotency-Key": "rev"})
    second = await client.post(url, json=body, headers={"Idempotency-Key": "rev"})
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    without_key = await client.post(url, json=body)
    assert without_key.status_code == 409


async def test_malformed_key_is_refused(client):
    await factories.basics(client)
    response = await client.post(
        "/v1/decisions", json=factories.decision_body(), headers={"Idempotency-Key": "a" * 256}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]


async def test_every_idempotent_operation_claims_the_key_for_the_admitted_caller(app_instance, client_for):
    """Every POST that takes an Idempotency-Key reads the caller its scope dependency admitted: a route that
    declared the two in the wrong order would fail here (a server error) rather than answer the bad body."""
    admin = client_for("admin")
    spec = app_instance.openapi()
    placeholders = {
        "decision_id": str(uuid.uuid4()),
        "key_id": str(uuid.uuid4()),
        "key": "no-such-strategy",
        "webhook_id": str(uuid.uuid4()),
    }
    operations = [
        path
        for path, methods in spec["paths"].items()
        if any(p["name"] == "Idempotency-Key" for p in methods.get("post", {}).get("parameters", []))
    ]
    assert len(operations) >= 8
    for path in operations:
        response = await admin.post(path.format(**placeholders), json={}, headers={"Idempotency-Key": f"order-{path}"})
        assert response.status_code in {404, 422}, (path, response.text)  # revoke takes no body: its key is unknown
        assert response.headers["content-type"] == "application/problem+json"
