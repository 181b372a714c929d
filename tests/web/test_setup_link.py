"""The first administrator's one-time sign-in link, on a database of its own that holds no key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text, update

from app.auth import sessions
from app.auth.repository import sign_in_link
from app.auth.scopes import Scope
from app.auth.service import create_key
from app.core.config import Settings
from app.core.migrations import upgrade
from app.core.types import utcnow
from app.main import create_app
from tests.web.helpers import csrf_of, fresh_database


@pytest.fixture
async def empty_app(tmp_path) -> AsyncIterator[object]:
    """The app on a fresh, migrated database without any key."""
    async with fresh_database(tmp_path) as url:
        await asyncio.to_thread(upgrade, url)
        app = create_app(Settings(database_url=url, rate_limit=""))
        async with LifespanManager(app):
            yield app


async def _new_link(app: object) -> str:
    async with app.state.db.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
        token = await sessions.new_sign_in_link(session)
    assert token is not None
    return token


def _browser(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")  # type: ignore[arg-type]


FORM = {"handle": "olga.owner", "name": "Olga Owner", "email": "olga@example.com", "team": "marketing"}


async def test_the_link_signs_the_first_administrator_in_once(empty_app):
    token = await _new_link(empty_app)
    async with _browser(empty_app) as browser:
        page = await browser.get("/ui/setup", params={"token": token})
        assert page.status_code == 200 and 'name="handle"' in page.text
        form = {**FORM, "token": token, "csrf_token": csrf_of(page)}
        invalid = await browser.post("/ui/setup", data={**form, "handle": "Olga Owner!"})
        assert invalid.status_code == 422 and 'aria-invalid="true"' in invalid.text
        done = await browser.post("/ui/setup", data=form)
        assert done.status_code == 200, done.text
        assert done.headers["cache-control"] == "no-store"
        key = done.text.split('readonly value="', 1)[1].split('"', 1)[0]
        assert key.startswith("dlk_")
        overview = await browser.get("/ui/", follow_redirects=False)
        assert overview.status_code == 200 and "Olga Owner" in overview.text
        again = await browser.post("/ui/setup", data=form)
        assert again.status_code == 403  # once only
    async with _browser(empty_app) as api:
        listed = (await api.get("/v1/keys", headers={"Authorization": f"Bearer {key}"})).json()
        assert [(k["scope"], k["person"]) for k in listed] == [("admin", "olga.owner")]
        person = (await api.get("/v1/people/olga.owner", headers={"Authorization": f"Bearer {key}"})).json()
        assert person["name"] == "Olga Owner"
    async with empty_app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        stored = (await session.execute(text("SELECT token_hash FROM sign_in_link"))).scalars().all()
    assert stored and token not in stored  # only the hash is kept


async def test_the_link_stops_working_once_a_key_exists_or_it_expires(empty_app, monkeypatch):
    token = await _new_link(empty_app)
    async with empty_app.state.db.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
        await session.execute(update(sign_in_link).values(expires_at=utcnow() - timedelta(seconds=1)))
    async with _browser(empty_app) as browser:
        page = await browser.get("/ui/setup", params={"token": token})
        assert page.status_code == 403 and 'name="handle"' not in page.text
        assert (await browser.get("/ui/setup", params={"token": "forged"})).status_code == 403
    fresh = await _new_link(empty_app)  # a new link replaces the old one
    async with empty_app.state.db.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
        await create_key(session, name="made-elsewhere", scope=Scope.read)
        assert await sessions.new_sign_in_link(session) is None  # no link once a key exists
    async with _browser(empty_app) as browser:
        page = await browser.get("/ui/setup", params={"token": fresh})
        assert page.status_code == 403
