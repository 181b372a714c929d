"""GET /v1/events: the outbox's feed. Events commit with their cause, and only with it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.core.unit_of_work import Database, transaction
from app.people import service as people_service
from app.people.schemas import PersonUpsert
from tests import factories
from tests.events.helpers import feed, types

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


async def test_an_acknowledged_write_has_its_event(client: httpx.AsyncClient) -> None:
    person = await factories.person(client, "anna.petrova", team="growth")

    [event] = await feed(client)

    assert event.keys() == {"id", "type", "occurred_at", "subject", "data"}
    assert event["type"] == "person.created"
    assert event["subject"] == "person/anna.petrova"
    assert event["data"] == {"person": person}
    assert TIMESTAMP.match(event["occurred_at"])


async def test_a_rolled_back_write_leaves_no_event(client: httpx.AsyncClient, db: Database) -> None:
    """The service writes the person and its event in one transaction; when that transaction fails after both
    were written, neither is kept."""

    class Refused(Exception):
        pass

    with pytest.raises(Refused):
        async with transaction(db, writes=True) as session:
            await people_service.upsert_person(session, "anna.petrova", PersonUpsert(name="Anna", team="growth"))
            raise Refused

    assert (await client.get("/v1/people/anna.petrova")).status_code == 404
    assert await feed(client) == []
    await factories.person(client, "boris.ivanov")
    assert await types(client) == ["person.created"]


async def test_a_refused_write_produces_no_event(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/kpis/cpa", json={"name": "CPA", "unit": "EUR", "kind": "money", "owner": "nobody"})
    assert response.status_code == 422

    assert await feed(client) == []


async def test_registries_emit_created_then_updated(client: httpx.AsyncClient) -> None:
    await factories.person(client, "anna.petrova")
    await factories.person(client, "anna.petrova", team="brand")
    await factories.source(client, "ga4")
    await factories.source(client, "ga4", name="Google Analytics")
    strategy = await factories.strategy(client, "growth-2026")

    events = await feed(client)

    assert [e["type"] for e in events] == [
        "person.created",
        "person.updated",
        "data_source.created",
        "data_source.updated",
        "strategy.created",
    ]
    assert events[1]["data"]["person"]["team"] == "brand"
    assert events[3]["data"]["data_source"]["name"] == "Google Analytics"
    assert events[3]["subject"] == "data-source/ga4"
    assert events[4]["data"] == {"strategy": strategy}


async def test_strategy_versions_say_whether_explained_and_unstable(client: httpx.AsyncClient) -> None:
    await factories.strategy(client, "growth-2026")
    await factories.version(client, effective_from="2026-01-01T00:00:00Z")
    # 10 days later, without a reason: an unexplained change that makes the strategy unstable (default 30 days).
    await factories.version(client, effective_from="2026-01-11T00:00:00Z", change_reason="  ")
    # 40 days after that, explained.
    third = await factories.version(client, effective_from="2026-02-20T00:00:00Z", change_reason="CPA doubled.")

    events = await feed(client, type="strategy.version_added")

    signals = [{k: e["data"][k] for k in ("change", "explained", "unstable", "days_since_previous")} for e in events]
    assert signals == [
        {"change": False, "explained": True, "unstable": False, "days_since_previous": None},
        {"change": True, "explained": False, "unstable": True, "days_since_previous": 10.0},
        {"change": True, "explained": True, "unstable": False, "days_since_previous": 40.0},
    ]
    assert events[2]["subject"] == "strategy/growth-2026/versions/3"
    assert events[2]["data"]["strategy"] == "growth-2026"
    assert events[2]["data"]["version"] == third


async def test_kpi_revisions_say_whether_explained(client: httpx.AsyncClient) -> None:
    await factories.kpi(client, "cpa", target=40)
    await factories.kpi(client, "cpa", target=35, change_reason="Q2 plan.")
    revised = await factories.kpi(client, "cpa", target=30)

    events = await feed(client)

    assert [(e["type"], e["data"]["revision"], e["data"]["explained"]) for e in events] == [
        ("kpi.created", 1, True),
        ("kpi.revised", 2, True),
        ("kpi.revised", 3, False),
    ]
    last = events[2]["data"]
    assert last["kpi"] == revised
    assert last["changes"] == {"target": {"from": 35.0, "to": 30.0}}
    assert last["change_reason"] is None
    assert events[2]["subject"] == "kpi/cpa"


async def test_decision_changes_emit_corrected_reversed_and_outcome(client: httpx.AsyncClient) -> None:
    await factories.basics(client)
    decision = await factories.decision(client)
    other = await factories.decision(client, title="The replacement")
    corrected = await factories.edit(client, decision["id"], edit_reason="Typo.", title="Corrected title")
    outcome = await factories.outcome(client, decision["id"])
    superseded = await factories.reverse(client, decision["id"], superseded_by=other["id"])
    reversed_ = await factories.reverse(client, other["id"])

    events = await feed(client, type=["decision.corrected", "decision.reversed", "decision.outcome_recorded"])

    assert [e["type"] for e in events] == [
        "decision.corrected",
        "decision.outcome_recorded",
        "decision.reversed",
        "decision.reversed",
    ]
    assert [e["subject"] for e in events] == [f"decision/{decision['id']}"] * 3 + [f"decision/{other['id']}"]
    first = events[0]["data"]
    assert first["decision"] == corrected
    assert (first["revision"], first["kind"], first["reason"]) == (2, "edited", "Typo.")
    assert first["changes"] == {"title": {"from": decision["title"], "to": "Corrected title"}}
    assert events[1]["data"]["decision"] == outcome
    assert events[2]["data"]["decision"] == superseded
    assert (events[2]["data"]["kind"], events[3]["data"]["kind"]) == ("superseded", "reversed")
    assert events[3]["data"]["decision"] == reversed_


async def test_feed_pages_by_cursor_in_commit_order(client: httpx.AsyncClient) -> None:
    handles = [f"person.{n}" for n in range(7)]
    for handle in handles:
        await factories.person(client, handle)

    seen: list[dict[str, Any]] = []
    response = await client.get("/v1/events", params={"limit": 3})
    pages = 0
    while True:
        assert response.status_code == 200
        body = response.json()
        seen += body["items"]
        pages += 1
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            break
        assert len(body["items"]) == 3
        assert 'rel="next"' in response.headers["Link"]
        response = await client.get("/v1/events", params={"limit": 3, "cursor": body["next_cursor"]})

    assert pages == 3
    assert [e["subject"] for e in seen] == [f"person/{h}" for h in handles]
    assert len({e["id"] for e in seen}) == 7


async def test_after_starts_past_an_event(client: httpx.AsyncClient) -> None:
    for handle in ("a.one", "b.two", "c.three"):
        await factories.person(client, handle)
    first, second, third = await feed(client)

    assert await feed(client, after=first["id"]) == [second, third]
    assert await feed(client, after=third["id"]) == []


async def test_type_filter_is_repeatable(client: httpx.AsyncClient) -> None:
    await factories.person(client, "anna.petrova")
    await factories.source(client, "ga4")
    await factories.kpi(client, "cpa")

    assert await types(client, type=["kpi.created", "person.created"]) == ["person.created", "kpi.created"]
    assert await types(client, type="data_source.created") == ["data_source.created"]


async def test_unknown_after_and_type_are_422_naming_the_parameter(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/events", params={"after": "0190c0c0-0000-7000-8000-000000000000"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in response.json()["errors"]] == [["query", "after"]]

    response = await client.get("/v1/events", params={"type": "decision.exploded"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "type", 0]

    response = await client.get("/v1/events", params={"cursor": "forged"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "cursor"]


async def test_feed_needs_the_read_scope(client_for: Any, anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/v1/events")).status_code == 401
    assert (await client_for("analytics").get("/v1/events")).status_code == 403
    assert (await client_for("read").get("/v1/events")).status_code == 200
