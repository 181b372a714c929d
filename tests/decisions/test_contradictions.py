"""`contradicts` on GET /v1/decisions/{id} and the `decision.contradiction` event: active, unreviewed decisions
whose expected outcomes push the same KPI in opposite directions, decided within 90 days of each other."""

import json
import uuid

import pytest
from sqlalchemy import text

from app.decisions.contradictions import CONTRADICTING_SQL, contradicting_statement
from tests import factories
from tests.events.helpers import feed


async def _setup(client) -> None:
    await factories.basics(client)
    await factories.kpi(client, "cpa", direction="decrease")
    await factories.kpi(client, "leads", kind="activity", direction="increase")


def _push(kpi: str, direction: str | None = None) -> dict:
    expected = {"description": f"Move {kpi}", "kpi": kpi}
    return expected | ({"direction": direction} if direction else {})


async def _decide(client, at: str, kpi: str = "cpa", direction: str | None = None, **extra) -> str:
    decision = await factories.decision(client, decided_at=at, expected_outcome=_push(kpi, direction), **extra)
    return decision["id"]


async def _contradicts(client, decision_id: str) -> list[str]:
    response = await client.get(f"/v1/decisions/{decision_id}")
    assert response.status_code == 200, response.text
    return response.json()["contradicts"]


async def test_opposite_directions_on_one_kpi_contradict_each_other(client):
    await _setup(client)
    down = await _decide(client, "2026-03-01T10:00:00Z")  # the KPI's direction: decrease
    up = await _decide(client, "2026-03-20T10:00:00Z", direction="increase")
    also_down = await _decide(client, "2026-03-25T10:00:00Z", direction="decrease")
    other_kpi = await _decide(client, "2026-03-21T10:00:00Z", kpi="leads", direction="decrease")
    no_direction = (await factories.decision(client, decided_at="2026-03-22T10:00:00Z"))["id"]

    assert await _contradicts(client, down) == [up]
    assert await _contradicts(client, up) == [down, also_down]
    assert await _contradicts(client, also_down) == [up]
    assert await _contradicts(client, other_kpi) == []
    assert await _contradicts(client, no_direction) == []


async def test_ninety_days_apart_contradict_and_a_moment_more_does_not(client):
    await _setup(client)
    first = await _decide(client, "2026-01-01T10:00:00.500000Z")
    at_90 = await _decide(client, "2026-04-01T10:00:00.500000Z", direction="increase")  # exactly 90 days later
    past_90 = await _decide(client, "2026-04-01T10:00:00.500001Z", direction="increase")
    before = await _decide(client, "2025-10-03T10:00:00.500000Z", direction="increase")  # 90 days before
    # 90 days and a microsecond before the first: from it, the first is a moment too late.
    too_early = await _decide(client, "2025-10-03T10:00:00.499999Z", direction="increase")
    assert await _contradicts(client, first) == [before, at_90]
    assert await _contradicts(client, past_90) == []
    assert await _contradicts(client, too_early) == []
    # The write path's check (the driver's on PostgreSQL) draws the same line, from either side.
    events = {
        e["data"]["decision"]: e["data"]["contradicts"] for e in await feed(client, type="decision.contradiction")
    }
    assert events == {at_90: [first], before: [first]}


async def test_reversed_and_reviewed_decisions_never_contradict(client):
    await _setup(client)
    base = await _decide(client, "2026-03-01T10:00:00Z")
    reversed_ = await _decide(client, "2026-03-02T10:00:00Z", direction="increase")
    reviewed = await _decide(client, "2026-03-03T10:00:00Z", direction="increase")
    open_one = await _decide(client, "2026-03-04T10:00:00Z", direction="increase")
    assert await _contradicts(client, base) == [reversed_, reviewed, open_one]

    await factories.reverse(client, reversed_)
    await factories.outcome(client, reviewed)

    assert await _contradicts(client, base) == [open_one]
    assert await _contradicts(client, reversed_) == []
    assert await _contradicts(client, reviewed) == []
    superseded = await _decide(client, "2026-03-05T10:00:00Z", direction="increase")
    await factories.reverse(client, superseded, superseded_by=base)
    assert await _contradicts(client, base) == [open_one]


