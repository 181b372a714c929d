"""GET /v1/decisions: every filter, the stable order and cursor pagination."""

import base64
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import factories
from tests.decisions.helpers import assert_problem, error_at

CITED = [{"source": "ga4", "reference": "https://analytics.example.com/r/1"}]


async def _seed(client) -> dict[str, dict]:
    """Five decisions that the filters tell apart; returns them by a short name."""
    await factories.basics(client)
    await factories.person(client, "carla.diaz", team="performance")
    a = await factories.decision(
        client,
        title="Move budget to paid search",
        rationale="Paid search converts five times better.",
        owner="anna.petrova",
        channel="paid_search",
        category="budget",
        basis="data",
        evidence=CITED,
        tags=["q2", "search"],
        decided_at="2026-03-01T10:00:00Z",
    )
    b = await factories.decision(
        client,
        title="Бюджет на бренд",
        rationale="Так решил директор.",
        owner="boris.ivanov",
        channel="display",
        category="creative",
        basis="authority",
        evidence=[],
        tags=["brand"],
        decided_at="2026-02-15",
    )
    c = await factories.decision(
        client,
        title="Email cadence",
        rationale="ПЕРЕСМОТР БЮДЖЕТА after open rates dropped.",
        owner="carla.diaz",
        channel="email",
        category="channel_mix",
        basis="experiment",
        evidence=[],
        tags=["q2"],
        decided_at="2026-03-10T00:00:00Z",
    )
    d = await factories.decision(
        client,
        title="Raise prices",
        rationale="It felt right.",
        owner="anna.petrova",
        channel="seo",
        category="pricing",
        basis="intuition",
        evidence=[],
        decided_at="2026-01-20T08:00:00Z",
    )
    e = await factories.decision(
        client,
        title="Bid on brand terms",
        rationale="Search volume report.",
        owner="boris.ivanov",
        channel="paid_search",
        category="targeting",
        basis="research",
        evidence=CITED,
        tags=["q2-plan"],
        decided_at="2026-03-05T10:00:00Z",
    )
    await factories.reverse(client, d["id"])
    await factories.reverse(client, e["id"], superseded_by=a["id"])
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def _names(page: dict, seeded: dict[str, dict]) -> list[str]:
    by_id = {decision["id"]: name for name, decision in seeded.items()}
    return [by_id[item["id"]] for item in page["items"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["c", "e", "a", "b", "d"]),
        ({"owner": "anna.petrova"}, ["a", "d"]),
        ({"owner": "carla.diaz"}, ["c"]),
        ({"owner": "nobody"}, []),
        ({"team": "brand"}, ["e", "b"]),
        ({"team": "performance"}, ["c"]),
        ({"channel": "paid_search"}, ["e", "a"]),
        ({"channel": "email"}, ["c"]),
        ({"category": "creative"}, ["b"]),
        ({"category": "kpi"}, []),
        ({"basis": "experiment"}, ["c"]),
        ({"basis": "intuition"}, ["d"]),
        ({"basis_class": "data"}, ["e", "a"]),
        ({"basis_class": "emotion"}, ["c", "b", "d"]),
        ({"tag": "q2"}, ["c", "a"]),
        ({"tag": "q2-plan"}, ["e"]),
        ({"tag": "search"}, ["a"]),
        ({"tag": "q"}, []),
        ({"status": "active"}, ["c", "a", "b"]),
        ({"status": "reversed"}, ["d"]),
        ({"status": "superseded"}, ["e"]),
        ({"decided_from": "2026-03-01T10:00:00Z"}, ["c", "e", "a"]),
        ({"decided_from": "2026-03-01T10:00:00.000001Z"}, ["c", "e"]),
        ({"decided_to": "2026-03-01T10:00:00Z"}, ["b", "d"]),
        ({"decided_to": "2026-03-01T10:00:00.000001Z"}, ["a", "b", "d"]),
        ({"decided_from": "2026-02-15", "decided_to": "2026-03-05T10:00:00Z"}, ["a", "b"]),
        ({"decided_from": "2026-03-01T13:00:00+03:00", "decided_to": "2026-03-01T13:00:01+03:00"}, ["a"]),
        ({"q": "бюджет"}, ["c", "b"]),
        ({"q": "БЮДЖЕТ"}, ["c", "b"]),
        ({"q": "Бюджет на"}, ["b"]),
        ({"q": "BUDGET"}, ["a"]),
        ({"q": "converts FIVE"}, ["a"]),
        ({"q": "директор"}, ["b"]),
        ({"q": "no such words"}, []),
        ({"owner": "boris.ivanov", "basis_class": "data"}, ["e"]),
        ({"channel": "paid_search", "status": "active"}, ["a"]),
        ({"tag": "q2", "q": "email"}, ["c"]),
    ],
)
async def test_list_decisions_filters(client_for, client, params, expected):
    seeded = await _seed(client)
    async with client_for("read") as reader:
        response = await reader.get("/v1/decisions", params=params)
    assert response.status_code == 200, response.text
    page = response.json()
    assert _names(page, seeded) == expected
    assert page["next_cursor"] is None
    assert "Link" not in response.headers


