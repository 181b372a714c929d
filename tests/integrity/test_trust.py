"""Trust comes from outside the database: the keys in the settings or on the command line, and checkpoints saved
earlier from GET /v1/integrity/checkpoints/latest. Without any, verification says it was unanchored."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from app.core.types import format_utc
from app.integrity import repository, signing
from app.main import create_app
from tests import factories
from tests.conftest import TEST_SIGNING_KEY, make_client
from tests.integrity.helpers import rewrite_rationale, rows, run_cli, seed, tamper

SERVICE_PUBLIC_KEY = signing.public_key_b64(signing.load_private_key_b64(TEST_SIGNING_KEY))
NO_KEY = {"DECISION_LOG_SIGNING_KEY": "", "DECISION_LOG_INTEGRITY_TRUSTED_KEYS": ""}


async def save_latest_checkpoint(client_for, path: Path) -> dict:  # type: ignore[no-untyped-def]
    """What a user does: fetch the latest checkpoint and keep the answer, as it is, in a file."""
    response = await client_for("analytics").get("/v1/integrity/checkpoints/latest")
    assert response.status_code == 200, response.text
    write(path, response.content)
    return response.json()  # type: ignore[no-any-return]


def write(path: Path, content: bytes) -> None:
    path.write_bytes(content)


# --- GET /v1/integrity/checkpoints/latest -------------------------------------------------------------------------


async def test_latest_checkpoint_is_published_and_verifies_with_the_public_key(client, client_for, anon, db):
    seeded = await seed(client, db)

    response = await client_for("analytics").get("/v1/integrity/checkpoints/latest")

    assert response.status_code == 200
    body = response.json()
    assert response.headers["ETag"].startswith('"')
    async with db.engine.connect() as connection:
        query = select(repository.checkpoint.c.signed_at).where(repository.checkpoint.c.position == 20)
        signed_at = (await connection.execute(query)).scalar_one()
    ((head,),) = await rows(db, "SELECT chain_hash FROM integrity_link WHERE position = :p", p=20)
    public = (await anon.get("/v1/integrity/public-key")).json()
    assert body == {
        "format": "decision-log checkpoint v1",
        "position": seeded["entries"],
        "head_hash": head,
        "signed_at": format_utc(signed_at),
        "algorithm": "Ed25519",
        "public_key": public["public_key"],
        "key_id": public["key_id"],
        "signature": body["signature"],
    }
    message = (
        signing.MESSAGE_PREFIX
        + (
            f'{{"head_hash":"{head}","position":{body["position"]},"public_key":"{body["public_key"]}",'
            f'"signed_at":"{body["signed_at"]}"}}'
        ).encode()
    )
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public["public_key"]))
    key.verify(base64.b64decode(body["signature"]), message)  # raises when it does not verify


async def test_latest_checkpoint_needs_a_key(anon, db):
    response = await anon.get("/v1/integrity/checkpoints/latest")

    assert response.status_code == 401


async def test_latest_checkpoint_before_the_first_one_is_404(client_for, db):
    response = await client_for("analytics").get("/v1/integrity/checkpoints/latest")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "checkpoint_not_found"


async def test_latest_checkpoint_of_a_service_without_a_signing_key_is_404(client, settings, keys, db):
    await seed(client, db)
    app = create_app(settings.model_copy(update={"signing_key": None, "integrity_trusted_keys": []}))

    async with LifespanManager(app), make_client(app, keys["analytics"]) as unsigned:
        response = await unsigned.get("/v1/integrity/checkpoints/latest")

    assert response.status_code == 404
    assert response.json()["code"] == "signing_key_not_configured"


async def test_latest_checkpoint_resigned_in_the_database_is_not_published(client, client_for, db):
    """A checkpoint the database holds but the service's key did not sign is refused, not passed on."""
    seeded = await seed(client, db)
    await rewrite_rationale(db, seeded["edited"]["id"], "Rewritten.", Ed25519PrivateKey.generate())

    response = await client_for("analytics").get("/v1/integrity/checkpoints/latest")

    assert response.status_code == 409
    assert response.json()["code"] == "checkpoint_unverifiable"


# --- where trust comes from -------------------------------------------------------------------------------------


async def test_verify_without_a_trust_anchor_says_so(client, db):
    await seed(client, db)

    code, out, err = await run_cli("verify", env=NO_KEY)
    json_code, report, _ = await run_cli("verify", "--json", env=NO_KEY)

    assert code == 3, out + err
    assert "UNANCHORED" in err and "OK" not in out
    assert json_code == 3
    body = json.loads(report)
    assert (body["ok"], body["status"], body["anchors"], body["problem_count"]) == (False, "unanchored", [], 0)


async def test_verify_endpoint_of_a_service_without_keys_reports_unanchored(client, settings, keys, db):
    await seed(client, db)
    app = create_app(settings.model_copy(update={"signing_key": None, "integrity_trusted_keys": []}))

    async with LifespanManager(app), make_client(app, keys["admin"]) as admin:
        body = (await admin.get("/v1/integrity/verify")).json()

    assert (body["ok"], body["status"], body["anchors"], body["problem_count"]) == (False, "unanchored", [], 0)


