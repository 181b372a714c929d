"""POST /v1/decisions refuses what the contract refuses, names the culprit, and writes nothing."""

import json
from datetime import timedelta
from typing import Any

import pytest

from tests import factories
from tests.decisions.helpers import assert_problem, error_at, now


async def _refused(client, body: Any, *, code: str = "validation_failed") -> dict[str, Any]:
    """POST ``body``: 422 with ``code``, and no decision left behind."""
    response = await client.post("/v1/decisions", json=body)
    problem = assert_problem(response, 422, code)
    assert problem["errors"], problem
    listed = await client.get("/v1/decisions")
    assert listed.json() == {"items": [], "next_cursor": None}
    return problem


# --- time -------------------------------------------------------------------------------------


@pytest.mark.parametrize("decided_at", ["2026-03-01T10:00:00", "2026-03-01T10:00", "2026-03-01 10:00:00"])
async def test_create_decision_timestamp_without_zone_returns_422(client, decided_at):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(decided_at=decided_at))
    error_at(problem, ["body", "decided_at"])


@pytest.mark.parametrize("decided_at", ["yesterday", "2026-02-30", "2026-13-01T00:00:00Z", ""])
async def test_create_decision_unparseable_decided_at_returns_422(client, decided_at):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(decided_at=decided_at))
    error_at(problem, ["body", "decided_at"])


@pytest.mark.parametrize("decided_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"])
async def test_create_decision_timestamp_outside_utc_range_returns_422(client, decided_at):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(decided_at=decided_at))
    error_at(problem, ["body", "decided_at"])


@pytest.mark.parametrize("ahead", [timedelta(hours=1), timedelta(days=400)])
async def test_create_decision_decided_at_in_the_future_returns_422(client, ahead):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(decided_at=(now() + ahead).isoformat()))
    assert error_at(problem, ["body", "decided_at"])["type"] == "value_error.future"


async def test_create_decision_future_plain_date_returns_422(client):
    await factories.basics(client)
    tomorrow_but_one = (now() + timedelta(days=2)).date().isoformat()
    await _refused(client, factories.decision_body(decided_at=tomorrow_but_one))


# --- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
async def test_create_decision_bad_title_returns_422(client, title):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(title=title))
    error_at(problem, ["body", "title"])


@pytest.mark.parametrize("title", ["x", "x" * 200, "Б" * 200])
async def test_create_decision_title_of_1_to_200_chars_is_accepted(client, title):
    await factories.basics(client)
    created = await factories.decision(client, title=title)
    assert created["title"] == title


@pytest.mark.parametrize("rationale", ["", " ", "\n\t "])
async def test_create_decision_blank_rationale_returns_422(client, rationale):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(rationale=rationale))
    error_at(problem, ["body", "rationale"])


@pytest.mark.parametrize("field", ["title", "rationale", "basis", "owner"])
async def test_create_decision_missing_required_field_returns_422(client, field):
    await factories.basics(client)
    body = factories.decision_body()
    del body[field]
    problem = await _refused(client, body)
    assert error_at(problem, ["body", field])["type"] == "missing"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("basis", "gut_feeling"),
        ("category", "misc"),
        ("channel", "Paid Search"),
        ("owner", "Anna Petrova"),
        ("participants", "boris.ivanov"),
        ("tags", [""]),
        ("evidence", {"source": "ga4"}),
        ("external_ref", {"system": "crm"}),
    ],
)
async def test_create_decision_malformed_field_returns_422(client, field, value):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(**{field: value}))
    assert any(e["loc"][:2] == ["body", field] for e in problem["errors"]), problem["errors"]


@pytest.mark.parametrize(
    "item",
    [
        {"reference": "https://x"},
        {"source": "ga4", "reference": " "},
        {"source": "ga4", "reference": "r", "colour": "red"},
    ],
)
async def test_create_decision_malformed_evidence_item_returns_422(client, item):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(evidence=[item]))
    assert any(e["loc"][:3] == ["body", "evidence", 0] for e in problem["errors"]), problem["errors"]


