"""Liveness and readiness: no key needed; readiness reports the database and the migration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.core.migrations import head_revision
from app.main import create_app
from tests.conftest import make_client

UNREACHABLE = {
    # Nothing listens on port 1.
    "postgresql": "postgresql://postgres@127.0.0.1:1/decision_log",
    # A database file "inside" this test module (a file, not a directory) can never be opened.
    "sqlite": f"sqlite:///{Path(__file__).resolve() / 'x.db'}",
}


async def serve(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url, connect_timeout_seconds=2))
    async with LifespanManager(app), make_client(app, None) as client:
        yield client


@pytest.fixture(params=sorted(UNREACHABLE))
async def unreachable(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    async for client in serve(UNREACHABLE[request.param]):
        yield client


async def test_healthz_answers_200_without_a_key(anon):
    response = await anon.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_answers_200_at_the_latest_migration(anon):
    response = await anon.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "database": "ok", "migration": head_revision()}


async def test_readyz_answers_503_with_retry_after_when_the_database_is_unreachable(unreachable):
    response = await unreachable.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["request_id"] == response.headers["X-Request-ID"]


async def test_healthz_answers_200_even_when_the_database_is_unreachable(unreachable):
    assert (await unreachable.get("/healthz")).status_code == 200


async def test_api_answers_503_not_500_when_the_database_is_unreachable(unreachable):
    response = await unreachable.get("/v1/people", headers={"X-API-Key": "dlk_0123456789ab_" + "s" * 43})

    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["code"] == "service_unavailable"


async def test_readyz_answers_503_before_the_schema_is_migrated(tmp_path):
    async for client in serve(f"sqlite:///{tmp_path / 'empty.db'}"):
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["code"] == "service_unavailable"
    assert head_revision() in response.json()["detail"]
