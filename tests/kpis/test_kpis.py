"""KPIs: PUT creates or revises (a no-op records nothing), If-Match, history, the KPI as it stood at a time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from app.core.types import format_utc
from tests import factories

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
ETAG = re.compile(r'^"[0-9a-f]+"$')
CPA = {
    "name": "Cost per acquisition",
    "unit": "EUR",
    "kind": "money",
    "target": 40,
    "direction": "decrease",
    "owner": "anna.petrova",
    "change_reason": "Agreed with finance for Q1.",
}


def assert_problem(response, status: int, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith("/" + code)
    return body  # type: ignore[no-any-return]


def error_at(body: dict[str, Any], *loc: str | int) -> dict[str, Any]:
    matches = [e for e in body["errors"] if tuple(e["loc"]) == loc]
    assert matches, body["errors"]
    return matches[0]


def shifted(timestamp: str, **delta: float) -> str:
    return format_utc(datetime.fromisoformat(timestamp) + timedelta(**delta))


async def revisions(client, key: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = await client.get(f"/v1/kpis/{key}/revisions", params={"limit": 500})
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


@pytest.fixture
async def anna(client):  # type: ignore[no-untyped-def]
    await factories.person(client, "anna.petrova", team="growth")
    await factories.person(client, "boris.ivanov", team="brand")


# ---------------------------------------------------------------------------------------------
# PUT: create, revise, no-op, If-Match
# ---------------------------------------------------------------------------------------------


async def test_put_kpi_creates_with_201_revision_1_location_and_etag(client, anna):
    response = await client.put("/v1/kpis/cpa", json=CPA)

    assert response.status_code == 201, response.text
    assert response.headers["Location"] == "/v1/kpis/cpa"
    assert ETAG.match(response.headers["ETag"])
    body = response.json()
    assert body == {
        "key": "cpa",
        "name": "Cost per acquisition",
        "unit": "EUR",
        "kind": "money",
        "target": 40,
        "direction": "decrease",
        "owner": "anna.petrova",
        "revision": 1,
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert TIMESTAMP.match(body["created_at"])
    got = await client.get("/v1/kpis/cpa")
    assert got.status_code == 200
    assert got.json() == body
    assert got.headers["ETag"] == response.headers["ETag"]


async def test_put_kpi_with_only_the_required_fields_creates_it(client):
    response = await client.put("/v1/kpis/leads", json={"name": "Leads", "unit": "leads", "kind": "activity"})

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["target"], body["direction"], body["owner"], body["revision"]) == (None, None, None, 1)


async def test_put_kpi_with_changes_returns_200_and_revision_2(client, anna):
    created = await client.put("/v1/kpis/cpa", json=CPA)

    response = await client.put("/v1/kpis/cpa", json={**CPA, "target": 35, "change_reason": "Q2 target."})

    assert response.status_code == 200, response.text
    assert "Location" not in response.headers
    assert ETAG.match(response.headers["ETag"])
    assert response.headers["ETag"] != created.headers["ETag"]
    body = response.json()
    assert body == {
        **created.json(),
        "target": 35,
        "revision": 2,
        "updated_at": body["updated_at"],
    }
    assert body["updated_at"] > body["created_at"]
    got = await client.get("/v1/kpis/cpa")
    assert got.json() == body
    assert got.headers["ETag"] == response.headers["ETag"]


async def test_put_kpi_with_the_same_body_records_no_revision(client, anna):
    created = await client.put("/v1/kpis/cpa", json=CPA)

    again = await client.put("/v1/kpis/cpa", json=CPA)
    # Only a different reason: still nothing about the KPI changes.
    reworded = await client.put("/v1/kpis/cpa", json={**CPA, "change_reason": "Just checking.", "target": 40.0})

    for response in (again, reworded):
        assert response.status_code == 200, response.text
        assert "Location" not in response.headers
        assert response.json() == created.json()
        assert response.headers["ETag"] == created.headers["ETag"]
    assert [r["revision"] for r in await revisions(client, "cpa")] == [1]
    assert (await client.get("/v1/kpis/cpa")).json()["revision"] == 1


async def test_put_kpi_if_match_stale_returns_412_and_current_returns_200(client, anna):
    created = await client.put("/v1/kpis/cpa", json=CPA)
    revised = await client.put(
        "/v1/kpis/cpa", json={**CPA, "target": 35}, headers={"If-Match": created.headers["ETag"]}
    )
    assert revised.status_code == 200, revised.text

    stale = await client.put("/v1/kpis/cpa", json={**CPA, "target": 30}, headers={"If-Match": created.headers["ETag"]})

    body = assert_problem(stale, 412, "precondition_failed")
    assert revised.headers["ETag"] in body["detail"]
    assert (await client.get("/v1/kpis/cpa")).json() == revised.json()
    assert len(await revisions(client, "cpa")) == 2

    current = await client.put(
        "/v1/kpis/cpa", json={**CPA, "target": 30}, headers={"If-Match": revised.headers["ETag"]}
    )

    assert current.status_code == 200, current.text
    assert current.json()["target"] == 30
    assert current.json()["revision"] == 3


async def test_put_kpi_if_match_star_and_list_of_tags(client, anna):
    created = await client.put("/v1/kpis/cpa", json=CPA)

    star = await client.put("/v1/kpis/cpa", json={**CPA, "target": 35}, headers={"If-Match": "*"})
    listed = await client.put(
        "/v1/kpis/cpa", json={**CPA, "target": 30}, headers={"If-Match": f'"0000", {star.headers["ETag"]}'}
    )

    assert star.status_code == 200, star.text
    assert listed.status_code == 200, listed.text
    assert listed.json()["revision"] == 3
    assert created.headers["ETag"] not in {star.headers["ETag"], listed.headers["ETag"]}


@pytest.mark.parametrize("if_match", ['"abc123"', "*"])
async def test_put_kpi_if_match_on_a_kpi_that_does_not_exist_returns_412(client, anna, if_match):
    # RFC 9110: `If-Match: *` means "only if it exists", so it cannot create.
    response = await client.put("/v1/kpis/cpa", json=CPA, headers={"If-Match": if_match})

    assert_problem(response, 412, "precondition_failed")
    assert_problem(await client.get("/v1/kpis/cpa"), 404, "kpi_not_found")


async def test_put_kpi_unknown_owner_returns_422_naming_the_value(client):
    response = await client.put("/v1/kpis/cpa", json={**CPA, "owner": "ghost.writer"})

    body = assert_problem(response, 422, "unknown_reference")
    error = error_at(body, "body", "owner")
    assert "ghost.writer" in error["msg"]
    assert error["type"] == "unknown_reference"
    assert_problem(await client.get("/v1/kpis/cpa"), 404, "kpi_not_found")


async def test_revise_kpi_with_unknown_owner_returns_422_and_keeps_it(client, anna):
    created = await client.put("/v1/kpis/cpa", json=CPA)

    response = await client.put("/v1/kpis/cpa", json={**CPA, "owner": "ghost.writer"})

    assert_problem(response, 422, "unknown_reference")
    assert (await client.get("/v1/kpis/cpa")).json() == created.json()
    assert len(await revisions(client, "cpa")) == 1


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"kind": "revenue"}, ("body", "kind")),
        ({"kind": None}, ("body", "kind")),
        ({"direction": "up"}, ("body", "direction")),
        ({"name": ""}, ("body", "name")),
        ({"name": "  "}, ("body", "name")),
        ({"unit": ""}, ("body", "unit")),
        ({"target": "forty"}, ("body", "target")),
        ({"owner": "Anna Petrova"}, ("body", "owner")),
        ({"revision": 5}, ("body", "revision")),
    ],
)
async def test_put_kpi_invalid_body_returns_422(client, anna, patch, loc):
    response = await client.put("/v1/kpis/cpa", json={**CPA, **patch})

    body = assert_problem(response, 422, "validation_failed")
    error_at(body, *loc)
    assert_problem(await client.get("/v1/kpis/cpa"), 404, "kpi_not_found")


@pytest.mark.parametrize("missing", ["name", "unit", "kind"])
async def test_put_kpi_without_a_required_field_returns_422(client, anna, missing):
    body = {k: v for k, v in CPA.items() if k != missing}

    response = await client.put("/v1/kpis/cpa", json=body)

    error_at(assert_problem(response, 422, "validation_failed"), "body", missing)


async def test_put_kpi_bad_key_returns_422(client, anna):
    response = await client.put("/v1/kpis/Cost Per Acquisition", json=CPA)

    error_at(assert_problem(response, 422, "validation_failed"), "path", "key")


# ---------------------------------------------------------------------------------------------
# Reads: one, history, as it stood at a time
# ---------------------------------------------------------------------------------------------


async def test_get_unknown_kpi_returns_404(client):
    for path in ("/v1/kpis/nope", "/v1/kpis/nope/revisions", "/v1/kpis/nope?at=2026-01-01T00:00:00Z"):
        body = assert_problem(await client.get(path), 404, "kpi_not_found")
        assert "nope" in body["detail"]


async def test_kpi_revisions_are_oldest_first_with_who_when_why_and_what_changed(client, anna):
    first = (await client.put("/v1/kpis/cpa", json=CPA)).json()
    second = (await client.put("/v1/kpis/cpa", json={**CPA, "target": 35, "change_reason": "Q2 target."})).json()
    third = (
        await client.put(
            "/v1/kpis/cpa",
            json={**CPA, "target": 35, "owner": "boris.ivanov", "direction": None, "change_reason": None},
        )
    ).json()

    response = await client.get("/v1/kpis/cpa/revisions")

    assert response.status_code == 200
    page = response.json()
    assert page["next_cursor"] is None
    assert page["items"] == [
        {
            "revision": 1,
            "changed_at": first["updated_at"],
            "changed_by": "test-write",
            "change_reason": "Agreed with finance for Q1.",
            "changes": {
                "name": {"from": None, "to": "Cost per acquisition"},
                "unit": {"from": None, "to": "EUR"},
                "kind": {"from": None, "to": "money"},
                "target": {"from": None, "to": 40},
                "direction": {"from": None, "to": "decrease"},
                "owner": {"from": None, "to": "anna.petrova"},
            },
            "kpi": first,
        },
        {
            "revision": 2,
            "changed_at": second["updated_at"],
            "changed_by": "test-write",
            "change_reason": "Q2 target.",
            "changes": {"target": {"from": 40, "to": 35}},
            "kpi": second,
        },
        {
            "revision": 3,
            "changed_at": third["updated_at"],
            "changed_by": "test-write",
            "change_reason": None,
            "changes": {
                "direction": {"from": "decrease", "to": None},
                "owner": {"from": "anna.petrova", "to": "boris.ivanov"},
            },
            "kpi": third,
        },
    ]
    changed = [item["changed_at"] for item in page["items"]]
    assert changed == sorted(changed)
    assert all(TIMESTAMP.match(value) for value in changed)


async def test_kpi_revisions_paginate_with_link_header(client, anna):
    for target in (40, 35, 30, 25, 20):
        await client.put("/v1/kpis/cpa", json={**CPA, "target": target})

    first = await client.get("/v1/kpis/cpa/revisions", params={"limit": 2})
    assert [r["revision"] for r in first.json()["items"]] == [1, 2]
    link = re.fullmatch(r'<([^>]+)>; rel="next"', first.headers["Link"])
    assert link
    second = await client.get(link.group(1))
    assert [r["revision"] for r in second.json()["items"]] == [3, 4]
    third = await client.get("/v1/kpis/cpa/revisions", params={"limit": 2, "cursor": second.json()["next_cursor"]})
    assert [r["revision"] for r in third.json()["items"]] == [5]
    assert third.json()["next_cursor"] is None
    assert "Link" not in third.headers


async def test_what_was_the_target_on_a_date_and_why_did_it_change(client, anna):
    """The API alone answers it: ``GET /v1/kpis/{key}?at=X`` for the value, the revisions for the reason."""
    first = (await client.put("/v1/kpis/cpa", json=CPA)).json()
    second = (await client.put("/v1/kpis/cpa", json={**CPA, "target": 35, "change_reason": "Q2 target."})).json()
    third = (
        await client.put("/v1/kpis/cpa", json={**CPA, "target": 30, "change_reason": "Search got cheaper."})
    ).json()
    history = await revisions(client, "cpa")
    assert [r["changed_at"] for r in history] == [first["updated_at"], second["updated_at"], third["updated_at"]]

    async def at(timestamp: str) -> dict[str, Any]:
        response = await client.get("/v1/kpis/cpa", params={"at": timestamp})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    # Exactly at a revision: that revision; a microsecond before the next: still this one.
    assert await at(first["updated_at"]) == first
    assert await at(shifted(second["updated_at"], microseconds=-1)) == first
    assert await at(second["updated_at"]) == second
    assert await at(shifted(third["updated_at"], microseconds=-1)) == second
    assert await at(third["updated_at"]) == third
    assert await at(shifted(third["updated_at"], days=365)) == third
    # The same instant written in another zone.
    plus_three = datetime.fromisoformat(second["updated_at"]).astimezone(timezone(timedelta(hours=3)))
    assert (await at(plus_three.isoformat()))["target"] == 35

    # "Why did it change": the revision that produced the state in force at X.
    state = await at(shifted(third["updated_at"], microseconds=-1))
    why = next(r for r in history if r["revision"] == state["revision"])
    assert why["change_reason"] == "Q2 target."
    assert why["changes"] == {"target": {"from": 40, "to": 35}}
    assert why["changed_by"] == "test-write"


async def test_kpi_at_a_time_before_it_existed_returns_404(client, anna):
    created = (await client.put("/v1/kpis/cpa", json=CPA)).json()

    response = await client.get("/v1/kpis/cpa", params={"at": shifted(created["created_at"], microseconds=-1)})

    body = assert_problem(response, 404, "kpi_not_found")
    assert "cpa" in body["detail"]


@pytest.mark.parametrize("at", ["2026-01-01T10:00:00", "yesterday"])
async def test_kpi_at_an_invalid_time_returns_422(client, anna, at):
    await client.put("/v1/kpis/cpa", json=CPA)

    response = await client.get("/v1/kpis/cpa", params={"at": at})

    error_at(assert_problem(response, 422, "validation_failed"), "query", "at")


# ---------------------------------------------------------------------------------------------
# List
# ---------------------------------------------------------------------------------------------


async def test_list_kpis_filters_by_kind_and_owner(client, anna):
    await factories.kpi(client, "cpa", kind="money", owner="anna.petrova")
    await factories.kpi(client, "revenue", kind="money", owner="boris.ivanov")
    await factories.kpi(client, "leads", kind="activity", owner="anna.petrova")
    await factories.kpi(client, "reach", kind="activity")

    async def keys(**params: str) -> list[str]:
        response = await client.get("/v1/kpis", params=params)
        assert response.status_code == 200, response.text
        return [k["key"] for k in response.json()["items"]]

    assert await keys() == ["cpa", "leads", "reach", "revenue"]
    assert await keys(kind="money") == ["cpa", "revenue"]
    assert await keys(kind="activity") == ["leads", "reach"]
    assert await keys(owner="anna.petrova") == ["cpa", "leads"]
    assert await keys(owner="anna.petrova", kind="money") == ["cpa"]
    assert await keys(owner="nobody") == []


async def test_list_kpis_items_are_the_kpis_as_read_one_by_one(client, anna):
    cpa = await factories.kpi(client, "cpa", owner="anna.petrova", target=40)

    response = await client.get("/v1/kpis")

    assert response.json() == {"items": [cpa], "next_cursor": None}


async def test_list_kpis_paginates_with_link_header(client):
    for key in ["e-kpi", "a-kpi", "d-kpi", "b-kpi", "c-kpi"]:
        await factories.kpi(client, key)

    seen: list[str] = []
    url: str | None = "/v1/kpis?limit=2&kind=money"
    while url:
        response = await client.get(url)
        page = response.json()
        seen += [k["key"] for k in page["items"]]
        if page["next_cursor"] is None:
            assert "Link" not in response.headers
            url = None
        else:
            link = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers["Link"])
            assert link
            assert "kind=money" in link.group(1)
            url = link.group(1)
    assert seen == ["a-kpi", "b-kpi", "c-kpi", "d-kpi", "e-kpi"]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"kind": "revenue"}, ("query", "kind")),
        ({"owner": "Not A Handle"}, ("query", "owner")),
        ({"limit": 501}, ("query", "limit")),
        ({"cursor": "!!"}, ("query", "cursor")),
    ],
)
async def test_list_kpis_bad_query_returns_422(client, params, loc):
    response = await client.get("/v1/kpis", params=params)

    error_at(assert_problem(response, 422, "validation_failed"), *loc)


async def test_kpi_endpoints_need_the_write_scope_to_change(client_for):
    async with client_for("read") as reader:
        assert_problem(await reader.put("/v1/kpis/cpa", json={**CPA, "owner": None}), 403, "forbidden")
        assert (await reader.get("/v1/kpis")).json()["items"] == []
    async with client_for("analytics") as analyst:
        assert_problem(await analyst.get("/v1/kpis"), 403, "forbidden")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_put_kpi_non_finite_target_returns_422(client, number):
    raw = f'{{"name": "CPA", "unit": "EUR", "kind": "money", "target": {number}}}'

    response = await client.put("/v1/kpis/cpa", content=raw, headers={"Content-Type": "application/json"})

    error_at(assert_problem(response, 422, "validation_failed"), "body", "target")
    assert_problem(await client.get("/v1/kpis/cpa"), 404, "kpi_not_found")
