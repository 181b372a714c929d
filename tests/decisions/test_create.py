from tests import factories


async def test_create_decision_returns_201_with_location_and_etag(client):
    await factories.basics(client)
    response = await client.post("/v1/decisions", json=factories.decision_body())
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/decisions/{body['id']}"
    assert response.headers["ETag"]
    assert body["basis_class"] == "data"
    assert body["classification_reason"] == "evidence_cited"
    assert body["team"] == "growth"
    assert body["revision"] == 1
    assert body["decided_at"] == "2026-03-01T10:00:00.000000Z"
    got = await client.get(body["id"].join(["/v1/decisions/", ""]))
    assert got.json() == body
    assert got.headers["ETag"] == response.headers["ETag"]
