"""Everything an answer or a figure reads is covered by verification: each kind of row and column, altered,
deleted or forged directly in the database, is detected; an untouched record verifies.

What an answer or a figure reads, and how verification covers it:

- decision, its API form (title … outcome, reversal, recorded_by; team, owner, basis_class that group the
  figures): read by the decisions API, exports, analytics; logged, compared with its latest entry.
- decision.evidence_count, review_by, rationale_signal_mask (BI views, reviews due, the `rationale_signal` filter):
  recomputed from the logged state.
- decision_revision: revision, kind, changed_at, changed_by, recorded_by, edited_by, reason, changes, snapshot
  (the revisions API): logged, each row against the entry of its revision (fields and content).
- kpi (KPIs API, KPI analytics): logged. kpi_revision: revision, changed_at, changed_by, change_reason, changes,
  snapshot (revisions API, `?at=`, changes and unexplained changes in the analytics): logged.
- strategy_version (strategies API, strategy-change analytics, a decision's strategy_version): logged.
- strategy.key, title, description, created_at (strategies API, strategy-change analytics): logged
  (`strategy.created`); version_count, latest_effective_from, updated_at: recomputed from its versions.
- person (people API; a new decision's default team), data_source (data sources API, evidence): logged.
- basis_rollup, basis_rollup_delta (basis analytics, summary): recomputed from the decisions, one SQL aggregate.
- forecast_rollup, forecast_rollup_delta (calibration): recomputed from the decisions, one SQL aggregate.
- summary_rollup, kpi_rollup and their deltas (summary, accountability, KPI hygiene, the overview): recomputed from
  the decisions, one SQL aggregate each (tests/analytics/test_day_rollups.py tampers a cell of each).

API keys and idempotency records are access control and a replay cache, not the record: out of scope.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.analytics import rollup
from app.integrity.service import (
    data_source_entity,
    decision_entity,
    kpi_entity,
    person_entity,
    strategy_entity,
    strategy_version_entity,
)
from app.integrity.verify import verify_database
from tests import factories
from tests.integrity.helpers import rows, seed, tamper


def raw_id(db: Any, value: str) -> str:
    """A decision id as the raw SQL of this engine compares it (SQLite stores UUIDs as 32 hex digits)."""
    return value.replace("-", "") if db.dialect == "sqlite" else value


async def positions(db: Any, entity: str) -> list[int]:
    """The chain positions of ``entity``'s entries, oldest first: the n-th logged its revision n."""
    found = await rows(
        db,
        "SELECT l.position FROM integrity_link l JOIN integrity_entry e ON e.id = l.entry_id "
        "WHERE e.entity = :entity ORDER BY l.position",
        entity=entity,
    )
    return [int(position) for (position,) in found]


def problems(report: Any) -> list[tuple[str, str | None, int | None]]:
    return [(p.code, p.entity, p.position) for p in report.problems]


async def test_untouched_record_verifies_with_every_revision_and_registry_compared(client, db):
    await seed(client, db)
    await rollup.fold(db)  # folded cells, then pending deltas on top
    await factories.decision(client, title="After the fold", team="brand")

    report = await verify_database(db)

    assert report.ok and report.status == "verified", report.problems
    assert (report.records, report.revisions, report.registries) == (9 + 1 + 2, 9 + 3 + 2, 5)


# --- decision revisions: the history GET /v1/decisions/{id}/revisions shows ------------------------------------

DECISION_REVISION_TAMPERING = {
    "reason": "UPDATE decision_revision SET reason = 'We always meant this.' WHERE decision_id = :id AND revision = 2",
    "author": "UPDATE decision_revision SET changed_by = 'someone-else' WHERE decision_id = :id AND revision = 2",
    "edited_by": "UPDATE decision_revision SET edited_by = 'boris.ivanov' WHERE decision_id = :id AND revision = 2",
    "changed_at": "UPDATE decision_revision SET changed_at = recorded WHERE decision_id = :id AND revision = 2",
    "kind": "UPDATE decision_revision SET kind = 'reversed' WHERE decision_id = :id AND revision = 2",
    "changes": "UPDATE decision_revision SET changes = '{}' WHERE decision_id = :id AND revision = 2",
}


