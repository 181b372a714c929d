"""The API keys page: administrators give colleagues keys of their own (shown once), see who holds which key and
whether it works, and revoke one; nobody else sees it."""

from __future__ import annotations

import re

from tests import factories
from tests.web.helpers import browser_for, csrf_of, sign_in

KEY = re.compile(r'id="key" type="text" readonly value="([^"]+)"')


async def test_an_administrator_gives_a_colleague_a_key_that_signs_in_as_them(app_instance, keys, client, db):
    await factories.basics(client)
    async with browser_for(app_instance) as admin:
        await sign_in(admin, keys["admin"])
        page = await admin.get("/ui/keys")
        assert page.status_code == 200 and 'href="/ui/keys"' in page.text
        answer = await admin.post(
            "/ui/keys",
            data={
                "name": "anna's laptop",
                "person": "anna.petrova",
                "scope": "write",
                "expires_in_days": "30",
                "csrf_token": csrf_of(page),
            },
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        found = KEY.search(answer.text)
        assert found
        listed = (await admin.get("/ui/keys")).text
        assert "anna&#39;s laptop" in listed and 'href="/ui/people/anna.petrova"' in listed
        assert found.group(1) not in listed  # shown once, never listed

    # The API sees the same key: bound to Anna, expiring in 30 days; and the key itself works.
    made = (await client.get("/v1/keys", headers={"Authorization": f"Bearer {keys['admin']}"})).json()
    anna = next(k for k in made if k["name"] == "anna's laptop")
    assert (anna["person"], anna["scope"]) == ("anna.petrova", "write") and anna["expires_at"]
    async with browser_for(app_instance) as colleague:
        assert (await sign_in(colleague, found.group(1))).status_code == 303
        assert "Anna" in (await colleague.get("/ui/")).text


async def test_a_refused_key_form_says_why_beside_the_field_and_makes_no_key(app_instance, keys, client, db):
    await factories.basics(client)
    async with browser_for(app_instance) as admin:
        await sign_in(admin, keys["admin"])
        page = await admin.get("/ui/keys")
        before = page.text.count("<tr>")
        for data, field in (
            ({"name": "", "scope": "read"}, "name"),
            ({"name": "x", "scope": "read", "person": "nobody.here"}, "person"),
            ({"name": "x", "scope": "read", "expires_in_days": "0"}, "expires_in_days"),
            ({"name": "x", "scope": "owner"}, "scope"),
        ):
            answer = await admin.post("/ui/keys", data={**data, "csrf_token": csrf_of(page)})
            assert answer.status_code == 422, (data, answer.text)
            assert f'id="{field}-error"' in answer.text, (field, answer.text)
            assert answer.text.count("<tr>") == before  # nothing made
        russian = await admin.post(
            "/ui/keys",
            data={"name": "x", "scope": "read", "expires_in_days": "ten", "csrf_token": csrf_of(page)},
            headers={"Accept-Language": "ru"},
        )
        assert "Целое число дней" in russian.text


async def test_revoking_a_key_ends_it_and_its_sessions(app_instance, keys, client, db):
    async with browser_for(app_instance) as admin, browser_for(app_instance) as holder:
        await sign_in(admin, keys["admin"])
        page = await admin.get("/ui/keys")
        made = await admin.post("/ui/keys", data={"name": "to-revoke", "scope": "read", "csrf_token": csrf_of(page)})
        secret = KEY.search(made.text)
        assert secret
        assert (await sign_in(holder, secret.group(1))).status_code == 303
        page = await admin.get("/ui/keys")
        revoke = r'action="/ui/keys/([0-9a-f-]+)/revoke"[^>]*>\s*<input[^>]+>\s*<button[^>]*to-revoke'
        key_id = re.search(revoke, page.text)
        assert key_id, page.text
        without_token = await admin.post(f"/ui/keys/{key_id.group(1)}/revoke", data={})
        assert without_token.status_code == 403
        done = await admin.post(f"/ui/keys/{key_id.group(1)}/revoke", data={"csrf_token": csrf_of(page)})
        assert done.status_code == 303 and done.headers["location"] == "/ui/keys"
        assert "revoked" in (await admin.get("/ui/keys")).text
        gone = await holder.get("/ui/", follow_redirects=False)
        assert gone.status_code == 303 and "/ui/sign-in" in gone.headers["location"]


async def test_only_administrators_see_the_keys(app_instance, keys, db):
    async with browser_for(app_instance) as writer:
        await sign_in(writer, keys["write"])
        assert (await writer.get("/ui/keys")).status_code == 403
        assert 'href="/ui/keys"' not in (await writer.get("/ui/")).text
