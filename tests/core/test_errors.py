"""Every failure is RFC 9457 problem+json with a request id; bodies are guarded before parsing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.main import create_app
from tests.conftest import DATABASE_URL, make_client

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
SMALL_LIMIT = 2048


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:  # type: ignore[type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS, body
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://decision-log.dev/problems/{code}"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["request_id"] and body["request_id"] == response.headers["X-Request-ID"]
    return body  # type: ignore[no-any-return]


def padded_person(size: int) -> bytes:
    """A valid person body, made at least ``size`` bytes long with JSON whitespace."""
    head = b'{"name": "Anna Petrova", "team": "growth"'
    return head + b" " * max(0, size - len(head) - 1) + b"}"


@pytest.fixture
async def small_app(settings: Settings, db) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    app = create_app(Settings(database_url=DATABASE_URL, max_body_bytes=SMALL_LIMIT))
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def small_client(small_app, keys) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with make_client(small_app, keys["write"]) as c:
        yield c


@pytest.mark.parametrize("path", ["/nowhere", "/v1/nowhere", "/v1/people/anna.petrova/friends"])
async def test_unknown_route_returns_404_problem(anon, path):
    response = await anon.get(path)

    body = assert_problem(response, 404, "not_found")
    assert body["title"] == "Not Found"


async def test_wrong_method_returns_405_problem_with_allow(client):
    response = await client.delete("/v1/people/anna.petrova")

    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, PUT"


async def test_post_to_put_route_returns_405_problem(client):
    response = await client.post("/v1/people/anna.petrova", json={"name": "Anna", "team": "growth"})

    assert_problem(response, 405, "method_not_allowed")


async def test_body_over_limit_with_content_length_returns_413_and_writes_nothing(small_client, client):
    body = padded_person(SMALL_LIMIT + 1)

    response = await small_client.put(
        "/v1/people/anna.petrova", content=body, headers={"Content-Type": "application/json"}
    )

    problem = assert_problem(response, 413, "payload_too_large")
    assert str(SMALL_LIMIT) in problem["detail"]
    assert (await client.get("/v1/people/anna.petrova")).status_code == 404
    # The same body is valid: only its size was refused.
    accepted = await client.put("/v1/people/anna.petrova", content=body, headers={"Content-Type": "application/json"})
    assert accepted.status_code == 201, accepted.text


async def test_body_at_limit_is_accepted(small_client):
    body = padded_person(SMALL_LIMIT)
    assert len(body) == SMALL_LIMIT

    response = await small_client.put(
        "/v1/people/anna.petrova", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 201, response.text


async def test_chunked_body_over_limit_returns_413_and_writes_nothing(small_client, client):
    body = padded_person(SMALL_LIMIT * 3)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    response = await small_client.put(
        "/v1/people/anna.petrova", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert "content-length" not in {name.lower() for name in response.request.headers}
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert_problem(response, 413, "payload_too_large")
    assert (await client.get("/v1/people/anna.petrova")).status_code == 404


async def test_chunked_body_under_limit_is_accepted(small_client):
    body = padded_person(SMALL_LIMIT - 100)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 300):
            yield body[start : start + 300]

    response = await small_client.put(
        "/v1/people/anna.petrova", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 201, response.text


async def test_body_over_default_limit_returns_413(client):
    body = padded_person(1024 * 1024 + 1)

    response = await client.put("/v1/people/anna.petrova", content=body, headers={"Content-Type": "application/json"})

    assert_problem(response, 413, "payload_too_large")
    assert (await client.get("/v1/people/anna.petrova")).status_code == 404


async def test_body_over_limit_without_key_returns_413_not_parsed(small_app, db):
    async with make_client(small_app, None) as anon:
        response = await anon.put(
            "/v1/people/anna.petrova", content=b"x" * (SMALL_LIMIT + 1), headers={"Content-Type": "application/json"}
        )

    assert_problem(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
async def test_non_json_content_type_returns_415(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}

    response = await client.put(
        "/v1/people/anna.petrova", content=b'{"name": "Anna", "team": "growth"}', headers=headers
    )

    assert_problem(response, 415, "unsupported_media_type")
    assert (await client.get("/v1/people/anna.petrova")).status_code == 404


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"]
)
async def test_json_content_types_are_accepted(client, content_type):
    response = await client.put(
        "/v1/people/anna.petrova", content=b'{"name": "Anna", "team": "growth"}', headers={"Content-Type": content_type}
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("body", [b'{"name": "Anna", "team": ', b"{'name': 'Anna'}", b"\xff\xfe", b"nul"])
async def test_malformed_json_returns_422_problem(client, body):
    response = await client.put("/v1/people/anna.petrova", content=body, headers={"Content-Type": "application/json"})

    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"]
    assert all({"loc", "msg", "type"} == error.keys() for error in problem["errors"])
    assert problem["errors"][0]["loc"][0] == "body"


async def test_empty_body_returns_422_problem(client):
    response = await client.put("/v1/people/anna.petrova", headers={"Content-Type": "application/json"})

    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0]["loc"] == ["body"]


async def test_validation_problem_lists_every_field_error(client):
    response = await client.put("/v1/people/anna.petrova", json={"name": "", "email": "nope", "extra": 1})

    problem = assert_problem(response, 422, "validation_failed")
    locs = {tuple(error["loc"]) for error in problem["errors"]}
    assert {("body", "name"), ("body", "email"), ("body", "team"), ("body", "extra")} <= locs
    assert problem["detail"].startswith("body.")


async def test_request_id_is_echoed_in_header_and_problem(client):
    request_id = str(uuid.uuid4())

    response = await client.get("/v1/people/nobody", headers={"X-Request-ID": request_id})

    assert response.headers["X-Request-ID"] == request_id
    assert assert_problem(response, 404, "person_not_found")["request_id"] == request_id


async def test_request_id_is_generated_when_not_sent(client):
    first = await client.get("/v1/people/nobody")
    second = await client.get("/v1/people/nobody")

    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert first.json()["request_id"] == first.headers["X-Request-ID"]
    # A random UUID in hex, as a client sending its own would (and as asgi-correlation-id accepts one back).
    assert first.headers["X-Request-ID"] == uuid.UUID(hex=first.headers["X-Request-ID"]).hex
    assert uuid.UUID(hex=first.headers["X-Request-ID"]).version == 4


async def test_request_id_on_successful_responses(client):
    request_id = str(uuid.uuid4())

    response = await client.get("/v1/people", headers={"X-Request-ID": request_id})

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == request_id


async def test_request_id_on_413_and_415_and_401(small_client, anon):
    request_id = str(uuid.uuid4())
    too_large = await small_client.put(
        "/v1/people/x",
        content=padded_person(SMALL_LIMIT + 1),
        headers={"Content-Type": "application/json", "X-Request-ID": request_id},
    )
    unsupported = await small_client.put(
        "/v1/people/x", content=b"name=x", headers={"Content-Type": "text/plain", "X-Request-ID": request_id}
    )
    unauthorized = await anon.get("/v1/people", headers={"X-Request-ID": request_id})

    assert assert_problem(too_large, 413, "payload_too_large")["request_id"] == request_id
    assert assert_problem(unsupported, 415, "unsupported_media_type")["request_id"] == request_id
    assert assert_problem(unauthorized, 401, "unauthorized")["request_id"] == request_id


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/people/nobody", 404, "person_not_found"),
        ("GET", "/v1/data-sources/nothing", 404, "data_source_not_found"),
        ("GET", "/v1/people?limit=0", 422, "validation_failed"),
        ("GET", "/v1/data-sources?kind=astrology", 422, "validation_failed"),
        ("PATCH", "/v1/people/anna", 405, "method_not_allowed"),
        ("GET", "/v2/people", 404, "not_found"),
    ],
)
async def test_every_error_has_the_problem_shape(client, method, path, status, code):
    response = await client.request(method, path)

    assert_problem(response, status, code)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/people/anna.petrova", b'{"name": "Anna\\u0000Petrova", "team": "growth"}'),
        ("/v1/people/anna.petrova", b'{"name": "Anna", "team": "gro\\u0000wth"}'),
        ("/v1/data-sources/ga4", b'{"name": "GA4\\u0000", "kind": "analytics"}'),
        ("/v1/people/anna.petrova", b'{"name": "Anna\\ud800", "team": "growth"}'),
    ],
)
async def test_text_the_database_cannot_store_returns_422_not_500(client, path, body):
    response = await client.put(path, content=body, headers={"Content-Type": "application/json"})

    # SQLite stores a NUL character, PostgreSQL refuses it: either way, never a 500.
    assert response.status_code in (200, 201, 422), response.text
    if response.status_code == 422:
        assert_problem(response, 422, "validation_failed")


@pytest.mark.parametrize("team", ["gro\x00wth", "\x00"])
async def test_nul_character_in_a_query_filter_is_not_a_500(client, team):
    response = await client.get("/v1/people", params={"team": team})

    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert_problem(response, 422, "validation_failed")


@pytest.mark.parametrize("cursor", ["WyJcdTAwMDAiXQ", "WyJcdWQ4MDAiXQ"])  # ["\u0000"] and ["\ud800"]
async def test_cursor_with_unstorable_text_returns_422(client, cursor):
    response = await client.get("/v1/people", params={"cursor": cursor})

    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0]["loc"] == ["query", "cursor"]


async def test_deeply_nested_json_is_refused_with_422_naming_the_body(client):
    for body in ("[" * 100_000 + "]" * 100_000, '{"title": ' + "[" * 40 + "]" * 40 + "}"):
        response = await client.post("/v1/decisions", content=body, headers={"Content-Type": "application/json"})
        problem = assert_problem(response, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body"]
        assert problem["errors"][0]["type"] == "json_too_deep"


async def test_brackets_inside_strings_do_not_count_as_nesting(client):
    body = '{"name": "' + "[" * 100 + '", "team": "growth"}'
    response = await client.put("/v1/people/anna.petrova", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("depth", "too_deep"),
    [(32, False), (33, True), (200, True)],
)
async def test_nesting_limit_is_exact_whatever_the_shape(client, depth, too_deep):
    """32 levels pass the guard (the schema then judges the body), 33 do not, in mixed and wide shapes, with
    brackets and escaped quotes inside strings that must not count."""
    inner = '{"x": "\\"]}[{", "y": [1, [2], {"z": []}]}'  # depth 4, plus brackets inside a string
    body = inner
    for level in range(depth - 4):
        body = f'[{body}, {{"k": "]", "v": [0]}}]' if level % 2 else f'{{"a": {body}, "b": ["[", {{}}]}}'
    response = await client.post("/v1/decisions", content=body, headers={"Content-Type": "application/json"})
    problem = assert_problem(response, 422, "validation_failed")
    assert (problem["errors"][0]["type"] == "json_too_deep") is too_deep, problem