@pytest.mark.parametrize("column", DECISION_REVISION_TAMPERING)
async def test_altered_decision_revision_is_detected(client, db, column):
    seeded = await seed(client, db)
    decision_id = seeded["edited"]["id"]
    statement = DECISION_REVISION_TAMPERING[column].replace(
        "recorded", "(SELECT recorded_at FROM decision WHERE id = :id)"
    )
    before = (await client.get(f"/v1/decisions/{decision_id}/revisions")).json()
    await tamper(db, statement, id=raw_id(db, decision_id))
    assert (await client.get(f"/v1/decisions/{decision_id}/revisions")).json() != before  # the answer changed

    report = await verify_database(db)

    entity = decision_entity(decision_id)
    assert problems(report) == [("revision_differs", entity, (await positions(db, entity))[1])]


@pytest.mark.parametrize("revision", [1, 2])
async def test_altered_decision_revision_snapshot_is_detected(client, db, revision):
    """An earlier revision's snapshot, and the current one's (the record itself left as it is)."""
    seeded = await seed(client, db)
    decision_id = seeded["edited"]["id"]
    (snapshot,) = (await client.get(f"/v1/decisions/{decision_id}/revisions")).json()["items"][revision - 1 :][:1]
    forged = snapshot["decision"] | {"rationale": "Forged history."}
    await _set_json(db, "decision_revision", "snapshot", forged, decision_id=decision_id, revision=revision)

    report = await verify_database(db)

    entity = decision_entity(decision_id)
    assert problems(report) == [("revision_differs", entity, (await positions(db, entity))[revision - 1])]


async def test_deleted_decision_revision_is_detected(client, db):
    seeded = await seed(client, db)
    decision_id = seeded["edited"]["id"]
    await tamper(
        db, "DELETE FROM decision_revision WHERE decision_id = :id AND revision = 1", id=raw_id(db, decision_id)
    )

    report = await verify_database(db)

    entity = decision_entity(decision_id)
    assert problems(report) == [("revision_missing", entity, (await positions(db, entity))[0])]


async def test_forged_decision_revision_is_detected(client, db):
    """A revision row added behind the service's back: the revisions list would show a history never written."""
    seeded = await seed(client, db)
    decision_id = seeded["edited"]["id"]
    await tamper(
        db,
        "INSERT INTO decision_revision (id, decision_id, revision, kind, changed_at, changed_by, recorded_by, reason, "
        "changes, snapshot) SELECT :new_id, decision_id, 3, kind, changed_at, changed_by, recorded_by, reason, "
        "changes, snapshot FROM decision_revision WHERE decision_id = :id AND revision = 2",
        id=raw_id(db, decision_id),
        new_id=raw_id(db, "0192f0c0-0000-7000-8000-000000000001"),
    )

    report = await verify_database(db)

    assert problems(report) == [("revision_not_logged", decision_entity(decision_id), None)]


# --- KPI revisions: the revisions list, `?at=`, and the KPI analytics (changes, unexplained changes) ------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE kpi_revision SET change_reason = NULL WHERE kpi_key = 'cpa' AND revision = 2",  # now "unexplained"
        "UPDATE kpi_revision SET changed_at = (SELECT changed_at FROM kpi_revision WHERE revision = 1) "
        "WHERE kpi_key = 'cpa' AND revision = 2",  # moved out of the analytics range
        "UPDATE kpi_revision SET changed_by = 'someone-else' WHERE kpi_key = 'cpa' AND revision = 2",
        "UPDATE kpi_revision SET changes = '{}' WHERE kpi_key = 'cpa' AND revision = 2",
    ],
    ids=["reason", "changed_at", "author", "changes"],
)
async def test_altered_kpi_revision_is_detected(client, db, statement):
    await seed(client, db)
    await tamper(db, statement)

    report = await verify_database(db)

    entity = kpi_entity("cpa")
    assert problems(report) == [("revision_differs", entity, (await positions(db, entity))[1])]


