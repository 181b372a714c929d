"""Who may read analytics: every scope (`analytics` is the smallest); no key → 401; the `api_key` query parameter
works on analytics GETs only."""

from __future__ import annotations

import pytest

from tests.analytics.dataset import R
from tests.conftest import make_client

ENDPOINTS = [
    "/v1/analytics/basis",
    "/v1/analytics/strategy-changes",
    "/v1/analytics/kpis",
    "/v1/analytics/accountability",
    "/v1/analytics/outcomes",
    "/v1/analytics/summary",
]


def assert_unauthorized(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_analytics_without_key_returns_401(anon, path):
    assert_unauthorized(await anon.get(path, params=R))


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_analytics_with_invalid_key_returns_401(app_instance, db, path):
    async with make_client(app_instance, "dlk_0123456789ab_not-a-real-secret") as stranger:
        assert_unauthorized(await stranger.get(path, params=R))


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("scope", ["analytics", "read", "write", "admin"])
async def test_every_scope_may_read_analytics(client_for, path, scope):
    async with client_for(scope) as c:
        response = await c.get(path, params=R)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("scope", ["analytics", "read"])
async def test_api_key_query_parameter_works_on_analytics(anon, keys, path, scope):
    json_ = await anon.get(path, params={**R, "api_key": keys[scope]})
    csv_ = await anon.get(path, params={**R, "api_key": keys[scope], "format": "csv"})

    assert json_.status_code == 200, json_.text
    assert csv_.status_code == 200, csv_.text
    assert csv_.headers["content-type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_invalid_api_key_query_parameter_returns_401(anon, path):
    assert_unauthorized(await anon.get(path, params={**R, "api_key": "dlk_0123456789ab_not-a-real-secret"}))


@pytest.mark.parametrize(
    "path",
    ["/v1/people", "/v1/data-sources", "/v1/decisions", "/v1/strategies", "/v1/kpis", "/v1/exports/decisions"],
)
@pytest.mark.parametrize("scope", ["analytics", "admin"])
async def test_api_key_query_parameter_is_refused_outside_analytics(anon, keys, path, scope):
    assert_unauthorized(await anon.get(path, params={"api_key": keys[scope]}))


async def test_api_key_query_parameter_is_refused_on_writes(anon, keys):
    response = await anon.put(
        "/v1/people/anna.petrova", params={"api_key": keys["admin"]}, json={"name": "Anna", "team": "growth"}
    )

    assert_unauthorized(response)


async def test_analytics_scope_is_refused_on_records(client_for):
    async with client_for("analytics") as analyst:
        response = await analyst.get("/v1/decisions")

    assert response.status_code == 403


async def test_analytics_data_reads_the_same_with_any_credential(client, anon, keys, dataset):
    by_bearer = await client.get("/v1/analytics/basis", params={**R, "bucket": "none"})
    by_header = await anon.get(
        "/v1/analytics/basis", params={**R, "bucket": "none"}, headers={"X-API-Key": keys["analytics"]}
    )
    by_query = await anon.get("/v1/analytics/basis", params={**R, "bucket": "none", "api_key": keys["analytics"]})

    assert by_bearer.json() == by_header.json() == by_query.json()
    assert by_query.json()["rows"][0]["total"] == 11
