"""The service's own process stopped under load: SIGTERM lets requests in progress finish;
``kill -9`` loses nothing that was acknowledged, and retries with their keys duplicate nothing.

These need no database server fault, so they run on both engines.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.main import create_app
from tests import factories
from tests.conftest import make_client
from tests.faults.service import Attempt, Load, Service, retry_unacknowledged, stored_refs, write_key

IN_FLIGHT = 20
BATCH_ITEMS = 500
KILL_ROUNDS = 3
# A connection for each request in flight: these tests are about shutdown, not about how many heavy
# batches one process's pool serves at once (past the pool, a request waits at most POOL_TIMEOUT).
SERVICE_ENV = {"DECISION_LOG_POOL_SIZE": str(IN_FLIGHT)}


@asynccontextmanager
async def in_process_client(database_url: str, key: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app on ``database_url`` in this process, to read back what the stopped service stored."""
    app = create_app(Settings(database_url=database_url))
    async with LifespanManager(app), make_client(app, key) as client:
        yield client


async def started_service(
    services: list[Service], database_url: str, *, env: dict[str, str] | None = None
) -> tuple[Service, str]:
    key = await write_key(database_url)
    service = Service(database_url, env=env)
    services.append(service)
    await service.start()
    async with service.client(key) as client:
        await factories.basics(client)
    return service, key


def batch(number: int) -> dict[str, Any]:
    return {
        "items": [
            factories.decision_body(
                title=f"Batch {number} item {item}", external_ref={"system": "sigterm", "id": f"b{number}-{item}"}
            )
            for item in range(BATCH_ITEMS)
        ]
    }


async def sigterm_with_batches_in_flight(service: Service, key: str) -> tuple[list[httpx.Response | None], int]:
    """POST ``IN_FLIGHT`` big batches, SIGTERM the service once it holds them all, and collect the
    answers (None: the connection closed without one) and the exit code."""
    bodies_sent: set[int] = set()

    def on_sent(number: int):  # type: ignore[no-untyped-def]
        async def trace(name: str, _: dict[str, Any]) -> None:
            if name == "http11.send_request_body.complete":
                bodies_sent.add(number)

        return trace

    async def post(client: httpx.AsyncClient, number: int) -> httpx.Response | None:
        try:
            return await client.post(
                "/v1/decisions/batch",
                json=batch(number),
                headers={"Idempotency-Key": f"sigterm-{number}"},
                extensions={"trace": on_sent(number)},
            )
        except httpx.TransportError:
            return None

    async with service.client(key, timeout=60) as client, service.client(key) as barrier:
        # One open connection per request, so the server has every request in hand when SIGTERM comes.
        opened = await asyncio.gather(*(client.get("/healthz") for _ in range(IN_FLIGHT)))
        assert {r.status_code for r in opened} == {200}
        posts = [asyncio.create_task(post(client, n)) for n in range(IN_FLIGHT)]
        deadline = time.monotonic() + 30
        while len(bodies_sent) < IN_FLIGHT:
            assert time.monotonic() < deadline, f"only {len(bodies_sent)} bodies sent"
            await asyncio.sleep(0.01)
        # Answered only once the server has read what came before it on the other connections.
        assert (await barrier.get("/healthz")).status_code == 200
        unfinished = sum(not p.done() for p in posts)
        assert unfinished >= IN_FLIGHT // 2, "the requests finished before SIGTERM: make them slower"

        signalled = time.monotonic()
        service.signal(signal.SIGTERM)
        responses = await asyncio.wait_for(asyncio.gather(*posts), timeout=90)
        exit_code = await service.wait_exit(within=90)
    print(f"{unfinished} of {IN_FLIGHT} unfinished at SIGTERM; exit {time.monotonic() - signalled:.2f} s after it")
    return responses, exit_code


def stored_per_batch(refs: list[str]) -> dict[int, int]:
    counts = {n: 0 for n in range(IN_FLIGHT)}
    for ref in refs:
        counts[int(ref[1:].split("-")[0])] += 1
    return counts


