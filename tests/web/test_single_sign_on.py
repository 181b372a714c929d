"""Single sign-on: the user an authenticating proxy names, believed only from the proxies the settings trust."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.main import create_app
from tests import factories
from tests.web.helpers import csrf_of

HEADER = "X-Forwarded-Email"


@pytest.fixture
async def sso_app(settings: Settings, db) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    app = create_app(
        settings.model_copy(update={"trusted_user_header": HEADER, "trusted_user_proxies": ["127.0.0.0/8", "::1"]})
    )
    async with LifespanManager(app):
        yield app


def _through(app: object, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_the_proxys_user_is_signed_in_with_their_own_key(sso_app, client, client_for):
    await factories.basics(client)
    await factories.person(client, "olga.owner", name="Olga Owner", email="Olga@Example.com")
    admin = client_for("admin")
    for scope in ("read", "write"):
        assert (
            await admin.post("/v1/keys", json={"name": f"olga-{scope}", "scope": scope, "person": "olga.owner"})
        ).status_code == 201
    async with _through(sso_app, "127.0.0.1") as proxy:
        proxy.headers[HEADER] = "olga@example.com"
        page = await proxy.get("/ui/", headers={"X-Forwarded-For": "203.0.113.9"})
        assert page.status_code == 200 and "Olga Owner" in page.text and "single sign-on" in page.text
        assert "set-cookie" not in page.headers or "dl_session" not in page.headers["set-cookie"]
        form = await proxy.get("/ui/decisions/new")  # the widest scope of her keys: write
        assert form.status_code == 200
        body = {
            "csrf_token": csrf_of(form),
            "title": "Pause display",
            "rationale": "It does not convert.",
            "basis": "intuition",
            "owner": "anna.petrova",
            "category": "budget",
        }
        recorded = await proxy.post("/ui/decisions", data=body)
        assert recorded.status_code == 303, recorded.text
        forged = await proxy.post("/ui/decisions", data={**body, "csrf_token": "forged"})
        assert forged.status_code == 403
    stored = (await client.get("/v1/decisions")).json()["items"]
    assert [d["recorded_by"] for d in stored] == ["olga.owner"]


async def test_the_header_is_ignored_from_anywhere_but_the_trusted_proxies(sso_app, client, client_for):
    await factories.person(client, "olga.owner", email="olga@example.com")
    await client_for("admin").post("/v1/keys", json={"name": "olga", "scope": "read", "person": "olga.owner"})
    async with _through(sso_app, "198.51.100.7") as outsider:
        page = await outsider.get("/ui/", headers={HEADER: "olga@example.com"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/ui/sign-in")


async def test_a_proxy_user_without_a_working_key_is_refused(sso_app, client, client_for):
    await factories.person(client, "olga.owner", email="olga@example.com")
    created = (
        await client_for("admin").post("/v1/keys", json={"name": "olga", "scope": "read", "person": "olga.owner"})
    ).json()
    async with _through(sso_app, "127.0.0.1") as proxy:
        assert (await proxy.get("/ui/", headers={HEADER: "olga.owner"})).status_code == 200
        assert (await client_for("admin").post(f"/v1/keys/{created['id']}/revoke")).status_code == 200
        refused = await proxy.get("/ui/", headers={HEADER: "olga.owner"})
        assert refused.status_code == 403 and "ask an administrator" in refused.text
        assert (await proxy.get("/ui/", headers={HEADER: "nobody@example.com"})).status_code == 403
