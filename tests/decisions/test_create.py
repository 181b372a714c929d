"""POST /v1/decisions: what a recorded decision looks like, its defaults and its time rules."""

from datetime import timedelta

import pytest

from tests import factories
from tests.decisions.helpers import (
    assert_between,
    assert_problem,
    evidence_read,
    expected_decision,
    now,
    parse_utc,
)


async def test_create_decision_returns_201_with_location_and_etag(client):
    await factories.basics(client)
    response = await client.post("/v1/decisions", json=factories.decision_body())
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/decisions/{body['id']}"
    assert response.headers["ETag"]
    assert body["basis_class"] == "data"
    assert body["classification_reason"] == "evidence_cited"
    assert body["team"] == "growth"
    assert body["revision"] == 1
    assert body["decided_at"] == "2026-03-01T10:00:00.000000Z"
    got = await client.get(body["id"].join(["/v1/decisions/", ""]))
    assert got.json() == body | {"contradicts": []}
    assert got.headers["ETag"] == response.headers["ETag"]


async def test_create_decision_answers_the_whole_record(client):
    await factories.basics(client)
    await factories.person(client, "carla.diaz", team="performance")
    before = now()
    response = await client.post(
        "/v1/decisions",
        json=factories.decision_body(
            description="Shift spend for Q2.",
            participants=["boris.ivanov", "carla.diaz"],
            team="performance",
            evidence=[
                {"source": "ga4", "reference": "https://analytics.example.com/r/1", "metric": "cr", "value": 0.034},
                {"source": "crm", "reference": "report 42", "value": "12 deals", "note": "Q1 only"},
            ],
            budget_amount=15000.5,
            budget_currency="EUR",
            expected_outcome={"description": "CPA drops below 40 EUR", "target_value": 40, "review_by": "2026-06-01"},
            tags=["q2-plan", "search"],
            external_ref={"system": "planner", "id": "PLAN-1042"},
        ),
    )
    after = now()
    assert response.status_code == 201, response.text
    body = response.json()
    assert_between(body["recorded_at"], before, after)
    assert body == expected_decision(
        id=body["id"],
        title="Move 20% of display budget to paid search",
        description="Shift spend for Q2.",
        rationale="Paid search converts at 3.4% against 0.6% for display.",
        basis="data",
        basis_class="data",
        classification_reason="evidence_cited",
        evidence=[
            evidence_read(source="ga4", reference="https://analytics.example.com/r/1", metric="cr", value=0.034),
            evidence_read(source="crm", reference="report 42", value="12 deals", note="Q1 only"),
        ],
        owner="anna.petrova",
        participants=["boris.ivanov", "carla.diaz"],
        team="performance",
        channel="paid_search",
        category="budget",
        budget_amount=15000.5,
        budget_currency="EUR",
        decided_at="2026-03-01T10:00:00.000000Z",
        expected_outcome={
            "description": "CPA drops below 40 EUR",
            "kpi": None,
            "target_value": 40,
            "review_by": "2026-06-01T00:00:00.000000Z",
            "direction": None,
        },
        tags=["q2-plan", "search"],
        external_ref={"system": "planner", "id": "PLAN-1042"},
        recorded_at=body["recorded_at"],
        updated_at=body["recorded_at"],
    )
    got = await client.get(response.headers["Location"])
    assert got.status_code == 200
    assert got.json() == body | {"contradicts": []}


