import httpx
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.main import create_app

ORIGIN = "https://app.example.com"


async def _cors_client(settings: Settings):
    app = create_app(settings.model_copy(update={"cors_origins": [ORIGIN]}))
    manager = LifespanManager(app)
    await manager.__aenter__()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    return manager, client


async def test_preflight_allows_the_conditional_and_idempotency_headers(settings):
    manager, client = await _cors_client(settings)
    try:
        response = await client.options(
            "/v1/decisions/00000000-0000-0000-0000-000000000000",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, if-match, idempotency-key, content-type",
            },
        )
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        for header in ("if-match", "idempotency-key", "authorization"):
            assert header in allowed
        assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)


async def test_responses_expose_the_api_headers_to_the_allowed_origin_only(settings, keys):
    manager, client = await _cors_client(settings)
    try:
        response = await client.get("/v1/people", headers={"Origin": ORIGIN, "X-API-Key": keys["read"]})
        assert response.status_code == 200
        exposed = {h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"etag", "link", "x-request-id", "idempotent-replayed"} <= exposed
        other = await client.get("/v1/people", headers={"Origin": "https://evil.example", "X-API-Key": keys["read"]})
        assert "Access-Control-Allow-Origin" not in other.headers
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)


async def test_cors_is_off_by_default(client):
    response = await client.get("/v1/people", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_origins_setting_takes_json_or_comma_separated(monkeypatch):
    monkeypatch.setenv("DECISION_LOG_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("DECISION_LOG_CORS_ORIGINS", '["https://c.example"]')
    assert Settings().cors_origins == ["https://c.example"]
