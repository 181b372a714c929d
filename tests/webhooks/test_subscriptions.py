"""Webhook subscriptions over the API (scope admin): the secret shown once, stored encrypted, never listed."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import text

from app.core.config import Settings
from app.core.unit_of_work import Database
from app.main import create_app
from tests.conftest import make_client

PUBLIC_URL = "https://93.184.216.34/hooks/decision-log"


async def _create(admin: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await admin.post("/v1/webhooks", json={"url": PUBLIC_URL, "events": ["*"], **body})


async def test_create_shows_the_secret_once_and_never_again(admin: httpx.AsyncClient, db: Database) -> None:
    response = await _create(admin, events=["decision.review_due", "kpi.revised"], description="CRM sync")

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert response.headers["Location"] == f"/v1/webhooks/{created['id']}"
    assert {k: v for k, v in created.items() if k not in {"id", "secret", "created_at", "updated_at"}} == {
        "url": PUBLIC_URL,
        "events": ["decision.review_due", "kpi.revised"],
        "format": "standard",
        "description": "CRM sync",
        "enabled": True,
        "disabled_reason": None,
        "failing_since": None,
    }
    read = (await admin.get(f"/v1/webhooks/{created['id']}")).json()
    listed = (await admin.get("/v1/webhooks")).json()["items"]
    assert "secret" not in read and listed == [read]
    assert read == {k: v for k, v in created.items() if k != "secret"}
    # At rest it is encrypted: the row holds no trace of it.
    async with db.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT secret_encrypted FROM webhook"))).scalar_one()
    assert created["secret"] not in stored and created["secret"].removeprefix("whsec_") not in stored


async def test_patch_changes_and_delete_removes(admin: httpx.AsyncClient) -> None:
    created = (await _create(admin)).json()
    url = f"/v1/webhooks/{created['id']}"

    patched = await admin.patch(url, json={"events": ["kpi.revised"], "format": "slack", "enabled": False})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["events"], patched.json()["format"], patched.json()["enabled"]) == (
        ["kpi.revised"],
        "slack",
        False,
    )
    assert (await admin.get(url)).json() == patched.json()

    assert (await admin.delete(url)).status_code == 204
    assert (await admin.get(url)).status_code == 404
    assert (await admin.delete(url)).status_code == 404


async def test_webhooks_need_the_admin_scope(client_for: Any) -> None:
    writer = client_for("write")
    assert (await writer.post("/v1/webhooks", json={"url": PUBLIC_URL, "events": ["*"]})).status_code == 403
    assert (await writer.get("/v1/webhooks")).status_code == 403


async def test_bad_bodies_are_422_naming_the_field(admin: httpx.AsyncClient) -> None:
    cases = [
        ({"url": "ftp://93.184.216.34/x", "events": ["*"]}, ["body", "url"]),
        ({"url": "file:///etc/passwd", "events": ["*"]}, ["body", "url"]),
        ({"url": PUBLIC_URL, "events": ["decision.exploded"]}, ["body", "events", 0]),
        ({"url": PUBLIC_URL, "events": []}, ["body", "events"]),
        ({"url": PUBLIC_URL, "events": ["*"], "format": "teams"}, ["body", "format"]),
    ]
    for body, loc in cases:
        response = await admin.post("/v1/webhooks", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["loc"] for e in response.json()["errors"]] == [loc], body


async def test_private_targets_are_refused_unless_allowed(admin: httpx.AsyncClient) -> None:
    for url in (
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
    ):
        response = await admin.post("/v1/webhooks", json={"url": url, "events": ["*"]})
        assert response.status_code == 422, (url, response.text)
        [error] = response.json()["errors"]
        assert error["loc"] == ["body", "url"] and error["type"] == "target_refused", url
        assert "DECISION_LOG_WEBHOOK_ALLOW_PRIVATE_TARGETS" in error["msg"]


async def test_without_an_encryption_key_webhooks_cannot_be_created(settings: Settings, keys: dict[str, str]) -> None:
    from asgi_lifespan import LifespanManager

    app = create_app(settings.model_copy(update={"webhook_secret_key": None}))
    async with LifespanManager(app), make_client(app, keys["admin"]) as admin:
        response = await _create(admin)
    assert response.status_code == 409
    assert response.json()["code"] == "webhook_secret_key_missing"


async def test_webhook_key_command_prints_a_key_that_encrypts(settings: Settings) -> None:
    from app.webhooks import crypto
    from tests.auth.test_cli_keys import run_cli

    code, out, err = await run_cli("webhook-key")
    assert code == 0, err
    key = out.strip().splitlines()[-1]
    keyed = settings.model_copy(update={"webhook_secret_key": SecretStr(key)})
    secret = crypto.new_secret()
    assert crypto.unseal(keyed, crypto.seal(keyed, secret)) == secret


async def test_a_signing_secret_is_never_logged_nor_replayed(admin: httpx.AsyncClient) -> None:
    from app.core.logging import redact

    headers = {"Idempotency-Key": "webhook-create-1"}
    body = {"url": PUBLIC_URL, "events": ["*"]}
    created = await admin.post("/v1/webhooks", json=body, headers=headers)
    assert created.status_code == 201
    secret = created.json()["secret"]

    replay = await admin.post("/v1/webhooks", json=body, headers=headers)
    assert replay.status_code == 409 and replay.json()["code"] == "secret_not_replayed"
    assert secret not in replay.text
    assert redact(f"payload {secret} sent") == "payload whsec_[redacted] sent"