async def test_create_decision_minimal_body_gets_the_documented_defaults(client):
    await factories.basics(client)
    response = await client.post(
        "/v1/decisions",
        json={
            "title": "Try a new banner",
            "rationale": "Feels fresher.",
            "basis": "intuition",
            "owner": "boris.ivanov",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == expected_decision(
        id=body["id"],
        title="Try a new banner",
        rationale="Feels fresher.",
        basis="intuition",
        basis_class="emotion",
        classification_reason="declared_intuition",
        owner="boris.ivanov",
        team="brand",
        decided_at=body["decided_at"],
        recorded_at=body["recorded_at"],
        updated_at=body["recorded_at"],
    )


async def test_create_decision_ids_are_uuids_that_grow_with_time(client):
    await factories.basics(client)
    first = await factories.decision(client)
    second = await factories.decision(client)
    assert first["id"] != second["id"]
    assert first["id"] < second["id"]  # time-ordered (UUIDv7): later ids sort after earlier ones


async def test_create_decision_team_defaults_to_owners_team(client):
    await factories.basics(client)
    anna = await factories.decision(client, owner="anna.petrova")
    boris = await factories.decision(client, owner="boris.ivanov")
    assert anna["team"] == "growth"
    assert boris["team"] == "brand"


async def test_create_decision_explicit_team_is_kept(client):
    await factories.basics(client)
    created = await factories.decision(client, owner="anna.petrova", team="retention")
    assert created["team"] == "retention"


async def test_create_decision_decided_at_defaults_to_now(client):
    await factories.basics(client)
    body = factories.decision_body()
    del body["decided_at"]
    before = now()
    response = await client.post("/v1/decisions", json=body)
    after = now()
    assert response.status_code == 201, response.text
    assert_between(response.json()["decided_at"], before, after)


async def test_create_decision_plain_date_means_midnight_utc(client):
    await factories.basics(client)
    created = await factories.decision(client, decided_at="2026-03-01")
    assert created["decided_at"] == "2026-03-01T00:00:00.000000Z"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-03-01T12:30:00+03:00", "2026-03-01T09:30:00.000000Z"),
        ("2026-03-01T01:00:00.5-05:00", "2026-03-01T06:00:00.500000Z"),
        ("2026-03-01T00:15:00+01:00", "2026-02-28T23:15:00.000000Z"),
        ("2026-03-01T10:00:00.123456Z", "2026-03-01T10:00:00.123456Z"),
        ("2026-03-01T10:00:00+00:00", "2026-03-01T10:00:00.000000Z"),
    ],
)
async def test_create_decision_zone_offset_is_converted_to_utc(client, sent, stored):
    await factories.basics(client)
    created = await factories.decision(client, decided_at=sent)
    assert created["decided_at"] == stored
    got = await client.get(f"/v1/decisions/{created['id']}")
    assert got.json()["decided_at"] == stored


async def test_create_decision_timestamp_read_back_can_be_sent_again(client):
    await factories.basics(client)
    first = await factories.decision(client, decided_at="2026-03-01T10:00:00.654321+02:00")
    second = await factories.decision(client, decided_at=first["decided_at"])
    assert second["decided_at"] == first["decided_at"] == "2026-03-01T08:00:00.654321Z"


async def test_create_decision_slightly_in_the_future_is_allowed_as_clock_skew(client):
    await factories.basics(client)
    soon = now() + timedelta(seconds=60)
    created = await factories.decision(client, decided_at=soon.isoformat())
    assert parse_utc(created["decided_at"]) == soon


async def test_create_decision_recorded_at_and_updated_at_are_now(client):
    await factories.basics(client)
    before = now()
    created = await factories.decision(client)
    after = now()
    assert_between(created["recorded_at"], before, after)
    assert created["updated_at"] == created["recorded_at"]


async def test_create_decision_duplicate_external_ref_returns_409_naming_existing(client):
    await factories.basics(client)
    first = await factories.decision(client, external_ref={"system": "crm", "id": "DEAL-7"})
    response = await client.post(
        "/v1/decisions",
        json=factories.decision_body(title="Another one", external_ref={"system": "crm", "id": "DEAL-7"}),
    )
    body = assert_problem(response, 409, "duplicate_external_ref")
    assert first["id"] in body["detail"]
    assert body["existing_id"] == first["id"]
    listed = (await client.get("/v1/decisions")).json()
    assert [d["id"] for d in listed["items"]] == [first["id"]]
    revisions = (await client.get(f"/v1/decisions/{first['id']}/revisions")).json()
    assert [r["revision"] for r in revisions["items"]] == [1]


async def test_create_decision_same_external_id_in_another_system_is_allowed(client):
    await factories.basics(client)
    crm = await factories.decision(client, external_ref={"system": "crm", "id": "7"})
    planner = await factories.decision(client, external_ref={"system": "planner", "id": "7"})
    assert crm["id"] != planner["id"]
    assert planner["external_ref"] == {"system": "planner", "id": "7"}


async def test_create_decisions_without_external_ref_never_clash(client):
    await factories.basics(client)
    await factories.decision(client)
    await factories.decision(client)
    assert len((await client.get("/v1/decisions")).json()["items"]) == 2


