"""``digest.weekly``: written once a week (Monday at the digest hour on the team's clock) by one process, and
e-mailed through a real SMTP server on loopback (aiosmtpd) to the people who asked, never twice, retried when the
server is away."""

from __future__ import annotations

import asyncio
import email
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from app.core.config import Settings
from app.core.unit_of_work import Database
from app.digest import weekly
from app.main import create_app
from tests import factories
from tests.auth.test_cli_keys import run_cli
from tests.conftest import make_client
from tests.digest.dataset import TZ, WEEK, two_weeks
from tests.events.helpers import feed
from tests.webhooks.conftest import Receiver

# Monday 2026-11-30, 09:30 in Berlin: the week of 2026-11-23 is due.
MONDAY_AFTER_NINE = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


class Inbox:
    """aiosmtpd's handler: every message it accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def worker(settings: Settings, inbox: tuple[Inbox, int]) -> AsyncIterator[Database]:
    database = _database(settings, f"smtp://127.0.0.1:{inbox[1]}")
    yield database
    await database.dispose()


def _database(settings: Settings, smtp_url: str) -> Database:
    return Database(settings.model_copy(update={"smtp_url": SecretStr(smtp_url), "timezone": TZ}))


async def _people(client: httpx.AsyncClient) -> None:
    await factories.person(client, "erin.digest", email="erin@example.com", digest=True)
    await factories.person(client, "fred.nodigest", email="fred@example.com")
    await factories.person(client, "gina.inactive", email="gina@example.com", digest=True, active=False)
    await factories.person(client, "hugo.noemail", digest=True)
    await factories.person(client, "anna.petrova", team="growth", email="anna@example.com", digest=True)


def test_the_week_due_is_the_one_before_the_latest_monday_at_the_hour() -> None:
    assert weekly.due_week(MONDAY_AFTER_NINE, TZ, 9) == date(2026, 11, 23)
    assert weekly.due_week(datetime(2026, 11, 30, 7, 59, tzinfo=UTC), TZ, 9) == date(2026, 11, 16)  # 08:59 there
    assert weekly.due_week(datetime(2026, 12, 6, 22, 59, tzinfo=UTC), TZ, 9) == date(2026, 11, 23)  # Sunday night
    assert weekly.due_week(datetime(2026, 11, 30, 8, 30, tzinfo=UTC), "UTC", 9) == date(2026, 11, 16)


async def test_the_digest_is_written_once_and_mailed_to_who_asked(
    client: httpx.AsyncClient, worker: Database, inbox: tuple[Inbox, int], settings: Settings
) -> None:
    await two_weeks(client)
    await _people(client)
    other = _database(settings, f"smtp://127.0.0.1:{inbox[1]}")  # a second process
    try:
        results = await asyncio.gather(
            *(weekly.run_once(db, now=MONDAY_AFTER_NINE) for db in (worker, other, worker, other))
        )
    finally:
        await other.dispose()

    assert [r.week for r in results] == [date(2026, 11, 23)] * 4
    assert sum(r.written for r in results) == 1
    assert sorted(a for r in results for a in r.mailed) == ["anna@example.com", "erin@example.com"]
    [event] = await feed(client, type="digest.weekly")
    assert event["subject"] == f"digest/{WEEK}"
    expected = await client.get("/v1/digest", params={"at": WEEK, "tz": TZ})
    assert event["data"] == expected.json()
    messages, _ = inbox
    assert sorted(to for to, _ in messages.messages) == [["anna@example.com"], ["erin@example.com"]]
    for _, message in messages.messages:
        assert message["Subject"] == f"Decision digest: Week of {WEEK} to 2026-11-29"
        assert message["From"] == settings.smtp_from
        assert message.get_content_type() == "multipart/alternative"
        text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())  # type: ignore[union-attr]
        assert "- Decisions recorded: **4** (+2; was 2)" in text.splitlines()
        assert "<strong>4</strong>" in html and html.lstrip().startswith("<!DOCTYPE html>")
    # Later looks in the same week write and send nothing more.
    again = await weekly.run_once(worker, now=datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    assert (again.written, again.mailed) == (False, [])
    assert len(messages.messages) == 2
    assert len(await feed(client, type="digest.weekly")) == 1


async def test_webhooks_get_the_weekly_digest_as_it_is_and_in_slack_format(
    client: httpx.AsyncClient, worker: Database, dispatching_app: Any, receiver: Receiver
) -> None:
    await two_weeks(client)
    async with dispatching_app() as admin:
        for format in ("standard", "slack"):
            body = {"url": receiver.url, "events": ["digest.weekly"], "format": format}
            assert (await admin.post("/v1/webhooks", json=body)).status_code == 201
        await weekly.run_once(worker, now=MONDAY_AFTER_NINE)
        requests = await receiver.wait_for(2)

    [event] = await feed(client, type="digest.weekly")
    bodies = [json.loads(r.body) for r in requests]
    [standard] = [b for b in bodies if "type" in b]
    assert standard["type"] == "digest.weekly"
    assert standard["data"] == {"id": event["id"], "subject": f"digest/{WEEK}", **event["data"]}
    [slack] = [b for b in bodies if "text" in b]
    assert slack["text"] == (
        f"*digest.weekly*: Digest of the week {WEEK} to 2026-11-29 ({TZ}): 4 decisions (+2), 25.0 % on data "
        "(-75 pts), 1 unexplained strategy changes, 1 reviews overdue"
    )


async def test_a_server_that_is_down_is_retried_next_time_and_the_week_is_not_lost(
    client: httpx.AsyncClient, settings: Settings, inbox: tuple[Inbox, int]
) -> None:
    await two_weeks(client)
    await _people(client)
    down = _database(settings, f"smtp://127.0.0.1:{_free_port()}")
    try:
        failed = await weekly.run_once(down, now=MONDAY_AFTER_NINE)
    finally:
        await down.dispose()
    assert failed.written and failed.mailed == [] and failed.error is not None
    assert len(await feed(client, type="digest.weekly")) == 1

    up = _database(settings, f"smtp://127.0.0.1:{inbox[1]}")
    try:
        retried = await weekly.run_once(up, now=MONDAY_AFTER_NINE)
        after = await weekly.run_once(up, now=MONDAY_AFTER_NINE)
    finally:
        await up.dispose()
    assert (retried.written, sorted(retried.mailed), retried.error) == (
        False,
        ["anna@example.com", "erin@example.com"],
        None,
    )
    assert (after.written, after.mailed) == (False, [])
    assert len(inbox[0].messages) == 2
    assert len(await feed(client, type="digest.weekly")) == 1


async def test_credentials_are_never_sent_without_tls_nor_logged(
    client: httpx.AsyncClient, settings: Settings, inbox: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    await two_weeks(client)
    await _people(client)
    plain = _database(settings, f"smtp://digest:s3cret-word@127.0.0.1:{inbox[1]}")
    try:
        with caplog.at_level(logging.INFO):
            result = await weekly.run_once(plain, now=MONDAY_AFTER_NINE)
    finally:
        await plain.dispose()

    assert result.mailed == [] and result.error is not None
    assert "STARTTLS" in result.error
    assert "s3cret" not in result.error and "s3cret" not in caplog.text
    assert "STARTTLS" in caplog.text
    assert inbox[0].messages == []


async def test_serve_writes_the_digest_in_the_background(
    client: httpx.AsyncClient, settings: Settings, keys: dict[str, str]
) -> None:
    app = create_app(settings.model_copy(update={"digest_check_interval_seconds": 0.05}))
    async with LifespanManager(app), make_client(app, keys["read"]) as reader:
        for _ in range(200):
            events = await feed(reader, type="digest.weekly")
            if events:
                break
            await asyncio.sleep(0.05)
    [event] = events
    week = weekly.due_week(datetime.now(UTC), settings.timezone, settings.digest_hour)
    assert event["subject"] == f"digest/{week.isoformat()}"


async def test_send_digest_command(client: httpx.AsyncClient) -> None:
    code, out, err = await run_cli("send-digest")
    assert code == 0, err
    assert "written;" in out.strip().splitlines()[-1]
    code, out, err = await run_cli("send-digest")
    assert "already written" in out.strip().splitlines()[-1]
    assert len(await feed(client, type="digest.weekly")) == 1
