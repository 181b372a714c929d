"""PostgreSQL stopped, frozen or restarted under the running service: prompt 503s, no hang, no
500, recovery without a restart, and nothing acknowledged lost or retried into a duplicate."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests import factories
from tests.faults.cluster import PrivateCluster
from tests.faults.service import Attempt, Load, Service, retry_unacknowledged, stored_refs, write_key

pytestmark = pytest.mark.postgres_only

# Long enough for a writer to meet the outage at least twice (a wait is bounded by 2 s), and not a
# multiple of 2 s, so requests do not happen to end just as the database comes back.
OUTAGE_SECONDS = 5.5
# Every answer, during the outage too, comes within this (DECISION_LOG_QUERY_TIMEOUT_SECONDS,
# POOL_TIMEOUT and CONNECT_TIMEOUT are 2 s by default).
ANSWER_WITHIN = 3.0
RECOVERY_WITHIN = 5.0


async def started_service(services: list[Service], database_url: str) -> tuple[Service, str]:
    key = await write_key(database_url)
    service = Service(database_url)
    services.append(service)
    await service.start()
    async with service.client(key) as client:
        await factories.basics(client)
    return service, key


async def timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


async def assert_probes_during_outage(client: httpx.AsyncClient) -> None:
    live, live_seconds = await timed(client.get("/healthz"))
    ready, ready_seconds = await timed(client.get("/readyz"))
    assert live.status_code == 200 and live_seconds < 1.0, (live.status_code, live_seconds)
    assert ready.status_code == 503, ready.text
    assert ready.headers["Retry-After"].isdigit()
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready_seconds <= ANSWER_WITHIN, ready_seconds
    # A streamed export answers 503 too, before it starts: never a 200 cut off mid-stream.
    export, export_seconds = await timed(client.get("/v1/exports/decisions"))
    assert export.status_code == 503, export.text
    assert export.headers["Retry-After"].isdigit()
    assert export.headers["content-type"] == "application/problem+json"
    assert export_seconds <= ANSWER_WITHIN, export_seconds


async def wait_until_ready(client: httpx.AsyncClient, since: float) -> float:
    """Seconds from ``since`` until /readyz says 200 and a write goes through."""
    while time.monotonic() - since < RECOVERY_WITHIN + 10:
        ready = await client.get("/readyz")
        if ready.status_code == 200:
            write = await client.post("/v1/decisions", json=factories.decision_body(title="After the outage"))
            if write.status_code == 201:
                return time.monotonic() - since
        await asyncio.sleep(0.1)
    raise AssertionError("the service did not recover")


async def run_outage(
    service: Service, key: str, *, take_down: Callable[[], None], bring_back: Callable[[], None]
) -> tuple[list[Attempt], float]:
    async with service.client(key) as client, service.client(key) as probe:
        # Idle connections in the pool too, not only the four the writers keep busy.
        warm = await asyncio.gather(*(client.get("/v1/decisions") for _ in range(12)))
        assert {r.status_code for r in warm} == {200}
        load = Load(client, prefix="w")
        recovery: list[float] = []

        async def scenario() -> None:
            await asyncio.sleep(1.0)  # healthy load first
            down = time.monotonic()
            await asyncio.to_thread(take_down)
            await asyncio.sleep(0.3)
            await assert_probes_during_outage(probe)
            await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down)))
            await asyncio.to_thread(bring_back)
            recovery.append(await wait_until_ready(probe, time.monotonic()))
            await asyncio.sleep(1.0)  # healthy load after

        await asyncio.wait_for(load.run_while(scenario), timeout=90)
        return load.attempts, recovery[0]


async def assert_nothing_lost_or_duplicated(service: Service, key: str, attempts: list[Attempt]) -> None:
    async with service.client(key) as client:
        stored = await stored_refs(client)
        acknowledged = {a.key for a in attempts if a.acknowledged}
        assert acknowledged <= set(stored), "an acknowledged decision is missing"
        assert len(stored) == len(set(stored)), "a decision is stored twice"
        # Stored without acknowledgement: at most the requests in flight when the fault hit.
        assert len(set(stored) - acknowledged) <= 4

        retried = await retry_unacknowledged(client, attempts)
        refused = [r.text for r in retried if r.status_code != 201]
        assert [r.status_code for r in retried] == [201] * len(retried), refused

        stored = await stored_refs(client)
    assert sorted(stored) == sorted(a.key for a in attempts)


def summarize(attempts: list[Attempt]) -> dict[str, Any]:
    refused = [a for a in attempts if a.status == 503]
    return {
        "attempts": len(attempts),
        "acknowledged": sum(a.acknowledged for a in attempts),
        "503": len(refused),
        "slowest_503_s": round(max((a.elapsed for a in refused), default=0), 3),
        "slowest_s": round(max(a.elapsed for a in attempts), 3),
    }


def assert_prompt_answers(attempts: list[Attempt]) -> None:
    summary = summarize(attempts)
    print("answers:", summary)
    unanswered = [a for a in attempts if a.status is None]
    assert not unanswered, [a.error for a in unanswered[:5]]
    assert {a.status for a in attempts} <= {201, 503}, [(a.status, a.error) for a in attempts if a.status != 201][:5]
    refused = [a for a in attempts if a.status == 503]
    assert len(refused) >= 4, summary  # the writers saw the outage
    for attempt in refused:
        assert attempt.retry_after is not None and attempt.retry_after.isdigit(), attempt
        assert attempt.content_type == "application/problem+json", attempt
    assert summary["slowest_s"] <= ANSWER_WITHIN, summary


async def test_postgresql_stopped_under_load_gives_prompt_503s_then_recovers_losing_nothing(
    cluster: PrivateCluster, database_url_for_service: str, services: list[Service]
):
    service, key = await started_service(services, database_url_for_service)

    attempts, recovery = await run_outage(
        service, key, take_down=lambda: cluster.stop("fast"), bring_back=cluster.start
    )

    print(f"recovered {recovery:.2f} s after PostgreSQL was back")
    assert_prompt_answers(attempts)
    assert recovery <= RECOVERY_WITHIN
    await assert_nothing_lost_or_duplicated(service, key, attempts)


async def test_postgresql_frozen_under_load_gives_prompt_503s_then_recovers_losing_nothing(
    cluster: PrivateCluster, database_url_for_service: str, services: list[Service]
):
    """SIGSTOP: connections stay open and nothing answers, the hardest case for a client."""
    service, key = await started_service(services, database_url_for_service)

    try:
        attempts, recovery = await run_outage(service, key, take_down=cluster.pause, bring_back=cluster.resume)
    finally:
        cluster.resume()

    print(f"recovered {recovery:.2f} s after PostgreSQL was back")
    assert_prompt_answers(attempts)
    assert recovery <= RECOVERY_WITHIN
    await assert_nothing_lost_or_duplicated(service, key, attempts)


async def test_a_database_restart_while_idle_costs_no_request(
    cluster: PrivateCluster, database_url_for_service: str, services: list[Service]
):
    """Pooled connections the restart closed are replaced before use, not failed on."""
    service, key = await started_service(services, database_url_for_service)
    async with service.client(key) as client:
        await asyncio.gather(*(factories.decision(client) for _ in range(6)))  # several pooled connections

    await asyncio.to_thread(cluster.stop, "fast")
    await asyncio.to_thread(cluster.start)
    await asyncio.sleep(0.2)

    async with service.client(key) as client:  # a new client: the old one's connections may have idled out
        answers = [await client.post("/v1/decisions", json=factories.decision_body()) for _ in range(8)]
        answers += [await client.get("/v1/decisions")]
    assert [a.status_code for a in answers] == [201] * 8 + [200], [a.text for a in answers if a.status_code >= 300]


async def test_sigterm_while_postgresql_is_frozen_still_shuts_down(
    cluster: PrivateCluster, database_url_for_service: str, services: list[Service]
):
    """Closing the pool politely would wait forever for a frozen server's goodbye."""
    service, key = await started_service(services, database_url_for_service)
    async with service.client(key) as client:
        await asyncio.gather(*(factories.decision(client) for _ in range(6)))  # several pooled connections
    cluster.pause()
    try:
        signalled = time.monotonic()
        service.signal(signal.SIGTERM)
        exit_code = await service.wait_exit(within=15)
        took = time.monotonic() - signalled
    finally:
        cluster.resume()
    assert exit_code in (0, -signal.SIGTERM)
    assert took < 5, took
