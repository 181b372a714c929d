"""Reading the event feed in tests."""

from __future__ import annotations

from typing import Any

import httpx


async def feed(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every event the feed shows now, page by page (following ``next_cursor``)."""
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/events", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        events += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return events


async def types(client: httpx.AsyncClient, **params: Any) -> list[str]:
    return [event["type"] for event in await feed(client, **params)]
