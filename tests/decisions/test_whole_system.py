"""The whole system on a decision: the contractor that executes it, the person who directed it, the cause a
review blames, and the signals of its rationale (computed when it is written, stored, searchable)."""

import csv
import io
import json

import pytest
from sqlalchemy import text

from tests import factories
from tests.decisions.helpers import assert_problem, error_at


async def _setup(client):
    await factories.basics(client)
    await factories.person(client, "olga.owner", team="board", role="owner")
    await factories.contractor(client, "acme")
    await factories.contractor(client, "old-agency", active=False)


async def test_decision_records_contractor_and_directed_by_and_reads_them_back(client):
    await _setup(client)
    created = await factories.decision(client, contractor="acme", directed_by="olga.owner", basis="authority")
    assert (created["contractor"], created["directed_by"]) == ("acme", "olga.owner")
    got = (await client.get(f"/v1/decisions/{created['id']}")).json()
    assert got == created | {"contradicts": []}


# With a team and no strategy the insert itself checks what the body names (the driver writer's one statement on
# PostgreSQL); without a team the references are read first: both refuse alike.
@pytest.mark.parametrize("extra", [{}, {"team": "growth"}])
@pytest.mark.parametrize(
    ("field", "value", "msg"),
    [
        ("contractor", "nobody", "unknown contractor 'nobody'"),
        ("contractor", "old-agency", "inactive contractor 'old-agency'"),
        ("directed_by", "nobody", "unknown person 'nobody'"),
    ],
)
async def test_unknown_or_inactive_reference_is_422_naming_field_and_value(client, extra, field, value, msg):
    await _setup(client)
    response = await client.post("/v1/decisions", json=factories.decision_body(**{field: value}, **extra))
    body = assert_problem(response, 422, "unknown_reference")
    assert error_at(body, ["body", field])["msg"] == msg
    listed = await client.get("/v1/decisions")
    assert listed.json()["items"] == []


async def test_batch_names_the_item_of_an_inactive_contractor(client):
    await _setup(client)
    items = [factories.decision_body(contractor="acme"), factories.decision_body(contractor="old-agency")]
    body = assert_problem(await client.post("/v1/decisions/batch", json={"items": items}), 422, "unknown_reference")
    assert error_at(body, ["body", "items", 1, "contractor"])["msg"] == "inactive contractor 'old-agency'"
    assert (await client.get("/v1/decisions")).json()["items"] == []


async def test_directed_by_the_owner_is_refused_on_create_and_correct(client):
    await _setup(client)
    response = await client.post("/v1/decisions", json=factories.decision_body(directed_by="anna.petrova"))
    body = assert_problem(response, 422, "validation_failed")
    assert error_at(body, ["body", "directed_by"])
    created = await factories.decision(client, directed_by="olga.owner")
    patched = await client.patch(f"/v1/decisions/{created['id']}", json={"edit_reason": "x", "owner": "olga.owner"})
    assert error_at(assert_problem(patched, 422, "validation_failed"), ["body", "directed_by"])


async def test_correcting_contractor_and_directed_by_keeps_history(client):
    await _setup(client)
    await factories.contractor(client, "bravo")
    created = await factories.decision(client, contractor="acme")
    edited = await factories.edit(client, created["id"], contractor="bravo", directed_by="olga.owner")
    assert (edited["contractor"], edited["directed_by"], edited["revision"]) == ("bravo", "olga.owner", 2)
    cleared = await factories.edit(client, created["id"], contractor=None)
    assert cleared["contractor"] is None
    revisions = (await client.get(f"/v1/decisions/{created['id']}/revisions")).json()["items"]
    assert revisions[1]["changes"] == {
        "contractor": {"from": "acme", "to": "bravo"},
        "directed_by": {"from": None, "to": "olga.owner"},
    }
    assert revisions[2]["changes"] == {"contractor": {"from": "bravo", "to": None}}
    assert revisions[1]["decision"]["contractor"] == "bravo"
    refused = await client.patch(
        f"/v1/decisions/{created['id']}", json={"edit_reason": "x", "contractor": "old-agency"}
    )
    assert error_at(assert_problem(refused, 422, "unknown_reference"), ["body", "contractor"])


@pytest.mark.parametrize("result", ["partial", "failure"])
async def test_review_of_a_shortfall_takes_a_cause(client, result):
    await _setup(client)
    created = await factories.decision(client)
    reviewed = await factories.outcome(client, created["id"], result=result, cause="execution")
    assert reviewed["outcome"]["cause"] == "execution"
    revisions = (await client.get(f"/v1/decisions/{created['id']}/revisions")).json()["items"]
    assert revisions[-1]["changes"]["outcome"]["to"]["cause"] == "execution"


@pytest.mark.parametrize("result", ["success", "inconclusive"])
async def test_cause_without_a_shortfall_is_422(client, result):
    await _setup(client)
    created = await factories.decision(client)
    response = await client.post(
        f"/v1/decisions/{created['id']}/outcome", json=factories.outcome_body(result=result, cause="decision")
    )
    assert error_at(assert_problem(response, 422, "validation_failed"), ["body", "cause"])
    assert (await client.get(f"/v1/decisions/{created['id']}")).json()["outcome"] is None


