"""The analytics tests share one fixed data set (see :mod:`tests.analytics.dataset`)."""

from __future__ import annotations

import pytest

from tests.analytics import dataset as ds


@pytest.fixture
async def dataset(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The fixed data set, built through the API; the decision ids by name."""
    return await ds.build(client)