async def test_altered_kpi_revision_snapshot_is_detected(client, db):
    await seed(client, db)
    first = (await client.get("/v1/kpis/cpa/revisions")).json()["items"][0]["kpi"]
    await _set_json(db, "kpi_revision", "snapshot", first | {"kind": "activity"}, kpi_key="cpa", revision=1)

    report = await verify_database(db)

    entity = kpi_entity("cpa")
    assert problems(report) == [("revision_differs", entity, (await positions(db, entity))[0])]


async def test_deleted_kpi_revision_is_detected(client, db):
    await seed(client, db)
    await tamper(db, "DELETE FROM kpi_revision WHERE kpi_key = 'cpa' AND revision = 2")

    report = await verify_database(db)

    entity = kpi_entity("cpa")
    assert problems(report) == [("revision_missing", entity, (await positions(db, entity))[1])]


# --- decision columns the API does not show, but filters and figures read --------------------------------------

DERIVED = {
    "review_by": "UPDATE decision SET review_by = NULL WHERE id = :id",
    "evidence_count": "UPDATE decision SET evidence_count = 7 WHERE id = :id",
    "rationale_signal_mask": "UPDATE decision SET rationale_signal_mask = 15 WHERE id = :id",
}


@pytest.mark.parametrize("column", DERIVED)
async def test_changed_derived_decision_column_is_detected(client, db, column):
    seeded = await seed(client, db)
    decision = await factories.decision(
        client, title="With a review date", expected_outcome={"description": "CPA down", "review_by": "2026-04-01"}
    )
    await tamper(db, DERIVED[column], id=raw_id(db, decision["id"]))

    report = await verify_database(db)

    entity = decision_entity(decision["id"])
    assert problems(report) == [("derived_differs", entity, seeded["entries"] + 1)]
    assert column in report.problems[0].detail


@pytest.mark.parametrize(
    "statement",
    ["team = 'brand'", "basis_class = 'emotion'", "owner_handle = 'boris.ivanov'", "recorded_by = 'someone-else'"],
)
async def test_changed_decision_column_that_groups_figures_is_detected(client, db, statement):
    seeded = await seed(client, db)
    decision_id = seeded["reviewed"]["id"]
    await tamper(db, f"UPDATE decision SET {statement} WHERE id = :id", id=raw_id(db, decision_id))

    report = await verify_database(db)

    entity = decision_entity(decision_id)
    assert problems(report) == [("record_differs", entity, (await positions(db, entity))[-1])]


# --- strategies, people, data sources -----------------------------------------------------------------------------


ANNA, BORIS = person_entity("anna.petrova"), person_entity("boris.ivanov")


@pytest.mark.parametrize(
    ("statement", "code", "entity"),
    [
        ("UPDATE strategy SET title = 'Another plan'", "record_differs", strategy_entity("growth-2026")),
        ("UPDATE strategy SET created_at = '2020-01-01 00:00:00'", "record_differs", strategy_entity("growth-2026")),
        ("UPDATE strategy SET version_count = 5", "derived_differs", strategy_entity("growth-2026")),
        ("UPDATE strategy SET latest_effective_from = NULL", "derived_differs", strategy_entity("growth-2026")),
        (
            "UPDATE strategy_version SET change_reason = NULL WHERE number = 2",
            "record_differs",
            strategy_version_entity("growth-2026", 2),
        ),
        (
            "UPDATE person SET team = 'brand' WHERE handle = 'anna.petrova'",
            "record_differs",
            person_entity("anna.petrova"),
        ),
        (
            "UPDATE person SET active = false WHERE handle = 'boris.ivanov'",
            "record_differs",
            person_entity("boris.ivanov"),
        ),
        ("UPDATE data_source SET name = 'Spreadsheet' WHERE key = 'ga4'", "record_differs", data_source_entity("ga4")),
    ],
    ids=[
        "strategy title",
        "strategy created_at",
        "version count",
        "latest effective_from",
        "version reason",
        "person team",
        "person active",
        "source name",
    ],
)
async def test_changed_registry_row_is_detected(client, db, statement, code, entity):
    await seed(client, db)
    if db.dialect == "postgresql":
        statement = statement.replace("'2020-01-01 00:00:00'", "'2020-01-01 00:00:00+00'")
    await tamper(db, statement)

    report = await verify_database(db)

    assert problems(report) == [(code, entity, (await positions(db, entity))[-1])]