async def test_unknown_cause_is_422(client):
    await _setup(client)
    created = await factories.decision(client)
    response = await client.post(
        f"/v1/decisions/{created['id']}/outcome", json=factories.outcome_body(result="failure", cause="weather")
    )
    assert error_at(assert_problem(response, 422, "validation_failed"), ["body", "cause"])


async def test_rationale_signals_are_stored_on_create_and_never_change_the_class(client):
    await _setup(client)
    created = await factories.decision(
        client, rationale="Obviously this works: everyone knows it. Мне кажется, руководство решило верно."
    )
    assert created["basis_class"] == "data"
    assert created["rationale_signals"] == [
        {"signal": "certainty", "phrase": "Obviously"},
        {"signal": "hearsay", "phrase": "everyone knows"},
        {"signal": "feeling", "phrase": "Мне кажется"},
        {"signal": "authority", "phrase": "руководство решило"},
    ]
    assert (await client.get(f"/v1/decisions/{created['id']}")).json()["rationale_signals"] == created[
        "rationale_signals"
    ]
    neutral = await factories.decision(client, basis="emotion", evidence=[])
    assert (neutral["rationale_signals"], neutral["basis_class"]) == ([], "emotion")


async def test_batch_and_correction_analyse_the_rationale(client):
    await _setup(client)
    items = [factories.decision_body(rationale="I feel it."), factories.decision_body()]
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert response.status_code == 201, response.text
    first, second = response.json()["items"]
    assert first["rationale_signals"] == [{"signal": "feeling", "phrase": "I feel"}]
    assert second["rationale_signals"] == []
    edited = await factories.edit(client, second["id"], rationale="Говорят, это работает.")
    assert edited["rationale_signals"] == [{"signal": "hearsay", "phrase": "Говорят"}]
    revisions = (await client.get(f"/v1/decisions/{second['id']}/revisions")).json()["items"]
    assert revisions[1]["changes"]["rationale_signals"] == {
        "from": [],
        "to": [{"signal": "hearsay", "phrase": "Говорят"}],
    }
    untouched = await factories.edit(client, first["id"], title="Retitled")
    assert untouched["rationale_signals"] == first["rationale_signals"]


async def test_decision_list_filters_by_contractor_directed_by_and_rationale_signal(client):
    await _setup(client)
    await factories.contractor(client, "bravo")
    a = await factories.decision(client, contractor="acme", rationale="I feel it.")
    b = await factories.decision(client, contractor="bravo", directed_by="olga.owner", rationale="Obviously. I feel.")
    c = await factories.decision(client, directed_by="olga.owner")

    async def ids(**params):
        response = await client.get("/v1/decisions", params=params)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert await ids(contractor="acme") == {a["id"]}
    assert await ids(directed_by="olga.owner") == {b["id"], c["id"]}
    assert await ids(rationale_signal="feeling") == {a["id"], b["id"]}
    assert await ids(rationale_signal="certainty") == {b["id"]}
    assert await ids(rationale_signal="hearsay") == set()
    assert await ids(rationale_signal="feeling", contractor="bravo") == {b["id"]}
    assert (await client.get("/v1/decisions", params={"rationale_signal": "mood"})).status_code == 422


async def test_signal_filter_reads_its_partial_index(client, db):
    """The filter is written as the partial index's predicate, so the engine can use the index."""
    dialect = db.engine.dialect.name
    query = "SELECT id FROM decision WHERE rationale_signal_mask & 2 <> 0 ORDER BY decided_at DESC, id DESC LIMIT 5"
    async with db.engine.connect() as connection:
        if dialect == "postgresql":
            await connection.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(r[0] for r in await connection.execute(text(f"EXPLAIN {query}")))
        else:
            plan = "\n".join(str(r[-1]) for r in await connection.execute(text(f"EXPLAIN QUERY PLAN {query}")))
    assert "ix_decision_signal_certainty" in plan, plan


async def test_exports_and_bi_view_carry_the_new_fields(client, db):
    await _setup(client)
    created = await factories.decision(client, contractor="acme", directed_by="olga.owner", rationale="I'm sure.")
    await factories.outcome(client, created["id"], result="failure", cause="decision")
    line = json.loads((await client.get("/v1/exports/decisions")).text.splitlines()[0])
    assert (line["contractor"], line["directed_by"], line["outcome"]["cause"]) == ("acme", "olga.owner", "decision")
    assert line["rationale_signals"] == [{"signal": "certainty", "phrase": "I'm sure"}]
    rows = list(csv.DictReader(io.StringIO((await client.get("/v1/exports/decisions?format=csv")).text)))
    assert (rows[0]["contractor"], rows[0]["directed_by"]) == ("acme", "olga.owner")
    assert json.loads(rows[0]["rationale_signals"]) == line["rationale_signals"]
    async with db.engine.connect() as connection:
        view = (
            (
                await connection.execute(
                    text(
                        "SELECT contractor, directed_by, outcome_cause, rationale_feeling, rationale_certainty,"
                        " rationale_authority, rationale_hearsay FROM bi_decision"
                    )
                )
            )
            .mappings()
            .one()
        )
    assert dict(view) == {
        "contractor": "acme",
        "directed_by": "olga.owner",
        "outcome_cause": "decision",
        "rationale_feeling": 0,
        "rationale_certainty": 1,
        "rationale_authority": 0,
        "rationale_hearsay": 0,
    }
