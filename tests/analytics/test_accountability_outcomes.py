"""GET /v1/analytics/accountability (per owner: classes, reviews done, due and overdue, reversals) and
GET /v1/analytics/outcomes (per basis class: review results and success_rate)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.analytics.dataset import R_FROM, R_TO, R, get_json

ACCOUNTABILITY = "/v1/analytics/accountability"
OUTCOMES = "/v1/analytics/outcomes"


def owner_row(
    owner: str,
    decisions: int,
    data: int,
    emotion: int,
    unsupported: int,
    data_share: float | None,
    emotion_share: float | None,
    reviewed: int,
    due: int,
    overdue: int,
    reversed_: int,
    reversal_rate: float | None,
    role: str | None = "member",
    directed: int = 0,
    directed_emotion_share: float | None = None,
) -> dict[str, Any]:
    return {
        "owner": owner,
        "decisions": decisions,
        "data": data,
        "emotion": emotion,
        "emotion_unsupported": unsupported,
        "data_share": data_share,
        "emotion_share": emotion_share,
        "reviewed": reviewed,
        "reviews_due": due,
        "overdue_reviews": overdue,
        "reversed": reversed_,
        "reversal_rate": reversal_rate,
        "role": role,
        "directed": directed,
        "directed_emotion_share": directed_emotion_share,
    }


def outcome_row(
    basis_class: str,
    decisions: int,
    reviewed: int,
    success: int,
    partial: int,
    failure: int,
    inconclusive: int,
    success_rate: float | None,
    measured: tuple[int, int, int] = (0, 0, 0),
) -> dict[str, Any]:
    """``measured``: target_met, target_missed, success_with_target_missed (the data set states no targets)."""
    return {
        "basis_class": basis_class,
        "decisions": decisions,
        "reviewed": reviewed,
        "success": success,
        "partial": partial,
        "failure": failure,
        "inconclusive": inconclusive,
        "success_rate": success_rate,
        "target_met": measured[0],
        "target_missed": measured[1],
        "success_with_target_missed": measured[2],
    }


# ---------------------------------------------------------------------------------------------
# Accountability
# ---------------------------------------------------------------------------------------------


async def test_accountability_per_owner_is_exact(client, dataset):
    body = await get_json(client, ACCOUNTABILITY, **R)

    assert body == {
        "from": R_FROM,
        "to": R_TO,
        "tz": "UTC",
        "rows": [
            # D1 D2 D6 D7 D8. Reviewed D1, D6. Due by 2026-10-01: D1 (reviewed), D2 (not: overdue); D8 is due in
            # 2099. D6 reversed and D7 superseded both count as reversed.
            owner_row("anna.petrova", 5, 3, 2, 0, 0.6, 0.4, 2, 2, 1, 2, 0.4),
            # D3 D4 D9 D11. Reviewed D3, D4, D9; due D9 (reviewed).
            owner_row("boris.ivanov", 4, 1, 3, 2, 0.25, 0.75, 3, 1, 0, 0, 0.0),
            # D5 D10. Reviewed both; due D5 (reviewed, inconclusive).
            owner_row("vera.orlova", 2, 1, 1, 0, 0.5, 0.5, 2, 1, 0, 0, 0.0),
        ],
    }


@pytest.mark.parametrize(
    ("to", "anna"),
    [
        # At 2026-02-15 only D1's review (by 2026-02-01) is due, and it was recorded.
        ("2026-02-15", owner_row("anna.petrova", 2, 1, 1, 0, 0.5, 0.5, 1, 1, 0, 0, 0.0)),
        # At 2026-03-02 D2's review (by 2026-03-01) is due too, and missing.
        ("2026-03-02", owner_row("anna.petrova", 2, 1, 1, 0, 0.5, 0.5, 1, 2, 1, 0, 0.0)),
    ],
)
async def test_accountability_reviews_due_at_to_when_to_is_past(client, dataset, to, anna):
    body = await get_json(client, ACCOUNTABILITY, **{"from": "2026-01-01", "to": to})

    assert body["rows"] == [anna, owner_row("boris.ivanov", 1, 0, 1, 1, 0.0, 1.0, 1, 0, 0, 0, 0.0)]  # D3


async def test_accountability_with_to_ahead_counts_reviews_due_by_now(client, dataset):
    body = await get_json(client, ACCOUNTABILITY, **{"from": "2026-01-01", "to": "2100-01-01"})

    # D12 (anna, 2026-10-01) joins; D8's review is due only in 2099, after now.
    assert body["rows"][0] == owner_row("anna.petrova", 6, 4, 2, 0, 0.6667, 0.3333, 2, 2, 1, 2, 0.3333)


async def test_accountability_filters(client, dataset):
    body = await get_json(client, ACCOUNTABILITY, **R, basis_class="data")
    boris = await get_json(client, ACCOUNTABILITY, **R, owner="boris.ivanov")

    assert body["rows"] == [
        owner_row("anna.petrova", 3, 3, 0, 0, 1.0, 0.0, 2, 1, 0, 1, 0.3333),  # D1 D6 D8
        owner_row("boris.ivanov", 1, 1, 0, 0, 1.0, 0.0, 1, 0, 0, 0, 0.0),  # D4
        owner_row("vera.orlova", 1, 1, 0, 0, 1.0, 0.0, 1, 0, 0, 0, 0.0),  # D10
    ]
    assert boris["rows"] == [owner_row("boris.ivanov", 4, 1, 3, 2, 0.25, 0.75, 3, 1, 0, 0, 0.0)]


async def test_accountability_empty_range_has_no_rows(client, dataset):
    body = await get_json(client, ACCOUNTABILITY, **{"from": "2024-01-01", "to": "2025-01-01"})

    assert body == {"from": "2024-01-01T00:00:00.000000Z", "to": "2025-01-01T00:00:00.000000Z", "tz": "UTC", "rows": []}


# ---------------------------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------------------------


async def test_outcomes_per_basis_class_are_exact(client, dataset):
    body = await get_json(client, OUTCOMES, **R)

    assert body == {
        "from": R_FROM,
        "to": R_TO,
        "tz": "UTC",
        "rows": [
            # D1 success, D4 partial, D6 success (reversed, still reviewed), D8 -, D10 success: 3 / 4.
            outcome_row("data", 5, 4, 3, 1, 0, 0, 0.75),
            # D2 -, D3 failure, D5 inconclusive, D7 -, D9 failure, D11 -: 0 / (3 - 1).
            outcome_row("emotion", 6, 3, 0, 0, 2, 1, 0.0),
        ],
    }


async def test_outcomes_success_rate_is_null_when_only_inconclusive_reviews(client, dataset):
    body = await get_json(client, OUTCOMES, **R, owner="vera.orlova")

    assert body["rows"] == [
        outcome_row("data", 1, 1, 1, 0, 0, 0, 1.0),  # D10
        outcome_row("emotion", 1, 1, 0, 0, 0, 1, None),  # D5: reviewed - inconclusive = 0
    ]


async def test_outcomes_success_rate_is_null_without_reviews(client, dataset):
    body = await get_json(client, OUTCOMES, **R, owner="anna.petrova")

    assert body["rows"] == [
        outcome_row("data", 3, 2, 2, 0, 0, 0, 1.0),  # D1, D6 success; D8 not reviewed
        outcome_row("emotion", 2, 0, 0, 0, 0, 0, None),  # D2, D7
    ]


async def test_outcomes_empty_range_has_both_classes_with_zeros(client, dataset):
    body = await get_json(client, OUTCOMES, **{"from": "2024-01-01", "to": "2025-01-01"})

    assert body["rows"] == [outcome_row("data", 0, 0, 0, 0, 0, 0, None), outcome_row("emotion", 0, 0, 0, 0, 0, 0, None)]
