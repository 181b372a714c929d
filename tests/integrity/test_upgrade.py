"""After an upgrade that added fields to a decision's answer: a decision an earlier version wrote (logged without
those fields, its expected outcome stored without a direction) still verifies as it is, with nothing to adopt;
a value given to one of the added fields behind the service's back is still a difference.

The earlier version's write is made here as it would look: the decision's entry and current revision hold its
state without the added fields, sealed into the chain like any entry.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from app.core.types import format_utc
from app.integrity.repository import entry
from app.integrity.service import canonical, decision_entity, entry_hash
from app.integrity.verify import decision_as_logged_before, verify_database
from tests import factories
from tests.integrity.helpers import tamper


def _raw_id(db, value: str) -> str:  # type: ignore[no-untyped-def]
    return value.replace("-", "") if db.dialect == "sqlite" else value


async def _written_by_an_earlier_version(client, db) -> str:  # type: ignore[no-untyped-def]
    await factories.basics(client)
    await factories.kpi(client, "cpa", direction="decrease")
    expected = {
        "description": "CPA below 40 EUR",
        "kpi": "cpa",
        "target_value": 40,
        "review_by": "2026-02-01T00:00:00Z",
    }
    created = await factories.decision(client, decided_at="2026-01-01T00:00:00Z", expected_outcome=expected)
    await factories.outcome(client, created["id"], result="partial", actual_value=42)
    raw = _raw_id(db, created["id"])
    async with db.engine.connect() as connection:
        latest = (
            await connection.execute(
                select(entry).where(entry.c.entity == decision_entity(created["id"])).order_by(entry.c.id.desc())
            )
        ).first()
    assert latest is not None
    state = json.loads(latest.content)
    assert state["expected_outcome"]["direction"] == "decrease"  # the KPI's, filled in by this version
    assert state["outcome"]["target_met"] is False
    # What the earlier version stored and logged: no direction, no target_met, none of the added fields.
    del state["expected_outcome"]["direction"]
    state["outcome"]["target_met"] = None
    earlier = decision_as_logged_before(state)
    assert not {"confidence", "alternatives", "contractor", "rationale_signals"} & set(earlier)
    assert "target_met" not in earlier["outcome"]
    text = canonical(earlier)
    json_of = "CAST(:{} AS JSONB)" if db.dialect == "postgresql" else ":{}"
    await tamper(
        db,
        "UPDATE integrity_entry SET content = :content, entry_hash = :hash WHERE id = :entry",
        f"UPDATE decision_revision SET snapshot = {json_of.format('content')} WHERE decision_id = :id AND revision = 2",
        f"UPDATE decision SET expected_outcome = {json_of.format('expected')}, expected_direction = NULL, "
        "outcome_target_met = NULL WHERE id = :id",
        content=text,
        hash=entry_hash(latest.kind, latest.entity, format_utc(latest.recorded_at), text, latest.revision),
        entry=latest.id,
        id=raw,
        expected=json.dumps(state["expected_outcome"]),
    )
    return raw


async def test_a_decision_written_before_the_added_fields_verifies_as_it_is(client, db):
    await _written_by_an_earlier_version(client, db)

    report = await verify_database(db)

    assert report.ok, report.problems
    assert report.adopted == 0


async def test_an_added_field_set_behind_the_services_back_is_still_a_difference(client, db):
    raw = await _written_by_an_earlier_version(client, db)
    await tamper(db, "UPDATE decision SET confidence = 0.9 WHERE id = :id", id=raw)

    report = await verify_database(db)

    assert report.codes == {"record_differs": 1}, report.problems
