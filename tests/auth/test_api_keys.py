"""API keys over HTTP: 401 for a missing or bad key, 403 for too small a scope, hashes at rest."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import ApiKey
from app.auth.scopes import Scope
from app.auth.service import create_key, revoke_key
from tests import factories
from tests.conftest import make_client

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}


def assert_unauthorized(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == 401
    assert body["code"] == "unauthorized"
    assert body["type"] == "https://decision-log.dev/problems/unauthorized"
    return body


def assert_forbidden(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == 403
    assert body["code"] == "forbidden"
    assert body["type"] == "https://decision-log.dev/problems/forbidden"
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/people"),
        ("GET", "/v1/people/anna.petrova"),
        ("PUT", "/v1/people/anna.petrova"),
        ("GET", "/v1/data-sources"),
        ("GET", "/v1/data-sources/ga4"),
        ("PUT", "/v1/data-sources/ga4"),
    ],
)
async def test_request_without_key_returns_401_problem_with_www_authenticate(anon, method, path):
    response = await anon.request(method, path, json={"name": "X", "team": "growth", "kind": "crm"})

    body = assert_unauthorized(response)
    assert "API key is required" in body["detail"]


@pytest.mark.parametrize(
    "key",
    ["not-a-key", "dlk_", "dlk_short_secret", "xyz_0123456789ab_secret", "dlk_0123456789ab_", "Bearer"],
)
async def test_malformed_key_returns_401(app_instance, db, key):
    async with make_client(app_instance, key) as client:
        response = await client.get("/v1/people")

    body = assert_unauthorized(response)
    assert body["detail"] == "The API key is malformed."


async def test_unknown_key_returns_401(app_instance, db):
    async with make_client(app_instance, "dlk_0123456789ab_" + "s" * 43) as client:
        response = await client.get("/v1/people")

    body = assert_unauthorized(response)
    assert body["detail"] == "The API key is not valid."


async def test_known_prefix_with_wrong_secret_returns_401(app_instance, db):
    async with db.sessionmaker() as session, session.begin():
        record, real = await create_key(session, name="wrong-secret", scope=Scope.read)
    forged = f"dlk_{record.prefix}_{'x' * 43}"

    async with make_client(app_instance, forged) as client:
        uncached = await client.get("/v1/people")
    async with make_client(app_instance, real) as client:
        assert (await client.get("/v1/people")).status_code == 200  # the real key is now cached
    async with make_client(app_instance, forged) as client:
        cached = await client.get("/v1/people")

    assert assert_unauthorized(uncached)["detail"] == "The API key is not valid."
    assert assert_unauthorized(cached)["detail"] == "The API key is not valid."


async def test_key_accepted_as_bearer_and_as_x_api_key(app_instance, db, keys):
    async with make_client(app_instance, None) as client:
        bearer = await client.get("/v1/people", headers={"Authorization": f"Bearer {keys['read']}"})
        header = await client.get("/v1/people", headers={"X-API-Key": keys["read"]})
        lower_scheme = await client.get("/v1/people", headers={"Authorization": f"bearer {keys['read']}"})

    assert bearer.status_code == 200, bearer.text
    assert header.status_code == 200, header.text
    assert lower_scheme.status_code == 200, lower_scheme.text


async def test_other_authorization_scheme_returns_401(app_instance, db, keys):
    async with make_client(app_instance, None) as client:
        response = await client.get("/v1/people", headers={"Authorization": f"Basic {keys['read']}"})

    assert_unauthorized(response)


async def test_bad_key_in_x_api_key_returns_401(app_instance, db):
    async with make_client(app_instance, None) as client:
        response = await client.get("/v1/people", headers={"X-API-Key": "dlk_0123456789ab_nope"})

    assert_unauthorized(response)


async def test_revoked_key_stops_working(app_instance, db):
    async with db.sessionmaker() as session, session.begin():
        record, key = await create_key(session, name="to-revoke", scope=Scope.read)
    async with make_client(app_instance, key) as client:
        assert (await client.get("/v1/people")).status_code == 200  # checked once, so cached in-process

        async with db.sessionmaker() as session, session.begin():
            revoked = await revoke_key(session, record.prefix)
        assert revoked is not None and revoked.revoked_at is not None

        response = await client.get("/v1/people")

    body = assert_unauthorized(response)
    assert body["detail"] == "The API key has been revoked."


async def test_revoke_unknown_key_returns_none(db):
    async with db.sessionmaker() as session, session.begin():
        assert await revoke_key(session, "no-such-key") is None


@pytest.mark.parametrize(
    ("scope", "method", "path", "status"),
    [
        ("analytics", "GET", "/v1/people", 403),
        ("analytics", "GET", "/v1/people/anna.petrova", 403),
        ("analytics", "GET", "/v1/data-sources", 403),
        ("analytics", "PUT", "/v1/people/anna.petrova", 403),
        ("read", "GET", "/v1/people", 200),
        ("read", "GET", "/v1/people/anna.petrova", 200),
        ("read", "GET", "/v1/data-sources", 200),
        ("read", "PUT", "/v1/people/anna.petrova", 403),
        ("read", "PUT", "/v1/data-sources/ga4", 403),
        ("write", "GET", "/v1/people", 200),
        ("write", "PUT", "/v1/people/anna.petrova", 200),
        ("write", "PUT", "/v1/data-sources/ga4", 200),
        ("admin", "GET", "/v1/people", 200),
        ("admin", "PUT", "/v1/people/anna.petrova", 200),
    ],
)
async def test_scope_matrix(client, client_for, scope, method, path, status):
    # `client` holds a write key: the records every read needs exist already.
    await factories.person(client, "anna.petrova")
    await factories.source(client, "ga4")
    body = {"name": "Anna Petrova", "team": "growth"} if "people" in path else {"name": "GA4", "kind": "analytics"}

    async with client_for(scope) as scoped:
        response = await scoped.request(method, path, json=body if method == "PUT" else None)

    if status == 403:
        problem = assert_forbidden(response)
        assert scope in problem["detail"]
    else:
        assert response.status_code == status, response.text


async def test_forbidden_write_changes_nothing(client, client_for):
    await factories.person(client, "anna.petrova", team="growth")

    async with client_for("read") as reader:
        response = await reader.put("/v1/people/anna.petrova", json={"name": "Mallory", "team": "evil"})
        stored = (await reader.get("/v1/people/anna.petrova")).json()

    assert_forbidden(response)
    assert stored["name"] == "Anna Petrova"
    assert stored["team"] == "growth"


async def test_keys_are_stored_only_as_hashes(db, keys):
    async with db.sessionmaker() as session:
        rows = (await session.execute(select(ApiKey.__table__))).all()

    stored = [str(value) for row in rows for value in row]
    assert len(rows) >= len(keys)
    for key in keys.values():
        secret = key.split("_", 2)[2]
        assert not any(key in value or secret in value for value in stored)
