"""Fixtures of the pages' tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.web.helpers import browser_for, sign_in


@pytest.fixture
async def reader(app_instance, keys, db) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """A browser signed in to the pages with a `read` key."""
    async with browser_for(app_instance) as browser:
        assert (await sign_in(browser, keys["read"])).status_code == 303
        yield browser


@pytest.fixture
async def writer(app_instance, keys, db) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """A browser signed in to the pages with a `write` key."""
    async with browser_for(app_instance) as browser:
        assert (await sign_in(browser, keys["write"])).status_code == 303
        yield browser
