"""Data sources: upsert by key, read one, list with a kind filter and keyset pagination."""

from __future__ import annotations

import re

import pytest

from tests import factories

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
KINDS = ["analytics", "crm", "ads", "experiment", "survey", "research", "finance", "other"]


def assert_validation_problem(response, *loc_prefix):  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["code"] == "validation_failed"
    assert any(tuple(error["loc"][: len(loc_prefix)]) == loc_prefix for error in body["errors"]), body["errors"]


async def test_put_data_source_creates_with_201_location_and_etag(client):
    response = await client.put(
        "/v1/data-sources/ga4",
        json={"name": "Google Analytics 4", "kind": "analytics", "url": "https://analytics.google.com/"},
    )

    assert response.status_code == 201, response.text
    assert response.headers["Location"] == "/v1/data-sources/ga4"
    assert re.fullmatch(r'"[0-9a-f]+"', response.headers["ETag"])
    body = response.json()
    assert body == {
        "key": "ga4",
        "name": "Google Analytics 4",
        "kind": "analytics",
        "url": "https://analytics.google.com/",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert TIMESTAMP.match(body["created_at"])
    assert body["updated_at"] == body["created_at"]


async def test_an_internationalised_url_is_taken_and_stored_percent_encoded(client):
    response = await client.put(
        "/v1/data-sources/crm", json={"name": "CRM", "kind": "crm", "url": "https://crm.example.com/e\u0301"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["url"] == "https://crm.example.com/e%CC%81"
    assert (await client.get("/v1/data-sources/crm")).json()["url"] == "https://crm.example.com/e%CC%81"


async def test_put_data_source_without_url_stores_null(client):
    response = await client.put("/v1/data-sources/crm", json={"name": "CRM", "kind": "crm"})

    assert response.status_code == 201
    assert response.json()["url"] is None


async def test_put_existing_data_source_replaces_with_200_and_new_etag(client):
    created = await client.put(
        "/v1/data-sources/yandex-direct", json={"name": "Direct", "kind": "ads", "url": "https://direct.yandex.ru/"}
    )
    assert created.status_code == 201

    replaced = await client.put("/v1/data-sources/yandex-direct", json={"name": "Yandex Direct", "kind": "other"})

    assert replaced.status_code == 200, replaced.text
    assert "Location" not in replaced.headers
    assert replaced.headers["ETag"] != created.headers["ETag"]
    body = replaced.json()
    assert body == {
        "key": "yandex-direct",
        "name": "Yandex Direct",
        "kind": "other",
        "url": None,
        "created_at": created.json()["created_at"],
        "updated_at": body["updated_at"],
    }
    assert body["updated_at"] > body["created_at"]


@pytest.mark.parametrize("kind", KINDS)
async def test_put_data_source_accepts_every_kind(client, kind):
    response = await client.put(f"/v1/data-sources/src-{kind}", json={"name": kind, "kind": kind})

    assert response.status_code == 201, response.text
    assert response.json()["kind"] == kind


async def test_get_data_source_returns_the_stored_record_with_its_etag(client):
    put = await client.put("/v1/data-sources/ga4", json={"name": "GA4", "kind": "analytics"})

    response = await client.get("/v1/data-sources/ga4")

    assert response.status_code == 200
    assert response.json() == put.json()
    assert response.headers["ETag"] == put.headers["ETag"]


async def test_get_unknown_data_source_returns_404_problem(client):
    response = await client.get("/v1/data-sources/nowhere")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://decision-log.dev/problems/data_source_not_found",
        "title": "Data source not found",
        "status": 404,
        "detail": "No data source with key 'nowhere'.",
        "code": "data_source_not_found",
        "request_id": response.headers["X-Request-ID"],
    }


async def test_list_data_sources_pages_through_all_in_key_order(client):
    keys = ["metabase", "crm", "ga4", "yandex-direct", "appsflyer"]
    for key in keys:
        await factories.source(client, key)

    seen: list[str] = []
    url: str | None = "/v1/data-sources?limit=2"
    pages = 0
    while url is not None:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        seen += [item["key"] for item in body["items"]]
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            url = None
        else:
            link = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers["Link"])
            assert link is not None, response.headers["Link"]
            assert f"cursor={body['next_cursor']}" in link.group(1)
            url = link.group(1)

    assert pages == 3
    assert seen == sorted(keys)


async def test_list_data_sources_filters_by_kind(client):
    await factories.source(client, "ga4", kind="analytics")
    await factories.source(client, "metrica", kind="analytics")
    await factories.source(client, "crm", kind="crm")

    analytics = (await client.get("/v1/data-sources", params={"kind": "analytics"})).json()
    crm = (await client.get("/v1/data-sources", params={"kind": "crm"})).json()
    finance = (await client.get("/v1/data-sources", params={"kind": "finance"})).json()

    assert [s["key"] for s in analytics["items"]] == ["ga4", "metrica"]
    assert [s["key"] for s in crm["items"]] == ["crm"]
    assert finance == {"items": [], "next_cursor": None}


async def test_list_data_sources_unknown_kind_filter_returns_422(client):
    response = await client.get("/v1/data-sources", params={"kind": "astrology"})

    assert_validation_problem(response, "query", "kind")


@pytest.mark.parametrize("limit", ["0", "501"])
async def test_list_data_sources_limit_out_of_range_returns_422(client, limit):
    response = await client.get("/v1/data-sources", params={"limit": limit})

    assert_validation_problem(response, "query", "limit")


async def test_list_data_sources_bad_cursor_returns_422(client):
    response = await client.get("/v1/data-sources", params={"cursor": "%%%"})

    assert_validation_problem(response, "query", "cursor")


@pytest.mark.parametrize("kind", ["astrology", "Analytics", "", None, 3])
async def test_put_data_source_unknown_kind_returns_422(client, kind):
    response = await client.put("/v1/data-sources/ga4", json={"name": "GA4", "kind": kind})

    assert_validation_problem(response, "body", "kind")
    assert (await client.get("/v1/data-sources/ga4")).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "ftp://files.example.com/report.csv",
        "javascript:alert(1)",
        "https://",
        "https://x.example/" + "a" * 2000,
    ],
)
async def test_put_data_source_bad_url_returns_422(client, url):
    response = await client.put("/v1/data-sources/ga4", json={"name": "GA4", "kind": "analytics", "url": url})

    assert_validation_problem(response, "body", "url")


