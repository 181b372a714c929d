"""The analytics tests share one fixed data set (see :mod:`tests.analytics.dataset`)."""

from __future__ import annotations

import pytest

from app.analytics import rollup
from tests.analytics import dataset as ds


@pytest.fixture
async def dataset(client, db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The fixed data set, built through the API; the decision ids by name. The rollup is folded, as the
    service's background folding leaves it (tests/analytics/test_rollups.py covers pending deltas)."""
    ids = await ds.build(client)
    await rollup.fold(db)
    return ids
