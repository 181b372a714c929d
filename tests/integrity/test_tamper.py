"""Tampering done directly in the database, behind the service's back, is detected; a clean record verifies."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from app.core.types import format_utc
from app.integrity import signing
from app.integrity.repository import checkpoint, entry, link
from app.integrity.service import GENESIS, canonical, chain_step, decision_entity, entry_hash
from app.integrity.verify import verify_database
from tests import factories
from tests.integrity.helpers import position_of, rows, seed, tamper

KINDS = {
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
    assert report.entries == seeded["entries"] == 15
    assert report.unsealed == 0 and report.checkpoints == 2 and report.signed_position == 15
    assert report.records == 8 + 1 + 2  # decisions, the KPI, the strategy versions
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
    columns = "kind, entity, recorded_at, content, entry_hash"
    a, b = await rows(
        db,
        f"SELECT e.id, {columns} FROM integrity_link l JOIN integrity_entry e ON e.id = l.entry_id "
        "WHERE l.position IN (7, 8) ORDER BY l.position",
    )
    swap = "UPDATE integrity_entry SET kind = :kind, entity = :entity, recorded_at = :at, content = :content, "
    swap += "entry_hash = :hash WHERE id = :id"
    async with db.engine.begin() as connection:
        from app.integrity.repository import append_only_guard_lifted

        async with append_only_guard_lifted(connection):
            for target, source in ((a, b), (b, a)):
                await connection.execute(
                    text(swap),
                    {"id": target[0], "kind": source[1], "entity": source[2], "at": source[3]}
                    | {"content": source[4], "hash": source[5]},
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
    """Rationale changed in the record and in the log, every hash recomputed, the checkpoints' heads updated
    (and re-signed with a key of the forger's): only the signatures give it away."""
    seeded = await seed(client, db)
    decision_id = seeded["edited"]["id"]
    target = await position_of(db, decision_entity(decision_id))
    await tamper(db, "UPDATE decision SET rationale = 'Rewritten.' WHERE id = :id", id=_id(db, decision_id))
    forger = Ed25519PrivateKey.generate()
    async with db.engine.begin() as connection:
        from app.integrity.repository import append_only_guard_lifted

        async with append_only_guard_lifted(connection):
            chain = (
                await connection.execute(
                    select(link.c.position, entry).join(entry, entry.c.id == link.c.entry_id).order_by(link.c.position)
                )
            ).all()
            heads: dict[int, str] = {}
            previous = GENESIS
            for row in chain:
                content, digest = row.content, row.entry_hash
                if row.position == target:
                    content = canonical(json.loads(content) | {"rationale": "Rewritten."})
                    digest = entry_hash(row.kind, row.entity, format_utc(row.recorded_at), content)
                    await connection.execute(
                        update(entry).where(entry.c.id == row.id).values(content=content, entry_hash=digest)
                    )
                previous = chain_step(previous, digest)
                heads[row.position] = previous.hex()
                await connection.execute(
                    update(link).where(link.c.position == row.position).values(chain_hash=previous.hex())
                )
            for cp in (await connection.execute(select(checkpoint))).all():
                values = {"head_hash": heads[cp.position]}
                if signer == "another key":
                    public = signing.public_key_b64(forger)
                    message = signing.checkpoint_message(cp.position, heads[cp.position], cp.signed_at, public)
                    values |= {"public_key": public, "signature": signing.sign(forger, message)}
                await connection.execute(update(checkpoint).where(checkpoint.c.position == cp.position).values(values))

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
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_checkpoint_message_is_rfc8785_after_the_prefix():
    when = _parse("2026-03-01T10:00:00Z")
    message = signing.checkpoint_message(3, "ab" * 32, when, base64.b64encode(bytes(32)).decode())
    assert message.startswith(signing.MESSAGE_PREFIX)
    body = json.loads(message[len(signing.MESSAGE_PREFIX) :])
    assert rfc8785.dumps(body) == message[len(signing.MESSAGE_PREFIX) :]


async def test_a_decision_logged_before_recorded_by_existed_still_verifies_and_recorded_by_is_guarded(client, db):
    await factories.basics(client)
    old = await factories.decision(client, title="Logged before recorded_by")
    new = await factories.decision(client, title="Logged with recorded_by")
    entity = decision_entity(old["id"])
    (entry_id, kind, recorded_at, content), *_ = await rows(
        db, "SELECT id, kind, recorded_at, content FROM integrity_entry WHERE entity = :entity", entity=entity
    )
    state = json.loads(content)
    assert state["recorded_by"] == "test-write"
    del state["recorded_by"]  # the entry as a version without the field wrote it
    older = canonical(state)
    moment = recorded_at if isinstance(recorded_at, datetime) else datetime.fromisoformat(recorded_at)  # SQLite: text
    stamp = format_utc(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    await tamper(
        db,
        "UPDATE integrity_entry SET content = :content, entry_hash = :hash WHERE id = :id",
        content=older,
        hash=entry_hash(kind, entity, stamp, older),
        id=entry_id,
    )
    assert (await verify_database(db)).ok
    await tamper(db, "UPDATE decision SET recorded_by = 'someone.else' WHERE id = :id", id=_id(db, new["id"]))
    report = await verify_database(db)
    assert (report.first_bad.code, report.first_bad.entity) == ("record_differs", decision_entity(new["id"]))