@pytest.mark.parametrize(
    ("statement", "entity"),
    [
        ("DELETE FROM strategy_version WHERE number = 2", strategy_version_entity("growth-2026", 2)),
        ("DELETE FROM data_source WHERE key = 'crm'", data_source_entity("crm")),
    ],
)
async def test_deleted_registry_row_is_detected(client, db, statement, entity):
    await seed(client, db)
    await tamper(db, statement)

    report = await verify_database(db)

    assert ("record_missing", entity, (await positions(db, entity))[-1]) in problems(report)


async def test_deleted_person_is_detected(client, db):
    await seed(client, db)
    await factories.person(client, "vera.titova", team="content")
    await tamper(db, "DELETE FROM person WHERE handle = 'vera.titova'")

    report = await verify_database(db)

    entity = person_entity("vera.titova")
    assert problems(report) == [("record_missing", entity, (await positions(db, entity))[-1])]


# --- the basis rollup, against the decisions ----------------------------------------------------------------------


async def test_inflated_rollup_cell_is_detected_where_the_analytics_read_it(client, client_for, db):
    """The issue's case: a quarter's data share raised by editing the rollup; the figure moves, verify fails."""
    await factories.basics(client)
    for i in range(5):
        await factories.decision(client, title=f"Emotional {i}", basis="intuition", evidence=[])
    await factories.decision(client, title="On data")
    await rollup.fold(db)
    analytics = client_for("analytics")
    url = "/v1/analytics/basis?bucket=quarter&from=2026-01-01T00:00:00Z&to=2026-04-01T00:00:00Z"
    assert (await analytics.get(url)).json()["rows"][0]["data_share"] == pytest.approx(1 / 6, abs=1e-4)
    await tamper(db, "UPDATE basis_rollup SET decisions = 494 WHERE dimension = 'all' AND basis_class = 'data'")
    assert (await analytics.get(url)).json()["rows"][0]["data_share"] == pytest.approx(0.99, abs=1e-4)

    report = await verify_database(db)

    assert [(p.code, p.entity) for p in report.problems] == [("rollup_differs", "basis_rollup/all//2026-03")]
    assert "494 decisions" in report.problems[0].detail and "make 1 " in report.problems[0].detail


ROLLUP_TAMPERING = {
    "pending delta": "UPDATE basis_rollup_delta SET decisions = 3 WHERE dimension = 'team' AND decisions = 1",
    "forged delta": "INSERT INTO basis_rollup_delta (dimension, value, period, basis_class, unsupported, currency, "
    "decisions, budget_high, budget_low) SELECT dimension, value, period, basis_class, unsupported, currency, 1, 0, 0 "
    "FROM basis_rollup_delta WHERE dimension = 'team'",
    "deleted delta": "DELETE FROM basis_rollup_delta WHERE dimension = 'team'",
    "budget": "UPDATE basis_rollup_delta SET budget_low = budget_low + 10000000 WHERE dimension = 'team'",
}