async def test_contradiction_event_on_create_batch_and_correction(client):
    await _setup(client)
    first = await _decide(client, "2026-03-01T10:00:00Z")
    assert await feed(client, type="decision.contradiction") == []  # nothing to contradict yet
    second = await _decide(client, "2026-03-02T10:00:00Z", direction="increase")
    batch = await client.post(
        "/v1/decisions/batch",
        json={
            "items": [
                factories.decision_body(decided_at="2026-03-03T10:00:00Z", expected_outcome=_push("leads")),
                factories.decision_body(decided_at="2026-03-04T10:00:00Z", expected_outcome=_push("cpa")),
            ]
        },
    )
    assert batch.status_code == 201, batch.text
    calm, third = [item["id"] for item in batch.json()["items"]]
    corrected = await _decide(client, "2026-03-05T10:00:00Z", kpi="leads")
    await factories.edit(client, corrected, edit_reason="Wrong KPI.", expected_outcome=_push("cpa", "increase"))
    await factories.edit(client, corrected, edit_reason="Typo.", title="Same push, new title")  # no new event

    events = await feed(client, type="decision.contradiction")

    # What a reader of the event (or its Slack line) needs without a second request: the decision's title and owner.
    named = {"title": factories.decision_body()["title"], "owner": "anna.petrova"}
    assert [(e["subject"], e["data"]) for e in events] == [
        (
            f"decision/{second}",
            {"decision": second, **named, "kpi": "cpa", "direction": "increase", "contradicts": [first]},
        ),
        (
            f"decision/{third}",
            {"decision": third, **named, "kpi": "cpa", "direction": "decrease", "contradicts": [second]},
        ),
        (
            f"decision/{corrected}",
            {"decision": corrected, **named, "kpi": "cpa", "direction": "increase", "contradicts": [first, third]},
        ),
    ]
    assert calm not in {e["data"]["decision"] for e in events}


async def test_a_refused_write_leaves_no_contradiction_event(client):
    await _setup(client)
    await _decide(client, "2026-03-01T10:00:00Z")
    body = {
        "items": [
            factories.decision_body(decided_at="2026-03-02T10:00:00Z", expected_outcome=_push("cpa", "increase")),
            factories.decision_body(owner="ghost.owner"),
        ]
    }
    response = await client.post("/v1/decisions/batch", json=body)
    assert response.status_code == 422
    assert await feed(client, type="decision.contradiction") == []


def _nodes(plan: dict) -> list[dict]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


@pytest.mark.postgres_only
async def test_the_write_check_looks_decisions_up_once_per_kpi_group_whatever_the_plan(client, db):
    """The check a write runs in its transaction scans ``decision`` once for the new decisions and once per group
    (KPI, opposing direction) of them, never once per new decision: on a table the planner believes empty (a first
    import into a database never analysed) a nested loop did, scanning every open decision for each new one. Here
    the planner is told to prefer nested loops, as such estimates make it; the pairs must still be found."""
    await _setup(client)
    pushes = [("cpa", "increase"), ("cpa", "decrease"), ("leads", "increase"), ("leads", "decrease")]
    items = [
        factories.decision_body(decided_at=f"2026-03-{day:02d}T10:00:00Z", expected_outcome=_push(kpi, direction))
        for day in range(1, 29)
        for kpi, direction in pushes
    ]
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert response.status_code == 201, response.text
    ids = [item["id"] for item in response.json()["items"]]
    async with db.engine.connect() as connection:
        for method in ("hashjoin", "mergejoin"):
            await connection.execute(text(f"SET LOCAL enable_{method} = off"))
        driver = (await connection.get_raw_connection()).driver_connection
        explained = await driver.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {CONTRADICTING_SQL}", ids)
    plan = (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]
    scans = [node for node in _nodes(plan) if node.get("Relation Name") == "decision"]
    assert scans and max(node["Actual Loops"] for node in scans) <= len(pushes), json.dumps(plan, indent=1)
    assert plan["Actual Rows"] == 2 * 28 * 28 * 2  # each of 112 contradicts the 28 of its KPI pushing the other way


async def test_the_statements_check_finds_the_new_decisions_by_primary_key(client, db):
    """The check as one statement (the write path's on SQLite, ``contradicts`` on both engines) reads the new
    decisions by their ids alone: with the open ones' predicate beside the ids, SQLite took the status index and
    read every active decision for each write (and PostgreSQL, without statistics, may read the partial index whole)."""
    dialect = db.engine.dialect
    ids = [uuid.uuid4() for _ in range(200)]
    statement = contradicting_statement(dialect.name, ids).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}
    )
    explain = "EXPLAIN" if dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    async with db.engine.connect() as connection:
        plan = "\n".join(str(row[-1]) for row in await connection.exec_driver_sql(f"{explain} {statement}"))
    assert "ix_decision_status" not in plan and plan.count("ix_decision_expected_kpi_direction_open") <= 1, plan