async def test_create_decision_records_revision_1(client):
    await factories.basics(client)
    before = now()
    created = await factories.decision(client)
    after = now()
    response = await client.get(f"/v1/decisions/{created['id']}/revisions")
    assert response.status_code == 200
    page = response.json()
    assert page["next_cursor"] is None
    [first] = page["items"]
    assert_between(first["changed_at"], before, after)
    assert first == {
        "revision": 1,
        "kind": "created",
        "changed_at": first["changed_at"],
        "changed_by": "test-write",
        "recorded_by": "test-write",
        "edited_by": None,
        "reason": None,
        "changes": {},
        "decision": created,
    }


async def test_get_decision_returns_the_record_with_etag(client_for, client):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    async with client_for("read") as reader:
        got = await reader.get(f"/v1/decisions/{created.json()['id']}")
    assert got.status_code == 200
    assert got.json() == created.json() | {"contradicts": []}
    assert got.headers["ETag"] == created.headers["ETag"]


async def test_create_decision_needs_write_scope(client_for, anon, client):
    await factories.basics(client)
    async with client_for("read") as reader:
        assert_problem(await reader.post("/v1/decisions", json=factories.decision_body()), 403, "forbidden")
    assert_problem(await anon.post("/v1/decisions", json=factories.decision_body()), 401, "unauthorized")
    assert (await client.get("/v1/decisions")).json()["items"] == []


async def test_read_decisions_needs_read_scope(client_for, anon):
    async with client_for("analytics") as analyst:
        assert_problem(await analyst.get("/v1/decisions"), 403, "forbidden")
    assert_problem(await anon.get("/v1/decisions"), 401, "unauthorized")


# Bodies that reach every field of the answer, and the minimum: the write path builds its answer (and the
# revision's snapshot) without the read path's validation, so each must equal what a GET answers.
EVERY_FIELD = factories.decision_body(
    description="Display has stalled since January.",
    evidence=[
        {"source": "ga4", "reference": "https://analytics.example.com/r/1", "metric": "cvr", "value": 0.034},
        {"source": "crm", "reference": "Q1 pipeline report", "value": "up 12 %", "note": "Sales team view."},
        {"source": "ga4", "reference": "query 7", "value": 3},
    ],
    participants=["boris.ivanov"],
    team="performance",
    budget_amount=15000.5,
    budget_currency="EUR",
    decided_at="2026-03-01T10:00:00.123456+03:00",
    strategy="growth-2026",
    kpis=["cpa"],
    expected_outcome={"description": "CPA below 40 EUR", "kpi": "cpa", "target_value": 40, "review_by": "2026-06-01"},
    tags=["q2", "paid"],
    external_ref={"system": "crm", "id": "DEAL-1"},
)
MINIMAL = {"title": "Try a new banner", "rationale": "It feels right.", "basis": "intuition", "owner": "boris.ivanov"}
NO_DEFAULTS = factories.decision_body(
    evidence=[{"source": "ga4", "reference": "r"}],
    expected_outcome={"description": "More leads"},
    budget_amount=0,
    budget_currency="USD",
)


@pytest.mark.parametrize("body", [EVERY_FIELD, MINIMAL, NO_DEFAULTS], ids=["every-field", "minimal", "no-defaults"])
async def test_created_answer_and_snapshot_equal_what_a_get_answers(client, body):
    await factories.basics(client)
    await factories.strategy(client)
    await factories.version(client)
    await factories.kpi(client)
    single = await client.post("/v1/decisions", json=body)
    assert single.status_code == 201, single.text
    batch = await client.post("/v1/decisions/batch", json={"items": [{**body, "external_ref": None}, MINIMAL]})
    assert batch.status_code == 201, batch.text
    for created in [single.json(), *batch.json()["items"]]:
        got = await client.get(f"/v1/decisions/{created['id']}")
        assert created | {"contradicts": []} == got.json()
        revisions = (await client.get(f"/v1/decisions/{created['id']}/revisions")).json()["items"]
        assert [revision["decision"] for revision in revisions] == [
            {k: v for k, v in got.json().items() if k != "contradicts"}
        ]
    assert single.headers["ETag"] == (await client.get(single.headers["Location"])).headers["ETag"]
