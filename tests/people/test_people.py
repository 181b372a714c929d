"""People: upsert by handle, read one, list with filters and keyset pagination."""

from __future__ import annotations

import re

import pytest

from tests import factories

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def assert_validation_problem(response, *loc_prefix):  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["code"] == "validation_failed"
    assert body["status"] == 422
    assert any(tuple(error["loc"][: len(loc_prefix)]) == loc_prefix for error in body["errors"]), body["errors"]


async def test_put_person_creates_with_201_location_and_etag(client):
    response = await client.put(
        "/v1/people/anna.petrova",
        json={"name": "Anna Petrova", "email": "anna.petrova@example.com", "team": "growth"},
    )

    assert response.status_code == 201, response.text
    assert response.headers["Location"] == "/v1/people/anna.petrova"
    assert re.fullmatch(r'"[0-9a-f]+"', response.headers["ETag"])
    body = response.json()
    assert body == {
        "handle": "anna.petrova",
        "name": "Anna Petrova",
        "email": "anna.petrova@example.com",
        "team": "growth",
        "active": True,
        "role": "member",
        "digest": False,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert TIMESTAMP.match(body["created_at"])
    assert body["updated_at"] == body["created_at"]


async def test_an_internationalised_email_address_is_taken_in_nfc(client):
    response = await client.put(
        "/v1/people/anna.petrova", json={"name": "Anna", "email": "anna@bu\u0308cher.example", "team": "growth"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "anna@bücher.example"


async def test_put_existing_person_replaces_with_200_and_new_etag(client):
    created = await client.put(
        "/v1/people/anna.petrova", json={"name": "Anna", "email": "a@example.com", "team": "growth"}
    )
    assert created.status_code == 201

    replaced = await client.put(
        "/v1/people/anna.petrova",
        json={"name": "Anna Petrova", "team": "brand", "active": False, "role": "lead", "digest": True},
    )

    assert replaced.status_code == 200, replaced.text
    assert "Location" not in replaced.headers
    assert replaced.headers["ETag"] != created.headers["ETag"]
    body = replaced.json()
    # A PUT replaces the whole record: the email not sent is cleared.
    assert body == {
        "handle": "anna.petrova",
        "name": "Anna Petrova",
        "email": None,
        "team": "brand",
        "active": False,
        "role": "lead",
        "digest": True,
        "created_at": created.json()["created_at"],
        "updated_at": body["updated_at"],
    }
    assert body["updated_at"] > body["created_at"]


async def test_get_person_returns_the_stored_record_with_its_etag(client):
    put = await client.put("/v1/people/anna.petrova", json={"name": "Anna Petrova", "team": "growth"})

    response = await client.get("/v1/people/anna.petrova")

    assert response.status_code == 200
    assert response.json() == put.json()
    assert response.headers["ETag"] == put.headers["ETag"]


async def test_get_unknown_person_returns_404_problem(client):
    response = await client.get("/v1/people/nobody.here")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body == {
        "type": "https://decision-log.dev/problems/person_not_found",
        "title": "Person not found",
        "status": 404,
        "detail": "No person with handle 'nobody.here'.",
        "code": "person_not_found",
        "request_id": response.headers["X-Request-ID"],
    }


async def test_list_people_pages_through_everyone_in_handle_order(client):
    handles = ["eve.e", "anna.a", "dan.d", "boris.b", "carl.c"]
    for handle in handles:
        await factories.person(client, handle)

    seen: list[str] = []
    url: str | None = "/v1/people?limit=2"
    pages = 0
    while url is not None:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        assert len(body["items"]) <= 2
        seen += [item["handle"] for item in body["items"]]
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            url = None
        else:
            link = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers["Link"])
            assert link is not None, response.headers["Link"]
            assert "limit=2" in link.group(1)
            assert f"cursor={body['next_cursor']}" in link.group(1)
            url = link.group(1)

    assert pages == 3
    assert seen == sorted(handles)


async def test_list_people_next_cursor_gives_the_following_page(client):
    for handle in ["a.one", "b.two", "c.three"]:
        await factories.person(client, handle)

    first = (await client.get("/v1/people", params={"limit": 2})).json()
    second = (await client.get("/v1/people", params={"limit": 2, "cursor": first["next_cursor"]})).json()

    assert [p["handle"] for p in first["items"]] == ["a.one", "b.two"]
    assert second == {"items": [second["items"][0]], "next_cursor": None}
    assert second["items"][0]["handle"] == "c.three"


async def test_list_people_exact_page_has_no_next_cursor(client):
    for handle in ["a.one", "b.two"]:
        await factories.person(client, handle)

    response = await client.get("/v1/people", params={"limit": 2})

    assert response.json()["next_cursor"] is None
    assert "Link" not in response.headers


async def test_list_people_is_empty_without_people(client):
    response = await client.get("/v1/people")

    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


async def test_list_people_filters_by_team_and_active(client):
    await factories.person(client, "anna.petrova", team="growth")
    await factories.person(client, "boris.ivanov", team="brand")
    await factories.person(client, "clara.smirnova", team="growth", active=False)

    growth = (await client.get("/v1/people", params={"team": "growth"})).json()
    active = (await client.get("/v1/people", params={"active": "true"})).json()
    inactive = (await client.get("/v1/people", params={"active": "false"})).json()
    active_growth = (await client.get("/v1/people", params={"team": "growth", "active": "true"})).json()
    nobody = (await client.get("/v1/people", params={"team": "legal"})).json()

    assert [p["handle"] for p in growth["items"]] == ["anna.petrova", "clara.smirnova"]
    assert [p["handle"] for p in active["items"]] == ["anna.petrova", "boris.ivanov"]
    assert [p["handle"] for p in inactive["items"]] == ["clara.smirnova"]
    assert [p["handle"] for p in active_growth["items"]] == ["anna.petrova"]
    assert nobody == {"items": [], "next_cursor": None}


async def test_list_people_filter_pages_carry_the_filter(client):
    for handle in ["a.one", "b.two", "c.three", "d.four"]:
        await factories.person(client, handle, team="growth" if handle != "b.two" else "brand")

    first = await client.get("/v1/people", params={"team": "growth", "limit": 2})
    link = re.fullmatch(r'<([^>]+)>; rel="next"', first.headers["Link"])
    assert link is not None
    second = await client.get(link.group(1))

    assert [p["handle"] for p in first.json()["items"]] == ["a.one", "c.three"]
    assert [p["handle"] for p in second.json()["items"]] == ["d.four"]


@pytest.mark.parametrize("limit", ["0", "501", "-1", "many"])
async def test_list_people_limit_out_of_range_returns_422(client, limit):
    response = await client.get("/v1/people", params={"limit": limit})

    assert_validation_problem(response, "query", "limit")


async def test_list_people_limit_500_is_accepted(client):
    response = await client.get("/v1/people", params={"limit": 500})

    assert response.status_code == 200


# not base64, [1, 2] (two values), not JSON, [123] (a number for a handle), {} (not a list)
@pytest.mark.parametrize("cursor", ["garbage!", "WzEsMl0", "bm90IGpzb24", "WzEyM10", "e30"])
async def test_list_people_bad_cursor_returns_422(client, cursor):
    response = await client.get("/v1/people", params={"cursor": cursor})

    assert_validation_problem(response, "query", "cursor")


async def test_list_people_bad_active_filter_returns_422(client):
    response = await client.get("/v1/people", params={"active": "maybe"})

    assert_validation_problem(response, "query", "active")


@pytest.mark.parametrize("handle", ["Anna.Petrova", "anna%20petrova", "-anna", "a" * 65, "anna$"])
async def test_put_person_bad_handle_returns_422(client, handle):
    response = await client.put(f"/v1/people/{handle}", json={"name": "Anna", "team": "growth"})

    assert_validation_problem(response, "path", "handle")


async def test_get_person_bad_handle_returns_422(client):
    response = await client.get("/v1/people/Not%20A%20Handle")

    assert_validation_problem(response, "path", "handle")


@pytest.mark.parametrize("email", ["not-an-email", "anna@", "anna@localhost", "x" * 300 + "@example.com"])
async def test_put_person_bad_email_returns_422(client, email):
    response = await client.put("/v1/people/anna.petrova", json={"name": "Anna", "team": "growth", "email": email})

    assert_validation_problem(response, "body", "email")
    assert (await client.get("/v1/people/anna.petrova")).status_code == 404


async def test_put_person_unknown_field_returns_422(client):
    response = await client.put("/v1/people/anna.petrova", json={"name": "Anna", "team": "growth", "title": "CMO"})

    assert_validation_problem(response, "body", "title")
    assert response.json()["errors"][0]["type"] == "extra_forbidden"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"team": "growth"}, "name"),
        ({"name": "Anna"}, "team"),
        ({"name": "", "team": "growth"}, "name"),
        ({"name": "Anna", "team": ""}, "team"),
        ({"name": "A" * 201, "team": "growth"}, "name"),
        ({"name": "Anna", "team": "t" * 101}, "team"),
        ({"name": "Anna", "team": "growth", "active": "sometimes"}, "active"),
    ],
)
async def test_put_person_invalid_body_returns_422(client, body, field):
    response = await client.put("/v1/people/anna.petrova", json=body)

    assert_validation_problem(response, "body", field)


