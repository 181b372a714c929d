"""Decision quality fields (DESIGN part 2): confidence, alternatives, the data's recommendation, the expected
outcome's direction, and whether a review met its target."""

import csv
import io
import json

import pytest
from sqlalchemy import text

from tests import factories
from tests.decisions.helpers import assert_problem

QUALITY = {
    "confidence": 0.8,
    "alternatives": [{"title": "Keep display", "reason_rejected": "Converts at 0.6%."}, {"title": "Cut all spend"}],
    "data_recommendation": {"option": "Move budget to search", "followed": False},
}


async def _setup(client) -> None:
    await factories.basics(client)
    await factories.kpi(client, "cpa", target=40, direction="decrease")
    await factories.kpi(client, "leads", kind="activity", direction="increase")
    await factories.kpi(client, "nps", kind="activity")  # no direction


async def test_create_answers_and_stores_the_quality_fields(client):
    await _setup(client)
    created = await factories.decision(client, **QUALITY)
    assert created["confidence"] == 0.8
    assert created["alternatives"] == [
        {"title": "Keep display", "reason_rejected": "Converts at 0.6%."},
        {"title": "Cut all spend", "reason_rejected": None},
    ]
    assert created["data_recommendation"] == {"option": "Move budget to search", "followed": False}
    got = (await client.get(f"/v1/decisions/{created['id']}")).json()
    assert {k: got[k] for k in QUALITY} == {k: created[k] for k in QUALITY}


@pytest.mark.parametrize(
    ("expected", "direction"),
    [
        ({"description": "CPA down", "kpi": "cpa", "target_value": 35}, "decrease"),  # the KPI's
        ({"description": "CPA up", "kpi": "cpa", "target_value": 45, "direction": "increase"}, "increase"),
        ({"description": "NPS", "kpi": "nps", "target_value": 50}, None),  # the KPI has none
        ({"description": "Vague"}, None),
    ],
)
async def test_expected_direction_defaults_to_the_kpis(client, expected, direction):
    await _setup(client)
    # With the team given and no strategy, only a direction to take from its KPI makes the write read the KPIs.
    created = await factories.decision(client, team="growth", expected_outcome=expected)
    assert created["expected_outcome"]["direction"] == direction
    batch = await client.post(
        "/v1/decisions/batch", json={"items": [factories.decision_body(expected_outcome=expected)]}
    )
    assert batch.status_code == 201, batch.text
    assert batch.json()["items"][0]["expected_outcome"]["direction"] == direction


@pytest.mark.parametrize(
    ("field", "value", "loc"),
    [
        ("confidence", 1.0001, ["body", "confidence"]),
        ("confidence", -0.01, ["body", "confidence"]),
        ("confidence", "0.5", ["body", "confidence"]),
        ("alternatives", [{"title": f"Option {i}"} for i in range(21)], ["body", "alternatives"]),
        ("data_recommendation", {"option": "Search"}, ["body", "data_recommendation", "followed"]),
        ("data_recommendation", {"option": "Search", "followed": "no"}, ["body", "data_recommendation", "followed"]),
        ("expected_outcome", {"description": "x", "direction": "sideways"}, ["body", "expected_outcome", "direction"]),
    ],
)
async def test_invalid_quality_fields_return_422_naming_the_field(client, field, value, loc):
    await _setup(client)
    response = await client.post("/v1/decisions", json=factories.decision_body(**{field: value}))
    problem = assert_problem(response, 422, "validation_failed")
    assert [e["loc"] for e in problem["errors"]] == [loc]
    assert (await client.get("/v1/decisions")).json()["items"] == []


async def test_unknown_kpi_in_expected_outcome_returns_422_naming_it(client):
    await _setup(client)
    body = factories.decision_body(team="growth", expected_outcome={"description": "x", "kpi": "ghost"})
    problem = assert_problem(await client.post("/v1/decisions", json=body), 422, "unknown_reference")
    assert [e["loc"] for e in problem["errors"]] == [["body", "expected_outcome", "kpi"]]
    batch = {"items": [factories.decision_body(), body]}
    problem = assert_problem(await client.post("/v1/decisions/batch", json=batch), 422, "unknown_reference")
    assert [e["loc"] for e in problem["errors"]] == [["body", "items", 1, "expected_outcome", "kpi"]]


