"""Signing in to the pages: redirects, the session cookie, CSRF, open redirects, the session ending with its key."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests import factories
from tests.web.helpers import browser_for, csrf_of, sign_in


@pytest.fixture
async def browser(app_instance, db):
    async with browser_for(app_instance) as client:
        yield client


async def test_root_leads_to_the_pages_and_a_page_without_session_to_sign_in(browser):
    root = await browser.get("/", follow_redirects=False)
    assert (root.status_code, root.headers["location"]) == (303, "/ui/")
    page = await browser.get("/ui/?from=2026-01-01&to=2026-03-31", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/ui/sign-in?next=/ui/%3Ffrom%3D2026-01-01%26to%3D2026-03-31"


async def test_signing_in_sets_a_session_cookie_and_leads_to_next(browser, keys, db):
    answer = await sign_in(browser, keys["read"], "/ui/?from=2026-01-01&to=2026-03-31")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/ui/?from=2026-01-01&to=2026-03-31"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("dl_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # served over http here; over https it is Secure (next test)
    token = cookie.split(";")[0].split("=", 1)[1]
    async with db.sessionmaker() as session:
        stored = (await session.execute(text("SELECT token_hash FROM web_session"))).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]  # only the hash is kept
    overview = await browser.get("/ui/")
    assert overview.status_code == 200
    assert 'data-metric="decisions"' in overview.text


async def test_session_cookie_is_secure_over_https(app_instance, keys, db):
    async with browser_for(app_instance) as client:
        client.base_url = "https://test"  # type: ignore[assignment]
        answer = await sign_in(client, keys["read"])
    assert "Secure" in answer.headers["set-cookie"]


async def test_a_wrong_key_shows_the_form_again_with_the_reason(browser, db):
    answer = await sign_in(browser, "dlk_000000000000_nope")
    assert answer.status_code == 401
    assert "The API key is not valid." in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert "dl_session" not in browser.cookies


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/ui/",
        "/\\evil.example",
        "/v1/keys",
        "javascript:alert(1)",
        "/ui\r\nX: y",
        "/ui-other/",
    ],
)
async def test_sign_in_never_leads_to_another_site(browser, keys, next_url, db):
    answer = await sign_in(browser, keys["read"], next_url)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/"


async def test_forms_without_their_csrf_token_are_refused(browser, keys, db):
    page = await browser.get("/ui/sign-in")
    refused = await browser.post("/ui/sign-in", data={"key": keys["read"], "csrf_token": "forged"})
    assert refused.status_code == 403 and "dl_session" not in browser.cookies
    assert "Form expired" in refused.text
    assert (await sign_in(browser, keys["read"])).status_code == 303
    overview = await browser.get("/ui/")
    out = await browser.post("/ui/sign-out", data={"csrf_token": csrf_of(page)})  # another form's token
    assert out.status_code == 403
    assert (await browser.get("/ui/", follow_redirects=False)).status_code == 200  # still signed in
    signed_out = await browser.post("/ui/sign-out", data={"csrf_token": csrf_of(overview)}, follow_redirects=False)
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/ui/sign-in")
    assert (await browser.get("/ui/", follow_redirects=False)).status_code == 303
    async with db.sessionmaker() as session:
        assert (await session.execute(text("SELECT count(*) FROM web_session"))).scalar() == 0


async def test_pages_carry_a_strict_content_security_policy(browser, keys, db):
    await sign_in(browser, keys["read"])
    for path in ("/ui/", "/ui/sign-in"):
        page = await browser.get(path)
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy and "default-src 'none'" in policy
        assert "unsafe-inline" not in policy
        assert page.headers["cache-control"] == "no-store"
        assert "<script>" not in page.text and " style=" not in page.text and "onclick" not in page.text


async def test_the_session_ends_when_its_key_is_revoked(app_instance, client_for, db):
    admin = client_for("admin")
    created = (await admin.post("/v1/keys", json={"name": "page-reader", "scope": "read"})).json()
    async with browser_for(app_instance) as browser:
        assert (await sign_in(browser, created["key"])).status_code == 303
        assert (await browser.get("/ui/", follow_redirects=False)).status_code == 200
        assert (await admin.post(f"/v1/keys/{created['id']}/revoke")).status_code == 200
        gone = await browser.get("/ui/", follow_redirects=False)
        assert (gone.status_code, gone.headers["location"]) == (303, "/ui/sign-in?next=/ui/")


async def test_the_session_ends_when_its_key_expires(app_instance, client_for, db):
    expires = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    body = {"name": "brief", "scope": "read", "expires_at": expires}
    created = (await client_for("admin").post("/v1/keys", json=body)).json()
    async with browser_for(app_instance) as browser:
        answer = await sign_in(browser, created["key"])
        assert answer.status_code == 303
        assert "expires=" in answer.headers["set-cookie"].lower()  # the cookie lives no longer than the key
        assert (await browser.get("/ui/", follow_redirects=False)).status_code == 200
        await asyncio.sleep(2)
        assert (await browser.get("/ui/", follow_redirects=False)).status_code == 303


async def test_a_person_key_shows_whose_session_it_is_and_scope_is_enforced(app_instance, client, client_for, db):
    await factories.person(client, "anna.petrova", name="Anna Petrova")
    body = {"name": "anna", "scope": "analytics", "person": "anna.petrova"}
    person_key = (await client_for("admin").post("/v1/keys", json=body)).json()["key"]
    async with browser_for(app_instance) as browser:
        await sign_in(browser, person_key)
        page = await browser.get("/ui/")
        assert page.status_code == 200
        assert "Anna Petrova" in page.text
        assert "ask for a key with the read scope" in page.text  # figures only: no decision titles


async def test_behind_a_trusted_proxy_the_cookie_is_secure_when_the_proxy_says_https(browser, keys, db):
    page = await browser.get("/ui/sign-in")
    form = {"key": keys["read"], "next": "/ui/", "csrf_token": csrf_of(page)}
    answer = await browser.post("/ui/sign-in", data=form, headers={"X-Forwarded-Proto": "https"})
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


async def test_a_form_over_the_body_limit_is_refused_before_it_is_parsed(browser, keys, db, settings):
    page = await browser.get("/ui/sign-in")
    huge = {"key": "x" * (settings.max_body_bytes + 1), "csrf_token": csrf_of(page)}
    refused = await browser.post("/ui/sign-in", data=huge)
    assert refused.status_code == 413 and refused.json()["code"] == "payload_too_large"
