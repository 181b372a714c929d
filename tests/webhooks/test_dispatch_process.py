"""``decision-log dispatch``: the real process delivers to a real receiver on loopback while the web workers
(``DECISION_LOG_WEBHOOK_DISPATCH=separate``) deliver nothing; two of them at once send each event once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from app.core.unit_of_work import Database, transaction
from app.events import service as events
from app.events.schemas import EventType
from tests import factories
from tests.conftest import DATABASE_URL
from tests.events.helpers import feed

CLI = str(Path(sys.executable).parent / "decision-log")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _start(tmp_path: Path, name: str, *args: str, **env: str) -> asyncio.subprocess.Process:
    log = (tmp_path / f"{name}.log").open("w")
    environment = {
        **os.environ,
        "DECISION_LOG_DATABASE_URL": DATABASE_URL,
        "DECISION_LOG_WEBHOOK_POLL_INTERVAL_SECONDS": "0.05",
        "DECISION_LOG_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "DECISION_LOG_WEBHOOK_TIMEOUT_SECONDS": "5",
        **env,
    }
    try:
        return await asyncio.create_subprocess_exec(
            CLI, "dispatch", *args, env=environment, stdout=log, stderr=asyncio.subprocess.STDOUT
        )
    finally:
        log.close()  # the child holds its own descriptor


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), 30)


async def _metrics(port: int, *expected: str, within: float = 30.0) -> str:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as probe:
        while True:
            try:
                answer = await probe.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
                if all(line in answer.text.splitlines() for line in expected):
                    return answer.text
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"the dispatcher's metrics never showed {expected}"
            await asyncio.sleep(0.1)


async def test_the_dispatch_process_delivers_what_web_workers_left_to_it(
    dispatching_app, receiver, client, tmp_path
) -> None:
    # The web workers' app: it polls often, but delivers nothing, since a separate process does.
    async with dispatching_app(webhook_dispatch="separate") as admin:
        hook = (await admin.post("/v1/webhooks", json={"url": receiver.url, "events": ["*"]})).json()
        await factories.person(client, "anna.petrova")
        await asyncio.sleep(1.0)
        assert receiver.requests == []

        port = _free_port()
        process = await _start(tmp_path, "dispatch", "--metrics-port", str(port))
        try:
            [request] = await receiver.wait_for(1, within=60)
            await _metrics(
                port,
                'decision_log_webhook_attempts_total{outcome="delivered"} 1.0',
                "decision_log_webhook_messages_pending 0.0",
            )
            [event] = await feed(client, type="person.created")
            assert request.headers["webhook-id"] == event["id"]
            log_items = (await admin.get(f"/v1/webhooks/{hook['id']}/deliveries")).json()["items"]
            assert [(a["event_id"], a["attempt"], a["status_code"]) for a in log_items] == [(event["id"], 1, 200)]
        finally:
            code = await _stop(process)
    assert code == 0, (tmp_path / "dispatch.log").read_text()


async def test_two_dispatch_processes_deliver_each_event_once(
    dispatching_app, receiver, db: Database, tmp_path
) -> None:
    total = 120
    async with dispatching_app(webhook_poll_interval_seconds=0) as admin:  # subscribes, delivers nothing
        await admin.post("/v1/webhooks", json={"url": receiver.url, "events": ["*"]})
    receiver.delay = 0.02  # each attempt takes a moment: both processes find work while the other's is in flight
    # Small batches (concurrency 2: 8 messages a claim), so the two processes' claims interleave.
    processes = [await _start(tmp_path, f"dispatch-{n}", DECISION_LOG_WEBHOOK_MAX_CONCURRENCY="2") for n in range(2)]
    try:
        async with transaction(db, writes=True) as session:
            await events.emit(
                session,
                *(
                    events.NewEvent(EventType.person_updated, f"person/p{n}", {"person": {"handle": f"p{n}"}})
                    for n in range(total)
                ),
            )
        requests = await receiver.wait_for(total, within=120)
        await asyncio.sleep(1.0)  # a second send of any would have arrived by now
    finally:
        codes = [await _stop(process) for process in processes]
    ids: Counter[Any] = Counter(request.headers["webhook-id"] for request in receiver.requests)
    assert len(requests) == total
    assert len(ids) == total and set(ids.values()) == {1}
    assert codes == [0, 0], [(tmp_path / f"dispatch-{n}.log").read_text() for n in range(2)]


async def test_dispatch_refuses_to_run_on_a_database_not_migrated(tmp_path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    process = await _start(tmp_path, "refused", DECISION_LOG_DATABASE_URL=empty)
    assert await asyncio.wait_for(process.wait(), 60) == 1
    assert "decision-log migrate" in (tmp_path / "refused.log").read_text()
