"""PATCH /v1/decisions/{id}: corrections with a reason, optimistic concurrency and the revision history."""

from datetime import timedelta

import pytest

from tests import factories
from tests.decisions.helpers import assert_between, assert_problem, error_at, evidence_read, now, parse_utc


async def _patch(client, decision_id: str, body: dict, **headers: str):
    return await client.patch(f"/v1/decisions/{decision_id}", json=body, headers=headers)


async def _revisions(client, decision_id: str) -> list[dict]:
    response = await client.get(f"/v1/decisions/{decision_id}/revisions")
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_update_decision_changes_fields_and_bumps_revision(client):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    original = created.json()
    before = now()
    response = await _patch(
        client,
        original["id"],
        {
            "edit_reason": "Figures were for Q1 only.",
            "title": "Move 25% of display budget to paid search",
            "tags": ["q2"],
            "budget_amount": 1200,
            "budget_currency": "EUR",
        },
    )
    after = now()
    assert response.status_code == 200, response.text
    edited = response.json()
    assert_between(edited["updated_at"], before, after)
    assert edited == original | {
        "title": "Move 25% of display budget to paid search",
        "tags": ["q2"],
        "budget_amount": 1200,
        "budget_currency": "EUR",
        "revision": 2,
        "updated_at": edited["updated_at"],
    }
    assert response.headers["ETag"] and response.headers["ETag"] != created.headers["ETag"]
    got = await client.get(f"/v1/decisions/{original['id']}")
    assert got.json() == edited | {"contradicts": []}
    assert got.headers["ETag"] == response.headers["ETag"]


async def test_update_decision_null_clears_an_optional_field(client):
    await factories.basics(client)
    created = await factories.decision(client, description="Old note.", channel="email")
    edited = await factories.edit(client, created["id"], description=None, channel=None)
    assert (edited["description"], edited["channel"]) == (None, None)
    assert edited["revision"] == 2


@pytest.mark.parametrize(
    "field", ["title", "rationale", "basis", "owner", "category", "decided_at", "evidence", "tags"]
)
async def test_update_decision_cannot_clear_a_required_field(client, field):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await _patch(client, created["id"], {"edit_reason": "Clear it.", field: None})
    assert_problem(response, 422, "validation_failed")
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}


async def test_update_decision_stale_if_match_returns_412(client):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    decision_id = created.json()["id"]
    await factories.edit(client, decision_id, title="Someone else's change")
    response = await _patch(
        client, decision_id, {"edit_reason": "Mine.", "title": "My change"}, **{"If-Match": created.headers["ETag"]}
    )
    problem = assert_problem(response, 412, "precondition_failed")
    current = await client.get(f"/v1/decisions/{decision_id}")
    assert problem["current_etag"] == current.headers["ETag"]
    assert current.json()["title"] == "Someone else's change"
    assert current.json()["revision"] == 2
    assert len(await _revisions(client, decision_id)) == 2


@pytest.mark.parametrize("if_match", ['"not-the-etag"', 'W/"nope"', "garbage"])
async def test_update_decision_wrong_if_match_returns_412(client, if_match):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await _patch(client, created["id"], {"edit_reason": "x", "title": "New"}, **{"If-Match": if_match})
    assert_problem(response, 412, "precondition_failed")
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}


async def test_update_decision_current_if_match_returns_200(client):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    first = await _patch(
        client, created.json()["id"], {"edit_reason": "One.", "title": "One"}, **{"If-Match": created.headers["ETag"]}
    )
    assert first.status_code == 200, first.text
    second = await _patch(
        client, created.json()["id"], {"edit_reason": "Two.", "title": "Two"}, **{"If-Match": first.headers["ETag"]}
    )
    assert second.status_code == 200, second.text
    assert second.json()["revision"] == 3
    assert len({created.headers["ETag"], first.headers["ETag"], second.headers["ETag"]}) == 3


@pytest.mark.parametrize("if_match", ["*", '"stale", {current}', ' , "a,b", {current} ,', 'W/"stale", {current}'])
async def test_update_decision_if_match_forms_that_match(client, if_match):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    header = if_match.format(current=created.headers["ETag"])
    response = await _patch(client, created.json()["id"], {"edit_reason": "x", "title": "New"}, **{"If-Match": header})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("if_match", ["W/{current}", 'W/{current}, W/"other"', "{current}x", "*, {current}"])
async def test_update_decision_weak_or_malformed_if_match_returns_412(client, if_match):
    """RFC 9110 §13.1.1: If-Match compares entity tags strongly, so the weak form of the current ETag does not
    match; nor does a header outside the grammar (`*` stands alone)."""
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    header = if_match.format(current=created.headers["ETag"])
    response = await _patch(client, created.json()["id"], {"edit_reason": "x", "title": "New"}, **{"If-Match": header})
    assert_problem(response, 412, "precondition_failed")
    assert (await client.get(f"/v1/decisions/{created.json()['id']}")).json() == created.json() | {"contradicts": []}


