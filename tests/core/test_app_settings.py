"""The services read the settings the app was built with, not the environment's: two apps side by side on one
database answer by their own settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.core.unit_of_work import Database
from app.main import create_app
from tests import factories
from tests.conftest import make_client


@pytest.fixture
async def strict(settings: Settings, keys: dict[str, str], db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An app allowing no clock skew and calling a strategy unstable below 45 days (the environment: 300 s, 30)."""
    own = settings.model_copy(
        update={"clock_skew_seconds": 0, "strategy_min_stable_days": 45.0, "rollup_fold_interval_seconds": 0}
    )
    app = create_app(own)
    async with LifespanManager(app), make_client(app, keys["write"]) as client:
        yield client


async def test_each_app_answers_by_its_own_settings(client: httpx.AsyncClient, strict: httpx.AsyncClient) -> None:
    await factories.basics(client)
    soon = (datetime.now(UTC) + timedelta(seconds=120)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    refused = await strict.post("/v1/decisions", json=factories.decision_body(decided_at=soon))
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["body", "decided_at"]
    accepted = await client.post("/v1/decisions", json=factories.decision_body(decided_at=soon))
    assert accepted.status_code == 201, accepted.text

    params = {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}
    assert (await strict.get("/v1/analytics/strategy-changes", params=params)).json()["min_stable_days"] == 45
    assert (await client.get("/v1/analytics/strategy-changes", params=params)).json()["min_stable_days"] == 30
