"""GET /v1/analytics/basis: exact figures on the fixed data set, every bucket and grouping, budgets, filters and
the edge cases (empty ranges, bucket boundaries, data claims without evidence, reversed decisions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests import factories
from tests.analytics.dataset import R_FROM, R_TO, R, basis_row, empty_row, get_json

BASIS = "/v1/analytics/basis"


def rows(*specs: tuple[Any, ...]) -> list[dict[str, Any]]:
    """``(period, group, total, data, emotion, unsupported, data_share, emotion_share)`` tuples as rows."""
    return [basis_row(*spec) for spec in specs]


# Hand-counted from the data set over R = [2026-01-01, 2026-10-01).
ALL_R = ("total", 11, 5, 6, 2, 0.4545, 0.5455)
MONTHS_R = rows(
    ("2026-01-01", None, 2, 1, 1, 0, 0.5, 0.5),  # D1 data, D2 intuition
    ("2026-02-01", None, 1, 0, 1, 1, 0.0, 1.0),  # D3 data claim without evidence
    ("2026-03-01", None, 1, 1, 0, 0, 1.0, 0.0),  # D4 at 23:59:59.999999 on Mar 31
    ("2026-04-01", None, 2, 1, 1, 0, 0.5, 0.5),  # D5 at 00:00 on Apr 1, D6 (reversed)
    ("2026-05-01", None, 2, 1, 1, 0, 0.5, 0.5),  # D7 (superseded), D8
    ("2026-06-01", None, 1, 0, 1, 1, 0.0, 1.0),  # D9 data claim without evidence
    ("2026-07-01", None, 0, 0, 0, 0, None, None),  # empty month: zero-filled
    ("2026-08-01", None, 1, 1, 0, 0, 1.0, 0.0),  # D10
    ("2026-09-01", None, 1, 0, 1, 0, 0.0, 1.0),  # D11 at 23:59:59.999999 on Sep 30
)
QUARTERS_R = rows(
    ("2026-01-01", None, 4, 2, 2, 1, 0.5, 0.5),  # D1-D4
    ("2026-04-01", None, 5, 2, 3, 1, 0.4, 0.6),  # D5-D9
    ("2026-07-01", None, 2, 1, 1, 0, 0.5, 0.5),  # D10, D11
)
YEARS_R = rows(("2026-01-01", None, 11, 5, 6, 2, 0.4545, 0.5455))
NONE_R = rows((None, None, 11, 5, 6, 2, 0.4545, 0.5455))
# ISO weeks (Monday) holding a decision; every other week of R is zero-filled.
WEEKS_R_NONEMPTY = {
    "2026-01-05": (1, 1, 0, 0, 1.0, 0.0),  # D1, a Monday
    "2026-01-19": (1, 0, 1, 0, 0.0, 1.0),  # D2
    "2026-02-09": (1, 0, 1, 1, 0.0, 1.0),  # D3 (a Saturday)
    "2026-03-30": (2, 1, 1, 0, 0.5, 0.5),  # D4 (Tue Mar 31) and D5 (Wed Apr 1): one week, two months
    "2026-04-13": (1, 1, 0, 0, 1.0, 0.0),  # D6
    "2026-05-11": (1, 0, 1, 0, 0.0, 1.0),  # D7, Sunday 23:59
    "2026-05-18": (1, 1, 0, 0, 1.0, 0.0),  # D8, Monday 00:00
    "2026-06-29": (1, 0, 1, 1, 0.0, 1.0),  # D9
    "2026-08-03": (1, 1, 0, 0, 1.0, 0.0),  # D10
    "2026-09-28": (1, 0, 1, 0, 0.0, 1.0),  # D11
}


def weeks_r() -> list[dict[str, Any]]:
    # R starts on Thursday 2026-01-01, in the ISO week that began on Monday 2025-12-29; it ends in the week of
    # Monday 2026-09-28: 40 weeks.
    mondays = [date(2025, 12, 29) + timedelta(weeks=n) for n in range(40)]
    assert mondays[-1] == date(2026, 9, 28)
    out = []
    for monday in mondays:
        day = monday.isoformat()
        out.append(basis_row(day, None, *WEEKS_R_NONEMPTY[day]) if day in WEEKS_R_NONEMPTY else empty_row(day))
    return out


def answer(rows_: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    body = {
        "from": R_FROM,
        "to": R_TO,
        "tz": "UTC",
        "bucket": "month",
        "group_by": "none",
        "weight": "count",
        "currency": None,
    }
    return {**body, **top, "rows": rows_}


# ---------------------------------------------------------------------------------------------
# Buckets, not grouped: every bucket of the range appears
# ---------------------------------------------------------------------------------------------


async def test_basis_month_buckets_are_exact_and_zero_filled(client, dataset):
    body = await get_json(client, BASIS, **R, bucket="month")

    assert body == answer(MONTHS_R, bucket="month")


async def test_basis_default_bucket_is_month(client, dataset):
    body = await get_json(client, BASIS, **R)

    assert body == answer(MONTHS_R, bucket="month")


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [("none", NONE_R), ("year", YEARS_R), ("quarter", QUARTERS_R), ("month", MONTHS_R), ("week", None)],
)
async def test_basis_every_bucket_gives_exact_figures(client, dataset, bucket, expected):
    body = await get_json(client, BASIS, **R, bucket=bucket)

    assert body == answer(expected if expected is not None else weeks_r(), bucket=bucket)


async def test_basis_counts_reversed_and_superseded_decisions(client, dataset):
    reversed_ = await get_json(client, BASIS, **R, bucket="none", status="reversed")
    superseded = await get_json(client, BASIS, **R, bucket="none", status="superseded")
    active = await get_json(client, BASIS, **R, bucket="none", status="active")

    assert reversed_["rows"] == rows((None, None, 1, 1, 0, 0, 1.0, 0.0))  # D6
    assert superseded["rows"] == rows((None, None, 1, 0, 1, 0, 0.0, 1.0))  # D7
    assert active["rows"] == rows((None, None, 9, 4, 5, 2, 0.4444, 0.5556))


async def test_basis_data_claim_without_evidence_is_emotion_shown_apart(client, dataset):
    body = await get_json(client, BASIS, **R, bucket="none", basis="data")

    # D1, D8, D10 cite evidence; D3 and D9 claim data without any.
    assert body["rows"] == rows((None, None, 5, 3, 2, 2, 0.6, 0.4))


# ---------------------------------------------------------------------------------------------
# Grouping
# ---------------------------------------------------------------------------------------------

GROUPS_R = {
    "owner": rows(
        (None, "anna.petrova", 5, 3, 2, 0, 0.6, 0.4),
        (None, "boris.ivanov", 4, 1, 3, 2, 0.25, 0.75),
        (None, "vera.orlova", 2, 1, 1, 0, 0.5, 0.5),
    ),
    "team": rows(
        (None, "=ops", 2, 1, 1, 0, 0.5, 0.5),
        (None, "brand", 4, 1, 3, 2, 0.25, 0.75),
        (None, "growth", 5, 3, 2, 0, 0.6, 0.4),
    ),
    "channel": rows(
        (None, "email", 3, 1, 2, 0, 0.3333, 0.6667),
        (None, "paid_search", 3, 2, 1, 1, 0.6667, 0.3333),
        (None, "seo", 2, 1, 1, 0, 0.5, 0.5),
        (None, "social", 2, 1, 1, 0, 0.5, 0.5),
        (None, None, 1, 0, 1, 1, 0.0, 1.0),  # D9 has no channel: its group is null, last
    ),
    "category": rows(
        (None, "budget", 3, 2, 1, 0, 0.6667, 0.3333),
        (None, "channel_mix", 1, 0, 1, 1, 0.0, 1.0),
        (None, "creative", 3, 1, 2, 0, 0.3333, 0.6667),
        (None, "other", 1, 0, 1, 1, 0.0, 1.0),
        (None, "positioning", 1, 1, 0, 0, 1.0, 0.0),
        (None, "pricing", 1, 1, 0, 0, 1.0, 0.0),
        (None, "targeting", 1, 0, 1, 0, 0.0, 1.0),
    ),
    "strategy": rows(
        (None, "brand-refresh", 3, 1, 2, 1, 0.3333, 0.6667),
        (None, "growth-2026", 4, 4, 0, 0, 1.0, 0.0),
        (None, None, 4, 0, 4, 1, 0.0, 1.0),  # no strategy named
    ),
}


@pytest.mark.parametrize("group_by", ["owner", "team", "channel", "category", "strategy"])
async def test_basis_every_group_by_gives_exact_figures(client, dataset, group_by):
    body = await get_json(client, BASIS, **R, bucket="none", group_by=group_by)

    assert body == answer(GROUPS_R[group_by], bucket="none", group_by=group_by)


async def test_basis_group_by_none_is_one_row(client, dataset):
    body = await get_json(client, BASIS, **R, bucket="none", group_by="none")

    assert body == answer(NONE_R, bucket="none", group_by="none")


BUCKET_AND_GROUP = {
    ("month", "owner"): rows(
        ("2026-01-01", "anna.petrova", 2, 1, 1, 0, 0.5, 0.5),
        ("2026-02-01", "boris.ivanov", 1, 0, 1, 1, 0.0, 1.0),
        ("2026-03-01", "boris.ivanov", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-04-01", "anna.petrova", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-04-01", "vera.orlova", 1, 0, 1, 0, 0.0, 1.0),
        ("2026-05-01", "anna.petrova", 2, 1, 1, 0, 0.5, 0.5),
        ("2026-06-01", "boris.ivanov", 1, 0, 1, 1, 0.0, 1.0),
        ("2026-08-01", "vera.orlova", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-09-01", "boris.ivanov", 1, 0, 1, 0, 0.0, 1.0),
    ),
    ("quarter", "strategy"): rows(
        ("2026-01-01", "brand-refresh", 1, 0, 1, 1, 0.0, 1.0),
        ("2026-01-01", "growth-2026", 2, 2, 0, 0, 1.0, 0.0),
        ("2026-01-01", None, 1, 0, 1, 0, 0.0, 1.0),
        ("2026-04-01", "brand-refresh", 1, 0, 1, 0, 0.0, 1.0),
        ("2026-04-01", "growth-2026", 2, 2, 0, 0, 1.0, 0.0),
        ("2026-04-01", None, 2, 0, 2, 1, 0.0, 1.0),
        ("2026-07-01", "brand-refresh", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-07-01", None, 1, 0, 1, 0, 0.0, 1.0),
    ),
    ("year", "team"): rows(
        ("2026-01-01", "=ops", 2, 1, 1, 0, 0.5, 0.5),
        ("2026-01-01", "brand", 4, 1, 3, 2, 0.25, 0.75),
        ("2026-01-01", "growth", 5, 3, 2, 0, 0.6, 0.4),
    ),
    ("week", "channel"): rows(
        ("2026-01-05", "paid_search", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-01-19", "email", 1, 0, 1, 0, 0.0, 1.0),
        ("2026-02-09", "paid_search", 1, 0, 1, 1, 0.0, 1.0),
        ("2026-03-30", "seo", 2, 1, 1, 0, 0.5, 0.5),
        ("2026-04-13", "paid_search", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-05-11", "email", 1, 0, 1, 0, 0.0, 1.0),
        ("2026-05-18", "email", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-06-29", None, 1, 0, 1, 1, 0.0, 1.0),
        ("2026-08-03", "social", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-09-28", "social", 1, 0, 1, 0, 0.0, 1.0),
    ),
    ("month", "category"): rows(
        ("2026-01-01", "budget", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-01-01", "creative", 1, 0, 1, 0, 0.0, 1.0),
        ("2026-02-01", "channel_mix", 1, 0, 1, 1, 0.0, 1.0),
        ("2026-03-01", "positioning", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-04-01", "budget", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-04-01", "targeting", 1, 0, 1, 0, 0.0, 1.0),
        ("2026-05-01", "creative", 2, 1, 1, 0, 0.5, 0.5),
        ("2026-06-01", "other", 1, 0, 1, 1, 0.0, 1.0),
        ("2026-08-01", "pricing", 1, 1, 0, 0, 1.0, 0.0),
        ("2026-09-01", "budget", 1, 0, 1, 0, 0.0, 1.0),
    ),
}


@pytest.mark.parametrize(("bucket", "group_by"), list(BUCKET_AND_GROUP))
async def test_basis_bucket_and_group_give_only_non_empty_rows(client, dataset, bucket, group_by):
    body = await get_json(client, BASIS, **R, bucket=bucket, group_by=group_by)

    assert body == answer(BUCKET_AND_GROUP[bucket, group_by], bucket=bucket, group_by=group_by)


# ---------------------------------------------------------------------------------------------
# weight=budget: only the asked currency, no conversion
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "expected"),
    [
        # D1 1000.10 + D8 700.50 + D10 250 on data; D2 500 + D5 3000 on emotion.
        ("EUR", (5450.6, 1950.6, 3500, 0, 0.3579, 0.6421)),
        # D6 1500 on data; D3 2000.20 a data claim without evidence.
        ("USD", (3500.2, 1500, 2000.2, 2000.2, 0.4285, 0.5715)),
        ("GBP", (400, 0, 400, 0, 0.0, 1.0)),  # D11
        ("JPY", (0, 0, 0, 0, None, None)),  # nothing in yen: total 0, null shares
    ],
)
async def test_basis_budget_weight_sums_only_the_asked_currency(client, dataset, currency, expected):
    body = await get_json(client, BASIS, **R, bucket="none", weight="budget", currency=currency)

    assert body == answer(rows((None, None, *expected)), bucket="none", weight="budget", currency=currency)


async def test_basis_budget_weight_by_month_zero_fills_months_without_that_currency(client, dataset):
    body = await get_json(client, BASIS, **R, bucket="month", weight="budget", currency="EUR")

    assert body["rows"] == rows(
        ("2026-01-01", None, 1500.1, 1000.1, 500, 0, 0.6667, 0.3333),  # D1, D2
        ("2026-02-01", None, 0, 0, 0, 0, None, None),  # D3 is in USD
        ("2026-03-01", None, 0, 0, 0, 0, None, None),  # D4 has no budget
        ("2026-04-01", None, 3000, 0, 3000, 0, 0.0, 1.0),  # D5 (D6 is in USD)
        ("2026-05-01", None, 700.5, 700.5, 0, 0, 1.0, 0.0),  # D8
        ("2026-06-01", None, 0, 0, 0, 0, None, None),
        ("2026-07-01", None, 0, 0, 0, 0, None, None),
        ("2026-08-01", None, 250, 250, 0, 0, 1.0, 0.0),  # D10
        ("2026-09-01", None, 0, 0, 0, 0, None, None),  # D11 is in GBP
    )


@pytest.mark.parametrize(
    ("currency", "expected"),
    [
        (
            "EUR",
            rows(
                (None, "anna.petrova", 2200.6, 1700.6, 500, 0, 0.7728, 0.2272),
                (None, "vera.orlova", 3250, 250, 3000, 0, 0.0769, 0.9231),
            ),
        ),
        (
            "USD",
            rows(
                (None, "anna.petrova", 1500, 1500, 0, 0, 1.0, 0.0),
                (None, "boris.ivanov", 2000.2, 0, 2000.2, 2000.2, 0.0, 1.0),
            ),
        ),
    ],
)
async def test_basis_budget_weight_grouped_by_owner(client, dataset, currency, expected):
    body = await get_json(client, BASIS, **R, bucket="none", group_by="owner", weight="budget", currency=currency)

    assert body["rows"] == expected


async def test_basis_budget_weight_figures_are_json_numbers(client, dataset):
    body = await get_json(client, BASIS, **R, bucket="none", weight="budget", currency="EUR")

    row = body["rows"][0]
    assert all(isinstance(row[k], int | float) and not isinstance(row[k], bool) for k in ("total", "data", "emotion"))


# ---------------------------------------------------------------------------------------------
# Decision filters
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"owner": "anna.petrova"}, (5, 3, 2, 0, 0.6, 0.4)),
        ({"team": "brand"}, (4, 1, 3, 2, 0.25, 0.75)),
        ({"channel": "seo"}, (2, 1, 1, 0, 0.5, 0.5)),
        ({"category": "creative"}, (3, 1, 2, 0, 0.3333, 0.6667)),
        ({"basis_class": "emotion"}, (6, 0, 6, 2, 0.0, 1.0)),
        ({"basis_class": "data"}, (5, 5, 0, 0, 1.0, 0.0)),
        ({"tag": "q1"}, (2, 2, 0, 0, 1.0, 0.0)),  # D1, D4
        ({"tag": "seo"}, (1, 1, 0, 0, 1.0, 0.0)),  # D4
        ({"strategy": "growth-2026"}, (4, 4, 0, 0, 1.0, 0.0)),
        ({"strategy": "brand-refresh"}, (3, 1, 2, 1, 0.3333, 0.6667)),
        ({"kpi": "cpa"}, (3, 3, 0, 0, 1.0, 0.0)),  # D1, D4, D6
        ({"kpi": "revenue"}, (3, 2, 1, 1, 0.6667, 0.3333)),  # D3, D4, D10
        ({"owner": "boris.ivanov", "channel": "social"}, (1, 0, 1, 0, 0.0, 1.0)),  # D11
        ({"owner": "nobody"}, (0, 0, 0, 0, None, None)),
    ],
)
async def test_basis_filters_select_decisions(client, dataset, params, expected):
    body = await get_json(client, BASIS, **R, bucket="none", **params)

    assert body["rows"] == rows((None, None, *expected))


async def test_basis_filter_with_month_buckets_keeps_every_bucket(client, dataset):
    body = await get_json(client, BASIS, **R, bucket="month", owner="vera.orlova")

    expected = [empty_row(f"2026-{m:02d}-01") for m in range(1, 10)]
    expected[3] = basis_row("2026-04-01", None, 1, 0, 1, 0, 0.0, 1.0)  # D5
    expected[7] = basis_row("2026-08-01", None, 1, 1, 0, 0, 1.0, 0.0)  # D10
    assert body["rows"] == expected


# ---------------------------------------------------------------------------------------------
# Ranges: empty, partial buckets, boundaries, defaults
# ---------------------------------------------------------------------------------------------

EMPTY = {"from": "2024-01-01T00:00:00Z", "to": "2024-04-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("bucket", "periods"),
    [
        ("none", [None]),
        ("year", ["2024-01-01"]),
        ("quarter", ["2024-01-01"]),
        ("month", ["2024-01-01", "2024-02-01", "2024-03-01"]),
        # Monday 2024-01-01 to Monday 2024-04-01: 13 weeks.
        ("week", [(date(2024, 1, 1) + timedelta(weeks=n)).isoformat() for n in range(13)]),
    ],
)
async def test_basis_empty_range_zero_fills_every_bucket_with_null_shares(client, dataset, bucket, periods):
    body = await get_json(client, BASIS, **EMPTY, bucket=bucket)

    assert body == {
        "from": "2024-01-01T00:00:00.000000Z",
        "to": "2024-04-01T00:00:00.000000Z",
        "tz": "UTC",
        "bucket": bucket,
        "group_by": "none",
        "weight": "count",
        "currency": None,
        "rows": [empty_row(p) for p in periods],
    }


@pytest.mark.parametrize("group_by", ["owner", "team", "channel", "category", "strategy"])
async def test_basis_empty_range_grouped_has_no_rows(client, dataset, group_by):
    body = await get_json(client, BASIS, **EMPTY, bucket="month", group_by=group_by)

    assert body["rows"] == []


async def test_basis_on_empty_database_answers_zero_row(client):
    body = await get_json(client, BASIS, **R, bucket="none")

    assert body["rows"] == [empty_row(None)]


async def test_basis_partial_buckets_count_only_the_range(client, dataset):
    body = await get_json(client, BASIS, **{"from": "2026-01-15", "to": "2026-03-15"}, bucket="month")

    assert body["from"] == "2026-01-15T00:00:00.000000Z"
    assert body["rows"] == rows(
        ("2026-01-01", None, 1, 0, 1, 0, 0.0, 1.0),  # D2 only: D1 (Jan 5) lies before `from`
        ("2026-02-01", None, 1, 0, 1, 1, 0.0, 1.0),  # D3
        ("2026-03-01", None, 0, 0, 0, 0, None, None),  # D4 (Mar 31) lies after `to`
    )


async def test_basis_range_is_from_inclusive_to_exclusive(client, dataset):
    march = await get_json(client, BASIS, **{"from": "2026-03-01", "to": "2026-04-01"}, bucket="none")
    april_first = await get_json(client, BASIS, **{"from": "2026-04-01", "to": "2026-04-02"}, bucket="none")

    assert march["rows"] == rows((None, None, 1, 1, 0, 0, 1.0, 0.0))  # D4, not D5 (at `to`)
    assert april_first["rows"] == rows((None, None, 1, 0, 1, 0, 0.0, 1.0))  # D5 (at `from`)


BOUNDARY = {"from": "2026-03-31T23:59:59.999999Z", "to": "2026-04-01T00:00:00.000001Z"}


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        # D4 at 2026-03-31T23:59:59.999999Z is March / Q1; D5 at 2026-04-01T00:00:00Z is April / Q2.
        (
            "month",
            rows(("2026-03-01", None, 1, 1, 0, 0, 1.0, 0.0), ("2026-04-01", None, 1, 0, 1, 0, 0.0, 1.0)),
        ),
        (
            "quarter",
            rows(("2026-01-01", None, 1, 1, 0, 0, 1.0, 0.0), ("2026-04-01", None, 1, 0, 1, 0, 0.0, 1.0)),
        ),
        # Tuesday and Wednesday of one ISO week.
        ("week", rows(("2026-03-30", None, 2, 1, 1, 0, 0.5, 0.5))),
        ("year", rows(("2026-01-01", None, 2, 1, 1, 0, 0.5, 0.5))),
    ],
)
async def test_basis_decision_exactly_on_month_and_quarter_boundary(client, dataset, bucket, expected):
    body = await get_json(client, BASIS, **BOUNDARY, bucket=bucket)

    assert body["rows"] == expected


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        # D0 at 2025-12-31T23:59:59.999999Z (a Wednesday) and D1 on Monday 2026-01-05.
        ("year", rows(("2025-01-01", None, 1, 1, 0, 0, 1.0, 0.0), ("2026-01-01", None, 1, 1, 0, 0, 1.0, 0.0))),
        ("month", rows(("2025-12-01", None, 1, 1, 0, 0, 1.0, 0.0), ("2026-01-01", None, 1, 1, 0, 0, 1.0, 0.0))),
        # The ISO week of Thursday 2026-01-01 starts on Monday 2025-12-29, in the previous year.
        ("week", rows(("2025-12-29", None, 1, 1, 0, 0, 1.0, 0.0), ("2026-01-05", None, 1, 1, 0, 0, 1.0, 0.0))),
    ],
)
async def test_basis_year_boundary(client, dataset, bucket, expected):
    body = await get_json(client, BASIS, **{"from": "2025-12-31", "to": "2026-01-06"}, bucket=bucket)

    assert body["rows"] == expected


async def test_basis_sunday_night_and_monday_midnight_fall_in_different_iso_weeks(client, dataset):
    body = await get_json(client, BASIS, **{"from": "2026-05-17", "to": "2026-05-19"}, bucket="week")

    assert body["rows"] == rows(
        ("2026-05-11", None, 1, 0, 1, 0, 0.0, 1.0),  # D7, Sunday 2026-05-17 23:59
        ("2026-05-18", None, 1, 1, 0, 0, 1.0, 0.0),  # D8, Monday 2026-05-18 00:00
    )


async def test_basis_timestamps_with_other_zones_are_read_as_utc(client, dataset):
    # 2026-04-01T03:00+03:00 is 2026-04-01T00:00Z: D5 is in, D4 (a microsecond earlier) is not.
    body = await get_json(
        client, BASIS, **{"from": "2026-04-01T03:00:00+03:00", "to": "2026-04-01T12:00:00+10:00"}, bucket="month"
    )

    assert body["from"] == "2026-04-01T00:00:00.000000Z"
    assert body["to"] == "2026-04-01T02:00:00.000000Z"
    assert body["rows"] == rows(("2026-04-01", None, 1, 0, 1, 0, 0.0, 1.0))


async def test_basis_without_range_runs_from_the_first_decisions_bucket_to_now(client, dataset):
    before = datetime.now(UTC)
    body = await get_json(client, BASIS, bucket="month")
    after = datetime.now(UTC)

    assert body["from"] == "2025-12-01T00:00:00.000000Z"  # D0's month
    assert before <= datetime.fromisoformat(body["to"].replace("Z", "+00:00")) <= after
    assert body["rows"][:11] == [
        basis_row("2025-12-01", None, 1, 1, 0, 0, 1.0, 0.0),  # D0
        *MONTHS_R,
        basis_row("2026-10-01", None, 1, 1, 0, 0, 1.0, 0.0),  # D12
    ]
    assert body["rows"][11:] == [empty_row(r["period_start"]) for r in body["rows"][11:]]
    assert body["rows"][-1]["period_start"] == after.date().replace(day=1).isoformat()


async def test_basis_without_range_and_bucket_none_starts_at_the_first_decision(client, dataset):
    body = await get_json(client, BASIS, bucket="none")

    assert body["from"] == "2025-12-31T23:59:59.999999Z"
    assert body["rows"] == rows((None, None, 13, 7, 6, 2, 0.5385, 0.4615))


async def test_basis_without_from_and_a_filter_starts_at_the_first_matching_decision(client, dataset):
    body = await get_json(client, BASIS, bucket="week", owner="vera.orlova", to="2026-04-06")

    # vera's first decision is D5 on Wednesday 2026-04-01: the range starts on that ISO week's Monday.
    assert body["from"] == "2026-03-30T00:00:00.000000Z"
    assert body["rows"] == rows(("2026-03-30", None, 1, 0, 1, 0, 0.0, 1.0))


async def test_basis_follows_a_corrected_decision(client, dataset):
    # D3 (a data claim without evidence, February) is corrected: evidence added and decided two weeks later (still
    # before its outcome review of 2026-03-01T09:00, which it may not follow).
    await factories.edit(
        client, dataset["D3"], evidence=[{"source": "crm", "reference": "crm://q/3"}], decided_at="2026-03-01T08:00:00Z"
    )

    body = await get_json(client, BASIS, **{"from": "2026-02-01", "to": "2026-04-01"}, bucket="month")

    assert body["rows"] == rows(
        ("2026-02-01", None, 0, 0, 0, 0, None, None),
        ("2026-03-01", None, 2, 2, 0, 0, 1.0, 0.0),  # D3 now cites evidence, and D4
    )
