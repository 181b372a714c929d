import asyncio

from tests import factories


async def test_concurrent_creates_all_succeed(client):
    """Concurrent writers never fail with "database is locked" (SQLite) or lose a write."""
    await factories.basics(client)
    responses = await asyncio.gather(
        *(client.post("/v1/decisions", json=factories.decision_body(title=f"Decision {i}")) for i in range(25))
    )
    assert [r.status_code for r in responses] == [201] * 25
    listed = await client.get("/v1/decisions", params={"limit": 100})
    assert sorted(d["title"] for d in listed.json()["items"]) == sorted(f"Decision {i}" for i in range(25))


async def test_concurrent_patches_with_the_same_etag_let_exactly_one_win(client):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    etag = created.headers["ETag"]
    url = f"/v1/decisions/{created.json()['id']}"
    responses = await asyncio.gather(
        *(
            client.patch(url, json={"title": f"Edit {i}", "edit_reason": "race"}, headers={"If-Match": etag})
            for i in range(8)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 7
    revisions = await client.get(f"{url}/revisions")
    assert [r["revision"] for r in revisions.json()["items"]] == [1, 2]