async def test_log_rewritten_and_resigned_in_the_database_fails_against_the_real_key(client, db):
    """The forger re-signs every checkpoint with a key of their own and leaves its public half in the database.
    Trusted alone, that key would vouch for the forgery; the real key, from the settings or the command line,
    exposes it. Without either, verification cannot tell, and says it was unanchored."""
    seeded = await seed(client, db)
    await rewrite_rationale(db, seeded["edited"]["id"], "Rewritten.", Ed25519PrivateKey.generate())

    settings_code, _, settings_err = await run_cli("verify")
    option_code, _, option_err = await run_cli("verify", "--trusted-key", SERVICE_PUBLIC_KEY, env=NO_KEY)
    unanchored_code, _, unanchored_err = await run_cli("verify", env=NO_KEY)

    assert settings_code == 1 and "checkpoint_untrusted_key" in settings_err
    assert option_code == 1 and "checkpoint_untrusted_key" in option_err
    assert unanchored_code == 3 and "UNANCHORED" in unanchored_err


async def test_trusted_key_given_as_pem_is_read(client, db):
    await seed(client, db)
    pem = signing.public_key_pem(signing.load_private_key_b64(TEST_SIGNING_KEY))

    code, out, err = await run_cli("verify", "--trusted-key", pem, env=NO_KEY)

    assert code == 0, out + err
    assert "trusted: --trusted-key" in out


async def test_unreadable_trusted_key_is_a_usage_error(db):
    code, _, err = await run_cli("verify", "--trusted-key", "not-a-key")

    assert code == 2
    assert "--trusted-key" in err and "neither PEM nor base64" in err


# --- checkpoints saved earlier: the database must still hold and extend them -----------------------------------


async def test_untouched_database_holds_and_extends_a_saved_checkpoint(client, client_for, db, tmp_path):
    await seed(client, db)
    saved = tmp_path / "checkpoint.json"
    await save_latest_checkpoint(client_for, saved)
    await factories.decision(client, title="Written after the checkpoint was saved")

    code, out, err = await run_cli("verify", "--checkpoint", str(saved))

    assert code == 0, out + err
    assert "saved checkpoint at position 20: the database holds and extends it" in out
    assert "OK" in out


async def test_rolled_back_tail_passes_plain_verify_and_fails_against_the_saved_checkpoint(
    client, client_for, db, tmp_path
):
    """The last writes removed with their records and their checkpoint, the append-only guard lifted: the database
    is consistent with itself again, so only a checkpoint kept outside it shows the rollback."""
    seeded = await seed(client, db)
    saved = tmp_path / "checkpoint.json"
    await save_latest_checkpoint(client_for, saved)
    kept = seeded["entries"] - 2
    last = [d["id"].replace("-", "") if db.dialect == "sqlite" else d["id"] for d in seeded["last"]]
    await tamper(
        db,
        "DELETE FROM integrity_checkpoint WHERE position > :kept",
        "DELETE FROM integrity_link WHERE position > :kept",
        "DELETE FROM integrity_entry WHERE id NOT IN (SELECT entry_id FROM integrity_link)",
        "DELETE FROM decision_revision WHERE decision_id IN (:a, :b)",
        "DELETE FROM decision WHERE id IN (:a, :b)",
        kept=kept,
        a=last[0],
        b=last[1],
    )

    plain_code, plain_out, plain_err = await run_cli("verify")
    code, out, err = await run_cli("verify", "--checkpoint", str(saved))

    assert plain_code == 0, plain_out + plain_err
    assert code == 1
    assert f"saved_checkpoint_rolled_back: position={kept + 1}" in err
    assert "saved checkpoint at position 20: the database does NOT hold it" in out


async def test_rewritten_log_fails_against_the_saved_checkpoint_without_any_key(client, client_for, db, tmp_path):
    """A saved checkpoint anchors the log by itself: a rewrite before its position shows, whoever signed since."""
    seeded = await seed(client, db)
    saved = tmp_path / "checkpoint.json"
    await save_latest_checkpoint(client_for, saved)
    await rewrite_rationale(db, seeded["edited"]["id"], "Rewritten.", Ed25519PrivateKey.generate())

    code, out, err = await run_cli("verify", "--checkpoint", str(saved), "--json", env=NO_KEY)

    assert code == 1, err
    body = json.loads(out)
    assert body["anchors"] == ["saved_checkpoint"]
    assert body["saved_checkpoint"] | {"head_hash": None} == {"position": 20, "head_hash": None, "contained": False}
    assert [p["code"] for p in body["problems"]] == ["saved_checkpoint_mismatch"]


async def test_altered_saved_checkpoint_is_refused(client, client_for, db, tmp_path):
    await seed(client, db)
    saved = tmp_path / "checkpoint.json"
    checkpoint = await save_latest_checkpoint(client_for, saved)
    write(saved, json.dumps(checkpoint | {"head_hash": "0" * 64}).encode())

    code, _, err = await run_cli("verify", "--checkpoint", str(saved))

    assert code == 1
    assert "saved_checkpoint_signature_invalid" in err


async def test_saved_checkpoint_that_is_not_one_is_a_usage_error(db, tmp_path):
    saved = tmp_path / "checkpoint.json"
    write(saved, b'{"position": "twenty"}')

    code, _, err = await run_cli("verify", "--checkpoint", str(saved))

    assert code == 2
    assert "not a checkpoint saved from GET /v1/integrity/checkpoints/latest" in err
