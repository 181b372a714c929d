"""Contractors: registered by key (an agency, a freelancer, a platform), deactivated rather than deleted, listed with
filters and keyset paging, logged like every write to the record, and carried by backups."""

from __future__ import annotations

import re

import pytest

from app.integrity.verify import verify_database
from tests.integrity.helpers import tamper

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


async def test_put_creates_with_201_then_replaces_with_200(client):
    created = await client.put("/v1/contractors/acme", json={"name": "Acme Performance", "kind": "agency"})

    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/v1/contractors/acme"
    body = created.json()
    assert body == {
        "key": "acme",
        "name": "Acme Performance",
        "kind": "agency",
        "active": True,
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert TIMESTAMP.match(body["created_at"])

    deactivated = await client.put(
        "/v1/contractors/acme", json={"name": "Acme Performance", "kind": "agency", "active": False}
    )
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["active"] is False and deactivated.json()["created_at"] == body["created_at"]
    assert deactivated.headers["ETag"] != created.headers["ETag"]
    read = await client.get("/v1/contractors/acme")
    assert read.json() == deactivated.json() and read.headers["ETag"] == deactivated.headers["ETag"]


async def test_list_filters_by_kind_and_activity_and_pages_by_key(client):
    for key, kind, active in [
        ("acme", "agency", True),
        ("bravo", "agency", False),
        ("carla-freelance", "freelancer", True),
        ("tiktok-ads", "platform", True),
    ]:
        answer = await client.put(f"/v1/contractors/{key}", json={"name": key.title(), "kind": kind, "active": active})
        assert answer.status_code == 201

    keys = lambda answer: [item["key"] for item in answer.json()["items"]]  # noqa: E731
    assert keys(await client.get("/v1/contractors")) == ["acme", "bravo", "carla-freelance", "tiktok-ads"]
    assert keys(await client.get("/v1/contractors", params={"kind": "agency"})) == ["acme", "bravo"]
    assert keys(await client.get("/v1/contractors", params={"active": "true", "kind": "agency"})) == ["acme"]
    first = await client.get("/v1/contractors", params={"limit": 2})
    assert keys(first) == ["acme", "bravo"] and first.json()["next_cursor"]
    second = await client.get("/v1/contractors", params={"limit": 2, "cursor": first.json()["next_cursor"]})
    assert keys(second) == ["carla-freelance", "tiktok-ads"] and second.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "agency"}, "name"),
        ({"name": "  ", "kind": "agency"}, "name"),
        ({"name": "Acme", "kind": "consultancy"}, "kind"),
        ({"name": "Acme", "kind": "agency", "active": "yes"}, "active"),
        ({"name": "Acme\u0000", "kind": "agency"}, "name"),
        ({"name": "Acme", "kind": "agency", "owner": "anna"}, "owner"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_writes_nothing(client, body, field):
    answer = await client.put("/v1/contractors/acme", json=body)

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert any(error["loc"][-1] == field for error in answer.json()["errors"]), answer.json()
    assert (await client.get("/v1/contractors/acme")).status_code == 404


async def test_an_unknown_contractor_is_a_404_problem_and_a_bad_key_a_422(client):
    missing = await client.get("/v1/contractors/nobody")
    assert missing.status_code == 404 and missing.json()["code"] == "contractor_not_found"
    assert (await client.get("/v1/contractors/Not%20A%20Key")).status_code == 422


async def test_writing_needs_the_write_scope(client_for):
    reader = client_for("read")
    assert (await reader.put("/v1/contractors/acme", json={"name": "Acme", "kind": "agency"})).status_code == 403
    assert (await reader.get("/v1/contractors")).status_code == 200
    assert (await client_for("analytics").get("/v1/contractors")).status_code == 403


async def test_contractors_are_logged_and_a_change_behind_the_services_back_is_found(client, db):
    await client.put("/v1/contractors/acme", json={"name": "Acme", "kind": "agency"})
    await client.put("/v1/contractors/acme", json={"name": "Acme", "kind": "agency", "active": False})
    clean = await verify_database(db)
    assert clean.ok, clean.problems
    assert clean.registries == 1

    await tamper(db, "UPDATE contractor SET active = true WHERE key = 'acme'")
    report = await verify_database(db)

    assert [(p.code, p.entity) for p in report.problems] == [("record_differs", "contractor/acme")]


async def test_each_change_is_an_event_of_the_feed(client):
    await client.put("/v1/contractors/acme", json={"name": "Acme", "kind": "agency"})
    await client.put("/v1/contractors/acme", json={"name": "Acme", "kind": "agency", "active": False})

    feed = (await client.get("/v1/events", params={"type": ["contractor.created", "contractor.updated"]})).json()

    assert [(e["type"], e["subject"], e["data"]["contractor"]["active"]) for e in feed["items"]] == [
        ("contractor.created", "contractor/acme", True),
        ("contractor.updated", "contractor/acme", False),
    ]
