"""The analytics tests share one fixed data set (see :mod:`tests.analytics.dataset`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.analytics import rollup
from app.main import create_app
from tests.analytics import dataset as ds
from tests.conftest import make_client


@pytest.fixture
async def dataset(client, db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The fixed data set, built through the API; the decision ids by name. The rollup is folded, as the
    service's background folding leaves it (tests/analytics/test_rollups.py covers pending deltas)."""
    ids = await ds.build(client)
    await rollup.fold(db)
    return ids


@pytest.fixture
async def base_only(settings, keys, db) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """The same service reading only the decisions (``DECISION_LOG_ANALYTICS_ROLLUPS=false``), with the analytics
    key: the rollup tests compare its answers with the service's."""
    app = create_app(settings.model_copy(update={"analytics_rollups": False, "rollup_fold_interval_seconds": 0}))
    async with LifespanManager(app), make_client(app, keys["analytics"]) as client:
        yield client
