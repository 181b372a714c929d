"""Adoption after an upgrade: a database written by a version that logged less (registries unlogged, revisions
unbound, records logged in an earlier form) is brought under the log by `decision-log verify --adopt`, only when
the log itself verifies, and the log says so for good.

An earlier version's database is made here as it would look: rows the log never held, rows whose logged form no
longer matches, written directly in the database.
"""

from __future__ import annotations

import json

from app.integrity.service import data_source_entity, decision_entity, person_entity
from app.integrity.verify import ADOPTABLE, adopt_database, verify_database
from tests import factories
from tests.integrity.helpers import rows, run_cli, seed, tamper


def _raw_id(db, value: str) -> str:  # type: ignore[no-untyped-def]
    return value.replace("-", "") if db.dialect == "sqlite" else value


async def _as_an_earlier_version_left_it(client, db) -> dict:  # type: ignore[no-untyped-def]
    """A data source the log never held, a person logged in another form, a revision logged without its fields."""
    seeded = await seed(client, db)
    now = "'2026-01-01 00:00:00+00'" if db.dialect == "postgresql" else "'2026-01-01 00:00:00'"
    await tamper(
        db,
        f"INSERT INTO data_source (key, name, kind, url, created_at, updated_at) VALUES "
        f"('old-crm', 'Old CRM', 'crm', NULL, {now}, {now})",
        "UPDATE person SET name = 'Anna P.' WHERE handle = 'anna.petrova'",
        "UPDATE decision_revision SET reason = 'Logged before reasons were bound.' WHERE decision_id = :id "
        "AND revision = 2",
        id=_raw_id(db, seeded["edited"]["id"]),
    )
    return seeded


async def _entries(db) -> int:  # type: ignore[no-untyped-def]
    return int((await rows(db, "SELECT count(*) FROM integrity_entry"))[0][0])


async def test_records_the_log_lacks_are_adopted_and_then_verify(client, client_for, db):
    seeded = await _as_an_earlier_version_left_it(client, db)
    before = await verify_database(db)
    assert before.codes == {"record_not_logged": 1, "record_differs": 1, "revision_differs": 1}, before.problems

    result = await adopt_database(db)

    assert result.adoption is not None
    assert (result.adoption.records, result.adoption.revisions) == (2, 1)
    assert result.after is not None and result.after.ok, result.after.problems
    assert result.after.adopted == 3
    kinds = await rows(db, "SELECT kind, entity FROM integrity_entry ORDER BY id DESC LIMIT 3")
    assert sorted(map(tuple, kinds)) == sorted(
        [
            ("data_source.adopted", data_source_entity("old-crm")),
            ("person.adopted", person_entity("anna.petrova")),
            ("decision.revision_adopted", decision_entity(seeded["edited"]["id"])),
        ]
    )
    # Every later verification says how much of the record an operator vouched for.
    answer = (await client_for("admin").get("/v1/integrity/verify")).json()
    assert answer["ok"] is True and answer["adopted"] == 3


async def test_what_is_adopted_stays_protected_afterwards(client, db):
    seeded = await _as_an_earlier_version_left_it(client, db)
    await adopt_database(db)

    await tamper(db, "UPDATE person SET name = 'Someone else' WHERE handle = 'anna.petrova'")
    await tamper(
        db,
        "UPDATE decision_revision SET reason = 'Changed again.' WHERE decision_id = :id AND revision = 2",
        id=_raw_id(db, seeded["edited"]["id"]),
    )
    report = await verify_database(db)

    assert report.codes == {"record_differs": 1, "revision_differs": 1}
    # A revision adopted once is not "logged twice": only a forged second entry of the service's own would be.
    assert all("logged twice" not in problem.detail for problem in report.problems)


async def test_a_log_that_does_not_verify_is_not_adopted_and_nothing_is_written(client, db):
    await _as_an_earlier_version_left_it(client, db)
    # An entry altered in the log itself: no adoption may paper over it.
    await tamper(db, "UPDATE integrity_entry SET content = '{}' WHERE id = (SELECT min(id) FROM integrity_entry)")
    entries = await _entries(db)

    result = await adopt_database(db)

    assert result.adoption is None and result.after is None
    assert "entry_altered" in result.before.codes and not set(result.before.codes) <= ADOPTABLE
    assert await _entries(db) == entries


async def test_a_clean_database_has_nothing_to_adopt(client, db):
    await factories.basics(client)
    await factories.decision(client)
    entries = await _entries(db)

    result = await adopt_database(db)

    assert result.adoption is None and result.before.ok
    assert await _entries(db) == entries


async def test_cli_points_to_adoption_then_adopts(client, db):
    await _as_an_earlier_version_left_it(client, db)

    code, _, err = await run_cli("verify")
    assert code == 1
    assert "by code: record_differs 1, record_not_logged 1, revision_differs 1" in err
    assert "decision-log verify --adopt" in err

    code, out, err = await run_cli("verify", "--adopt")
    assert code == 0, err
    assert "ADOPTED: 2 records and 1 revisions logged as they stand" in out
    assert "3 adoption entries" in out and "OK: the log and the record verify" in out

    code, out, _ = await run_cli("verify", "--json")
    assert code == 0 and json.loads(out)["adopted"] == 3


async def test_cli_refuses_to_adopt_over_a_log_that_does_not_verify(client, db):
    await _as_an_earlier_version_left_it(client, db)
    await tamper(db, "UPDATE integrity_entry SET content = '{}' WHERE id = (SELECT min(id) FROM integrity_entry)")
    entries = await _entries(db)

    code, _, err = await run_cli("verify", "--adopt")

    assert code == 1
    assert "NOT ADOPTED" in err and "entry_altered" in err
    assert await _entries(db) == entries
