"""Tampering done directly in the database, behind the service's back, is detected; a clean record verifies."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.integrity import signing
from app.integrity.repository import entry, link
from app.integrity.service import canonical, chain_step, decision_entity, entry_hash
from app.integrity.verify import verify_database
from tests.integrity.helpers import position_of, rewrite_rationale, rows, seed, tamper

KINDS = {
    "person.created",
    "data_source.created",
    "strategy.created",
    "decision.created",
    "decision.edited",
    "decision.reversed",
    "decision.outcome_recorded",
    "strategy.version_added",
    "kpi.created",
    "kpi.revised",
}


async def test_clean_record_verifies_and_every_write_is_logged(client, db):
    seeded = await seed(client, db)

    report = await verify_database(db)

    assert report.ok, report.problems
    # Two people, two data sources and the strategy are logged too (5 entries), then 15 writes of the record.
    assert report.entries == seeded["entries"] == 5 + 15
    assert report.unsealed == 0 and report.checkpoints == 2 and report.signed_position == 5 + 15
    assert report.records == 8 + 1 + 2  # decisions, the KPI, the strategy versions
    assert report.revisions == 8 + 3 + 2  # each decision's, with a correction, a reversal, a review; the KPI's two
    assert report.registries == 2 + 2 + 1  # people, data sources, the strategy
    assert {kind for (kind,) in await rows(db, "SELECT DISTINCT kind FROM integrity_entry")} == KINDS


@pytest.mark.parametrize("table", ["integrity_entry", "integrity_link", "integrity_checkpoint"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET {column} = {column}", "DELETE FROM {table}"])
async def test_the_database_refuses_update_and_delete_on_the_log(client, db, table, statement):
    await seed(client, db)
    column = {"integrity_entry": "content", "integrity_link": "chain_hash", "integrity_checkpoint": "signature"}[table]

    with pytest.raises(DBAPIError, match="append-only"):
        async with db.engine.begin() as connection:
            await connection.execute(text(statement.format(table=table, column=column)))

    assert (await verify_database(db)).ok


async def test_changed_rationale_is_detected(client, db):
    seeded = await seed(client, db)
    decision_id = seeded["edited"]["id"]
    await tamper(db, "UPDATE decision SET rationale = 'We always meant this.' WHERE id = :id", id=_id(db, decision_id))

    report = await verify_database(db)

    assert not report.ok
    first = report.first_bad
    assert (first.code, first.entity) == ("record_differs", decision_entity(decision_id))
    assert first.position == await position_of(db, decision_entity(decision_id))


async def test_deleted_decision_is_detected(client, db):
    seeded = await seed(client, db)
    decision_id = seeded["reviewed"]["id"]
    await tamper(
        db,
        "DELETE FROM decision_revision WHERE decision_id = :id",
        "DELETE FROM decision WHERE id = :id",
        id=_id(db, decision_id),
    )

    report = await verify_database(db)

    assert (report.first_bad.code, report.first_bad.entity) == ("record_missing", decision_entity(decision_id))
    assert report.first_bad.position == await position_of(db, decision_entity(decision_id))


async def test_deleted_log_entry_is_detected(client, db):
    await seed(client, db)
    (entry_id,) = (await rows(db, "SELECT entry_id FROM integrity_link WHERE position = 5"))[0]
    await tamper(
        db,
        "DELETE FROM integrity_link WHERE position = 5",
        "DELETE FROM integrity_entry WHERE id = :id",
        id=entry_id,
    )

    report = await verify_database(db)

    assert (report.first_bad.code, report.first_bad.position) == ("link_missing", 5)


async def test_two_swapped_entries_are_detected(client, db):
    await seed(client, db)
    columns = "kind, entity, recorded_at, content, revision, entry_hash"
    a, b = await rows(
        db,
        f"SELECT e.id, {columns} FROM integrity_link l JOIN integrity_entry e ON e.id = l.entry_id "
        "WHERE l.position IN (7, 8) ORDER BY l.position",
    )
    swap = "UPDATE integrity_entry SET kind = :kind, entity = :entity, recorded_at = :at, content = :content, "
    swap += "revision = :revision, entry_hash = :hash WHERE id = :id"
    async with db.engine.begin() as connection:
        from app.integrity.repository import append_only_guard_lifted

        async with append_only_guard_lifted(connection):
            for target, source in ((a, b), (b, a)):
                await connection.execute(
                    text(swap),
                    {"id": target[0], "kind": source[1], "entity": source[2], "at": source[3]}
                    | {"content": source[4], "revision": source[5], "hash": source[6]},
                )

    report = await verify_database(db)

    assert (report.first_bad.code, report.first_bad.position) == ("chain_broken", 7)


async def test_forged_entry_is_detected(client, db):
    """A forger who knows the format appends a well-formed entry (and its link) saying a decision's rationale
    was changed: the chain holds, but the forged entry is named, since the record says otherwise."""
    seeded = await seed(client, db)
    decision_id = seeded["edited"]["id"]
    forged = (await client.get(f"/v1/decisions/{decision_id}")).json() | {"rationale": "Forged."}
    at = "2026-03-01T10:00:00.000000Z"
    content = canonical(forged)
    digest = entry_hash("decision.edited", decision_entity(decision_id), at, content)
    ((position, head),) = await rows(
        db, "SELECT position, chain_hash FROM integrity_link ORDER BY position DESC LIMIT 1"
    )
    async with db.engine.begin() as connection:
        new_id = (
            await connection.execute(
                entry.insert().returning(entry.c.id),
                {
                    "kind": "decision.edited",
                    "entity": decision_entity(decision_id),
                    "recorded_at": _parse(at),
                    "content": content,
                    "entry_hash": digest,
                },
            )
        ).scalar_one()
        await connection.execute(
            link.insert(),
            {
                "position": position + 1,
                "entry_id": new_id,
                "chain_hash": chain_step(bytes.fromhex(head), digest).hex(),
                "sealed_at": _parse(at),
            },
        )

    report = await verify_database(db)

    first = report.first_bad
    assert (first.code, first.position, first.entry_id) == ("record_differs", position + 1, new_id)


async def test_forged_entry_without_its_hash_is_detected(client, db):
    await seed(client, db)
    await tamper(db, "UPDATE integrity_entry SET content = REPLACE(content, 'Batch 1', 'Batch 9')")

    report = await verify_database(db)

    assert report.first_bad.code == "entry_altered"
    assert report.first_bad.position == await position_of(db, report.first_bad.entity)


async def test_truncated_tail_is_detected(client, db):
    seeded = await seed(client, db)
    entries = seeded["entries"]
    await tamper(
        db,
        "DELETE FROM integrity_link WHERE position > :keep",
        "DELETE FROM integrity_entry WHERE id NOT IN (SELECT entry_id FROM integrity_link)",
        keep=entries - 2,
    )

    report = await verify_database(db)

    assert (report.first_bad.code, report.first_bad.position) == ("chain_truncated", entries - 1)


@pytest.mark.parametrize("signer", ["none", "another key"])
async def test_consistent_rewrite_of_the_whole_chain_is_detected(client, db, signer):
    """Rationale changed in the record, in its revision and in the log, every hash recomputed, the checkpoints'
    heads updated (and re-signed with a key of the forger's): only the signatures give it away."""
    seeded = await seed(client, db)
    decision_id = seeded["edited"]["id"]
    target = await position_of(db, decision_entity(decision_id))
    forger = Ed25519PrivateKey.generate() if signer == "another key" else None
    heads = await rewrite_rationale(db, decision_id, "Rewritten.", forger)

    report = await verify_database(db)

    expected = "checkpoint_signature_invalid" if signer == "none" else "checkpoint_untrusted_key"
    assert not report.ok
    assert {p.code for p in report.problems} == {expected}
    assert report.first_bad.position == min(p for p in heads if p >= target and p in _checkpoint_positions(report))


def _checkpoint_positions(report) -> set[int]:  # type: ignore[no-untyped-def]
    return {p.position for p in report.problems}


def _id(db, value: str):  # type: ignore[no-untyped-def]
    """A decision id as the raw SQL of this engine compares it (SQLite stores UUIDs as 32 hex digits)."""
    return value.replace("-", "") if db.dialect == "sqlite" else value


def _parse(value: str):  # type: ignore[no-untyped-def]

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_checkpoint_message_is_rfc8785_after_the_prefix():
    when = _parse("2026-03-01T10:00:00Z")
    message = signing.checkpoint_message(3, "ab" * 32, when, base64.b64encode(bytes(32)).decode())
    assert message.startswith(signing.MESSAGE_PREFIX)
    body = json.loads(message[len(signing.MESSAGE_PREFIX) :])
    assert rfc8785.dumps(body) == message[len(signing.MESSAGE_PREFIX) :]