async def test_list_decisions_items_are_whole_decisions(client):
    seeded = await _seed(client)
    page = (await client.get("/v1/decisions", params={"status": "superseded"})).json()
    got = (await client.get(f"/v1/decisions/{seeded['e']['id']}")).json()
    assert got.pop("contradicts") == []  # on the decision's own answer only
    assert page == {"items": [got], "next_cursor": None}
    assert got["reversal"]["superseded_by"] == seeded["a"]["id"]


async def test_list_decisions_empty(client):
    response = await client.get("/v1/decisions")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}
    assert "Link" not in response.headers


async def test_list_decisions_search_treats_like_wildcards_literally(client):
    await factories.basics(client)
    percent = await factories.decision(client, title="Raise bids by 50%", rationale="Plain.")
    await factories.decision(client, title="Raise bids by 50 pct", rationale="Plain.")
    underscore = await factories.decision(client, title="Rename utm_source", rationale="Plain.")
    await factories.decision(client, title="Rename utm source", rationale="Plain.")

    async def found(q: str) -> list[str]:
        return [d["id"] for d in (await client.get("/v1/decisions", params={"q": q})).json()["items"]]

    assert await found("50%") == [percent["id"]]
    assert await found("m_s") == [underscore["id"]]
    assert await found("%") == [percent["id"]]
    assert await found("_") == [underscore["id"]]
    assert await found("\\") == []


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("owner", "Anna Petrova"),
        ("category", "misc"),
        ("basis", "gut"),
        ("basis_class", "neutral"),
        ("status", "deleted"),
        ("decided_from", "2026-03-01T10:00:00"),
        ("decided_to", "next week"),
        ("decided_from", "0001-01-01T00:00:00+01:00"),
        ("q", "x" * 201),
    ],
)
async def test_list_decisions_bad_filter_returns_422(client, param, value):
    problem = assert_problem(await client.get("/v1/decisions", params={param: value}), 422, "validation_failed")
    error_at(problem, ["query", param])


# --- pagination -------------------------------------------------------------------------------


async def _many(client, count: int = 8) -> list[dict]:
    """``count`` decisions, several sharing a decided_at, in the list's expected order."""
    await factories.basics(client)
    stamps = ["2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z", "2026-03-01T10:00:00Z", "2026-02-01T00:00:00Z"]
    made = [
        await factories.decision(client, title=f"Decision {i}", decided_at=stamps[i % len(stamps)])
        for i in range(count)
    ]
    return sorted(made, key=lambda d: (d["decided_at"], d["id"]), reverse=True)


def _next_link(response) -> str | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert match, link
    return match.group(1)


async def test_list_decisions_pages_with_next_cursor_cover_everything_once_in_order(client):
    expected = await _many(client)
    seen: list[dict] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/v1/decisions", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        assert len(page["items"]) == (3 if page["next_cursor"] else 2)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            break
        link = _next_link(response)
        assert parse_qs(urlsplit(link).query) == {"limit": ["3"], "cursor": [cursor]}
        assert urlsplit(link).path == "/v1/decisions"
    assert pages == 3
    assert [d["id"] for d in seen] == [d["id"] for d in expected]
    assert seen == expected


async def test_list_decisions_following_link_headers_walks_every_page(client):
    expected = await _many(client)
    ids: list[str] = []
    url: str | None = "/v1/decisions?limit=2"
    while url:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        ids += [d["id"] for d in response.json()["items"]]
        url = _next_link(response)
    assert ids == [d["id"] for d in expected]
    assert len(set(ids)) == len(ids) == 8