# --- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [-1, -0.01])
async def test_create_decision_negative_budget_returns_422(client, amount):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(budget_amount=amount, budget_currency="EUR"))
    error_at(problem, ["body", "budget_amount"])


async def test_create_decision_zero_budget_is_accepted(client):
    await factories.basics(client)
    created = await factories.decision(client, budget_amount=0, budget_currency="USD")
    assert (created["budget_amount"], created["budget_currency"]) == (0, "USD")


async def test_create_decision_budget_amount_without_currency_returns_422(client):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(budget_amount=100))
    assert "budget_currency" in json.dumps(problem["errors"])


async def test_create_decision_budget_currency_without_amount_returns_422(client):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(budget_currency="EUR"))
    assert "budget_amount" in json.dumps(problem["errors"])


@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", "", "€"])
async def test_create_decision_bad_currency_returns_422(client, currency):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(budget_amount=100, budget_currency=currency))
    error_at(problem, ["body", "budget_currency"])


@pytest.mark.parametrize("amount", [0.001, 1e17, "lots"])
async def test_create_decision_budget_not_representable_returns_422(client, amount):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(budget_amount=amount, budget_currency="EUR"))
    error_at(problem, ["body", "budget_amount"])


@pytest.mark.parametrize(
    ("raw_field", "loc"),
    [
        ('"budget_amount": Infinity, "budget_currency": "EUR"', ["body", "budget_amount"]),
        ('"evidence": [{"source": "ga4", "reference": "r", "value": NaN}]', ["body", "evidence", 0, "value"]),
        ('"expected_outcome": {"description": "d", "target_value": -Infinity}', ["body", "expected_outcome"]),
    ],
)
async def test_create_decision_non_finite_number_returns_422(client, raw_field, loc):
    await factories.basics(client)
    body = json.dumps(factories.decision_body())[:-1] + ", " + raw_field + "}"
    response = await client.post("/v1/decisions", content=body, headers={"Content-Type": "application/json"})
    problem = assert_problem(response, 422, "validation_failed")
    assert any(e["loc"][: len(loc)] == loc for e in problem["errors"]), problem["errors"]
    assert (await client.get("/v1/decisions")).json()["items"] == []


@pytest.mark.parametrize(
    "override",
    [
        {"title": "Budget\x00"},
        {"rationale": "Because\x00"},
        {"description": "\x00"},
        {"team": "gro\x00wth"},
        {"tags": ["q2\x00"]},
        {"evidence": [{"source": "ga4", "reference": "r\x00"}]},
        {"evidence": [{"source": "ga4", "reference": "r", "metric": "cr\x00"}]},
        {"evidence": [{"source": "ga4", "reference": "r", "value": "12\x00"}]},
        {"evidence": [{"source": "ga4", "reference": "r", "note": "\x00"}]},
        {"expected_outcome": {"description": "CPA\x00"}},
        {"external_ref": {"system": "crm", "id": "A\x001"}},
    ],
)
async def test_create_decision_text_with_nul_character_returns_422(client, override):
    # PostgreSQL can store no NUL in text or JSON: refused up front, on every engine, never a 500.
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(**override))
    [field] = override
    assert all(e["loc"][:2] == ["body", field] for e in problem["errors"]), problem["errors"]


# --- references -------------------------------------------------------------------------------

# Without a team, the owner's is read from the registry before the insert; with one, the insert itself checks the
# references, and only a refusal reads them to name the unknown ones: both must refuse alike.
TEAMS = pytest.mark.parametrize("team", [{}, {"team": "growth"}], ids=["owner's team", "team given"])


@TEAMS
async def test_create_decision_unknown_owner_returns_422(client, team):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(owner="nobody.here", **team), code="unknown_reference")
    error = error_at(problem, ["body", "owner"])
    assert "nobody.here" in error["msg"]
    assert error["type"] == "unknown_reference"
    assert "nobody.here" in problem["detail"]