@pytest.mark.parametrize("case", ROLLUP_TAMPERING)
async def test_tampered_pending_rollup_delta_is_detected(client, db, case):
    await factories.basics(client)
    await factories.decision(client, budget_amount=1200.5, budget_currency="EUR")

    await tamper(db, ROLLUP_TAMPERING[case])
    report = await verify_database(db)

    assert [(p.code, p.entity) for p in report.problems] == [("rollup_differs", "basis_rollup/team/growth/2026-03")]


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM basis_rollup WHERE dimension = 'owner'",
        "UPDATE basis_rollup SET budget_low = budget_low * 2 WHERE dimension = 'owner'",
        "UPDATE basis_rollup SET value = 'boris.ivanov' WHERE dimension = 'owner'",
    ],
    ids=["deleted cell", "budget", "moved to another owner"],
)
async def test_tampered_folded_rollup_cell_is_detected(client, db, statement):
    await factories.basics(client)
    await factories.decision(client, budget_amount=1200.5, budget_currency="EUR")
    await rollup.fold(db)

    await tamper(db, statement)
    report = await verify_database(db)

    assert {p.code for p in report.problems} == {"rollup_differs"}
    assert {p.entity for p in report.problems} <= {
        "basis_rollup/owner/anna.petrova/2026-03",
        "basis_rollup/owner/boris.ivanov/2026-03",
    }


# --- the forecast rollup (calibration), against the decisions --------------------------------------------------------

FORECAST_TAMPERING = {
    "folded cell": "UPDATE forecast_rollup SET forecasts = forecasts + 1 WHERE dimension = 'owner'",
    "confidence of a cell": "UPDATE forecast_rollup SET confidence_e6 = confidence_e6 + 99999 "
    "WHERE dimension = 'owner'",
    "deleted cell": "DELETE FROM forecast_rollup WHERE dimension = 'owner'",
    "pending delta": "UPDATE forecast_rollup_delta SET observed_e6 = 1000000 WHERE dimension = 'owner'",
    "deleted delta": "DELETE FROM forecast_rollup_delta WHERE dimension = 'owner'",
}


@pytest.mark.parametrize("case", FORECAST_TAMPERING)
async def test_tampered_forecast_rollup_is_detected(client, client_for, db, case):
    """A calibration figure changed in the forecast rollup (a folded cell, or a delta pending over it) moves what
    calibration answers, and verify names the cell."""
    await factories.basics(client)
    first = await factories.decision(client, confidence=0.75)
    await factories.outcome(client, first["id"], result="success", reviewed_at=None)
    await rollup.fold(db)
    second = await factories.decision(client, confidence=0.25)
    await factories.outcome(client, second["id"], result="failure", reviewed_at=None)  # pending on top
    assert (await verify_database(db)).ok
    analytics = client_for("analytics")
    url = "/v1/analytics/calibration?group_by=owner&from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z"
    before = (await analytics.get(url)).json()["rows"]
    assert [(r["forecasts"], r["mean_confidence"], r["brier_score"]) for r in before] == [(2, 0.5, 0.0625)]

    await tamper(db, FORECAST_TAMPERING[case])
    assert (await analytics.get(url)).json()["rows"] != before
    report = await verify_database(db)

    assert [(p.code, p.entity) for p in report.problems] == [
        ("rollup_differs", "forecast_rollup/owner/anna.petrova/2026-03")
    ]
    assert "forecast rollup's cell owner='anna.petrova', 2026-03" in report.problems[0].detail


async def _set_json(db: Any, table: str, column: str, value: Any, **where: Any) -> None:
    """Set a JSON column of the rows matching ``where``, as the engine stores it."""
    from sqlalchemy import update

    from app.decisions.repository import revision as decision_revision
    from app.integrity.repository import append_only_guard_lifted
    from app.kpis.repository import revision as kpi_revision

    target = {"decision_revision": decision_revision, "kpi_revision": kpi_revision}[table]
    if "decision_id" in where:
        import uuid

        where["decision_id"] = uuid.UUID(where["decision_id"])
    condition = [target.c[name] == wanted for name, wanted in where.items()]
    async with db.engine.begin() as connection, append_only_guard_lifted(connection):
        await connection.execute(update(target).where(*condition).values({column: value}))
