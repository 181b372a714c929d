"""Strategies: create, read with the version in force now, list; numbered, immutable versions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.core.types import format_utc
from tests import factories

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
ETAG = re.compile(r'^"[0-9a-f]+"$')
VERSION_FIELDS = {
    "strategy",
    "number",
    "summary",
    "body",
    "effective_from",
    "change_reason",
    "changed_by",
    "created_at",
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
    """The validation error whose ``loc`` is exactly ``loc``."""
    matches = [e for e in body["errors"] if tuple(e["loc"]) == loc]
    assert matches, body["errors"]
    return matches[0]


def in_days(days: float) -> str:
    return format_utc(datetime.now(UTC) + timedelta(days=days))


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------


async def test_create_strategy_returns_201_with_location_and_etag(client):
    response = await client.post(
        "/v1/strategies",
        json={"key": "growth-2026", "title": "Growth through paid search", "description": "The 2026 growth plan."},
    )

    assert response.status_code == 201, response.text
    assert response.headers["Location"] == "/v1/strategies/growth-2026"
    assert ETAG.match(response.headers["ETag"])
    body = response.json()
    assert body == {
        "key": "growth-2026",
        "title": "Growth through paid search",
        "description": "The 2026 growth plan.",
        "current_version": None,
        "versions": 0,
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert TIMESTAMP.match(body["created_at"])


async def test_get_strategy_returns_the_created_record_with_the_same_etag(client):
    created = await client.post("/v1/strategies", json={"key": "growth-2026", "title": "Growth"})

    response = await client.get(created.headers["Location"])

    assert response.status_code == 200
    assert response.json() == created.json()
    assert response.json()["description"] is None
    assert response.headers["ETag"] == created.headers["ETag"]


async def test_create_strategy_duplicate_key_returns_409_and_keeps_the_first(client):
    await factories.strategy(client, "growth-2026", title="First")

    response = await client.post("/v1/strategies", json={"key": "growth-2026", "title": "Second"})

    body = assert_problem(response, 409, "duplicate_strategy")
    assert "growth-2026" in body["detail"]
    assert (await client.get("/v1/strategies/growth-2026")).json()["title"] == "First"


@pytest.mark.parametrize("key", ["Growth-2026", "growth 2026", "-growth", "", "g" * 65, "рост"])
async def test_create_strategy_bad_key_returns_422(client, key):
    response = await client.post("/v1/strategies", json={"key": key, "title": "Growth"})

    body = assert_problem(response, 422, "validation_failed")
    error_at(body, "body", "key")
    assert (await client.get("/v1/strategies")).json()["items"] == []


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"title": ""}, ("body", "title")),
        ({"title": "   "}, ("body", "title")),
        ({"title": None}, ("body", "title")),
        ({"current_version": 3}, ("body", "current_version")),
    ],
)
async def test_create_strategy_invalid_body_returns_422(client, patch, loc):
    response = await client.post("/v1/strategies", json={"key": "growth-2026", "title": "Growth", **patch})

    body = assert_problem(response, 422, "validation_failed")
    error_at(body, *loc)


async def test_get_unknown_strategy_returns_404(client):
    response = await client.get("/v1/strategies/nope")

    body = assert_problem(response, 404, "strategy_not_found")
    assert "nope" in body["detail"]


async def test_get_strategy_bad_key_returns_422(client):
    response = await client.get("/v1/strategies/Not A Key")

    body = assert_problem(response, 422, "validation_failed")
    error_at(body, "path", "key")


async def test_current_version_is_null_before_the_first_version_then_the_version_in_force_now(client):
    await factories.strategy(client, "growth-2026")
    before = await client.get("/v1/strategies/growth-2026")
    assert before.json()["current_version"] is None
    assert before.json()["versions"] == 0

    first = await factories.version(client, "growth-2026", effective_from=in_days(-30))
    in_force = await client.get("/v1/strategies/growth-2026")
    assert in_force.json()["current_version"] == 1
    assert in_force.json()["versions"] == 1
    assert in_force.json()["updated_at"] == first["created_at"]
    assert in_force.headers["ETag"] != before.headers["ETag"]

    await factories.version(client, "growth-2026", effective_from=in_days(-1))
    assert (await client.get("/v1/strategies/growth-2026")).json()["current_version"] == 2

    # A version that takes effect in the future is recorded but not in force yet.
    await factories.version(client, "growth-2026", effective_from=in_days(30))
    later = (await client.get("/v1/strategies/growth-2026")).json()
    assert later["current_version"] == 2
    assert later["versions"] == 3
    listed = (await client.get("/v1/strategies")).json()["items"]
    assert listed == [later]


async def test_current_version_is_null_when_the_only_version_is_in_the_future(client):
    await factories.strategy(client, "growth-2026")
    await factories.version(client, "growth-2026", effective_from=in_days(7))

    body = (await client.get("/v1/strategies/growth-2026")).json()

    assert body["current_version"] is None
    assert body["versions"] == 1


async def test_list_strategies_paginates_by_key_with_link_header(client):
    for key in ["delta", "alpha", "echo", "charlie", "bravo"]:
        await factories.strategy(client, key)

    first = await client.get("/v1/strategies", params={"limit": 2})
    assert first.status_code == 200
    page = first.json()
    assert [s["key"] for s in page["items"]] == ["alpha", "bravo"]
    assert page["next_cursor"]
    link = first.headers["Link"]
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert match, link
    assert "limit=2" in match.group(1)
    assert "cursor=" in match.group(1)

    second = await client.get(match.group(1))
    assert [s["key"] for s in second.json()["items"]] == ["charlie", "delta"]

    third = await client.get("/v1/strategies", params={"limit": 2, "cursor": second.json()["next_cursor"]})
    assert [s["key"] for s in third.json()["items"]] == ["echo"]
    assert third.json()["next_cursor"] is None
    assert "Link" not in third.headers

    everything = await client.get("/v1/strategies")
    assert [s["key"] for s in everything.json()["items"]] == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert everything.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": 0}, ("query", "limit")),
        ({"limit": 501}, ("query", "limit")),
        ({"cursor": "bogus"}, ("query", "cursor")),
    ],
)
async def test_list_strategies_bad_paging_returns_422(client, params, loc):
    response = await client.get("/v1/strategies", params=params)

    body = assert_problem(response, 422, "validation_failed")
    error_at(body, *loc)


# ---------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------


async def test_versions_are_numbered_1_2_3_with_location_and_etag(client):
    await factories.person(client, "anna.petrova")
    await factories.strategy(client, "growth-2026")
    sent = [
        {"summary": "Paid search first", "body": "60% of the budget to search.", "effective_from": "2026-01-01"},
        {
            "summary": "Add SEO",
            "effective_from": "2026-02-01T12:00:00+03:00",
            "change_reason": "Search CPC doubled.",
            "changed_by": "anna.petrova",
        },
        {"summary": "Back to display", "effective_from": "2026-03-01T00:00:00Z", "change_reason": ""},
    ]

    responses = [await client.post("/v1/strategies/growth-2026/versions", json=body) for body in sent]

    for number, response in enumerate(responses, start=1):
        assert response.status_code == 201, response.text
        assert response.headers["Location"] == f"/v1/strategies/growth-2026/versions/{number}"
        assert ETAG.match(response.headers["ETag"])
        assert set(response.json()) == VERSION_FIELDS
        assert response.json()["number"] == number
        assert TIMESTAMP.match(response.json()["created_at"])
    assert [r.json() for r in responses] == [
        {
            "strategy": "growth-2026",
            "number": 1,
            "summary": "Paid search first",
            "body": "60% of the budget to search.",
            "effective_from": "2026-01-01T00:00:00.000000Z",
            "change_reason": None,
            "changed_by": None,
            "created_at": responses[0].json()["created_at"],
        },
        {
            "strategy": "growth-2026",
            "number": 2,
            "summary": "Add SEO",
            "body": None,
            "effective_from": "2026-02-01T09:00:00.000000Z",
            "change_reason": "Search CPC doubled.",
            "changed_by": "anna.petrova",
            "created_at": responses[1].json()["created_at"],
        },
        {
            "strategy": "growth-2026",
            "number": 3,
            "summary": "Back to display",
            "body": None,
            "effective_from": "2026-03-01T00:00:00.000000Z",
            "change_reason": "",
            "changed_by": None,
            "created_at": responses[2].json()["created_at"],
        },
    ]
    assert len({r.headers["ETag"] for r in responses}) == 3


async def test_get_version_returns_it_with_the_same_etag(client):
    await factories.strategy(client, "growth-2026")
    created = await client.post(
        "/v1/strategies/growth-2026/versions", json={"summary": "Paid search first", "effective_from": "2026-01-01"}
    )

    response = await client.get("/v1/strategies/growth-2026/versions/1")

    assert response.status_code == 200
    assert response.json() == created.json()
    assert set(response.json()) == VERSION_FIELDS
    assert response.headers["ETag"] == created.headers["ETag"]


async def test_version_effective_from_before_the_previous_returns_422_and_writes_nothing(client):
    await factories.strategy(client, "growth-2026")
    await factories.version(client, "growth-2026", effective_from="2026-02-01T00:00:00Z")
    strategy_before = (await client.get("/v1/strategies/growth-2026")).json()

    response = await client.post(
        "/v1/strategies/growth-2026/versions",
        json={"summary": "Backdated", "effective_from": "2026-01-31T23:59:59.999999Z"},
    )

    body = assert_problem(response, 422, "validation_failed")
    error = error_at(body, "body", "effective_from")
    assert "2026-02-01T00:00:00.000000Z" in error["msg"]
    versions = (await client.get("/v1/strategies/growth-2026/versions")).json()["items"]
    assert [v["number"] for v in versions] == [1]
    assert (await client.get("/v1/strategies/growth-2026")).json() == strategy_before
    # The refusal used no number: the next version is 2.
    assert (await factories.version(client, "growth-2026", effective_from="2026-03-01"))["number"] == 2


async def test_version_with_the_same_effective_from_as_the_previous_is_accepted(client):
    await factories.strategy(client, "growth-2026")
    first = await factories.version(client, "growth-2026", effective_from="2026-02-01T00:00:00Z")

    response = await client.post(
        "/v1/strategies/growth-2026/versions",
        json={"summary": "Correction", "effective_from": "2026-02-01T03:00:00+03:00", "change_reason": "Typo."},
    )

    assert response.status_code == 201, response.text
    assert response.json()["number"] == 2
    assert response.json()["effective_from"] == first["effective_from"]


async def test_version_unknown_changed_by_returns_422_naming_the_value_and_writes_nothing(client):
    await factories.strategy(client, "growth-2026")

    response = await client.post(
        "/v1/strategies/growth-2026/versions",
        json={"summary": "Paid search first", "effective_from": "2026-01-01", "changed_by": "ghost.writer"},
    )

    body = assert_problem(response, 422, "unknown_reference")
    error = error_at(body, "body", "changed_by")
    assert "ghost.writer" in error["msg"]
    assert error["type"] == "unknown_reference"
    assert (await client.get("/v1/strategies/growth-2026/versions")).json()["items"] == []
    assert (await client.get("/v1/strategies/growth-2026")).json()["versions"] == 0


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"summary": ""}, ("body", "summary")),
        ({"summary": "  "}, ("body", "summary")),
        ({"effective_from": None}, ("body", "effective_from")),
        ({"effective_from": "2026-01-01T10:00:00"}, ("body", "effective_from")),
        ({"effective_from": "yesterday"}, ("body", "effective_from")),
        ({"changed_by": "Anna Petrova"}, ("body", "changed_by")),
        ({"number": 7}, ("body", "number")),
    ],
)
async def test_version_invalid_body_returns_422(client, patch, loc):
    await factories.strategy(client, "growth-2026")

    response = await client.post(
        "/v1/strategies/growth-2026/versions",
        json={"summary": "Paid search first", "effective_from": "2026-01-01", **patch},
    )

    body = assert_problem(response, 422, "validation_failed")
    error_at(body, *loc)
    assert (await client.get("/v1/strategies/growth-2026")).json()["versions"] == 0


async def test_versions_of_an_unknown_strategy_return_404(client):
    posted = await client.post("/v1/strategies/nope/versions", json={"summary": "x", "effective_from": "2026-01-01"})
    listed = await client.get("/v1/strategies/nope/versions")
    one = await client.get("/v1/strategies/nope/versions/1")

    for response in (posted, listed, one):
        body = assert_problem(response, 404, "strategy_not_found")
        assert "nope" in body["detail"]
    assert (await client.get("/v1/strategies")).json()["items"] == []


async def test_unknown_version_number_returns_404(client):
    await factories.strategy(client, "growth-2026")
    await factories.version(client, "growth-2026")

    response = await client.get("/v1/strategies/growth-2026/versions/2")

    body = assert_problem(response, 404, "strategy_version_not_found")
    assert "2" in body["detail"]


@pytest.mark.parametrize("number", ["0", "-1", "one", "99999999999"])
async def test_bad_version_number_returns_422(client, number):
    await factories.strategy(client, "growth-2026")

    response = await client.get(f"/v1/strategies/growth-2026/versions/{number}")

    body = assert_problem(response, 422, "validation_failed")
    error_at(body, "path", "number")


async def test_versions_list_is_oldest_first_and_includes_the_current_one(client):
    await factories.strategy(client, "growth-2026")
    created = [
        await factories.version(client, "growth-2026", effective_from=in_days(-60), summary="one"),
        await factories.version(client, "growth-2026", effective_from=in_days(-10), summary="two"),
        await factories.version(client, "growth-2026", effective_from=in_days(10), summary="three"),
    ]
    assert (await client.get("/v1/strategies/growth-2026")).json()["current_version"] == 2

    response = await client.get("/v1/strategies/growth-2026/versions")

    assert response.status_code == 200
    assert response.json() == {"items": created, "next_cursor": None}
    assert "Link" not in response.headers


async def test_versions_list_paginates_with_link_header(client):
    await factories.strategy(client, "growth-2026")
    for day in range(1, 6):
        await factories.version(client, "growth-2026", effective_from=f"2026-01-0{day}")

    numbers: list[int] = []
    url: str | None = "/v1/strategies/growth-2026/versions?limit=2"
    pages = 0
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        page = response.json()
        numbers += [v["number"] for v in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            assert "Link" not in response.headers
            url = None
        else:
            url = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers["Link"]).group(1)  # type: ignore[union-attr]
    assert numbers == [1, 2, 3, 4, 5]
    assert pages == 3


async def test_versions_are_an_empty_list_before_the_first(client):
    await factories.strategy(client, "growth-2026")

    response = await client.get("/v1/strategies/growth-2026/versions")

    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_versions_are_immutable_and_cannot_be_changed_or_deleted(client, method):
    await factories.strategy(client, "growth-2026")
    version = await factories.version(client, "growth-2026", summary="Original")

    response = await client.request(
        method, "/v1/strategies/growth-2026/versions/1", json={"summary": "Rewritten", "effective_from": "2026-01-01"}
    )

    assert_problem(response, 405, "method_not_allowed")
    assert "POST" not in response.headers.get("Allow", "")
    assert "GET" in response.headers.get("Allow", "")
    assert (await client.get("/v1/strategies/growth-2026/versions/1")).json() == version


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_versions_collection_has_no_bulk_change_or_delete(client, method):
    await factories.strategy(client, "growth-2026")
    version = await factories.version(client, "growth-2026")

    response = await client.request(method, "/v1/strategies/growth-2026/versions", json={"items": []})

    assert_problem(response, 405, "method_not_allowed")
    assert (await client.get("/v1/strategies/growth-2026/versions")).json()["items"] == [version]


async def test_strategy_endpoints_need_a_key_and_the_write_scope(anon, client_for):
    assert_problem(await anon.get("/v1/strategies"), 401, "unauthorized")
    async with client_for("read") as reader:
        refused = await reader.post("/v1/strategies", json={"key": "growth-2026", "title": "Growth"})
        assert_problem(refused, 403, "forbidden")
        assert (await reader.get("/v1/strategies")).status_code == 200
    async with client_for("write") as writer:
        await factories.strategy(writer, "growth-2026")
    async with client_for("read") as reader:
        refused = await reader.post(
            "/v1/strategies/growth-2026/versions", json={"summary": "x", "effective_from": "2026-01-01"}
        )
        assert_problem(refused, 403, "forbidden")
        assert (await reader.get("/v1/strategies/growth-2026/versions")).json()["items"] == []