@pytest.mark.parametrize("body", [{"title": "New"}, {"edit_reason": "", "title": "New"}, {"edit_reason": "  "}])
async def test_update_decision_missing_or_blank_edit_reason_returns_422(client, body):
    await factories.basics(client)
    created = await factories.decision(client)
    problem = assert_problem(await _patch(client, created["id"], body), 422, "validation_failed")
    error_at(problem, ["body", "edit_reason"])
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b"),
        ("status", "reversed"),
        ("revision", 7),
        ("basis_class", "data"),
        ("classification_reason", "evidence_cited"),
        ("recorded_at", "2026-03-01T10:00:00Z"),
        ("external_ref", {"system": "crm", "id": "1"}),
        ("colour", "red"),
    ],
)
async def test_update_decision_field_a_client_may_not_change_returns_422(client, field, value):
    await factories.basics(client)
    created = await factories.decision(client)
    problem = assert_problem(
        await _patch(client, created["id"], {"edit_reason": "x", field: value}), 422, "validation_failed"
    )
    assert error_at(problem, ["body", field])["type"] == "extra_forbidden"


async def test_update_decision_unknown_owner_returns_422_and_changes_nothing(client):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await _patch(client, created["id"], {"edit_reason": "x", "owner": "ghost", "title": "New"})
    problem = assert_problem(response, 422, "unknown_reference")
    assert "ghost" in error_at(problem, ["body", "owner"])["msg"]
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}
    assert len(await _revisions(client, created["id"])) == 1


async def test_update_decision_unknown_evidence_source_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await _patch(
        client, created["id"], {"edit_reason": "x", "evidence": [{"source": "x1", "reference": "r"}]}
    )
    problem = assert_problem(response, 422, "unknown_reference")
    assert "x1" in error_at(problem, ["body", "evidence", 0, "source"])["msg"]


async def test_update_decision_future_decided_at_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    later = (now() + timedelta(hours=2)).isoformat()
    problem = assert_problem(
        await _patch(client, created["id"], {"edit_reason": "x", "decided_at": later}), 422, "validation_failed"
    )
    error_at(problem, ["body", "decided_at"])


async def test_update_decision_budget_amount_without_currency_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await _patch(client, created["id"], {"edit_reason": "x", "budget_amount": 10})
    assert_problem(response, 422, "validation_failed")
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}


async def test_update_decision_budget_amount_alone_when_currency_is_stored(client):
    await factories.basics(client)
    created = await factories.decision(client, budget_amount=10, budget_currency="EUR")
    edited = await factories.edit(client, created["id"], budget_amount=20)
    assert (edited["budget_amount"], edited["budget_currency"]) == (20, "EUR")


async def test_update_decision_dropping_evidence_reclassifies_and_records_it(client):
    await factories.basics(client)
    created = await factories.decision(client)
    edited = await factories.edit(client, created["id"], evidence=[], edit_reason="The report was withdrawn.")
    assert (edited["basis_class"], edited["classification_reason"]) == ("emotion", "data_claim_without_evidence")
    last = (await _revisions(client, created["id"]))[-1]
    assert last["changes"] == {
        "evidence": {"from": created["evidence"], "to": []},
        "basis_class": {"from": "data", "to": "emotion"},
        "classification_reason": {"from": "evidence_cited", "to": "data_claim_without_evidence"},
    }


async def test_update_decision_citing_evidence_makes_a_data_claim_count_as_data(client):
    await factories.basics(client)
    created = await factories.decision(client, basis="experiment", evidence=[])
    assert created["basis_class"] == "emotion"
    edited = await factories.edit(client, created["id"], evidence=[{"source": "crm", "reference": "AB test 12"}])
    assert (edited["basis_class"], edited["classification_reason"]) == ("data", "evidence_cited")
    assert edited["evidence"] == [evidence_read(source="crm", reference="AB test 12")]


async def test_update_decision_changing_basis_alone_reclassifies_with_stored_evidence(client):
    await factories.basics(client)
    created = await factories.decision(client, basis="emotion")
    assert created["classification_reason"] == "declared_emotion"
    edited = await factories.edit(client, created["id"], basis="research")
    assert (edited["basis_class"], edited["classification_reason"]) == ("data", "evidence_cited")
    again = await factories.edit(client, created["id"], basis="authority")
    assert (again["basis_class"], again["classification_reason"]) == ("emotion", "declared_authority")


async def test_update_decision_that_changes_nothing_records_no_revision(client):
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body(tags=["a"]))
    original = created.json()
    same = {
        "edit_reason": "Nothing, really.",
        "title": original["title"],
        "tags": ["a"],
        "decided_at": "2026-03-01T13:00:00+03:00",
        "evidence": factories.decision_body()["evidence"],
    }
    response = await _patch(client, original["id"], same)
    assert response.status_code == 200, response.text
    assert response.json() == original
    assert response.headers["ETag"] == created.headers["ETag"]
    assert len(await _revisions(client, original["id"])) == 1
    only_reason = await _patch(client, original["id"], {"edit_reason": "Just a reason."})
    assert only_reason.status_code == 200
    assert only_reason.json() == original
    assert len(await _revisions(client, original["id"])) == 1


