"""Decision quality analytics on a fixed data set: GET /v1/analytics/calibration, /overrides, /contradictions,
and the quality columns of /outcomes and /summary. Every figure below is worked out by hand in the comments."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.analytics.dataset import get_json, parse_csv

R = {"from": "2026-03-01", "to": "2026-04-01"}
EMOTION = {"basis": "intuition", "evidence": [], "owner": "boris.ivanov"}


async def _decide(client, name: str, at: str, **extra: Any) -> str:
    return (await factories.decision(client, title=name, decided_at=at, **extra))["id"]


def _rec(followed: bool) -> dict[str, Any]:
    return {"data_recommendation": {"option": "What the data said", "followed": followed}}


def _push(kpi: str, direction: str | None = None, target: float | None = None) -> dict[str, Any]:
    expected: dict[str, Any] = {"description": f"Move {kpi}", "kpi": kpi}
    if direction:
        expected["direction"] = direction
    if target is not None:
        expected["target_value"] = target
    return {"expected_outcome": expected}


@pytest.fixture
async def quality(client) -> dict[str, str]:
    await factories.basics(client)  # anna.petrova (growth), boris.ivanov (brand)
    await factories.kpi(client, "cpa", direction="decrease")
    await factories.kpi(client, "leads", kind="activity", direction="increase")
    ids: dict[str, str] = {}
    march = "2026-03-{:02d}T10:00:00Z".format
    # anna, class data. Forecasts: A1 (0.0, failure 0), A2 (1.0, success 1), A3 (0.9, partial 0.5), A6 (0.1, failure 0).
    ids["A1"] = await _decide(client, "A1", march(2), confidence=0.0, **_rec(True))
    ids["A2"] = await _decide(client, "A2", march(3), confidence=1.0, **_rec(True), **_push("leads", target=100))
    ids["A3"] = await _decide(client, "A3", march(4), confidence=0.9, **_rec(False))
    ids["A4"] = await _decide(client, "A4", march(5), confidence=0.1, **_rec(False))  # inconclusive: no forecast
    ids["A5"] = await _decide(client, "A5", march(10), confidence=0.7, **_push("cpa"))  # open: no forecast
    ids["A6"] = await _decide(client, "A6", march(6), confidence=0.1)
    # boris, class emotion. Forecasts: B1 (0.8, failure), B2 (0.95, failure), B3 (0.3, success).
    ids["B1"] = await _decide(
        client, "B1", march(7), confidence=0.8, **EMOTION, **_rec(False), **_push("cpa", target=40)
    )
    ids["B2"] = await _decide(client, "B2", march(8), confidence=0.95, **EMOTION, **_rec(False))
    ids["B3"] = await _decide(
        client, "B3", march(9), confidence=0.3, **EMOTION, **_rec(False), **_push("cpa", target=40)
    )
    ids["B4"] = await _decide(client, "B4", march(11), **EMOTION, **_rec(False))  # no confidence
    # Contradictions: A5 (cpa, the KPI's decrease) against C1 (increase); C2 (leads decrease) against C3 (increase,
    # 87 days later, outside the range); C4 lies 91 days before C2; R1 is reversed.
    ids["C1"] = await _decide(client, "C1", march(20), **EMOTION, **_push("cpa", "increase"))
    ids["C2"] = await _decide(client, "C2", march(25), **EMOTION, **_push("leads", "decrease"))
    ids["C3"] = await _decide(client, "C3", "2026-06-20T10:00:00Z", **_push("leads"))
    ids["C4"] = await _decide(client, "C4", "2025-12-24T10:00:00Z", **_push("leads"))
    ids["R1"] = await _decide(client, "R1", march(11), **_push("cpa", "increase"))
    await factories.reverse(client, ids["R1"])
    # Outside the range: a forecast that must not count.
    await _decide(client, "X1", "2026-02-15T10:00:00Z", confidence=0.5, **_rec(False))
    for name, result, actual in [
        ("A1", "failure", None),
        ("A2", "success", 120),  # leads ≥ 100: met
        ("A3", "partial", None),
        ("A4", "inconclusive", None),
        ("A6", "failure", None),
        ("B1", "failure", 38),  # cpa ≤ 40: met (a failure all the same)
        ("B2", "failure", None),
        ("B3", "success", 45),  # cpa above 40: missed, yet called a success
        ("B4", "success", None),
        ("X1", "success", None),
    ]:
        await factories.outcome(client, ids.get(name) or await _id(client, name), result=result, actual_value=actual)
    return ids


async def _id(client, title: str) -> str:
    items = (await client.get("/v1/decisions", params={"q": title, "limit": 500})).json()["items"]
    return next(item["id"] for item in items if item["title"] == title)


def _cal(group, forecasts, mean, observed, brier, over) -> dict[str, Any]:
    return {
        "group": group,
        "forecasts": forecasts,
        "mean_confidence": mean,
        "observed_rate": observed,
        "brier_score": brier,
        "overconfidence": over,
    }


async def test_calibration_by_basis_class_is_exact(client, quality):
    body = await get_json(client, "/v1/analytics/calibration", **R)
    assert body["group_by"] == "basis_class"
    assert body["rows"] == [
        # 0, 1, 0.9, 0.1 against 0, 1, 0.5, 0: mean 2.0/4, observed 1.5/4, Brier (0.16 + 0.01)/4, 0.5 - 0.375.
        _cal("data", 4, 0.5, 0.375, 0.0425, 0.125),
        # 0.8, 0.95, 0.3 against 0, 0, 1: mean 2.05/3, observed 1/3, Brier (0.64 + 0.9025 + 0.49)/3, 0.6833 - 0.3333.
        _cal("emotion", 3, 0.6833, 0.3333, 0.6775, 0.35),
    ]


async def test_calibration_without_groups_and_its_bins(client, quality):
    body = await get_json(client, "/v1/analytics/calibration", group_by="none", **R)
    # 7 forecasts: confidence 4.05/7, observed 2.5/7, Brier 2.2025/7.
    assert body["rows"] == [_cal(None, 7, 0.5786, 0.3571, 0.3146, 0.2214)]
    bins = {
        (b["bin_from"], b["bin_to"]): (b["forecasts"], b["mean_confidence"], b["observed_rate"]) for b in body["bins"]
    }
    assert list(bins) == [(i / 10, (i + 1) / 10) for i in range(10)]
    assert bins == {
        (0.0, 0.1): (1, 0.0, 0.0),  # A1 at 0
        (0.1, 0.2): (1, 0.1, 0.0),  # A6 at 0.1: the lower bound is in its bin (A4, inconclusive, is not a forecast)
        (0.2, 0.3): (0, None, None),
        (0.3, 0.4): (1, 0.3, 1.0),  # B3
        (0.4, 0.5): (0, None, None),
        (0.5, 0.6): (0, None, None),
        (0.6, 0.7): (0, None, None),
        (0.7, 0.8): (0, None, None),  # A5 is not reviewed
        (0.8, 0.9): (1, 0.8, 0.0),  # B1
        (0.9, 1.0): (3, 0.95, 0.5),  # A3 at 0.9, B2, and A2 at 1.0 in the last bin
    }


async def test_calibration_by_owner_with_a_filter_and_csv(client, quality):
    body = await get_json(client, "/v1/analytics/calibration", group_by="owner", **R)
    assert body["rows"] == [
        _cal("anna.petrova", 4, 0.5, 0.375, 0.0425, 0.125),
        _cal("boris.ivanov", 3, 0.6833, 0.3333, 0.6775, 0.35),
    ]
    assert len(body["bins"]) == 20
    filtered = await get_json(
        client, "/v1/analytics/calibration", group_by="owner", team="brand", tz="Europe/Berlin", **R
    )
    assert filtered["tz"] == "Europe/Berlin"
    assert filtered["rows"] == [_cal("boris.ivanov", 3, 0.6833, 0.3333, 0.6775, 0.35)]
    response = await client.get("/v1/analytics/calibration", params={**R, "format": "csv"})
    assert parse_csv(response) == [
        ["group", "forecasts", "mean_confidence", "observed_rate", "brier_score", "overconfidence"],
        ["data", "4", "0.5", "0.375", "0.0425", "0.125"],
        ["emotion", "3", "0.6833", "0.3333", "0.6775", "0.35"],
    ]


async def test_calibration_of_a_range_without_forecasts_is_null(client, quality):
    body = await get_json(client, "/v1/analytics/calibration", **{"from": "2025-01-01", "to": "2025-02-01"})
    assert body["rows"] == [_cal("data", 0, None, None, None, None), _cal("emotion", 0, None, None, None, None)]
    assert all(b["forecasts"] == 0 for b in body["bins"])


def _ovr(group, followed, decisions, reviewed, success, partial, failure, inconclusive, rate) -> dict[str, Any]:
    return {
        "group": group,
        "followed": followed,
        "decisions": decisions,
        "reviewed": reviewed,
        "success": success,
        "partial": partial,
        "failure": failure,
        "inconclusive": inconclusive,
        "success_rate": rate,
    }


async def test_overrides_are_exact(client, quality):
    body = await get_json(client, "/v1/analytics/overrides", **R)
    assert body["rows"] == [
        _ovr(None, True, 2, 2, 1, 0, 1, 0, 0.5),  # A1 failure, A2 success
        _ovr(None, False, 6, 6, 2, 1, 2, 1, 0.4),  # A3 partial, A4 inconclusive, B1 B2 failure, B3 B4 success: 2/5
    ]
    by_owner = await get_json(client, "/v1/analytics/overrides", group_by="owner", **R)
    assert by_owner["rows"] == [
        _ovr("anna.petrova", True, 2, 2, 1, 0, 1, 0, 0.5),
        _ovr("anna.petrova", False, 2, 2, 0, 1, 0, 1, 0.0),
        _ovr("boris.ivanov", True, 0, 0, 0, 0, 0, 0, None),
        _ovr("boris.ivanov", False, 4, 4, 2, 0, 2, 0, 0.5),
    ]
    response = await client.get("/v1/analytics/overrides", params={**R, "format": "csv"})
    assert parse_csv(response)[2] == ["", "false", "6", "6", "2", "1", "2", "1", "0.4"]


async def test_contradictions_list_open_pairs_touching_the_range(client, quality):
    ids = quality
    body = await get_json(client, "/v1/analytics/contradictions", **R)
    assert body["rows"] == [
        {
            "kpi": "cpa",
            "decision_a": ids["A5"],
            "decision_b": ids["C1"],
            "owner_a": "anna.petrova",
            "owner_b": "boris.ivanov",
            "direction_a": "decrease",
            "direction_b": "increase",
        },
        {
            "kpi": "leads",
            "decision_a": ids["C2"],
            "decision_b": ids["C3"],
            "owner_a": "boris.ivanov",
            "owner_b": "anna.petrova",
            "direction_a": "decrease",
            "direction_b": "increase",
        },
    ]
    anna = await get_json(client, "/v1/analytics/contradictions", owner="anna.petrova", **R)
    assert [(r["decision_a"], r["decision_b"]) for r in anna["rows"]] == [(ids["A5"], ids["C1"])]
    await factories.outcome(client, ids["C1"])  # reviewed: the pair ends
    after = await get_json(client, "/v1/analytics/contradictions", **R)
    assert [r["kpi"] for r in after["rows"]] == ["leads"]


async def test_outcomes_measure_against_the_target(client, quality):
    body = await get_json(client, "/v1/analytics/outcomes", **R)
    measured = {
        r["basis_class"]: (r["target_met"], r["target_missed"], r["success_with_target_missed"]) for r in body["rows"]
    }
    assert measured == {"data": (1, 0, 0), "emotion": (1, 1, 1)}  # A2 met; B1 met, B3 missed yet "success"


async def test_summary_quality_figures(client, quality):
    row = (await get_json(client, "/v1/analytics/summary", **R))["rows"][0]
    assert {k: row[k] for k in ("brier_score", "overrides", "override_success_rate", "contradictions")} == {
        "brier_score": 0.3146,
        "overrides": 6,
        "override_success_rate": 0.4,
        "contradictions": 2,
    }
