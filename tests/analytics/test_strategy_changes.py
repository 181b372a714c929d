"""GET /v1/analytics/strategy-changes: changes, unexplained changes, intervals (measured from the previous version,
even before `from`), mean/median/min, the stability threshold, the version in force at `to`, the series by bucket
and strategy_usage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from app.core.config import Settings, get_settings
from tests import factories
from tests.analytics.dataset import R_FROM, R_TO, R, get_json

CHANGES = "/v1/analytics/strategy-changes"


def strategy_row(
    strategy: str,
    title: str,
    changes: int,
    unexplained: int,
    mean: float | None,
    median: float | None,
    minimum: float | None,
    current: int | None,
    age: float | None,
    per_month: float,
    unstable: bool,
) -> dict[str, Any]:
    return {
        "strategy": strategy,
        "title": title,
        "changes": changes,
        "unexplained_changes": unexplained,
        "mean_days_between_changes": mean,
        "median_days_between_changes": median,
        "min_days_between_changes": minimum,
        "current_version": current,
        "current_version_age_days": age,
        "changes_per_month": per_month,
        "unstable": unstable,
    }


# Over R (273 days): brand-refresh changes after 29.9, 30, 40 and 100 days (one without a reason); v5 (2026-09-17
# 07:36) is in force on 2026-10-01, 13 days 16 h 24 min later. 4 / (273 / 30.4375) = 0.44597.
BRAND_R = strategy_row("brand-refresh", "Brand refresh", 4, 1, 49.975, 35.0, 29.9, 5, 13.6833, 0.446, True)
# growth-2026 changes after 70 days (from v1, before R), 30 days (reason "") and 90.5 days (reason "   "); v4
# (2026-05-10 22:00) is 143 days 2 h old on 2026-10-01. 3 / (273 / 30.4375) = 0.33448.
GROWTH_R = strategy_row("growth-2026", "Growth 2026", 3, 2, 63.5, 70.0, 30.0, 4, 143.0833, 0.3345, False)


def series_row(period: str, strategy: str, changes: int, unexplained: int) -> dict[str, Any]:
    return {"period_start": period, "strategy": strategy, "changes": changes, "unexplained_changes": unexplained}


def answer(rows: list[dict[str, Any]], series: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    body = {
        "from": R_FROM,
        "to": R_TO,
        "tz": "UTC",
        "bucket": "none",
        "min_stable_days": 30.0,
        # D1 D3 D4 D5 D6 D8 D10 name a strategy, D2 D7 D9 D11 do not.
        "decisions": 11,
        "decisions_with_strategy": 7,
        "strategy_usage": 0.6364,
    }
    return {**body, **top, "rows": rows, "series": series}


async def test_strategy_changes_over_range_are_exact(client, dataset):
    body = await get_json(client, CHANGES, **R)

    assert body == answer([BRAND_R, GROWTH_R], [])


SERIES_R = {
    "month": [
        series_row("2026-01-01", "growth-2026", 1, 0),
        series_row("2026-02-01", "growth-2026", 1, 1),
        series_row("2026-03-01", "brand-refresh", 1, 0),
        series_row("2026-04-01", "brand-refresh", 1, 0),
        series_row("2026-05-01", "growth-2026", 1, 1),
        series_row("2026-06-01", "brand-refresh", 1, 1),
        series_row("2026-09-01", "brand-refresh", 1, 0),
    ],
    "quarter": [
        series_row("2026-01-01", "brand-refresh", 1, 0),
        series_row("2026-01-01", "growth-2026", 2, 1),
        series_row("2026-04-01", "brand-refresh", 2, 1),
        series_row("2026-04-01", "growth-2026", 1, 1),
        series_row("2026-07-01", "brand-refresh", 1, 0),
    ],
    "year": [
        series_row("2026-01-01", "brand-refresh", 4, 1),
        series_row("2026-01-01", "growth-2026", 3, 2),
    ],
    "week": [
        series_row("2026-01-05", "growth-2026", 1, 0),  # Saturday 2026-01-10
        series_row("2026-02-09", "growth-2026", 1, 1),  # Monday 2026-02-09
        series_row("2026-03-30", "brand-refresh", 1, 0),  # Tuesday 2026-03-31
        series_row("2026-04-27", "brand-refresh", 1, 0),  # Thursday 2026-04-30
        series_row("2026-05-04", "growth-2026", 1, 1),  # Sunday 2026-05-10 22:00
        series_row("2026-06-08", "brand-refresh", 1, 1),  # Tuesday 2026-06-09
        series_row("2026-09-14", "brand-refresh", 1, 0),  # Thursday 2026-09-17
    ],
}


@pytest.mark.parametrize("bucket", ["week", "month", "quarter", "year"])
async def test_strategy_changes_series_per_bucket_and_strategy(client, dataset, bucket):
    body = await get_json(client, CHANGES, **R, bucket=bucket)

    assert body == answer([BRAND_R, GROWTH_R], SERIES_R[bucket], bucket=bucket)


async def test_strategy_changes_current_version_at_past_to_and_even_median(client, dataset):
    body = await get_json(client, CHANGES, **{"from": "2026-01-01", "to": "2026-03-01"})

    # growth-2026: v2 (70 days after v1, which lies before `from`) and v3 (30 days, reason ""): median of two =
    # mean = 50. v3 (2026-02-09 10:00) is in force at `to`, 19 days 14 h old. 2 / (59 / 30.4375) = 1.03178.
    # brand-refresh had no version in force before `to` (its v1 is 2026-03-01 10:00): no row.
    assert body == {
        "from": "2026-01-01T00:00:00.000000Z",
        "to": "2026-03-01T00:00:00.000000Z",
        "tz": "UTC",
        "bucket": "none",
        "min_stable_days": 30.0,
        "decisions": 3,  # D1, D2, D3
        "decisions_with_strategy": 2,  # D1, D3
        "strategy_usage": 0.6667,
        "rows": [strategy_row("growth-2026", "Growth 2026", 2, 1, 50.0, 50.0, 30.0, 3, 19.5833, 1.0318, False)],
        "series": [],
    }


async def test_strategy_changes_to_in_past_midway(client, dataset):
    body = await get_json(client, CHANGES, **{"from": "2026-01-01", "to": "2026-06-01"})

    # 151 days. brand-refresh: v2 (29.9 days) and v3 (30 days); v3 (2026-04-30 07:36) is 31 days 16 h 24 min old.
    # growth-2026: v2, v3, v4; v4 (2026-05-10 22:00) is 21 days 2 h old.
    assert body["rows"] == [
        strategy_row("brand-refresh", "Brand refresh", 2, 0, 29.95, 29.95, 29.9, 3, 31.6833, 0.4031, True),
        strategy_row("growth-2026", "Growth 2026", 3, 2, 63.5, 70.0, 30.0, 4, 21.0833, 0.6047, False),
    ]


async def test_strategy_changes_version_in_force_exactly_at_to(client, dataset):
    body = await get_json(client, CHANGES, **{"from": "2026-01-01", "to": "2026-02-09T10:00:00Z"})

    # v3 takes effect exactly at `to`: it is the version in force at `to` (age 0), but its change lies outside
    # [from, to). 39 days 10 h in range.
    assert body["rows"] == [
        strategy_row("growth-2026", "Growth 2026", 1, 0, 70.0, 70.0, 70.0, 3, 0.0, 0.7722, False),
    ]


async def test_strategy_changes_range_after_the_last_change_has_no_changes(client, dataset):
    body = await get_json(client, CHANGES, **{"from": "2026-09-18", "to": "2026-10-01"})

    assert body["rows"] == [
        strategy_row("brand-refresh", "Brand refresh", 0, 0, None, None, None, 5, 13.6833, 0.0, False),
        strategy_row("growth-2026", "Growth 2026", 0, 0, None, None, None, 4, 143.0833, 0.0, False),
    ]
    assert (body["decisions"], body["decisions_with_strategy"], body["strategy_usage"]) == (1, 0, 0.0)  # D11


async def test_strategy_changes_empty_range_has_null_usage(client, dataset):
    body = await get_json(client, CHANGES, **{"from": "2025-11-02", "to": "2025-12-01"})

    # growth-2026's v1 (2025-11-01 10:00) is in force, 29 days 14 h old; no decision in range.
    assert body["rows"] == [strategy_row("growth-2026", "Growth 2026", 0, 0, None, None, None, 1, 29.5833, 0.0, False)]
    assert (body["decisions"], body["decisions_with_strategy"], body["strategy_usage"]) == (0, 0, None)


async def test_strategy_changes_without_from_start_at_first_activity(client, dataset):
    plain = await get_json(client, CHANGES, to="2026-10-01")
    monthly = await get_json(client, CHANGES, to="2026-10-01", bucket="month")

    # The first activity is growth-2026's v1 (2025-11-01 10:00), before the first decision (D0, 2025-12-31).
    assert plain["from"] == "2025-11-01T10:00:00.000000Z"
    assert monthly["from"] == "2025-11-01T00:00:00.000000Z"
    assert [r["changes"] for r in plain["rows"]] == [4, 3]
    assert (plain["decisions"], plain["decisions_with_strategy"]) == (12, 7)  # D0-D11


@pytest.fixture
def min_stable_days(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set the DECISION_LOG_STRATEGY_MIN_STABLE_DAYS setting (as parsed from the environment) for one test."""

    def set_(value: str) -> None:
        monkeypatch.setenv("DECISION_LOG_STRATEGY_MIN_STABLE_DAYS", value)
        parsed = Settings().strategy_min_stable_days
        monkeypatch.setattr(get_settings(), "strategy_min_stable_days", parsed)

    yield set_


