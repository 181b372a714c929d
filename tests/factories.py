"""Builders for request bodies and the records tests need, all made through the API."""

from __future__ import annotations

from typing import Any

import httpx


async def person(
    client: httpx.AsyncClient,
    handle: str = "anna.petrova",
    *,
    team: str = "growth",
    name: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body = {"name": name or handle.replace(".", " ").title(), "team": team, **extra}
    response = await client.put(f"/v1/people/{handle}", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


async def source(
    client: httpx.AsyncClient, key: str = "ga4", *, kind: str = "analytics", name: str | None = None, **extra: Any
) -> dict[str, Any]:
    response = await client.put(f"/v1/data-sources/{key}", json={"name": name or key.upper(), "kind": kind, **extra})
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def decision_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Move 20% of display budget to paid search",
        "rationale": "Paid search converts at 3.4% against 0.6% for display.",
        "basis": "data",
        "evidence": [
            {
                "source": "ga4",
                "reference": "https://analytics.example.com/r/1",
                "metric": "conversion_rate",
                "value": 0.034,
            }
        ],
        "owner": "anna.petrova",
        "channel": "paid_search",
        "category": "budget",
        "decided_at": "2026-03-01T10:00:00Z",
    }
    body.update(overrides)
    return body


async def decision(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/decisions", json=decision_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def basics(client: httpx.AsyncClient) -> None:
    """The people and sources most tests refer to."""
    await person(client, "anna.petrova", team="growth")
    await person(client, "boris.ivanov", team="brand")
    await source(client, "ga4")
    await source(client, "crm", kind="crm")
