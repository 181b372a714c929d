"""Signing in to the pages over HTTP, as a browser would: the session cookie and the forms' CSRF tokens."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tests import conftest
from tests.conftest import make_client

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def sign_in(browser: httpx.AsyncClient, key: str, next_url: str = "/ui/") -> httpx.Response:
    """Open the sign-in page, then send its form with ``key``; the answer (a 303 when it worked)."""
    page = await browser.get("/ui/sign-in", params={"next": next_url})
    assert page.status_code == 200, page.text
    return await browser.post(
        "/ui/sign-in", data={"key": key, "next": next_url, "csrf_token": csrf_of(page)}, follow_redirects=False
    )


def browser_for(app: object) -> httpx.AsyncClient:
    """A client without an API key, keeping cookies like a browser."""
    return make_client(app, None)


@contextlib.asynccontextmanager
async def fresh_database(directory: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database on the suite's engine (a file in ``directory`` for SQLite), dropped after."""
    if conftest._server is None:
        yield f"sqlite:///{directory / 'fresh.db'}"
        return
    name = f"decision_log_web_{uuid.uuid4().hex[:10]}"
    await conftest._admin(f'CREATE DATABASE "{name}"')
    try:
        yield conftest._server.set(database=name).render_as_string(hide_password=False)
    finally:
        await conftest._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
