"""The real service as a process (`decision-log serve` on 127.0.0.1), and load that writes to it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.auth.scopes import Scope
from app.auth.service import create_key
from app.core.config import Settings
from app.core.migrations import upgrade
from app.core.unit_of_work import Database
from tests import factories
from tests.faults.cluster import free_port

COMMAND = Path(sys.executable).parent / "decision-log"
_SUCCESS = re.compile(r'" 2\d\d ')
START_TIMEOUT = 60


async def write_key(database_url: str) -> str:
    """Migrate the database and make a `write` key in it."""
    await asyncio.to_thread(upgrade, database_url)
    database = Database(Settings(database_url=database_url))
    try:
        async with database.sessionmaker() as session, session.begin():
            _, key = await create_key(session, name="fault-test", scope=Scope.write)
        return key
    finally:
        await database.dispose()


class Service:
    """``decision-log serve --port P`` against ``database_url``; :meth:`stop` kills it if need be."""

    def __init__(self, database_url: str, *, env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.env = {**os.environ, "DECISION_LOG_DATABASE_URL": database_url, **(env or {})}
        self.log_path = Path(tempfile.mkstemp(prefix="decision-log-serve-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(COMMAND), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self.process

    async def start(self) -> None:
        """Launch, then wait until /healthz answers."""
        self.launch()
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, f"the service exited at start:\n{self.log_tail()}"
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"the service did not start within {START_TIMEOUT} s:\n{self.log_tail()}")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait_exit(self, within: float) -> int:
        assert self.process is not None
        deadline = time.monotonic() + within
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the service did not exit within {within} s:\n{self.log_tail()}")
            await asyncio.sleep(0.05)
        return self.process.returncode

    def stop(self) -> None:
        """Gone for sure: SIGKILL if still running."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)

    def log_tail(self, lines: int = 400) -> str:
        """The end of the service's log, less its access lines for 2xx answers."""
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace").splitlines()
            return "\n".join([line for line in text if not _SUCCESS.search(line)][-lines:])
        return ""

    def remove_log(self) -> None:
        self.log_path.unlink(missing_ok=True)

    def client(self, key: str, *, timeout: float = 30) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
        )


@dataclass
class Attempt:
    """One POST as its client saw it."""

    key: str
    body: dict[str, Any]
    started: float
    elapsed: float = 0.0
    status: int | None = None  # None: no HTTP answer (connection refused or reset)
    retry_after: str | None = None
    content_type: str | None = None
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Load:
    """Writers posting decisions, each with its own ``Idempotency-Key`` and ``external_ref``."""

    client: httpx.AsyncClient
    prefix: str
    writers: int = 4
    pause: float = 0.02
    attempts: list[Attempt] = field(default_factory=list)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0

    async def _writer(self, number: int) -> None:
        sequence = 0
        while not self.stopped.is_set():
            key = f"{self.prefix}-{number}-{sequence}"
            sequence += 1
            self.in_flight += 1
            try:
                await post(self.client, self.attempts, key)
            finally:
                self.in_flight -= 1
            await asyncio.sleep(self.pause)

    async def all_in_flight(self, within: float = 10) -> None:
        """Return at a moment when every writer waits for an answer."""
        await self.in_flight_at_least(self.writers, within)

    async def in_flight_at_least(self, count: int, within: float = 10) -> None:
        async with asyncio.timeout(within):
            while self.in_flight < count:  # noqa: ASYNC110
                await asyncio.sleep(0.001)

    async def mostly_in_flight(self) -> None:
        """Every writer waiting for an answer if that moment comes soon (on a fast engine with one
        writer at a time it may not), else at least one."""
        try:
            await self.all_in_flight(within=3)
        except TimeoutError:
            await self.in_flight_at_least(1, within=10)

    async def run_while(self, scenario: Callable[[], Awaitable[None]]) -> None:
        tasks = [asyncio.create_task(self._writer(n)) for n in range(self.writers)]
        try:
            await scenario()
        finally:
            self.stopped.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)


async def post(client: httpx.AsyncClient, log: list[Attempt], key: str) -> Attempt:
    body = factories.decision_body(title=f"Decision {key}", external_ref={"system": "fault-test", "id": key})
    attempt = Attempt(key=key, body=body, started=time.monotonic())
    log.append(attempt)
    try:
        response = await client.post("/v1/decisions", json=body, headers={"Idempotency-Key": key})
    except httpx.TransportError as error:
        attempt.error = f"{type(error).__name__}: {error}"
    else:
        attempt.status = response.status_code
        attempt.retry_after = response.headers.get("Retry-After")
        attempt.content_type = response.headers.get("content-type")
        if response.status_code >= 300 and response.status_code != 503:
            attempt.error = response.text
    attempt.elapsed = time.monotonic() - attempt.started
    return attempt


async def stored_refs(client: httpx.AsyncClient) -> list[str]:
    """The ``external_ref.id`` of every stored decision (duplicates kept), read from the export."""
    response = await client.get("/v1/exports/decisions")
    assert response.status_code == 200, response.text
    refs = (json.loads(line)["external_ref"] for line in response.text.splitlines() if line.strip())
    return [ref["id"] for ref in refs if ref is not None]


async def retry_unacknowledged(client: httpx.AsyncClient, attempts: list[Attempt]) -> list[httpx.Response]:
    """Send every request that got no 2xx again, with its own key and body."""
    answers = []
    for attempt in attempts:
        if not attempt.acknowledged:
            answers.append(
                await client.post("/v1/decisions", json=attempt.body, headers={"Idempotency-Key": attempt.key})
            )
    return answers
