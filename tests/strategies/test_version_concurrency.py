"""Concurrent POST …/versions: numbers stay unique and gap-free on both engines."""

from __future__ import annotations

import asyncio

from tests import factories


async def _post_versions(client, key: str, count: int, effective_from: str):  # type: ignore[no-untyped-def]
    return await asyncio.gather(
        *(
            client.post(
                f"/v1/strategies/{key}/versions",
                json={"summary": f"Concurrent change {i}", "effective_from": effective_from, "change_reason": str(i)},
            )
            for i in range(count)
        )
    )


async def test_ten_concurrent_versions_get_ten_distinct_consecutive_numbers(client):
    await factories.strategy(client, "growth-2026")

    responses = await _post_versions(client, "growth-2026", 10, "2026-02-01T00:00:00Z")

    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses if r.status_code != 201]
    numbers = sorted(r.json()["number"] for r in responses)
    assert numbers == list(range(1, 11))
    # Each response's Location names its own number, and the stored version is the one it posted.
    listed = (await client.get("/v1/strategies/growth-2026/versions", params={"limit": 500})).json()
    assert listed["next_cursor"] is None
    assert [v["number"] for v in listed["items"]] == list(range(1, 11))
    by_number = {v["number"]: v for v in listed["items"]}
    for response in responses:
        body = response.json()
        assert response.headers["Location"] == f"/v1/strategies/growth-2026/versions/{body['number']}"
        assert by_number[body["number"]] == body
    # Numbers follow the order the versions were written in.
    created = [v["created_at"] for v in listed["items"]]
    assert created == sorted(created)
    strategy = (await client.get("/v1/strategies/growth-2026")).json()
    assert strategy["versions"] == 10
    assert strategy["current_version"] == 10
    assert strategy["updated_at"] == created[-1]


async def test_a_second_concurrent_burst_continues_the_numbering_without_gaps(client):
    await factories.strategy(client, "growth-2026")
    first = await _post_versions(client, "growth-2026", 10, "2026-02-01T00:00:00Z")
    assert all(r.status_code == 201 for r in first)

    second = await _post_versions(client, "growth-2026", 10, "2026-03-01T00:00:00Z")

    assert [r.status_code for r in second] == [201] * 10, [r.text for r in second if r.status_code != 201]
    assert sorted(r.json()["number"] for r in second) == list(range(11, 21))
    listed = (await client.get("/v1/strategies/growth-2026/versions", params={"limit": 500})).json()["items"]
    assert [v["number"] for v in listed] == list(range(1, 21))
    created = [v["created_at"] for v in listed]
    assert created == sorted(created)


async def test_concurrent_versions_of_two_strategies_are_numbered_independently(client):
    await factories.strategy(client, "growth-2026")
    await factories.strategy(client, "brand-2026")

    growth, brand = await asyncio.gather(
        _post_versions(client, "growth-2026", 5, "2026-02-01T00:00:00Z"),
        _post_versions(client, "brand-2026", 5, "2026-02-01T00:00:00Z"),
    )

    assert all(r.status_code == 201 for r in [*growth, *brand])
    assert sorted(r.json()["number"] for r in growth) == [1, 2, 3, 4, 5]
    assert sorted(r.json()["number"] for r in brand) == [1, 2, 3, 4, 5]
    assert {r.json()["strategy"] for r in growth} == {"growth-2026"}
    assert {r.json()["strategy"] for r in brand} == {"brand-2026"}
