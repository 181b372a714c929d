"""The dispatcher: fans the event feed out into each subscription's messages and delivers them, at least once.

It runs in ``serve``'s processes (a background task, ``DECISION_LOG_WEBHOOK_DISPATCH=in-process``) or in processes
of its own, ``decision-log dispatch``, as many as wanted, beside web workers that then dispatch nothing
(``separate``). Fan-out runs in one process at a time (an advisory lock; SQLite's single writer) and reads the feed
in commit order, each subscription from where it stopped. Delivery: due messages are claimed a batch at a time by
one statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so processes share the work without sending one twice;
SQLite's one writer) that leases them until their attempts' time is up; a process killed mid-attempt leaves them
due again when the lease ends, so nothing is lost (a receiver may then see a message twice: at least once, the
same ``webhook-id``). Attempts run outside any transaction, at most ``DECISION_LOG_WEBHOOK_MAX_CONCURRENCY`` at a
time, each bounded by ``DECISION_LOG_WEBHOOK_TIMEOUT_SECONDS``, over kept-alive connections (a pool per target
address): a slow receiver never holds a database connection and never slows a write. A batch's results are
recorded, and the next batch claimed, in one transaction of a few statements, whatever the batch's size.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson

from app.core import observability
from app.core.dialect import try_advisory_lock
from app.core.types import AnyRow, new_id, utcnow
from app.core.unit_of_work import Database, transaction
from app.webhooks import crypto, formats, guard, repository, service
from app.webhooks.errors import TargetRefused

logger = logging.getLogger("app.webhooks")

FAN_OUT_LOCK = 0x57484F4B  # 'WHOK': the advisory lock key of the fan-out
FAN_OUT_BATCH = 1000
USER_AGENT = "decision-log-webhooks/1"
# A claimed message is leased for twice the attempt's timeout and this: past it, a message whose process died
# mid-attempt is due again.
LEASE_MARGIN_SECONDS = 5.0
# Messages claimed at once: this many times the concurrency (their attempts then recorded in one transaction).
CLAIM_WAVES = 4
# HTTP clients (each a pool of kept-alive connections to one target address) kept open at most.
MAX_CLIENTS = 64


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: float
    # Nothing was sent and sending again would not help (the message's body could not be made): the delivery is
    # failed at once, without counting against the receiver's health.
    final: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class Hook:
    """What a batch's attempts need of their subscription, worked out once per batch: where its URL's host
    resolves now, checked (or why it is refused), and its secret decrypted."""

    url: str
    format: str
    secret: str = field(repr=False)
    target: guard.Target | None
    refused: str | None


class Dispatcher:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.settings = database.settings
        self.slots = asyncio.Semaphore(self.settings.webhook_max_concurrency)
        self.wake = asyncio.Event()
        self.stopping = False
        # One HTTP client (a pool of kept-alive connections) per target address, the least recently used closed
        # past MAX_CLIENTS: each delivery reuses a connection to its receiver rather than opening one.
        self.clients: OrderedDict[tuple[str, str, int, str], httpx.AsyncClient] = OrderedDict()

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()

    def client(self, target: guard.Target) -> httpx.AsyncClient:
        key = (target.scheme, target.address, target.port, target.host)
        client = self.clients.get(key)
        if client is None:
            concurrency = self.settings.webhook_max_concurrency
            client = self.clients[key] = httpx.AsyncClient(
                timeout=httpx.Timeout(self.settings.webhook_timeout_seconds),
                limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
                follow_redirects=False,
                trust_env=False,
                headers={"User-Agent": USER_AGENT},
            )
        self.clients.move_to_end(key)
        return client

    async def _close_unused_clients(self) -> None:
        """Past MAX_CLIENTS, close the least recently used (between batches: none of them has a request in
        flight)."""
        while len(self.clients) > MAX_CLIENTS:
            _, client = self.clients.popitem(last=False)
            await client.aclose()

    async def stop(self, task: asyncio.Task[None], grace: float) -> None:
        """Let the attempts in flight finish and be recorded (up to ``grace`` seconds), then end ``task``: a
        shutdown then leaves no attempt unrecorded and no transaction cut short."""
        self.stopping = True
        self.wake.set()
        await asyncio.wait({task}, timeout=grace)

    async def run(self, interval: float) -> None:
        """Rounds every ``interval`` seconds (sooner when woken) until stopped; a failed round is retried."""
        while not self.stopping:
            self.wake.clear()  # before the round: a wake-up during it (a test send, a stop) is not lost
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database may be away: try again next round
                logger.warning("webhook dispatch round failed: %s", error)
            if self.stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), interval)

    async def round(self) -> int:
        """Fan out new events, then attempt every message due, again while fanning out finds new events (a busy
        service's events are sent as they come, not once per interval): the number of attempts made. Without an
        enabled subscription a round is one read (no write transaction to compete with the service's writes)."""
        async with transaction(self.database, writes=False) as session:
            pending, oldest = await repository.backlog(session)
            observability.WEBHOOK_PENDING.set(pending)
            observability.WEBHOOK_OLDEST_PENDING.set((utcnow() - oldest).total_seconds() if oldest else 0)
            if not await repository.any_enabled(session):
                return 0
        attempts = 0
        while not self.stopping:
            made = await self.fan_out()
            attempts += await self.deliver()
            if made == 0:
                return attempts
        return attempts

    async def deliver(self) -> int:
        """Attempt every message due, a batch at a time: each batch's results recorded and the next batch claimed
        in one transaction. The number of attempts made."""
        attempts = 0
        claimed, hooks = await self._record_and_claim(None)
        while claimed:
            prepared = await self._prepare(hooks)
            outcomes = await asyncio.gather(
                *(self._attempt_within_slots(row, prepared[row.webhook_id]) for row in claimed)
            )
            attempts += len(claimed)
            claimed, hooks = await self._record_and_claim((claimed, outcomes))
        return attempts

    async def fan_out(self) -> int:
        """Turn the feed's new events into messages of the subscriptions that want them."""
        made = 0
        limit = self.settings.statement_timeout_seconds + 1
        async with transaction(self.database, writes=True, wait_limit=limit) as session:
            if not await try_advisory_lock(session, FAN_OUT_LOCK):
                return 0
            now = utcnow()
            for hook in await repository.enabled_webhooks(session):
                place = (hook.feed_txid, hook.feed_position)
                found = await repository.events_after(session, place, repository.subscribed(hook.events), FAN_OUT_BATCH)
                if not found:
                    continue
                await repository.insert_messages(
                    session,
                    [
                        {
                            "id": new_id(),
                            "webhook_id": hook.id,
                            "event_id": e.id,
                            "event_type": e.type,
                            "payload": service.payload(e.id, e.type, e.occurred_at, e.subject, e.data),
                            "state": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                        for e in found
                    ],
                )
                last = found[-1]
                await repository.update_webhook(
                    session, hook.id, {"feed_txid": last.txid, "feed_position": last.position}
                )
                made += len(found)
        return made

    async def _record_and_claim(
        self, done: tuple[list[AnyRow], list[Outcome]] | None
    ) -> tuple[list[AnyRow], dict[Any, AnyRow]]:
        """Record the batch ``done`` (its attempts in the delivery log, its messages' next state, its subscriptions'
        health), then, unless stopping, claim the next batch: one transaction."""
        now = utcnow()
        # A batch of CLAIM_WAVES times the concurrency, leased until its attempts' time is surely up (each wave of
        # attempts within the timeout, twice over): then, if this process died, another takes the messages.
        concurrency = self.settings.webhook_max_concurrency
        lease = now + timedelta(seconds=self.settings.webhook_timeout_seconds * CLAIM_WAVES * 2 + LEASE_MARGIN_SECONDS)
        limit = self.settings.statement_timeout_seconds + 1
        async with transaction(self.database, writes=True, wait_limit=limit) as session:
            if done is not None:
                await self._record(session, *done, now)
            if self.stopping:
                return [], {}
            return await repository.claim_due(session, now, concurrency * CLAIM_WAVES, lease)

    async def _prepare(self, hooks: dict[Any, AnyRow]) -> dict[Any, Hook]:
        """Each subscription of a batch once: its host resolved and checked now (a name that resolved to a public
        address when the subscription was saved and to a private one now is refused), its secret decrypted."""
        await self._close_unused_clients()
        allow = self.settings.webhook_allow_private_targets
        timeout = self.settings.webhook_timeout_seconds
        prepared = {}
        for webhook_id, row in hooks.items():
            target, refused = None, None
            try:
                target = await asyncio.wait_for(guard.resolve(row.url, allow_private=allow), timeout)
            except TargetRefused as why:
                refused = f"refused: {why}"
            except TimeoutError:
                refused = f"its host did not resolve within {timeout:g} s"
            secret = crypto.unseal(self.settings, row.secret_encrypted)
            prepared[webhook_id] = Hook(row.url, row.format, secret, target, refused)
        return prepared

    async def _attempt_within_slots(self, row: AnyRow, hook: Hook) -> Outcome:
        """The attempt's outcome, whatever happens to it: one message whose body cannot be made (or whose attempt
        fails unexpectedly) is recorded as failed with the reason, and the batch's other messages go on."""
        async with self.slots:
            try:
                return await self.attempt(row, hook)
            except Exception as error:
                logger.exception("webhook message %s could not be sent", row.id)
                return Outcome(None, f"not sent: {type(error).__name__}: {error}"[:500], 0.0, final=True)

    async def attempt(self, row: AnyRow, hook: Hook) -> Outcome:
        """POST the message once, to the address its subscription's host resolved to for this batch, checked."""
        started = time.perf_counter()

        def done(status_code: int | None, error: str | None) -> Outcome:
            return Outcome(status_code, error, round((time.perf_counter() - started) * 1000, 3))

        if hook.target is None:
            return done(None, hook.refused)
        target = hook.target
        body_json = formats.slack(row.payload) if hook.format == "slack" else row.payload
        body = orjson.dumps(body_json)
        timestamp = int(time.time())
        message_id = str(row.event_id)
        url = httpx.URL(hook.url)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": crypto.signature(hook.secret, message_id, timestamp, body),
            "Host": url.netloc.decode("ascii"),
        }
        pinned = url.copy_with(host=target.address)
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            response = await self.client(target).post(pinned, content=body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            return done(None, f"no answer within {self.settings.webhook_timeout_seconds:g} s")
        except httpx.HTTPError as error:
            return done(None, f"{type(error).__name__}: {error}"[:500])
        return done(response.status_code, None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}")

    async def _record(self, session: Any, rows: list[AnyRow], outcomes: list[Outcome], now: datetime) -> None:
        """A batch's attempts in the delivery log and their messages' next state (a statement for each, not one
        per message), and their subscriptions' health."""
        schedule = self.settings.webhook_retry_schedule
        attempts = []
        states: dict[tuple[str, datetime | None], list[Any]] = {}
        health: dict[Any, Outcome] = {}
        for row, outcome in zip(rows, outcomes, strict=True):
            number = row.attempts + 1
            next_at = None
            if outcome.delivered:
                state = "delivered"
            elif outcome.final:
                state = "failed"
            elif number - 1 < len(schedule):
                state, next_at = "pending", now + timedelta(seconds=schedule[number - 1])
            else:
                state = "failed"
            observability.series(observability.WEBHOOK_ATTEMPTS, "retrying" if state == "pending" else state).inc()
            attempts.append(
                {
                    "id": new_id(),
                    "webhook_id": row.webhook_id,
                    "message_id": row.id,
                    "event_id": row.event_id,
                    "attempt": number,
                    "status_code": outcome.status_code,
                    "error": outcome.error,
                    "duration_ms": outcome.duration_ms,
                    "attempted_at": now,
                    "next_attempt_at": next_at,
                }
            )
            states.setdefault((state, next_at), []).append(row.id)
            if outcome.final:  # the message's fault, not the receiver's
                continue
            # A subscription that took any message of the batch is healthy; else its last failure speaks for it.
            if not health.get(row.webhook_id, outcome).delivered or outcome.delivered:
                health[row.webhook_id] = outcome
        await repository.record_attempts(session, attempts, states)
        healthy = [webhook_id for webhook_id, outcome in health.items() if outcome.delivered]
        if healthy:
            await repository.clear_failing(session, healthy)
        for webhook_id, outcome in health.items():
            if not outcome.delivered:
                await self._failing(session, webhook_id, outcome, now)

    async def _failing(self, session: Any, webhook_id: Any, outcome: Outcome, now: datetime) -> None:
        """A failure starts the subscription's failing streak, or, once it has lasted
        ``DECISION_LOG_WEBHOOK_DISABLE_AFTER_DAYS``, disables the subscription with the reason."""
        hook = await repository.get(session, webhook_id, for_update=True)
        if hook is None:
            return
        if hook.failing_since is None:
            await repository.update_webhook(session, webhook_id, {"failing_since": now})
            return
        days = self.settings.webhook_disable_after_days
        if hook.enabled and now - hook.failing_since >= timedelta(days=days):
            reason = (
                f"Disabled at {now:%Y-%m-%d %H:%M} UTC: every delivery attempt failed for {days:g} days "
                f"(since {hook.failing_since:%Y-%m-%d %H:%M} UTC); the last: {outcome.error}. Fix the receiver, "
                "then enable the webhook again (PATCH enabled=true): the deliveries it missed follow."
            )
            await repository.update_webhook(
                session, webhook_id, {"enabled": False, "disabled_reason": reason, "updated_at": now}
            )
            logger.warning("webhook %s disabled: %s", webhook_id, reason)