async def test_update_decision_owner_change_keeps_team(client):
    await factories.basics(client)
    created = await factories.decision(client, owner="anna.petrova")
    edited = await factories.edit(client, created["id"], owner="boris.ivanov")
    assert (edited["owner"], edited["team"]) == ("boris.ivanov", "growth")


async def test_update_decision_needs_write_scope(client_for, client):
    await factories.basics(client)
    created = await factories.decision(client)
    async with client_for("read") as reader:
        response = await reader.patch(f"/v1/decisions/{created['id']}", json={"edit_reason": "x", "title": "y"})
    assert_problem(response, 403, "forbidden")


# --- the history ------------------------------------------------------------------------------


async def test_revisions_show_who_when_why_what_and_the_snapshot_oldest_first(client_for, client):
    await factories.basics(client)
    created = await factories.decision(client)
    t1 = now()
    second = await factories.edit(client, created["id"], edit_reason="Typo in the title.", title="Fixed title")
    t2 = now()
    third = await factories.edit(
        client, created["id"], edit_reason="Boris owns it now.", owner="boris.ivanov", edited_by="anna.petrova"
    )
    t3 = now()
    async with client_for("read") as reader:
        response = await reader.get(f"/v1/decisions/{created['id']}/revisions")
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    items = page["items"]
    assert [r["revision"] for r in items] == [1, 2, 3]
    assert parse_utc(items[0]["changed_at"]) <= t1
    assert_between(items[1]["changed_at"], t1, t2)
    assert_between(items[2]["changed_at"], t2, t3)
    assert items == [
        {
            "revision": 1,
            "kind": "created",
            "changed_at": items[0]["changed_at"],
            "changed_by": "test-write",
            "recorded_by": "test-write",
            "edited_by": None,
            "reason": None,
            "changes": {},
            "decision": created,
        },
        {
            "revision": 2,
            "kind": "edited",
            "changed_at": second["updated_at"],
            "changed_by": "test-write",
            "recorded_by": "test-write",
            "edited_by": None,
            "reason": "Typo in the title.",
            "changes": {"title": {"from": created["title"], "to": "Fixed title"}},
            "decision": second,
        },
        {
            "revision": 3,
            "kind": "edited",
            "changed_at": third["updated_at"],
            "changed_by": "test-write",
            "recorded_by": "test-write",
            "edited_by": "anna.petrova",
            "reason": "Boris owns it now.",
            "changes": {"owner": {"from": "anna.petrova", "to": "boris.ivanov"}},
            "decision": third,
        },
    ]
    current = (await client.get(f"/v1/decisions/{created['id']}")).json()
    assert items[-1]["decision"] | {"contradicts": []} == current


async def test_revisions_record_the_key_that_made_the_change(client_for, client):
    await factories.basics(client)
    created = await factories.decision(client)
    async with client_for("admin") as admin:
        response = await admin.patch(f"/v1/decisions/{created['id']}", json={"edit_reason": "x", "title": "By admin"})
    assert response.status_code == 200, response.text
    assert [r["changed_by"] for r in await _revisions(client, created["id"])] == ["test-write", "test-admin"]


async def test_revisions_unknown_edited_by_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await _patch(client, created["id"], {"edit_reason": "x", "title": "y", "edited_by": "ghost"})
    problem = assert_problem(response, 422, "unknown_reference")
    assert "ghost" in error_at(problem, ["body", "edited_by"])["msg"]


async def test_revisions_paginate_oldest_first(client):
    await factories.basics(client)
    created = await factories.decision(client)
    for i in range(4):
        await factories.edit(client, created["id"], title=f"Title {i}")
    first = await client.get(f"/v1/decisions/{created['id']}/revisions", params={"limit": 2})
    page = first.json()
    assert [r["revision"] for r in page["items"]] == [1, 2]
    assert page["next_cursor"] and 'rel="next"' in first.headers["Link"]
    second = (
        await client.get(f"/v1/decisions/{created['id']}/revisions", params={"limit": 2, "cursor": page["next_cursor"]})
    ).json()
    third = (
        await client.get(
            f"/v1/decisions/{created['id']}/revisions", params={"limit": 2, "cursor": second["next_cursor"]}
        )
    ).json()
    assert [r["revision"] for r in second["items"] + third["items"]] == [3, 4, 5]
    assert third["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["garbage", "WyJ4Il0", "WzEsMl0"])
async def test_revisions_garbage_cursor_returns_422(client, cursor):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await client.get(f"/v1/decisions/{created['id']}/revisions", params={"cursor": cursor})
    assert_problem(response, 422, "validation_failed")


async def test_update_decision_text_with_nul_character_returns_422(client):
    await factories.basics(client)
    created = await factories.decision(client)
    response = await _patch(client, created["id"], {"edit_reason": "Typo\x00", "rationale": "Fixed\x00"})
    problem = assert_problem(response, 422, "validation_failed")
    error_at(problem, ["body", "edit_reason"])
    error_at(problem, ["body", "rationale"])
    assert (await client.get(f"/v1/decisions/{created['id']}")).json() == created | {"contradicts": []}
