"""POST /v1/decisions/{id}/outcome: the review of a decision against what it expected."""

import json
from datetime import timedelta

import pytest

from tests import factories
from tests.decisions.helpers import assert_between, assert_problem, error_at, now


async def _outcome(client, decision_id: str, body: dict, **headers: str):
    return await client.post(f"/v1/decisions/{decision_id}/outcome", json=body, headers=headers)


async def _revisions(client, decision_id: str) -> list[dict]:
    return (await client.get(f"/v1/decisions/{decision_id}/revisions")).json()["items"]


async def test_record_outcome_returns_201_and_shows_it_on_the_decision(client):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    original = created.json()
    before = now()
    response = await _outcome(client, original["id"], factories.outcome_body(reviewed_at="2026-06-02T12:00:00+03:00"))
    after = now()
    assert response.status_code == 201, response.text
    reviewed = response.json()
    assert response.headers["Location"] == f"/v1/decisions/{original['id']}"
    assert response.headers["ETag"] != created.headers["ETag"]
    assert_between(reviewed["outcome"]["recorded_at"], before, after)
    assert reviewed == original | {
        "revision": 2,
        "updated_at": reviewed["updated_at"],
        "outcome": {
            "result": "success",
            "notes": "CPA fell to 37 EUR.",
            "actual_value": 37,
            "reviewed_by": "boris.ivanov",
            "reviewed_at": "2026-06-02T09:00:00.000000Z",
            "recorded_at": reviewed["outcome"]["recorded_at"],
            "cause": None,
            "target_met": None,
        },
    }
    got = await client.get(f"/v1/decisions/{original['id']}")
    assert got.json() == reviewed | {"contradicts": []}
    assert got.headers["ETag"] == response.headers["ETag"]


@pytest.mark.parametrize("result", ["success", "partial", "failure", "inconclusive"])
async def test_record_outcome_every_result(client, result):
    await factories.basics(client)
    created = await factories.decision(client)
    reviewed = await factories.outcome(client, created["id"], result=result, notes=None, actual_value=None)
    assert reviewed["outcome"] | {"recorded_at": None} == {
        "result": result,
        "notes": None,
        "actual_value": None,
        "reviewed_by": "boris.ivanov",
        "reviewed_at": "2026-06-02T09:00:00.000000Z",
        "recorded_at": None,
        "cause": None,
        "target_met": None,
    }


async def test_record_outcome_reviewed_at_defaults_to_now(client):
    await factories.basics(client)
    created = await factories.decision(client)
    body = factories.outcome_body()
    del body["reviewed_at"]
    before = now()
    response = await _outcome(client, created["id"], body)
    after = now()
    assert response.status_code == 201, response.text
    assert_between(response.json()["outcome"]["reviewed_at"], before, after)


async def test_record_outcome_adds_a_revision(client):
    await factories.basics(client)
    created = await factories.decision(client)
    reviewed = await factories.outcome(client, created["id"])
    revisions = await _revisions(client, created["id"])
    assert [r["revision"] for r in revisions] == [1, 2]
    assert revisions[1] == {
        "revision": 2,
        "kind": "outcome_recorded",
        "changed_at": reviewed["updated_at"],
        "changed_by": "test-write",
        "recorded_by": "test-write",
        "edited_by": "boris.ivanov",
        "reason": "CPA fell to 37 EUR.",
        "changes": {"outcome": {"from": None, "to": reviewed["outcome"]}},
        "decision": reviewed,
    }


async def test_record_outcome_second_time_returns_409(client):
    await factories.basics(client)
    created = await factories.decision(client)
    first = await factories.outcome(client, created["id"])
    response = await _outcome(client, created["id"], factories.outcome_body(result="failure"))
    problem = assert_problem(response, 409, "outcome_already_recorded")
    assert created["id"] in problem["detail"]
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == first | {"contradicts": []}
    assert len(await _revisions(client, created["id"])) == 2


async def test_record_outcome_unknown_reviewer_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await _outcome(client, created["id"], factories.outcome_body(reviewed_by="ghost.reviewer"))
    problem = assert_problem(response, 422, "unknown_reference")
    assert "ghost.reviewer" in error_at(problem, ["body", "reviewed_by"])["msg"]
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}
    assert len(await _revisions(client, created["id"])) == 1


@pytest.mark.parametrize("ahead", [timedelta(hours=1), timedelta(days=30)])
async def test_record_outcome_reviewed_at_in_the_future_returns_422(client, ahead):
    await factories.basics(client)
    created = await factories.decision(client)
    body = factories.outcome_body(reviewed_at=(now() + ahead).isoformat())
    problem = assert_problem(await _outcome(client, created["id"], body), 422, "validation_failed")
    assert error_at(problem, ["body", "reviewed_at"])["type"] == "value_error.future"
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}


async def test_record_outcome_reviewed_before_the_decision_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client, decided_at="2026-03-01T10:00:00Z")
    body = factories.outcome_body(reviewed_at="2026-03-01T09:59:59Z")
    problem = assert_problem(await _outcome(client, created["id"], body), 422, "validation_failed")
    error_at(problem, ["body", "reviewed_at"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"result": "great"}, "result"),
        ({"result": None}, "result"),
        ({"reviewed_by": None}, "reviewed_by"),
        ({"reviewed_at": "2026-06-02T09:00:00"}, "reviewed_at"),
        ({"actual_value": "a lot"}, "actual_value"),
        ({"reviewer": "boris.ivanov"}, "reviewer"),
        ({"recorded_at": "2026-06-02T09:00:00Z"}, "recorded_at"),
    ],
)
async def test_record_outcome_invalid_body_returns_422(client, change, field):
    await factories.basics(client)
    created = await factories.decision(client)
    body = {k: v for k, v in (factories.outcome_body() | change).items() if v is not None}
    problem = assert_problem(await _outcome(client, created["id"], body), 422, "validation_failed")
    error_at(problem, ["body", field])


async def test_record_outcome_non_finite_actual_value_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    raw = json.dumps(factories.outcome_body())[:-1] + ', "actual_value": NaN}'
    raw = raw.replace('"actual_value": 37, ', "")
    response = await client.post(
        f"/v1/decisions/{created['id']}/outcome", content=raw, headers={"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 422, "validation_failed")
    error_at(problem, ["body", "actual_value"])


async def test_record_outcome_notes_with_nul_character_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await _outcome(client, created["id"], factories.outcome_body(notes="Fine\x00"))
    problem = assert_problem(response, 422, "validation_failed")
    error_at(problem, ["body", "notes"])
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}


async def test_record_outcome_on_a_reversed_decision_is_allowed(client):
    await factories.basics(client)
    created = await factories.decision(client)
    await factories.reverse(client, created["id"])
    reviewed = await factories.outcome(client, created["id"], result="failure")
    assert (reviewed["status"], reviewed["outcome"]["result"], reviewed["revision"]) == ("reversed", "failure", 3)


async def test_record_outcome_stale_if_match_returns_412(client):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    await factories.edit(client, created.json()["id"], title="Changed meanwhile")
    response = await _outcome(
        client, created.json()["id"], factories.outcome_body(), **{"If-Match": created.headers["ETag"]}
    )
    assert_problem(response, 412, "precondition_failed")
    assert (await client.get(f"/v1/decisions/{created.json()['id']}")).json()["outcome"] is None


async def test_record_outcome_needs_write_scope(client_for, client):
    await factories.basics(client)
    created = await factories.decision(client)
    async with client_for("read") as reader:
        response = await reader.post(f"/v1/decisions/{created['id']}/outcome", json=factories.outcome_body())
    assert_problem(response, 403, "forbidden")
