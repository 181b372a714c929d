"""kill -9 of the service with a delivery in flight loses nothing: another process delivers it, same webhook-id."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

from tests import factories
from tests.conftest import DATABASE_URL

CLI = str(Path(sys.executable).parent / "decision-log")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_delivery_in_flight_when_the_service_is_killed_is_delivered_after(
    dispatching_app, receiver, client, tmp_path
) -> None:
    async with dispatching_app(webhook_poll_interval_seconds=0) as admin:  # subscribes, delivers nothing
        hook = (await admin.post("/v1/webhooks", json={"url": receiver.url, "events": ["*"]})).json()

    receiver.delays = [30.0]  # the first attempt hangs: the service is killed while it waits
    port = _free_port()
    env = {
        **os.environ,
        "DECISION_LOG_DATABASE_URL": DATABASE_URL,
        "DECISION_LOG_WEBHOOK_POLL_INTERVAL_SECONDS": "0.05",
        "DECISION_LOG_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "DECISION_LOG_WEBHOOK_TIMEOUT_SECONDS": "2",
    }
    log = (tmp_path / "server.log").open("w")
    server = await asyncio.create_subprocess_exec(
        CLI, "serve", "--port", str(port), env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 90
        async with httpx.AsyncClient() as probe:
            while True:
                assert server.returncode is None, "the service stopped"
                try:
                    if (await probe.get(f"http://127.0.0.1:{port}/readyz", timeout=2)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the service did not start"
                await asyncio.sleep(0.2)
        await factories.person(client, "anna.petrova")
        [first] = await receiver.wait_for(1, within=30)
    finally:
        server.send_signal(signal.SIGKILL)
        await asyncio.wait_for(server.wait(), 30)
        log.close()

    # Another process (here: an app of the test's own) takes the message once its lease is over.
    async with dispatching_app(webhook_timeout_seconds=2) as admin:
        requests = await receiver.wait_for(2, within=40)
        deadline = time.monotonic() + 10
        while not (log_items := (await admin.get(f"/v1/webhooks/{hook['id']}/deliveries")).json()["items"]):
            assert time.monotonic() < deadline, "the attempt was not recorded"
            await asyncio.sleep(0.05)

    assert requests[1].headers["webhook-id"] == first.headers["webhook-id"]
    assert [(a["attempt"], a["status_code"]) for a in log_items] == [(1, 200)]
