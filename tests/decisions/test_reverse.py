"""POST /v1/decisions/{id}/reverse: a decision is reversed or superseded, never deleted."""

import pytest

from tests import factories
from tests.decisions.helpers import assert_between, assert_problem, error_at, now


async def _reverse(client, decision_id: str, body: dict, **headers: str):
    return await client.post(f"/v1/decisions/{decision_id}/reverse", json=body, headers=headers)


async def _revisions(client, decision_id: str) -> list[dict]:
    return (await client.get(f"/v1/decisions/{decision_id}/revisions")).json()["items"]


async def test_reverse_decision_sets_status_reversed(client):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    original = created.json()
    before = now()
    response = await _reverse(client, original["id"], {"reason": "Client cancelled.", "by": "boris.ivanov"})
    after = now()
    assert response.status_code == 200, response.text
    reversed_ = response.json()
    assert_between(reversed_["reversal"]["at"], before, after)
    assert reversed_ == original | {
        "status": "reversed",
        "revision": 2,
        "updated_at": reversed_["updated_at"],
        "reversal": {
            "reason": "Client cancelled.",
            "by": "boris.ivanov",
            "at": reversed_["reversal"]["at"],
            "superseded_by": None,
        },
    }
    assert response.headers["ETag"] != created.headers["ETag"]
    got = await client.get(f"/v1/decisions/{original['id']}")
    assert got.json() == reversed_ | {"contradicts": []}
    assert got.headers["ETag"] == response.headers["ETag"]


async def test_reverse_decision_with_superseded_by_sets_status_superseded(client):
    await factories.basics(client)
    old = await factories.decision(client, title="Old plan")
    new = await factories.decision(client, title="New plan")
    response = await _reverse(
        client, old["id"], {"reason": "Replaced by the new plan.", "by": "anna.petrova", "superseded_by": new["id"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "superseded"
    assert body["reversal"] == {
        "reason": "Replaced by the new plan.",
        "by": "anna.petrova",
        "at": body["reversal"]["at"],
        "superseded_by": new["id"],
    }
    replacement = (await client.get(f"/v1/decisions/{new['id']}")).json()
    assert replacement == new | {"contradicts": []}


async def test_reverse_decision_adds_a_revision(client):
    await factories.basics(client)
    created = await factories.decision(client)
    reversed_ = await factories.reverse(client, created["id"], reason="Budget frozen.", by="boris.ivanov")
    revisions = await _revisions(client, created["id"])
    assert [r["revision"] for r in revisions] == [1, 2]
    assert revisions[1] == {
        "revision": 2,
        "kind": "reversed",
        "changed_at": reversed_["updated_at"],
        "changed_by": "test-write",
        "recorded_by": "test-write",
        "edited_by": "boris.ivanov",
        "reason": "Budget frozen.",
        "changes": {
            "status": {"from": "active", "to": "reversed"},
            "reversal": {"from": None, "to": reversed_["reversal"]},
        },
        "decision": reversed_,
    }


async def test_supersede_decision_revision_kind_is_superseded(client):
    await factories.basics(client)
    old = await factories.decision(client)
    new = await factories.decision(client)
    await factories.reverse(client, old["id"], superseded_by=new["id"])
    last = (await _revisions(client, old["id"]))[-1]
    assert last["kind"] == "superseded"
    assert last["changes"]["status"] == {"from": "active", "to": "superseded"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"by": "boris.ivanov"}, "reason"),
        ({"reason": "Why not.", "by": "boris.ivanov", "reason_extra": 1}, "reason_extra"),
        ({"reason": "   ", "by": "boris.ivanov"}, "reason"),
        ({"reason": "Why not."}, "by"),
        ({"reason": "Why not.", "by": "Boris Ivanov"}, "by"),
        ({"reason": "Why not.", "by": "boris.ivanov", "superseded_by": "not-a-uuid"}, "superseded_by"),
        ({"reason": "Why not.", "by": "boris.ivanov", "status": "reversed"}, "status"),
    ],
)
async def test_reverse_decision_invalid_body_returns_422(client, body, field):
    await factories.basics(client)
    created = await factories.decision(client)
    problem = assert_problem(await _reverse(client, created["id"], body), 422, "validation_failed")
    error_at(problem, ["body", field])
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}


async def test_reverse_decision_unknown_by_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    problem = assert_problem(
        await _reverse(client, created["id"], factories.reverse_body(by="ghost.boss")), 422, "unknown_reference"
    )
    assert "ghost.boss" in error_at(problem, ["body", "by"])["msg"]
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}


async def test_reverse_decision_unknown_superseded_by_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    missing = "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b"
    problem = assert_problem(
        await _reverse(client, created["id"], factories.reverse_body(superseded_by=missing)), 422, "unknown_reference"
    )
    assert missing in error_at(problem, ["body", "superseded_by"])["msg"]
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}
    assert len(await _revisions(client, created["id"])) == 1


async def test_reverse_decision_superseded_by_itself_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await _reverse(client, created["id"], factories.reverse_body(superseded_by=created["id"]))
    problem = assert_problem(response, 422, "validation_failed")
    error_at(problem, ["body", "superseded_by"])
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}


@pytest.mark.parametrize("first", [{}, {"superseded_by": "new"}])
@pytest.mark.parametrize("second", [{}, {"superseded_by": "new"}])
async def test_reverse_decision_twice_returns_409(client, first, second):
    await factories.basics(client)
    created = await factories.decision(client)
    new = await factories.decision(client)
    resolve = {"new": new["id"]}
    done = await factories.reverse(client, created["id"], **{k: resolve[v] for k, v in first.items()})
    body = factories.reverse_body(reason="Again.", **{k: resolve[v] for k, v in second.items()})
    problem = assert_problem(await _reverse(client, created["id"], body), 409, "decision_not_active")
    assert created["id"] in problem["detail"]
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == done | {"contradicts": []}
    assert len(await _revisions(client, created["id"])) == 2


async def test_reverse_decision_stale_if_match_returns_412(client):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    await factories.edit(client, created.json()["id"], title="Changed meanwhile")
    response = await _reverse(
        client, created.json()["id"], factories.reverse_body(), **{"If-Match": created.headers["ETag"]}
    )
    assert_problem(response, 412, "precondition_failed")
    assert (await client.get(f"/v1/decisions/{created.json()['id']}")).json()["status"] == "active"


async def test_reverse_decision_current_if_match_returns_200(client):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    response = await _reverse(
        client, created.json()["id"], factories.reverse_body(), **{"If-Match": created.headers["ETag"]}
    )
    assert response.status_code == 200, response.text


async def test_reverse_decision_needs_write_scope(client_for, client):
    await factories.basics(client)
    created = await factories.decision(client)
    async with client_for("read") as reader:
        response = await reader.post(f"/v1/decisions/{created['id']}/reverse", json=factories.reverse_body())
    assert_problem(response, 403, "forbidden")


async def test_reverse_decision_reason_with_nul_character_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await _reverse(client, created["id"], factories.reverse_body(reason="Cancelled\x00"))
    problem = assert_problem(response, 422, "validation_failed")
    error_at(problem, ["body", "reason"])
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}
