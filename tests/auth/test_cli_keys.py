"""The `decision-log keys` commands, run as the installed console script against the test database."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from pathlib import Path

import pytest

from app.core.config import Settings
from tests.conftest import DATABASE_URL, make_client

COMMAND = Path(sys.executable).parent / "decision-log"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(COMMAND),
        *args,
        env={**os.environ, "DECISION_LOG_DATABASE_URL": DATABASE_URL},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def create_key_with_cli(name: str, scope: str) -> str:
    code, out, err = await run_cli("keys", "create", "--name", name, "--scope", scope)
    assert code == 0, err
    return out.strip().splitlines()[-1]


def unique_name() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}"


async def test_cli_keys_create_prints_a_working_key_alone_on_the_last_line(app_instance, db):
    name = unique_name()
    code, out, err = await run_cli("keys", "create", "--name", name, "--scope", "read")

    assert code == 0, err
    key = out.rstrip("\n").splitlines()[-1]
    assert key == key.strip() and " " not in key
    assert key.startswith("dlk_")
    async with make_client(app_instance, key) as client:
        read = await client.get("/v1/people")
        write = await client.put("/v1/people/anna.petrova", json={"name": "Anna", "team": "growth"})
    assert read.status_code == 200, read.text
    assert write.status_code == 403  # the scope asked for, not more


async def test_cli_keys_create_unknown_scope_fails(db):
    code, out, _ = await run_cli("keys", "create", "--name", unique_name(), "--scope", "root")

    assert code != 0
    assert "dlk_" not in out


async def test_cli_keys_list_shows_the_key_without_its_secret(db):
    name = unique_name()
    key = await create_key_with_cli(name, "write")
    prefix, secret = key.split("_")[1], key.split("_", 2)[2]

    code, out, err = await run_cli("keys", "list")

    assert code == 0, err
    line = next(line for line in out.splitlines() if name in line)
    columns = line.split()
    assert columns[:2] == [prefix, "write"]
    assert TIMESTAMP.match(columns[2])
    assert columns[3:] == ["-", "-", "-", name]  # not revoked, no expiry, no person
    assert secret not in out
    assert key not in out


async def test_cli_keys_revoke_makes_the_key_stop_working(app_instance, db, settings: Settings, monkeypatch):
    # Another process revokes: this one learns of it when its short-lived cache entry expires.
    monkeypatch.setattr(settings, "key_cache_seconds", 0.2)
    name = unique_name()
    key = await create_key_with_cli(name, "read")
    prefix = key.split("_")[1]
    async with make_client(app_instance, key) as client:
        assert (await client.get("/v1/people")).status_code == 200

        code, out, err = await run_cli("keys", "revoke", prefix)
        assert code == 0, err
        assert prefix in out
        await asyncio.sleep(0.3)
        response = await client.get("/v1/people")

    assert response.status_code == 401
    assert response.json()["detail"] == "The API key has been revoked."
    _, listing, _ = await run_cli("keys", "list")
    line = next(line for line in listing.splitlines() if name in line)
    assert TIMESTAMP.match(line.split()[3])  # the REVOKED column holds a timestamp


async def test_cli_keys_revoke_never_used_key_is_refused_at_once(app_instance, db):
    key = await create_key_with_cli(unique_name(), "admin")

    code, _, err = await run_cli("keys", "revoke", key.split("_")[1])
    assert code == 0, err

    async with make_client(app_instance, key) as client:
        response = await client.get("/v1/people")
    assert response.status_code == 401


@pytest.mark.parametrize("ref", ["no-such-key"])
async def test_cli_keys_revoke_unknown_key_fails(db, ref):
    code, _, err = await run_cli("keys", "revoke", ref)

    assert code == 1
    assert "no single key matches" in err


@pytest.mark.parametrize("name", ["   ", "x" * 101, "caf\udcc3"])  # blank, too long, undecodable bytes in argv
async def test_cli_keys_create_refuses_a_name_the_api_would_refuse(db, name):
    code, out, err = await run_cli("keys", "create", "--name", name, "--scope", "read")

    assert code == 2, out
    assert "--name" in err and "dlk_" not in out
