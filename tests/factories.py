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


async def strategy(
    client: httpx.AsyncClient, key: str = "growth-2026", *, title: str | None = None, **extra: Any
) -> dict[str, Any]:
    response = await client.post("/v1/strategies", json={"key": key, "title": title or key.title(), **extra})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def version(
    client: httpx.AsyncClient,
    strategy_key: str = "growth-2026",
    *,
    effective_from: str = "2026-01-01T00:00:00Z",
    summary: str = "Shift budget to paid search",
    **extra: Any,
) -> dict[str, Any]:
    """Post the next version of ``strategy_key``."""
    body = {"summary": summary, "effective_from": effective_from, **extra}
    response = await client.post(f"/v1/strategies/{strategy_key}/versions", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def kpi(
    client: httpx.AsyncClient,
    key: str = "cpa",
    *,
    name: str | None = None,
    unit: str = "EUR",
    kind: str = "money",
    **extra: Any,
) -> dict[str, Any]:
    """Create (or revise) the KPI ``key`` with ``PUT``."""
    body = {"name": name or key.upper(), "unit": unit, "kind": kind, **extra}
    response = await client.put(f"/v1/kpis/{key}", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


async def edit(
    client: httpx.AsyncClient, decision_id: str, *, edit_reason: str = "Correction.", **fields: Any
) -> dict[str, Any]:
    """PATCH a decision (with ``edit_reason``) and return the corrected record."""
    response = await client.patch(f"/v1/decisions/{decision_id}", json={"edit_reason": edit_reason, **fields})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def reverse_body(**overrides: Any) -> dict[str, Any]:
    return {"reason": "The campaign was cancelled.", "by": "boris.ivanov", **overrides}


async def reverse(client: httpx.AsyncClient, decision_id: str, **overrides: Any) -> dict[str, Any]:
    """Reverse a decision (or, with ``superseded_by``, mark it superseded)."""
    response = await client.post(f"/v1/decisions/{decision_id}/reverse", json=reverse_body(**overrides))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def outcome_body(**overrides: Any) -> dict[str, Any]:
    return {
        "result": "success",
        "notes": "CPA fell to 37 EUR.",
        "actual_value": 37,
        "reviewed_by": "boris.ivanov",
        "reviewed_at": "2026-06-02T09:00:00Z",
        **overrides,
    }


async def outcome(client: httpx.AsyncClient, decision_id: str, **overrides: Any) -> dict[str, Any]:
    response = await client.post(f"/v1/decisions/{decision_id}/outcome", json=outcome_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def contractor(
    client: httpx.AsyncClient, key: str = "acme", *, kind: str = "agency", name: str | None = None, **extra: Any
) -> dict[str, Any]:
    response = await client.put(f"/v1/contractors/{key}", json={"name": name or key.title(), "kind": kind, **extra})
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]