async def test_put_data_source_missing_kind_returns_422(client):
    response = await client.put("/v1/data-sources/ga4", json={"name": "GA4"})

    assert_validation_problem(response, "body", "kind")


@pytest.mark.parametrize("body", [{"kind": "crm"}, {"name": "", "kind": "crm"}, {"name": "n" * 201, "kind": "crm"}])
async def test_put_data_source_bad_name_returns_422(client, body):
    response = await client.put("/v1/data-sources/crm", json=body)

    assert_validation_problem(response, "body", "name")


async def test_put_data_source_unknown_field_returns_422(client):
    response = await client.put("/v1/data-sources/ga4", json={"name": "GA4", "kind": "analytics", "owner": "anna"})

    assert_validation_problem(response, "body", "owner")
    assert response.json()["errors"][0]["type"] == "extra_forbidden"


@pytest.mark.parametrize("key", ["GA4", "ga 4", "_ga4", "k" * 65])
async def test_put_data_source_bad_key_returns_422(client, key):
    response = await client.put(f"/v1/data-sources/{key}", json={"name": "GA4", "kind": "analytics"})

    assert_validation_problem(response, "path", "key")


async def test_get_data_source_bad_key_returns_422(client):
    response = await client.get("/v1/data-sources/GA4")

    assert_validation_problem(response, "path", "key")
