"""The whole system's analytics, exact on both engines: GET /v1/analytics/contractors (how each contractor's
decisions turn out and whom failures are blamed on), accountability's `role`, `directed` and
`directed_emotion_share`, and the summary's owner share and data claims in emotional language."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.analytics.dataset import get_json, parse_csv

CONTRACTORS = "/v1/analytics/contractors"
R = {"from": "2026-01-01", "to": "2026-04-01"}
EVIDENCE = [{"source": "ga4", "reference": "report 1"}]


@pytest.fixture
async def system(client) -> dict[str, str]:
    """Three people (a member, a lead, the owner), three contractors (one idle), eight decisions (one before
    the range): names D1…D8 → ids."""
    await factories.basics(client)
    await factories.person(client, "boris.ivanov", team="brand", role="lead")
    await factories.person(client, "olga.owner", team="board", role="owner")
    await factories.contractor(client, "acme", name="Acme Agency")
    await factories.contractor(client, "bravo", name="Bravo Media")
    await factories.contractor(client, "idle", name="Idle Freelancer", kind="freelancer")
    plans: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
        ("D1", dict(contractor="acme", budget_amount=1000, budget_currency="EUR"), {"result": "success"}),
        (
            "D2",
            dict(contractor="acme", basis="emotion", evidence=[], directed_by="olga.owner", budget_amount=500.25,
                 budget_currency="EUR"),
            {"result": "failure", "cause": "execution"},
        ),
        (
            "D3",
            dict(contractor="acme", owner="boris.ivanov", basis="authority", evidence=[], directed_by="olga.owner"),
            {"result": "partial", "cause": "decision"},
        ),
        (
            "D4",
            dict(contractor="bravo", owner="boris.ivanov", rationale="Obviously it works.", budget_amount=200,
                 budget_currency="USD"),
            {"result": "failure", "cause": "execution"},
        ),
        ("D5", dict(owner="olga.owner", basis="intuition", evidence=[], rationale="I feel it."),
         {"result": "inconclusive"}),
        ("D6", dict(evidence=[], rationale="Everyone knows it."), None),
        ("D7", dict(rationale="Мне кажется, это сработает.", directed_by="boris.ivanov"), {"result": "partial"}),
        ("D8", dict(contractor="acme", decided_at="2025-12-01T00:00:00Z"), {"result": "failure", "cause": "execution"}),
    ]  # fmt: skip
    ids = {}
    for name, fields, review in plans:
        body = {"title": name, "evidence": EVIDENCE, "decided_at": "2026-02-10T12:00:00Z", **fields}
        created = await factories.decision(client, **body)
        ids[name] = created["id"]
        if review is not None:
            await factories.outcome(client, created["id"], **review)
    return ids


def contractor_row(
    contractor: str | None,
    name: str | None,
    kind: str | None,
    decisions: int,
    budget: Any,
    reviewed: int,
    success: int,
    partial: int,
    failure: int,
    inconclusive: int,
    success_rate: float | None,
    blamed: int,
    blame_share: float | None,
    blamed_emotion: int,
    currency: str | None = "EUR",
) -> dict[str, Any]:
    return {
        "contractor": contractor,
        "name": name,
        "kind": kind,
        "active": None if contractor is None else True,
        "decisions": decisions,
        "currency": currency,
        "budget": budget,
        "reviewed": reviewed,
        "success": success,
        "partial": partial,
        "failure": failure,
        "inconclusive": inconclusive,
        "success_rate": success_rate,
        "failures_blamed_on_execution": blamed,
        "execution_blame_share": blame_share,
        "blamed_on_execution_decided_on_emotion": blamed_emotion,
    }


ACME = contractor_row("acme", "Acme Agency", "agency", 3, 1500.25, 3, 1, 1, 1, 0, 0.3333, 1, 0.5, 1)
BRAVO = contractor_row("bravo", "Bravo Media", "agency", 1, 0, 1, 0, 0, 1, 0, 0.0, 1, 1.0, 0)
IDLE = contractor_row("idle", "Idle Freelancer", "freelancer", 0, 0, 0, 0, 0, 0, 0, None, 0, None, 0)
IN_HOUSE = contractor_row(None, None, None, 3, 0, 2, 0, 1, 0, 1, 0.0, 0, None, 0)


async def test_contractors_rows_are_exact(client, system):
    body = await get_json(client, CONTRACTORS, **R)
    assert body == {
        "from": "2026-01-01T00:00:00.000000Z",
        "to": "2026-04-01T00:00:00.000000Z",
        "tz": "UTC",
        "currency": "EUR",  # the currency most used in range
        "rows": [ACME, BRAVO, IDLE, IN_HOUSE],
    }


async def test_contractors_budget_in_the_currency_asked(client, system):
    body = await get_json(client, CONTRACTORS, **R, currency="USD")
    assert body["currency"] == "USD"
    assert [(r["contractor"], r["budget"]) for r in body["rows"]] == [
        ("acme", 0),
        ("bravo", 200),
        ("idle", 0),
        (None, 0),
    ]


async def test_contractors_filters_and_zone(client, system):
    only = await get_json(client, CONTRACTORS, **R, contractor="acme")
    assert only["rows"] == [ACME]
    boris = await get_json(client, CONTRACTORS, **R, owner="boris.ivanov", currency="EUR")
    assert boris["rows"] == [
        contractor_row("acme", "Acme Agency", "agency", 1, 0, 1, 0, 1, 0, 0, 0.0, 0, 0.0, 0),
        BRAVO,
        IDLE,
        contractor_row(None, None, None, 0, 0, 0, 0, 0, 0, 0, None, 0, None, 0),
    ]
    directed = await get_json(client, CONTRACTORS, **R, directed_by="olga.owner")
    assert [(r["contractor"], r["decisions"]) for r in directed["rows"]] == [
        ("acme", 2),
        ("bravo", 0),
        ("idle", 0),
        (None, 0),
    ]
    # Decided at 12:00 UTC on 10 February: in range in any zone; the answer echoes the zone, its bounds local.
    zoned = await get_json(client, CONTRACTORS, **R, tz="Asia/Tokyo")
    assert (zoned["tz"], zoned["from"], zoned["rows"]) == ("Asia/Tokyo", "2025-12-31T15:00:00.000000Z", body_rows())
    # D8 (1 December 2025) joins when the range starts before it.
    wider = await get_json(client, CONTRACTORS, **{"from": "2025-11-01", "to": "2026-04-01"})
    assert wider["rows"][0]["decisions"] == 4 and wider["rows"][0]["failures_blamed_on_execution"] == 2


def body_rows() -> list[dict[str, Any]]:
    return [ACME, BRAVO, IDLE, IN_HOUSE]


async def test_contractors_csv_has_the_json_columns(client, system):
    response = await client.get(CONTRACTORS, params={**R, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="contractors.csv"'
    rows = parse_csv(response)
    assert rows[0] == list(ACME)
    assert rows[1] == ["acme", "Acme Agency", "agency", "true", "3", "EUR", "1500.25", "3", "1", "1", "1", "0",
                       "0.3333", "1", "0.5", "1"]  # fmt: skip
    assert rows[-1][:5] == ["", "", "", "", "3"]


async def test_contractors_refuses_bad_parameters(client, system):
    for params in ({"currency": "eur"}, {"contractor": "Not A Key"}, {"tz": "Mars/Base"}, {"from": "2026-05-01"}):
        response = await client.get(CONTRACTORS, params={**R, **params})
        assert response.status_code == 422, (params, response.text)


async def test_accountability_gains_role_and_what_people_directed(client, system):
    body = await get_json(client, "/v1/analytics/accountability", **R)
    picked = [
        (r["owner"], r["decisions"], r["emotion"], r["role"], r["directed"], r["directed_emotion_share"])
        for r in body["rows"]
    ]
    assert picked == [
        ("anna.petrova", 4, 2, "member", 0, None),
        ("boris.ivanov", 2, 1, "lead", 1, 0.0),  # directed D7 (data)
        ("olga.owner", 1, 1, "owner", 2, 1.0),  # directed D2 (emotion) and D3 (authority)
    ]
    # A person who directed decisions and owns none of those selected still has a row.
    acme = await get_json(client, "/v1/analytics/accountability", **R, contractor="acme")
    olga = acme["rows"][-1]
    assert olga == {
        "owner": "olga.owner",
        "decisions": 0,
        "data": 0,
        "emotion": 0,
        "emotion_unsupported": 0,
        "data_share": None,
        "emotion_share": None,
        "reviewed": 0,
        "reviews_due": 0,
        "overdue_reviews": 0,
        "reversed": 0,
        "reversal_rate": None,
        "role": "owner",
        "directed": 2,
        "directed_emotion_share": 1.0,
    }
    assert [r["owner"] for r in acme["rows"]] == ["anna.petrova", "boris.ivanov", "olga.owner"]
    csv_rows = parse_csv(await client.get("/v1/analytics/accountability", params={**R, "format": "csv"}))
    assert csv_rows[0][-3:] == ["role", "directed", "directed_emotion_share"]
    assert csv_rows[-1][-3:] == ["owner", "2", "1.0"]


async def test_summary_gains_the_owner_share_and_data_claims_in_emotional_language(client, system):
    row = (await get_json(client, "/v1/analytics/summary", **R))["rows"][0]
    # D4 (certainty) and D7 (feeling) are data claims in emotional language; D6 speaks of hearsay but is of class
    # emotion, D5's feeling is declared. D2, D3 (directed by the owner) and D5 (owned by her), all on emotions.
    assert (row["decisions"], row["data_claims_with_emotional_language"]) == (7, 2)
    assert (row["owner_directed"], row["owner_directed_emotion_share"]) == (3, 1.0)
    narrow = (await get_json(client, "/v1/analytics/summary", **{"from": "2025-11-01", "to": "2026-01-01"}))["rows"]
    assert (narrow[0]["owner_directed"], narrow[0]["owner_directed_emotion_share"]) == (0, None)
