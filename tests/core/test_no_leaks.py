"""No response body ever carries a stack trace, an API key or a key hash."""

import re

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from app.core.routing import domain_router
from app.main import create_app
from tests import factories
from tests.conftest import make_client

LEAK = re.compile(r"Traceback|File \"/|\.py\", line \d+|dlk_[0-9a-f]{12}_")


def _url(path: str) -> str:
    values = {"handle": "anna.petrova", "key": "ga4", "number": "1"}
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b"), path)


async def test_no_answer_of_any_route_leaks_a_trace_or_a_key(app_instance, keys, client, db):
    await factories.basics(client)
    async with db.engine.connect() as connection:
        hashes = [row[0] for row in await connection.execute(text("SELECT secret_hash FROM api_key"))]
    assert hashes
    spec = app_instance.openapi()
    bodies = [None, {}, {"title": "x" * 10_000}, [1, 2], "not json", {"owner": "\u0000"}]
    async with make_client(app_instance, keys["admin"]) as admin:
        for path, item in spec["paths"].items():
            for method in item:
                for body in bodies:
                    kwargs = {"content": body} if isinstance(body, str) else {"json": body}
                    response = await admin.request(
                        method.upper(), _url(path), headers={"Content-Type": "application/json"}, **kwargs
                    )
                    assert response.status_code < 500, (method, path, body, response.text)
                    assert not LEAK.search(response.text), (method, path, response.text)
                    assert not any(h in response.text for h in hashes), (method, path)


async def test_an_unexpected_error_answers_a_bare_problem(settings):
    app = create_app(settings)
    router = domain_router()

    @router.get("/v1/boom", operation_id="boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: dlk_0123456789ab_xyz")

    app.include_router(router)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as anonymous:
            response = await anonymous.get("/v1/boom")
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "internal_error"
    assert "secret internals" not in response.text
    assert not LEAK.search(response.text)
