import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app


@pytest.fixture
async def limited_app(settings):
    app = create_app(settings.model_copy(update={"rate_limit": "5/minute"}))
    async with LifespanManager(app):
        yield app


def _client(app, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", headers={"X-API-Key": key})


async def test_a_key_over_its_limit_gets_429_with_retry_after(limited_app, keys, db):
    async with _client(limited_app, keys["read"]) as client:
        statuses = [(await client.get("/v1/people")).status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        refused = await client.get("/v1/people")
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["code"] == "too_many_requests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60


async def test_limits_are_per_key(limited_app, keys, db):
    async with _client(limited_app, keys["analytics"]) as first, _client(limited_app, keys["admin"]) as second:
        assert [(await first.get("/v1/analytics/outcomes")).status_code for _ in range(6)][-1] == 429
        assert (await second.get("/v1/people")).status_code == 200


async def test_health_is_never_limited(limited_app, keys, db):
    async with _client(limited_app, keys["read"]) as client:
        assert [(await client.get("/healthz")).status_code for _ in range(10)] == [200] * 10


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
async def test_with_redis_every_process_shares_the_counts(settings, keys, db):
    import uuid

    rule = "4/minute"
    shared = settings.model_copy(update={"rate_limit": rule, "redis_url": "redis://127.0.0.1:6379/15"})
    first, second = create_app(shared), create_app(shared)
    key = keys["write"]
    async with LifespanManager(first), LifespanManager(second):
        # A fresh key id namespace per run: another run's counts must not leak in.
        first.state.rate_limiter.namespace = second.state.rate_limiter.namespace = uuid.uuid4().hex
        async with _client(first, key) as a, _client(second, key) as b:
            statuses = [(await (a if i % 2 else b).get("/v1/people")).status_code for i in range(6)]
    assert statuses == [200] * 4 + [429] * 2