@pytest.mark.parametrize(
    ("threshold", "brand_unstable", "growth_unstable"),
    [
        ("30", True, False),  # 29.9 days < 30; 30 days exactly is stable
        ("29.9", False, False),  # 29.9 days is not less than 29.9
        ("30.0001", True, True),  # 30 days < 30.0001
        ("1", False, False),
    ],
)
async def test_strategy_changes_unstable_threshold_from_settings(
    client, dataset, min_stable_days, threshold, brand_unstable, growth_unstable
):
    min_stable_days(threshold)

    body = await get_json(client, CHANGES, **R)

    assert body["min_stable_days"] == float(threshold)
    assert [(r["strategy"], r["unstable"]) for r in body["rows"]] == [
        ("brand-refresh", brand_unstable),
        ("growth-2026", growth_unstable),
    ]


async def test_strategy_changes_default_threshold_is_30_days(client, dataset):
    assert "DECISION_LOG_STRATEGY_MIN_STABLE_DAYS" not in os.environ
    body = await get_json(client, CHANGES, **R)

    assert body["min_stable_days"] == 30.0


async def test_strategy_without_versions_and_with_one_version(client):
    await factories.strategy(client, "retention", title="Retention")
    await factories.strategy(client, "solo", title="Solo")
    await factories.version(client, "solo", effective_from="2026-02-01T00:00:00Z", summary="Only version")

    before = datetime.now(UTC)
    body = await get_json(client, CHANGES, **{"from": "2026-01-01"})
    after = datetime.now(UTC)

    retention, solo = body["rows"]
    assert retention == strategy_row("retention", "Retention", 0, 0, None, None, None, None, None, 0.0, False)
    age = solo.pop("current_version_age_days")
    expected_solo = strategy_row("solo", "Solo", 0, 0, None, None, None, 1, None, 0.0, False)
    del expected_solo["current_version_age_days"]
    assert solo == expected_solo
    # In force since 2026-02-01, measured at `to` (now, since `to` defaults to now).
    low = (before - datetime(2026, 2, 1, tzinfo=UTC)).total_seconds() / 86400
    high = (after - datetime(2026, 2, 1, tzinfo=UTC)).total_seconds() / 86400
    assert round(low, 4) - 0.0001 <= age <= round(high, 4) + 0.0001
    assert (body["decisions"], body["decisions_with_strategy"], body["strategy_usage"]) == (0, 0, None)


@pytest.mark.parametrize(("threshold", "unstable"), [("29.9", False), ("29.9001", True)])
async def test_strategy_changes_interval_equal_to_fractional_threshold_is_stable(
    client, min_stable_days, threshold, unstable
):
    # 29.9 days (29 days 21 h 36 min) between two versions: at the threshold itself the strategy is stable, on both
    # engines (SQLite's julianday difference for this pair is 29.899999999906868 unless rounded to milliseconds).
    await factories.strategy(client, "flip", title="Flip")
    await factories.version(client, "flip", effective_from="2026-01-01T00:00:00Z", summary="v1")
    await factories.version(client, "flip", effective_from="2026-01-30T21:36:00Z", summary="v2", change_reason="Why")
    min_stable_days(threshold)

    body = await get_json(client, CHANGES, **{"from": "2026-01-01", "to": "2026-02-01"})

    assert body["rows"] == [strategy_row("flip", "Flip", 1, 0, 29.9, 29.9, 29.9, 2, 1.1, 0.9819, unstable)]
