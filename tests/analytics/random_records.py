"""Random decisions and corrections for the rollup tests (tests/analytics/test_rollups.py, test_forecast_rollup.py),
which compare the service's answers with those of the same service reading only the decisions (the ``base_only``
fixture of tests/analytics/conftest.py)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from app.core.unit_of_work import Database
from tests import factories

OWNERS = {"anna.petrova": "growth", "boris.ivanov": "brand", "vera.orlova": "ops"}
EVIDENCE = [{"source": "ga4", "reference": "https://analytics.example.com/r/1"}]
# The filters asked about: none (twice as often), each the rollups have a dimension for, the basis class with one,
# and two they have none for.
FILTERS: list[dict[str, str]] = [
    {},
    {},
    {"owner": "anna.petrova"},
    {"channel": "email"},
    {"team": "brand"},
    {"strategy": "growth-2026"},
    {"category": "pricing"},
    {"basis_class": "data"},
    {"owner": "boris.ivanov", "basis_class": "emotion"},
    {"status": "reversed"},  # not in the rollups: answered from the decisions
    {"decided_from": "2026-02-03T00:00:00Z"},
]
# The fields of a decision that place it in the rollups' cells, besides the figures each rollup adds up.
CELL_FIELDS = ["owner", "team", "channel", "category", "strategy", "basis", "evidence", "decided_at"]


def moment(rng: random.Random, start: datetime, days: int, edges: list[str]) -> str:
    """An instant in the ``days`` after ``start``, or one of ``edges`` (15 % of the time)."""
    if rng.random() < 0.15:
        return rng.choice(edges)
    instant = start + timedelta(seconds=rng.randrange(int(timedelta(days=days).total_seconds())))
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def cell_fields(rng: random.Random, choices: dict[str, list[Any]], decided_at: str) -> dict[str, Any]:
    """The fields of :data:`CELL_FIELDS` drawn at random from ``choices`` (a team of None is left out)."""
    fields: dict[str, Any] = {
        "owner": rng.choice(list(OWNERS)),
        **{name: rng.choice(choices[name]) for name in ("channel", "category", "strategy", "basis")},
        "evidence": EVIDENCE if rng.random() < 0.6 else [],
        "decided_at": decided_at,
    }
    if team := rng.choice(choices["team"]):
        fields["team"] = team
    return fields


def correction(rng: random.Random, drawn: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """One to three of ``names`` with their values in ``drawn`` (fields drawn afresh; an optional one left out
    there is cleared)."""
    return {name: drawn.get(name) for name in set(rng.sample(names, rng.randint(1, 3)))}


async def count(db: Database, table: Any) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def register(client: httpx.AsyncClient, strategies: list[str]) -> None:
    """The owners, the data source of :data:`EVIDENCE` and ``strategies``."""
    for handle, team in OWNERS.items():
        await factories.person(client, handle, team=team)
    await factories.source(client, "ga4")
    for key in strategies:
        await factories.strategy(client, key)
