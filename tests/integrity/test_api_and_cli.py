"""GET /v1/integrity/verify, GET /v1/integrity/public-key, `decision-log verify`, the background sealer."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import select

from app.core.types import format_utc
from app.integrity import repository, signing
from app.integrity.service import LogItem, Sealer, kpi_entity, record_many
from app.integrity.verify import verify_database
from app.kpis.repository import kpi as kpi_table
from app.kpis.repository import revision as kpi_revision
from app.kpis.service import revision_fields
from app.main import create_app
from tests import factories
from tests.conftest import DATABASE_URL, make_client
from tests.integrity.helpers import position_of, rows, seed, tamper

COMMAND = Path(sys.executable).parent / "decision-log"


async def run_verify() -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(COMMAND),
        "verify",
        env={**os.environ, "DECISION_LOG_DATABASE_URL": DATABASE_URL},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def _tamper_rationale(client, db) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    seeded = await seed(client, db)
    decision_id = seeded["edited"]["id"]
    raw_id = decision_id.replace("-", "") if db.dialect == "sqlite" else decision_id
    await tamper(db, "UPDATE decision SET rationale = 'Changed later.' WHERE id = :id", id=raw_id)
    return f"decision/{decision_id}", await position_of(db, f"decision/{decision_id}")


async def test_verify_endpoint_reports_ok_then_the_first_bad_entry(client, client_for, db):
    await factories.basics(client)
    await factories.decision(client)
    admin = client_for("admin")

    clean = await admin.get("/v1/integrity/verify")

    assert clean.status_code == 200
    assert clean.json() | {"public_keys": None} == {
        "ok": True,
        "status": "verified",
        "anchors": ["signing_key"],  # the service's own, from its settings
        "entries": 4 + 1,  # the two people and two data sources of `basics`, then the decision
        "unsealed": 0,
        "checkpoints": 1,
        "signed_position": 4 + 1,
        "public_keys": None,
        "saved_checkpoint": None,
        "records": 1,
        "revisions": 1,
        "registries": 4,
        "adopted": 0,
        "problem_count": 0,
        "first_bad": None,
        "problems": [],
    }
    entity, position = await _tamper_rationale(client, db)

    body = (await admin.get("/v1/integrity/verify")).json()

    assert body["ok"] is False
    assert body["first_bad"]["code"] == "record_differs"
    assert (body["first_bad"]["entity"], body["first_bad"]["position"]) == (entity, position)


async def test_verify_endpoint_needs_admin(client_for, db):
    assert (await client_for("write").get("/v1/integrity/verify")).status_code == 403


async def test_cli_verify_exits_0_when_clean_and_1_naming_the_first_bad_entry(client, db):
    await factories.basics(client)
    await factories.decision(client)
    code, out, _ = await run_verify()
    assert code == 0 and "OK" in out

    entity, position = await _tamper_rationale(client, db)

    code, out, err = await run_verify()
    assert code == 1
    assert f"record_differs: position={position}" in err and entity in err


async def test_public_key_verifies_a_checkpoint_signature(client, anon, db):
    await factories.basics(client)
    await factories.decision(client)
    await Sealer(db).seal()

    response = await anon.get("/v1/integrity/public-key")

    assert response.status_code == 200
    body = response.json()
    assert body["algorithm"] == "Ed25519"
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(body["public_key"]))
    assert isinstance(load_pem_public_key(body["public_key_pem"].encode()), Ed25519PublicKey)
    async with db.engine.connect() as connection:
        (cp,) = (await connection.execute(select(repository.checkpoint))).all()
    message = (
        signing.MESSAGE_PREFIX
        + (
            f'{{"head_hash":"{cp.head_hash}","position":{cp.position},"public_key":"{body["public_key"]}",'
            f'"signed_at":"{format_utc(cp.signed_at)}"}}'
        ).encode()
    )
    public.verify(base64.b64decode(cp.signature), message)  # raises when it does not verify


async def test_background_sealer_links_and_signs_new_entries(client, settings, keys, db):
    await factories.basics(client)  # four entries (people, data sources), sealed and signed here
    await Sealer(db).seal()
    app = create_app(settings.model_copy(update={"integrity_seal_interval_seconds": 0.1}))
    async with LifespanManager(app), make_client(app, keys["write"]) as writer:
        await factories.decision(writer)
        for _ in range(200):  # the sealer runs every 0.1 s: give it up to 10 s
            if await rows(db, "SELECT position FROM integrity_checkpoint WHERE position = 5"):
                break
            await asyncio.sleep(0.05)
    assert [tuple(r) for r in await rows(db, "SELECT position FROM integrity_link ORDER BY position")] == [
        (1,),
        (2,),
        (3,),
        (4,),
        (5,),
    ]
    assert [tuple(r) for r in await rows(db, "SELECT position FROM integrity_checkpoint ORDER BY position")] == [
        (4,),
        (5,),
    ]


async def test_verifying_100000_entries_checks_every_one(client, db):
    """A KPI revised 100,000 times: every revision row and its entry, written as the service writes them, all checked.
    How long it takes is measured by ``bench/integrity.py --verify 100000``, not here."""
    kpi = await factories.kpi(client, "cpa")
    snapshot = (await client.get("/v1/kpis/cpa")).json()
    total = 100_000
    changed_at = datetime(2026, 3, 1, tzinfo=UTC)
    for start in range(2, total + 2, 10_000):
        revisions = []
        for number in range(start, start + 10_000):
            state = snapshot | {"revision": number, "target": float(number), "updated_at": format_utc(changed_at)}
            changes = {"target": {"from": float(number - 1), "to": float(number)}}
            revisions.append(
                {"kpi_key": "cpa", "revision": number, "changed_at": changed_at, "changed_by": "test-write"}
                | {"change_reason": f"Step {number}.", "changes": changes, "snapshot": state}
            )
        async with db.sessionmaker() as session, session.begin():
            await session.execute(kpi_revision.insert(), revisions)
            await record_many(
                session,
                (LogItem("kpi.revised", kpi_entity(kpi["key"]), r["snapshot"], revision_fields(r)) for r in revisions),
            )
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            kpi_table.update().values(revision=total + 1, target=float(total + 1), updated_at=changed_at)
        )
    await Sealer(db).seal()

    report = await verify_database(db)

    assert report.ok, report.problems[:3]
    assert report.entries == total + 1
    assert report.revisions == total + 1
