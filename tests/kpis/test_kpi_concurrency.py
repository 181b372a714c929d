"""Concurrent PUTs to one KPI: one creation, gap-free revisions, a history in time order."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

BODY = {"name": "Cost per acquisition", "unit": "EUR", "kind": "money", "direction": "decrease"}


async def _put_targets(client, key: str, targets: list[int]):  # type: ignore[no-untyped-def]
    return await asyncio.gather(
        *(
            client.put(f"/v1/kpis/{key}", json={**BODY, "target": target, "change_reason": f"target {target}"})
            for target in targets
        )
    )


async def _history(client, key: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = await client.get(f"/v1/kpis/{key}/revisions", params={"limit": 500})
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def _assert_consistent(history: list[dict[str, Any]]) -> None:
    assert [r["revision"] for r in history] == list(range(1, len(history) + 1))
    changed = [r["changed_at"] for r in history]
    assert changed == sorted(changed), "revisions must be in time order, or ?at= answers the wrong state"
    for earlier, later in itertools.pairwise(history):
        # Each revision's "from" is what the previous revision left.
        assert later["changes"]["target"]["from"] == earlier["kpi"]["target"]


async def test_ten_concurrent_puts_create_once_and_record_ten_revisions(client):
    responses = await _put_targets(client, "cpa", list(range(10, 110, 10)))

    assert sorted(r.status_code for r in responses) == [200] * 9 + [201], [r.text for r in responses]
    assert sorted(r.json()["revision"] for r in responses) == list(range(1, 11))
    history = await _history(client, "cpa")
    assert len(history) == 10
    _assert_consistent(history)
    current = (await client.get("/v1/kpis/cpa")).json()
    assert current["revision"] == 10
    assert current == history[-1]["kpi"]


async def test_concurrent_revisions_of_an_existing_kpi_stay_gap_free_and_in_time_order(client):
    created = await client.put("/v1/kpis/cpa", json={**BODY, "target": 1})
    assert created.status_code == 201

    responses = await _put_targets(client, "cpa", list(range(2, 12)))

    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    history = await _history(client, "cpa")
    assert len(history) == 11
    _assert_consistent(history)
    # As it stood at each revision's time, the KPI is that revision's snapshot.
    for revision in history:
        at = await client.get("/v1/kpis/cpa", params={"at": revision["changed_at"]})
        assert at.json() == revision["kpi"]
