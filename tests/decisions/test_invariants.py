"""Orders in time and supersession the record must keep whatever the requests: no supersession cycle (of any
length, concurrent requests included), no decision dated after what already happened to it (its outcome review,
its reversal), no review due before the decision was made."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.decisions.repository import decision as decision_table
from tests import factories
from tests.decisions.helpers import assert_problem, error_at

# --- supersession -----------------------------------------------------------------------------


async def _decisions(client, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    await factories.basics(client)
    return [(await factories.decision(client, title=f"Decision {i}"))["id"] for i in range(count)]


async def _supersede(client, old: str, new: str):  # type: ignore[no-untyped-def]
    return await client.post(f"/v1/decisions/{old}/reverse", json=factories.reverse_body(superseded_by=new))


@pytest.mark.parametrize("length", [2, 3, 5])
async def test_supersession_that_would_close_a_cycle_returns_409(client, length):
    ids = await _decisions(client, length)
    for old, new in itertools.pairwise(ids):  # 0 superseded by 1, 1 by 2, …
        assert (await _supersede(client, old, new)).status_code == 200
    last = await client.get(f"/v1/decisions/{ids[-1]}")

    response = await _supersede(client, ids[-1], ids[0])  # … and the last by the first

    problem = assert_problem(response, 409, "supersession_cycle")
    assert error_at(problem, ["body", "superseded_by"])["type"] == "cycle"
    assert (await client.get(f"/v1/decisions/{ids[-1]}")).json() == last.json() | {
        "contradicts": []
    }  # still active, unchanged


async def test_supersession_chains_and_shared_successors_are_not_cycles(client):
    a, b, c, d = await _decisions(client, 4)

    assert (await _supersede(client, a, b)).status_code == 200  # a → b
    assert (await _supersede(client, c, b)).status_code == 200  # c → b: two replaced by one
    assert (await _supersede(client, b, d)).status_code == 200  # b → d: a chain

    assert (await client.get(f"/v1/decisions/{b}")).json()["reversal"]["superseded_by"] == d


async def test_concurrent_supersessions_both_ways_let_exactly_one_win(client):
    for _ in range(3):
        a, b = await _decisions(client, 2)

        responses = await asyncio.gather(_supersede(client, a, b), _supersede(client, b, a))

        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        statuses = {(await client.get(f"/v1/decisions/{i}")).json()["status"] for i in (a, b)}
        assert statuses == {"active", "superseded"}


# --- decided_at and what followed it ----------------------------------------------------------


async def test_correction_moving_decided_at_after_the_outcome_review_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client, decided_at="2026-03-01T10:00:00Z")
    reviewed = await factories.outcome(client, created["id"], reviewed_at="2026-06-02T09:00:00Z")

    response = await client.patch(
        f"/v1/decisions/{created['id']}", json={"edit_reason": "Date.", "decided_at": "2026-06-02T09:00:00.000001Z"}
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert error_at(problem, ["body", "decided_at"])["msg"] == (
        "must not follow the outcome review's reviewed_at (2026-06-02T09:00:00.000000Z)"
    )
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == reviewed | {"contradicts": []}
    on_time = await client.patch(
        f"/v1/decisions/{created['id']}", json={"edit_reason": "Date.", "decided_at": "2026-06-02T09:00:00Z"}
    )
    assert on_time.status_code == 200, on_time.text


async def test_correction_moving_decided_at_after_the_reversal_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client, decided_at="2026-03-01T10:00:00Z")
    reversed_ = await factories.reverse(client, created["id"])
    # A second after the reversal: within the clock skew allowed for "not in the future", but after the reversal.
    later = datetime.fromisoformat(reversed_["reversal"]["at"]) + timedelta(seconds=1)

    response = await client.patch(
        f"/v1/decisions/{created['id']}", json={"edit_reason": "Date.", "decided_at": later.isoformat()}
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert error_at(problem, ["body", "decided_at"])["msg"].startswith("must not follow the reversal (")
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == reversed_ | {"contradicts": []}


async def test_review_by_before_decided_at_returns_422_naming_review_by(client):
    await factories.basics(client)
    body = factories.decision_body(
        decided_at="2026-03-01T10:00:00Z", expected_outcome={"description": "CPA down", "review_by": "2026-03-01"}
    )

    single = await client.post("/v1/decisions", json=body)
    batch = await client.post("/v1/decisions/batch", json={"items": [factories.decision_body(), body]})

    problem = assert_problem(single, 422, "validation_failed")
    assert error_at(problem, ["body", "expected_outcome", "review_by"])["msg"] == (
        "must not precede decided_at (2026-03-01T10:00:00.000000Z)"
    )
    error_at(assert_problem(batch, 422, "validation_failed"), ["body", "items", 1, "expected_outcome", "review_by"])
    assert (await client.get("/v1/decisions")).json()["items"] == []
    same_time = factories.decision_body(
        decided_at="2026-03-01", expected_outcome={"description": "CPA down", "review_by": "2026-03-01"}
    )
    assert (await client.post("/v1/decisions", json=same_time)).status_code == 201


async def test_review_by_defaults_against_now_when_decided_at_is_not_sent(client):
    await factories.basics(client)
    body = factories.decision_body(expected_outcome={"description": "CPA down", "review_by": "2026-01-01"})
    del body["decided_at"]

    problem = assert_problem(await client.post("/v1/decisions", json=body), 422, "validation_failed")

    error_at(problem, ["body", "expected_outcome", "review_by"])


async def test_corrections_keep_review_by_after_decided_at(client):
    await factories.basics(client)
    created = await factories.decision(
        client,
        decided_at="2026-03-01T10:00:00Z",
        expected_outcome={"description": "CPA down", "review_by": "2026-06-01T00:00:00Z"},
    )
    url = f"/v1/decisions/{created['id']}"

    moved = await client.patch(url, json={"edit_reason": "Date.", "decided_at": "2026-06-02T00:00:00Z"})
    early = await client.patch(
        url, json={"edit_reason": "Due.", "expected_outcome": {"description": "CPA down", "review_by": "2026-02-01"}}
    )
    both = await client.patch(
        url,
        json={
            "edit_reason": "Both.",
            "decided_at": "2026-05-01T00:00:00Z",
            "expected_outcome": {"description": "CPA down", "review_by": "2026-04-01"},
        },
    )

    error_at(assert_problem(moved, 422, "validation_failed"), ["body", "decided_at"])
    error_at(assert_problem(early, 422, "validation_failed"), ["body", "expected_outcome", "review_by"])
    error_at(assert_problem(both, 422, "validation_failed"), ["body", "expected_outcome", "review_by"])
    assert (await client.get(url)).json() == created | {"contradicts": []}
    fine = await client.patch(url, json={"edit_reason": "Date.", "decided_at": "2026-06-01T00:00:00Z"})
    assert fine.status_code == 200, fine.text


async def test_correction_of_other_fields_is_not_refused_for_an_order_stored_before_the_rule(client, db):
    await factories.basics(client)
    created = await factories.decision(
        client,
        decided_at="2026-03-01T10:00:00Z",
        expected_outcome={"description": "CPA down", "review_by": "2026-06-01T00:00:00Z"},
    )
    async with db.engine.begin() as connection:  # as a decision recorded before review_by was checked
        await connection.execute(
            update(decision_table)
            .where(decision_table.c.id == uuid.UUID(created["id"]))
            .values(decided_at=datetime(2026, 7, 1, tzinfo=UTC))
        )

    response = await client.patch(f"/v1/decisions/{created['id']}", json={"edit_reason": "Typo.", "title": "Fixed"})

    assert response.status_code == 200, response.text