async def test_put_person_body_that_is_not_an_object_returns_422(client):
    response = await client.put("/v1/people/anna.petrova", json=["Anna", "growth"])

    assert_validation_problem(response, "body")


async def test_roles_are_listed_by_filter_and_a_role_outside_the_list_is_refused(client):
    for handle, role in (("olga.owner", "owner"), ("lena.lead", "lead"), ("mark.member", None)):
        body = {"name": handle, "team": "growth", **({"role": role} if role else {})}
        assert (await client.put(f"/v1/people/{handle}", json=body)).status_code == 201

    owners = (await client.get("/v1/people", params={"role": "owner"})).json()["items"]
    members = (await client.get("/v1/people", params={"role": "member"})).json()["items"]
    assert [p["handle"] for p in owners] == ["olga.owner"] and [p["handle"] for p in members] == ["mark.member"]
    refused = await client.put("/v1/people/x", json={"name": "X", "team": "growth", "role": "ceo"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "role"]
    assert (await client.get("/v1/people", params={"role": "ceo"})).status_code == 422
    not_a_flag = await client.put("/v1/people/x", json={"name": "X", "team": "growth", "digest": "yes"})
    assert not_a_flag.status_code == 422 and not_a_flag.json()["errors"][0]["loc"] == ["body", "digest"]
