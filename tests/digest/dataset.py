"""A record with two weeks of decisions on Berlin's calendar (the week of 2026-11-23 and the one before), made
through the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests import factories

TZ = "Europe/Berlin"
WEEK = "2026-11-23"  # a Monday
PREVIOUS_WEEK = "2026-11-16"
NO_EVIDENCE: dict[str, Any] = {"evidence": []}


async def two_weeks(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """The decisions by name: four in the week (one a Berlin Monday that is still Sunday in UTC), two before."""
    await factories.basics(client)
    await factories.strategy(client, "growth-2026")
    await factories.version(client, effective_from="2026-01-05T00:00:00Z", summary="Search first")
    await factories.version(client, effective_from="2026-11-24T09:00:00Z", summary="Video <first>")
    made = {
        "monday": await factories.decision(client, title="Berlin Monday", decided_at="2026-11-22T23:30:00Z"),
        "hunch": await factories.decision(
            client,
            title="A hunch",
            basis="intuition",
            decided_at="2026-11-24T10:00:00Z",
            budget_amount=5000,
            budget_currency="EUR",
            **NO_EVIDENCE,
        ),
        "boss": await factories.decision(
            client,
            title="The boss wants TV",
            owner="boris.ivanov",
            basis="authority",
            decided_at="2026-11-25T10:00:00Z",
            budget_amount=12000,
            budget_currency="EUR",
            expected_outcome={"description": "More reach", "review_by": "2026-11-27T12:00:00Z"},
            **NO_EVIDENCE,
        ),
        "claim": await factories.decision(
            client,
            title="Data, they say",
            decided_at="2026-11-26T10:00:00Z",
            budget_amount=300,
            budget_currency="USD",
            **NO_EVIDENCE,
        ),
        "before_1": await factories.decision(client, title="Before 1", decided_at="2026-11-17T10:00:00Z"),
        "before_2": await factories.decision(client, title="Before 2", decided_at="2026-11-18T10:00:00Z"),
    }
    return made