async def test_twenty_alternatives_and_confidence_bounds_are_accepted(client):
    await _setup(client)
    alternatives = [{"title": f"Option {i}"} for i in range(20)]
    for confidence in (0, 1):
        created = await factories.decision(client, confidence=confidence, alternatives=alternatives)
        assert created["confidence"] == confidence
        assert len(created["alternatives"]) == 20


async def test_correction_changes_quality_fields_with_history(client, client_for):
    await _setup(client)
    created = await factories.decision(client, **QUALITY)
    corrected = await factories.edit(
        client,
        created["id"],
        edit_reason="Recalibrated.",
        confidence=0.6,
        data_recommendation={"option": "Move budget to search", "followed": True},
        alternatives=[],
        expected_outcome={"description": "CPA down", "kpi": "cpa", "target_value": 35},
    )
    assert corrected["confidence"] == 0.6
    assert corrected["expected_outcome"]["direction"] == "decrease"
    revisions = (await client.get(f"/v1/decisions/{created['id']}/revisions")).json()["items"]
    changes = revisions[-1]["changes"]
    assert changes["confidence"] == {"from": 0.8, "to": 0.6}
    assert changes["alternatives"] == {"from": created["alternatives"], "to": []}
    assert changes["data_recommendation"] == {
        "from": {"option": "Move budget to search", "followed": False},
        "to": {"option": "Move budget to search", "followed": True},
    }
    assert revisions[-1]["decision"] == corrected
    cleared = await factories.edit(
        client, created["id"], edit_reason="Unknown.", confidence=None, data_recommendation=None
    )
    assert (cleared["confidence"], cleared["data_recommendation"]) == (None, None)
    response = await client.patch(f"/v1/decisions/{created['id']}", json={"edit_reason": "x", "alternatives": None})
    assert [e["loc"] for e in assert_problem(response, 422, "validation_failed")["errors"]] == [["body"]]
    verified = await client_for("admin").get("/v1/integrity/verify")
    assert verified.json()["ok"] is True, verified.text


@pytest.mark.parametrize(
    ("kpi", "target", "direction", "actual", "met"),
    [
        ("cpa", 40, None, 37, True),  # decrease (the KPI's): below the target
        ("cpa", 40, None, 40, True),  # at the target
        ("cpa", 40, None, 41, False),
        ("cpa", 40, "increase", 41, True),  # the explicit direction wins over the KPI's
        ("leads", 100, None, 99.5, False),
        ("leads", 100, None, None, None),  # no actual value
        ("nps", 50, None, 60, None),  # no direction at all
        (None, 50, "increase", 60, None),  # no KPI
    ],
)
async def test_outcome_target_met_follows_the_direction(client, kpi, target, direction, actual, met):
    await _setup(client)
    expected = {"description": "Target", "target_value": target}
    if kpi:
        expected["kpi"] = kpi
    if direction:
        expected["direction"] = direction
    created = await factories.decision(client, expected_outcome=expected)
    reviewed = await factories.outcome(client, created["id"], actual_value=actual)
    assert reviewed["outcome"]["target_met"] is met


async def test_exports_and_bi_view_carry_the_quality_fields(client, db):
    await _setup(client)
    created = await factories.decision(
        client, **QUALITY, expected_outcome={"description": "CPA down", "kpi": "cpa", "target_value": 35}
    )
    reviewed = await factories.outcome(client, created["id"], actual_value=30)
    ndjson = [json.loads(line) for line in (await client.get("/v1/exports/decisions")).text.splitlines()]
    assert ndjson == [reviewed]
    rows = list(csv.DictReader(io.StringIO((await client.get("/v1/exports/decisions?format=csv")).text)))
    assert rows[0]["confidence"] == "0.8"
    assert json.loads(rows[0]["data_recommendation"]) == QUALITY["data_recommendation"]
    assert json.loads(rows[0]["alternatives"]) == reviewed["alternatives"]
    async with db.engine.connect() as connection:
        view = (
            await connection.execute(
                text(
                    "SELECT confidence, recommended_option, recommendation_followed, data_overridden, expected_kpi,"
                    " expected_direction, outcome_target_met FROM bi_decision"
                )
            )
        ).one()
    assert tuple(view) == (0.8, "Move budget to search", False, 1, "cpa", "decrease", True)