async def test_list_decisions_link_header_keeps_the_filters(client):
    expected = [d for d in await _many(client, count=9) if d["decided_at"] == "2026-03-01T10:00:00.000000Z"]
    ids: list[str] = []
    url: str | None = "/v1/decisions?limit=2&decided_from=2026-03-01T10:00:00Z&decided_to=2026-03-01T10:00:01Z"
    while url:
        response = await client.get(url)
        ids += [d["id"] for d in response.json()["items"]]
        url = _next_link(response)
        if url:
            query = parse_qs(urlsplit(url).query)
            assert query["decided_from"] == ["2026-03-01T10:00:00Z"]
            assert query["decided_to"] == ["2026-03-01T10:00:01Z"]
    assert ids == [d["id"] for d in expected]
    assert len(ids) == 5


async def test_list_decisions_cursor_is_stable_when_newer_decisions_arrive(client):
    expected = await _many(client, count=6)
    first = (await client.get("/v1/decisions", params={"limit": 3})).json()
    await factories.decision(client, title="Newest", decided_at="2026-03-03T00:00:00Z")
    second = (await client.get("/v1/decisions", params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert [d["id"] for d in first["items"] + second["items"]] == [d["id"] for d in expected]


async def test_list_decisions_full_last_page_has_no_next_cursor(client):
    expected = await _many(client, count=4)
    response = await client.get("/v1/decisions", params={"limit": 4})
    page = response.json()
    assert [d["id"] for d in page["items"]] == [d["id"] for d in expected]
    assert page["next_cursor"] is None
    assert "Link" not in response.headers


async def test_list_decisions_limit_defaults_to_50(client):
    await factories.basics(client)
    for i in range(51):
        await factories.decision(client, title=f"D{i}")
    page = (await client.get("/v1/decisions")).json()
    assert len(page["items"]) == 50
    assert page["next_cursor"]
    rest = (await client.get("/v1/decisions", params={"cursor": page["next_cursor"]})).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None


async def test_list_decisions_limit_500_is_accepted(client):
    await _many(client, count=2)
    response = await client.get("/v1/decisions", params={"limit": 500})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 2


@pytest.mark.parametrize("limit", ["501", "10000", "0", "-1", "ten", "2.5"])
async def test_list_decisions_bad_limit_returns_422_not_clamped(client, limit):
    await _many(client, count=2)
    problem = assert_problem(await client.get("/v1/decisions", params={"limit": limit}), 422, "validation_failed")
    error_at(problem, ["query", "limit"])


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "%%%",
        "Zm9v",  # "foo": not JSON
        _b64({"decided_at": "2026-03-01T10:00:00Z"}),
        _b64(["2026-03-01T10:00:00Z"]),
        _b64(["2026-03-01T10:00:00Z", "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b", 3]),
        _b64([1, 2]),
        _b64([{}, []]),
        _b64([None, None]),
        _b64(["2026-03-01T10:00:00Z", 5]),
        _b64(["2026-03-01T10:00:00Z", "not-a-uuid"]),
        _b64(["not a date", "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b"]),
        _b64(["0001-01-01T00:00:00+14:00", "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b"]),
        "x" * 1001,
    ],
)
async def test_list_decisions_garbage_cursor_returns_422(client, cursor):
    await _many(client, count=2)
    problem = assert_problem(await client.get("/v1/decisions", params={"cursor": cursor}), 422, "validation_failed")
    error_at(problem, ["query", "cursor"])


async def test_list_decisions_by_review_state_overdue_or_reviewed(client):
    await factories.basics(client)
    past = {"description": "CPA below 40", "review_by": "2026-03-15T00:00:00Z"}
    overdue = await factories.decision(client, title="Overdue", expected_outcome=past)
    reviewed = await factories.decision(client, title="Reviewed", expected_outcome=past)
    await factories.decision(client, title="Not due", expected_outcome={**past, "review_by": "2099-01-01T00:00:00Z"})
    await factories.decision(client, title="No review")
    outcome = {"result": "success", "reviewed_by": "boris.ivanov", "reviewed_at": "2026-03-02T00:00:00Z"}
    assert (await client.post(f"/v1/decisions/{reviewed['id']}/outcome", json=outcome)).status_code == 201

    def titles(response) -> list[str]:  # type: ignore[no-untyped-def]
        assert response.status_code == 200, response.text
        return [d["title"] for d in response.json()["items"]]

    assert titles(await client.get("/v1/decisions", params={"review": "overdue"})) == [overdue["title"]]
    assert titles(await client.get("/v1/decisions", params={"review": "reviewed"})) == [reviewed["title"]]
    refused = await client.get("/v1/decisions", params={"review": "soon"})
    error_at(assert_problem(refused, 422, "validation_failed"), ["query", "review"])
