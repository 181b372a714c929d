"""Analytics parameters are validated: 422 problems naming the query parameter, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.analytics.dataset import R
from tests.decisions.helpers import assert_problem, error_at

ENDPOINTS = [
    "/v1/analytics/basis",
    "/v1/analytics/strategy-changes",
    "/v1/analytics/kpis",
    "/v1/analytics/accountability",
    "/v1/analytics/outcomes",
    "/v1/analytics/summary",
]


async def get_422(client, path: str, param: str, **params: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = assert_problem(await client.get(path, params=params), 422, "validation_failed")
    error_at(body, ["query", param])
    return body


@pytest.mark.parametrize(
    ("param", "params"),
    [
        ("bucket", {"bucket": "day"}),
        ("bucket", {"bucket": "Month"}),
        ("group_by", {"group_by": "region"}),
        ("group_by", {"group_by": "owner,team"}),
        ("weight", {"weight": "sum"}),
        ("currency", {"weight": "budget"}),  # budget needs a currency
        ("currency", {"weight": "budget", "currency": "eur"}),
        ("currency", {"weight": "budget", "currency": "EURO"}),
        ("format", {"format": "xml"}),
        ("bom", {"bom": "maybe"}),
        ("owner", {"owner": "Not A Handle"}),
        ("basis_class", {"basis_class": "feelings"}),
        ("category", {"category": "misc"}),
    ],
)
async def test_basis_bad_parameter_returns_422_naming_it(client, param, params):
    body = await get_422(client, "/v1/analytics/basis", param, **R, **params)

    assert body["errors"] == [error_at(body, ["query", param])]  # that parameter alone


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "range_",
    [
        {"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"},  # empty: from = to
        {"from": "2026-03-02", "to": "2026-03-01"},
        {"from": "2026-03-01T01:00:00+01:00", "to": "2026-03-01T00:00:00Z"},  # the same instant
    ],
)
async def test_from_not_before_to_returns_422(client, path, range_):
    await get_422(client, path, "from", **range_)


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("param", ["from", "to"])
@pytest.mark.parametrize("value", ["2026-03-01T10:00:00", "2026-03-01 10:00", "yesterday", "1767225600", "2026-13-01"])
async def test_timestamp_without_zone_or_unreadable_returns_422(client, path, param, value):
    other = {"from": "2026-01-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
    await get_422(client, path, param, **{**other, param: value})


@pytest.mark.parametrize("path", ["/v1/analytics/basis", "/v1/analytics/strategy-changes"])
async def test_unknown_bucket_returns_422_on_every_bucketed_endpoint(client, path):
    await get_422(client, path, "bucket", bucket="fortnight")


async def test_widest_accepted_range_is_answered_in_weeks(client):
    # Timestamps lie from 1970-01-01 to 2100-01-01 (app.core.types): 6,784 weeks, within the 10,000 buckets answered.
    response = await client.get(
        "/v1/analytics/basis", params={"from": "1970-01-01", "to": "2100-01-01", "bucket": "week"}
    )

    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert (rows[0]["period_start"], rows[-1]["period_start"], len(rows)) == ("1969-12-29", "2099-12-28", 6784)


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("param", ["from", "to"])
@pytest.mark.parametrize(
    "value",
    [
        "1969-12-31T23:59:59.999999Z",
        "2100-01-01T00:00:00.000001Z",
        "2100-01-01T00:00:00-00:01",
        "0001-01-01",
        "9999-12-31",
    ],
)
async def test_timestamp_outside_the_accepted_range_returns_422(client, path, param, value):
    other = {"from": "1970-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    body = await get_422(client, path, param, **{**other, param: value})

    assert error_at(body, ["query", param])["msg"] == "must lie from 1970-01-01 to 2100-01-01 (UTC, both included)"


async def test_widest_range_without_buckets_is_answered(client):
    response = await client.get(
        "/v1/analytics/basis", params={"from": "1970-01-01", "to": "2100-01-01T00:00:00Z", "bucket": "none"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["rows"] == [
        {
            "period_start": None,
            "group": None,
            "total": 0,
            "data": 0,
            "emotion": 0,
            "emotion_unsupported": 0,
            "data_share": None,
            "emotion_share": None,
        }
    ]


async def test_plain_date_means_midnight_utc(client):
    response = await client.get("/v1/analytics/basis", params={"from": "2026-01-01", "to": "2026-02-01"})

    assert response.status_code == 200
    assert (response.json()["from"], response.json()["to"]) == (
        "2026-01-01T00:00:00.000000Z",
        "2026-02-01T00:00:00.000000Z",
    )


async def test_range_reaching_the_latest_accepted_timestamp_is_answered(client):
    response = await client.get(
        "/v1/analytics/basis", params={"from": "2099-01-01", "to": "2100-01-01T00:00:00Z", "bucket": "month"}
    )

    assert response.status_code == 200, response.text
    assert [r["period_start"] for r in response.json()["rows"]] == [f"2099-{m:02d}-01" for m in range(1, 13)]


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_from_after_now_without_to_returns_422(client, path):
    # `to` defaults to now, so a `from` in the future leaves no range.
    await get_422(client, path, "from", **{"from": "2100-01-01"})