async def test_sigterm_lets_the_requests_in_flight_finish_and_store_everything(
    database_url_for_service: str, services: list[Service]
):
    service, key = await started_service(services, database_url_for_service, env=SERVICE_ENV)

    responses, exit_code = await sigterm_with_batches_in_flight(service, key)

    assert [r.status_code if r else None for r in responses] == [201] * IN_FLIGHT, [r and r.text for r in responses]
    # uvicorn shuts down cleanly, then ends by the signal it caught, as a SIGTERMed process should.
    assert exit_code in (0, -signal.SIGTERM), service.log_tail()
    assert "Application shutdown complete" in service.log_tail(), service.log_tail()
    async with in_process_client(database_url_for_service, key) as client:
        stored = await stored_refs(client)
    assert sorted(stored) == sorted(f"b{n}-{i}" for n in range(IN_FLIGHT) for i in range(BATCH_ITEMS))


async def test_sigterm_past_the_grace_period_cuts_requests_off_whole(
    database_url_for_service: str, services: list[Service]
):
    """Requests still running when DECISION_LOG_SHUTDOWN_GRACE_SECONDS is up are cancelled: each
    batch is then stored whole or not at all, and every one acknowledged is stored."""
    service, key = await started_service(
        services, database_url_for_service, env={**SERVICE_ENV, "DECISION_LOG_SHUTDOWN_GRACE_SECONDS": "0"}
    )

    responses, _ = await sigterm_with_batches_in_flight(service, key)

    answered = [r for r in responses if r is not None]
    assert {r.status_code for r in answered} <= {201, 503}, [r.text[:200] for r in answered]
    for cut_off in (r for r in answered if r.status_code == 503):  # not the server's bare 500
        assert cut_off.headers["content-type"] == "application/problem+json"
        assert cut_off.headers["Retry-After"].isdigit()
    assert len([r for r in answered if r.status_code == 201]) < IN_FLIGHT, "the grace period cut no request off"
    async with in_process_client(database_url_for_service, key) as client:
        per_batch = stored_per_batch(await stored_refs(client))
    assert set(per_batch.values()) <= {0, BATCH_ITEMS}, per_batch  # whole or nothing
    for number, response in enumerate(responses):
        if response is not None and response.status_code == 201:
            assert per_batch[number] == BATCH_ITEMS


async def killed_under_load(service: Service, key: str, prefix: str) -> Load:
    """Writers posting to ``service`` until it is killed with SIGKILL while they wait for answers."""
    async with service.client(key, timeout=10) as client:
        load = Load(client, prefix=prefix)

        async def scenario() -> None:
            await asyncio.sleep(1.5)
            await load.mostly_in_flight()
            service.signal(signal.SIGKILL)

        await asyncio.wait_for(load.run_while(scenario), timeout=60)
    await service.wait_exit(within=10)
    return load


async def test_kill_9_under_load_loses_nothing_acknowledged_and_retries_duplicate_nothing(
    database_url_for_service: str, services: list[Service]
):
    service, key = await started_service(services, database_url_for_service)
    attempts: list[Attempt] = []
    writers = 0
    # A request counts as in flight from just before it is sent until its answer is read, so an answer may
    # already sit in the client's socket when the kill lands: kill again until one went unanswered.
    for round_number in range(KILL_ROUNDS):
        if round_number:
            service = Service(database_url_for_service)
            services.append(service)
            await service.start()
        load = await killed_under_load(service, key, prefix=f"k{round_number}")
        attempts += load.attempts
        writers += load.writers
        if not all(a.acknowledged for a in load.attempts):
            break
    acknowledged = {a.key for a in attempts if a.acknowledged}
    assert len(acknowledged) >= 8, "the load did not get going before the kill"
    assert all(a.acknowledged or a.status is None for a in attempts), [a.error for a in attempts if a.error][:3]
    assert len(attempts) > len(acknowledged), f"every request was answered in {KILL_ROUNDS} kills"

    restarted = Service(database_url_for_service)
    services.append(restarted)
    await restarted.start()
    async with restarted.client(key) as client:
        stored = await stored_refs(client)
        assert acknowledged <= set(stored), "an acknowledged decision was lost"
        assert len(stored) == len(set(stored))
        assert len(set(stored) - acknowledged) <= writers  # at most the requests in flight at each kill

        retried = await retry_unacknowledged(client, attempts)
        assert [r.status_code for r in retried] == [201] * len(retried), [r.text for r in retried]
        replayed = sum(r.headers.get("Idempotent-Replayed") == "true" for r in retried)
        assert replayed == len(set(stored) - acknowledged)  # stored without an answer: replayed, not redone
        stored = await stored_refs(client)
    print(f"{len(attempts)} requests, {len(attempts) - len(acknowledged)} unanswered at the kill, {replayed} replayed")
    assert sorted(stored) == sorted(a.key for a in attempts)
