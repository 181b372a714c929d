"""GET /v1/analytics/summary: the headline figures of every analytics endpoint in one row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.analytics.dataset import R_FROM, R_TO, R, get_json

SUMMARY = "/v1/analytics/summary"
KEYS = [
    "decisions", "data", "emotion", "emotion_unsupported", "data_share", "emotion_share",
    "strategy_changes", "unexplained_strategy_changes", "unstable_strategies", "strategy_usage",
    "kpis", "money_kpis", "money_share", "kpis_without_owner", "kpi_changes", "unexplained_kpi_changes",
    "reviewed", "reviews_due", "overdue_reviews", "reversed", "reversal_rate",
    "success_rate_data", "success_rate_emotion",
    "data_claims_with_emotional_language", "owner_directed", "owner_directed_emotion_share",
]  # fmt: skip
# Decision quality: the data set states no confidence, recommendation or opposite push (see test_quality.py).
NO_QUALITY = {"brier_score": None, "overrides": 0, "override_success_rate": None, "contradictions": 0}


def summary_row(*figures: Any) -> dict[str, Any]:
    """The figures in the order of ``KEYS``."""
    assert len(figures) == len(KEYS)
    return dict(zip(KEYS, figures, strict=True)) | NO_QUALITY


async def test_summary_over_range_is_exact(client, dataset):
    body = await get_json(client, SUMMARY, **R)

    expected = summary_row(
        11, 5, 6, 2, 0.4545, 0.5455,  # decisions and classes, as /basis
        7, 3, 1, 0.6364,  # strategy changes: brand-refresh 4 (1 unexplained, unstable), growth-2026 3 (2)
        0, 0, None, 0, 0, 0,  # the KPIs were recorded after `to` (while the test runs)
        7, 4, 1, 2, 0.1818,  # reviews: D1 D3 D4 D5 D6 D9 D10; due D1 D2 D5 D9; overdue D2; reversed D6 D7
        0.75, 0.0,  # as /outcomes
        0, 0, None,  # no directed decisions, no signals in the dataset's rationales
    )  # fmt: skip
    assert body == {"from": R_FROM, "to": R_TO, "tz": "UTC", "rows": [expected]}


async def test_summary_with_to_ahead_includes_kpis(client, dataset):
    body = await get_json(client, SUMMARY, **{"from": "2026-01-01", "to": "2100-01-01"})

    expected = summary_row(
        12, 6, 6, 2, 0.5, 0.5,  # D12 joins (data, no strategy)
        7, 3, 1, 0.5833,
        3, 2, 0.6667, 1, 3, 2,  # cpa, leads, revenue
        7, 4, 1, 2, 0.1667,  # due by now: D1 D2 D5 D9 (D8 only in 2099)
        0.75, 0.0,
        0, 0, None,  # no directed decisions, no signals in the dataset's rationales
    )  # fmt: skip
    assert body["rows"] == [expected]


async def test_summary_empty_range(client, dataset):
    body = await get_json(client, SUMMARY, **{"from": "2024-01-01", "to": "2025-01-01"})

    expected = summary_row(
        0, 0, 0, 0, None, None,
        0, 0, 0, None,
        0, 0, None, 0, 0, 0,
        0, 0, 0, 0, None,
        None, None,
        0, 0, None,  # no directed decisions, no signals in the dataset's rationales
    )  # fmt: skip
    assert body["rows"] == [expected]


async def test_summary_defaults_to_the_last_90_days(client, dataset):
    before = datetime.now(UTC)
    body = await get_json(client, SUMMARY)
    after = datetime.now(UTC)

    start = datetime.fromisoformat(body["from"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(body["to"].replace("Z", "+00:00"))
    assert before <= end <= after
    assert end - start == timedelta(days=90)
    assert list(body["rows"][0]) == KEYS + list(NO_QUALITY)


async def test_summary_with_to_in_the_past_starts_90_days_earlier(client, dataset):
    body = await get_json(client, SUMMARY, to="2026-04-01")

    # [2026-01-01, 2026-04-01): D1-D4.
    assert body["from"] == "2026-01-01T00:00:00.000000Z"
    assert body["rows"][0]["decisions"] == 4
