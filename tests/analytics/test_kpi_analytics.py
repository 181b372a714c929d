"""GET /v1/analytics/kpis: KPIs by kind, money share, changes and unexplained changes in range (by the time of the
revision), KPIs without an owner, decisions per KPI (decided in range)."""

from __future__ import annotations

from typing import Any

from tests.analytics.dataset import R, get_json

KPIS = "/v1/analytics/kpis"
# KPIs and their revisions are recorded while the test runs, so ranges that should hold them end far ahead.
AHEAD = "2100-01-01T00:00:00Z"


def kpi_row(
    kpi: str,
    name: str,
    kind: str,
    unit: str,
    target: float | None,
    direction: str | None,
    owner: str | None,
    changes: int,
    unexplained: int,
    decisions: int,
) -> dict[str, Any]:
    return {
        "kpi": kpi,
        "name": name,
        "kind": kind,
        "unit": unit,
        "target": target,
        "direction": direction,
        "owner": owner,
        "has_owner": owner is not None,
        "changes": changes,
        "unexplained_changes": unexplained,
        "decisions": decisions,
    }


async def test_kpi_analytics_are_exact(client, dataset):
    body = await get_json(client, KPIS, **{"from": "2026-01-01", "to": AHEAD})

    assert body == {
        "from": "2026-01-01T00:00:00.000000Z",
        "to": "2100-01-01T00:00:00.000000Z",
        "tz": "UTC",
        "kpis": 3,
        "money_kpis": 2,
        "activity_kpis": 1,
        "money_share": 0.6667,
        "kpis_without_owner": 1,  # leads
        "changes": 3,
        "unexplained_changes": 2,
        "rows": [
            # Revised with a reason, then without one; aimed at by D1, D4, D6 (reversed, still counted).
            kpi_row("cpa", "Cost per acquisition", "money", "EUR", 38, "decrease", "anna.petrova", 2, 1, 3),
            # Revised with a whitespace-only reason: unexplained. D5, D8.
            kpi_row("leads", "-Leads per week", "activity", "leads", 50, "increase", None, 1, 1, 2),
            # Never revised. D3, D4, D10.
            kpi_row("revenue", "=Revenue", "money", "EUR", 100000, "increase", "boris.ivanov", 0, 0, 3),
        ],
    }


async def test_kpi_analytics_count_decisions_decided_in_range_only(client, dataset):
    body = await get_json(client, KPIS, **{"from": "2026-04-01", "to": AHEAD})

    assert [(r["kpi"], r["decisions"]) for r in body["rows"]] == [("cpa", 1), ("leads", 2), ("revenue", 1)]
    assert (body["changes"], body["unexplained_changes"]) == (3, 2)


async def test_kpi_analytics_changes_outside_range_are_not_counted(client, dataset):
    body = await get_json(client, KPIS, **{"from": "2099-01-01", "to": AHEAD})

    # The KPIs existed before `to`, but neither their revisions nor any decision fall in range.
    assert [(r["kpi"], r["changes"], r["unexplained_changes"], r["decisions"]) for r in body["rows"]] == [
        ("cpa", 0, 0, 0),
        ("leads", 0, 0, 0),
        ("revenue", 0, 0, 0),
    ]
    assert (body["kpis"], body["money_share"], body["changes"], body["unexplained_changes"]) == (3, 0.6667, 0, 0)


async def test_kpi_analytics_range_before_the_kpis_existed_is_empty(client, dataset):
    body = await get_json(client, KPIS, **R)

    assert body == {
        "from": "2026-01-01T00:00:00.000000Z",
        "to": "2026-10-01T00:00:00.000000Z",
        "tz": "UTC",
        "kpis": 0,
        "money_kpis": 0,
        "activity_kpis": 0,
        "money_share": None,
        "kpis_without_owner": 0,
        "changes": 0,
        "unexplained_changes": 0,
        "rows": [],
    }
