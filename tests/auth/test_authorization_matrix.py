"""Every route of the served spec, crossed with {no key, malformed key, revoked key, each scope}.

The route list comes from the spec the app serves, so a new route cannot escape the matrix: it
must be given its required scope in REQUIRED below or this test fails.
"""

import re

import pytest

from app.auth.scopes import Scope
from app.auth.service import create_key, revoke_key
from tests.conftest import make_client

SCOPES = list(Scope)


def required_scope(method: str, path: str) -> Scope:
    if path.startswith("/v1/integrity/checkpoints"):  # published like an aggregate: how many writes were made
        return Scope.analytics
    if path.startswith(("/v1/keys", "/v1/integrity", "/v1/webhooks")):
        return Scope.admin
    if path.startswith(("/v1/analytics", "/v1/digest")):  # the digest is made of analytics
        return Scope.analytics
    return Scope.read if method == "get" else Scope.write


PUBLIC = {("get", "/healthz"), ("get", "/readyz"), ("get", "/v1/integrity/public-key")}
PLACEHOLDERS = {
    "handle": "anna.petrova",
    "key": "growth",
    "decision_id": "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b",
    "key_id": "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b",
    "number": "1",
    "webhook_id": "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b",
}


def _routes(spec: dict) -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"} and (method, path) not in PUBLIC
    ]


def _url(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: PLACEHOLDERS[m.group(1)], path)


@pytest.fixture(scope="module")
def spec(app_instance) -> dict:
    return app_instance.openapi()


@pytest.fixture
async def revoked_key(db) -> str:
    async with db.sessionmaker() as session, session.begin():
        record, key = await create_key(session, name="revoked", scope=Scope.admin)
    async with db.sessionmaker() as session, session.begin():
        await revoke_key(session, record.prefix)
    return key


def test_every_route_is_in_the_matrix(spec):
    routes = _routes(spec)
    assert len(routes) >= 30
    for _, path in routes:
        assert set(re.findall(r"{(\w+)}", path)) <= PLACEHOLDERS.keys(), f"no placeholder for a parameter of {path}"


async def _call(app, key: str | None, method: str, path: str, *, header: str = "bearer"):
    async with make_client(app, None) as client:
        headers = {}
        if key is not None:
            headers = {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
        body = {} if method in {"post", "put", "patch"} else None
        return await client.request(method.upper(), _url(path), json=body, headers=headers)


async def test_without_a_valid_key_every_route_answers_401(app_instance, spec, revoked_key, db):
    for method, path in _routes(spec):
        for key in (None, "not-a-key", "dlk_000000000000_wrong", revoked_key):
            response = await _call(app_instance, key, method, path)
            assert response.status_code == 401, (method, path, key, response.text)
            assert response.headers["Content-Type"] == "application/problem+json"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize("scope", SCOPES)
async def test_each_scope_gets_exactly_the_routes_it_includes(app_instance, spec, keys, scope, db):
    for method, path in _routes(spec):
        needed = required_scope(method, path)
        for header in ("bearer", "x-api-key"):
            response = await _call(app_instance, keys[scope.value], method, path, header=header)
            if scope.allows(needed):
                assert response.status_code not in (401, 403), (scope, method, path, response.text)
            else:
                assert response.status_code == 403, (scope, method, path, response.text)
                assert response.json()["code"] == "forbidden"
                assert needed.value in response.json()["detail"]


async def test_api_key_query_parameter_works_only_on_analytics(app_instance, spec, keys, db):
    key = keys["analytics"]  # keys that can write are refused in a URL (tests/analytics/test_auth.py)
    async with make_client(app_instance, None) as client:
        for method, path in _routes(spec):
            if method != "get":
                continue
            response = await client.get(_url(path), params={"api_key": key})
            if path.startswith(("/v1/analytics", "/v1/digest")):
                assert response.status_code == 200, (path, response.text)
            else:
                assert response.status_code == 401, (path, response.text)