@TEAMS
async def test_create_decision_unknown_participant_returns_422(client, team):
    await factories.basics(client)
    problem = await _refused(
        client, factories.decision_body(participants=["boris.ivanov", "ghost.writer"], **team), code="unknown_reference"
    )
    assert len(problem["errors"]) == 1
    assert "ghost.writer" in error_at(problem, ["body", "participants", 1])["msg"]


@TEAMS
async def test_create_decision_unknown_evidence_source_returns_422(client, team):
    await factories.basics(client)
    evidence = [
        {"source": "ga4", "reference": "r1"},
        {"source": "tea-leaves", "reference": "r2"},
    ]
    problem = await _refused(client, factories.decision_body(evidence=evidence, **team), code="unknown_reference")
    assert len(problem["errors"]) == 1
    assert "tea-leaves" in error_at(problem, ["body", "evidence", 1, "source"])["msg"]


@TEAMS
async def test_create_decision_reports_every_unknown_reference_at_once(client, team):
    await factories.basics(client)
    body = factories.decision_body(
        owner="ghost.owner",
        participants=["ghost.one"],
        evidence=[{"source": "nowhere", "reference": "r"}],
        decided_at=(now() + timedelta(days=1)).isoformat(),
        **team,
    )
    problem = await _refused(client, body, code="unknown_reference")
    assert "ghost.owner" in error_at(problem, ["body", "owner"])["msg"]
    assert "ghost.one" in error_at(problem, ["body", "participants", 0])["msg"]
    assert "nowhere" in error_at(problem, ["body", "evidence", 0, "source"])["msg"]
    error_at(problem, ["body", "decided_at"])


@TEAMS
async def test_create_decision_with_only_unknown_references_named_by_the_body_reports_each(client, team):
    # Nothing else is wrong (no time in the future): the first look at the registries is the insert's own when
    # the team is given.
    await factories.basics(client)
    body = factories.decision_body(
        owner="ghost.owner",
        participants=["anna.petrova", "ghost.one"],
        evidence=[{"source": "nowhere", "reference": "r"}],
        **team,
    )
    problem = await _refused(client, body, code="unknown_reference")
    assert sorted(tuple(e["loc"]) for e in problem["errors"]) == [
        ("body", "evidence", 0, "source"),
        ("body", "owner"),
        ("body", "participants", 1),
    ]


# --- fields a client may not send -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b"),
        ("status", "active"),
        ("revision", 1),
        ("basis_class", "data"),
        ("classification_reason", "evidence_cited"),
        ("recorded_at", "2026-03-01T10:00:00Z"),
        ("updated_at", "2026-03-01T10:00:00Z"),
        ("outcome", None),
        ("reversal", None),
    ],
)
async def test_create_decision_server_set_field_returns_422(client, field, value):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(**{field: value}))
    assert error_at(problem, ["body", field])["type"] == "extra_forbidden"


@pytest.mark.parametrize("field", ["owner_handle", "budget", "Title", "evidence_count"])
async def test_create_decision_unknown_field_returns_422(client, field):
    await factories.basics(client)
    problem = await _refused(client, factories.decision_body(**{field: "x"}))
    assert error_at(problem, ["body", field])["type"] == "extra_forbidden"


# --- the body itself --------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["{", '{"title": }', "[]", '"decision"', "null"])
async def test_create_decision_body_that_is_not_a_json_object_returns_422(client, raw):
    await factories.basics(client)
    response = await client.post("/v1/decisions", content=raw, headers={"Content-Type": "application/json"})
    assert_problem(response, 422, "validation_failed")
    assert (await client.get("/v1/decisions")).json()["items"] == []


async def test_create_decision_without_json_content_type_returns_415(client):
    await factories.basics(client)
    response = await client.post(
        "/v1/decisions", content=json.dumps(factories.decision_body()), headers={"Content-Type": "text/plain"}
    )
    assert_problem(response, 415, "unsupported_media_type")
    assert (await client.get("/v1/decisions")).json()["items"] == []
