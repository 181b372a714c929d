"""``digest.weekly``: every Monday at ``DECISION_LOG_DIGEST_HOUR`` on the team's clock (``DECISION_LOG_TIMEZONE``),
the digest of the week before is written as an event (webhooks deliver it) and e-mailed to the people who asked.

Every process looks every ``DECISION_LOG_DIGEST_CHECK_INTERVAL_SECONDS`` (``serve``'s background task,
``decision-log send-digest``). Once per week whatever happens: the week's ``digest_run`` row and its event commit
together, one process at a time (a PostgreSQL advisory lock, SQLite's single writer), and the row's primary key
refuses a second. Never missed: each look finds the latest week due, not a moment, so a process started after
Monday's hour sends it then. The e-mails go after the commit, by whichever process claims the run (a lease); the
addresses sent to are recorded, so a failed send is tried again at the next look for the others only.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson

from app.analytics import zones
from app.core.dialect import try_advisory_lock
from app.core.http import exact_json
from app.core.types import utcnow
from app.core.unit_of_work import Database, transaction
from app.digest import mailer, repository, service
from app.digest.schemas import Digest, DigestPeriod
from app.events import repository as event_repository
from app.events import service as events
from app.events.schemas import EventType

logger = logging.getLogger("app.digest")

DIGEST_LOCK = 0x44494745  # 'DIGE': the advisory lock key of the weekly digest
MAIL_LEASE = timedelta(minutes=10)  # how long a process e-mailing a run holds it


def due_week(now: datetime, tz: str, hour: int) -> date:
    """The Monday of the latest week whose digest is due by ``now``: the week before the latest Monday whose
    ``hour`` has come on ``tz``'s clock."""
    local = now.astimezone(zones.zone(tz))
    monday = local.date() - timedelta(days=local.weekday())
    if local < datetime.combine(monday, time(hour), tzinfo=zones.zone(tz)):
        monday -= timedelta(days=7)
    return monday - timedelta(days=7)


@dataclass(frozen=True, slots=True)
class WeeklyResult:
    week: date
    written: bool  # this call wrote the week's event (False: it existed, or another process was writing)
    mailed: list[str]  # the addresses this call sent the digest to
    error: str | None = None  # why some e-mails were not sent (tried again next time)


async def run_once(database: Database, *, now: datetime | None = None) -> WeeklyResult:
    """Write the due week's digest event unless written, then e-mail every run not fully e-mailed."""
    now = now or utcnow()
    settings = database.settings
    week = due_week(now, settings.timezone, settings.digest_hour)
    written = await _write(database, week, now)
    mailed: list[str] = []
    error = None
    async with transaction(database, writes=False) as session:
        pending = [row.period_start for row in await repository.runs_to_mail(session)]
    for period_start in pending:
        sent, failed = await _mail(database, period_start, now)
        mailed += sent
        error = error or failed
    return WeeklyResult(week, written, mailed, error)


async def _write(database: Database, week: date, now: datetime) -> bool:
    # A week already written is seen without the write lock (SQLite has one for the whole database): each process
    # looks every few minutes, and only the first look of a week needs to write.
    async with transaction(database, writes=False) as session:
        if await repository.run_exists(session, week.isoformat()):
            return False
    limit = database.settings.statement_timeout_seconds + 1
    async with transaction(database, writes=True, wait_limit=limit) as session:
        if not await try_advisory_lock(session, DIGEST_LOCK) or await repository.run_exists(session, week.isoformat()):
            return False
        result = await service.digest(session, period=DigestPeriod.week, at=week, tz=database.settings.timezone)
        data: dict[str, Any] = orjson.loads(exact_json(result))
        [event] = events.rows([events.NewEvent(EventType.digest_weekly, f"digest/{week.isoformat()}", data)], now)
        run = {
            "period_start": week.isoformat(),
            "tz": result.tz,
            "event_id": event["id"],
            "created_at": now,
            "mailed_to": [],
            "mail_attempts": 0,
        }
        if not await repository.insert_run(session, run):
            return False
        await event_repository.insert_events(session, [event])
        return True


async def _mail(database: Database, period_start: str, now: datetime) -> tuple[list[str], str | None]:
    """E-mail one run's digest to those not sent it yet, when this process can claim the run."""
    settings = database.settings
    async with transaction(database, writes=True) as session:
        if not await repository.claim_mail(session, period_start, now, now + MAIL_LEASE):
            return [], None
        run = await repository.run(session, period_start)
        recipients = [r for r in await repository.recipients(session) if r not in run.mailed_to]
        data = await repository.event_data(session, run.event_id)
        digest = (
            Digest.model_validate(data)
            if data is not None
            else await service.digest(session, period=DigestPeriod.week, at=date.fromisoformat(period_start), tz=run.tz)
        )
    outcome = mailer.Outcome([], None)
    if settings.smtp_url is None:
        outcome = mailer.Outcome([], "DECISION_LOG_SMTP_URL is not set: the digest is not e-mailed")
    elif recipients:
        letter = mailer.Letter(service.title(digest), service.markdown(digest), service.html(digest))
        outcome = await asyncio.to_thread(
            mailer.send,
            settings.smtp_url.get_secret_value(),
            settings.smtp_from,
            recipients,
            letter,
            timeout=settings.smtp_timeout_seconds,
        )
    unset = settings.smtp_url is None
    async with transaction(database, writes=True) as session:
        await repository.mailed(session, period_start, [*run.mailed_to, *outcome.sent])
        done = outcome.error is None or unset
        await repository.finish_mail(session, period_start, at=utcnow() if done else None, error=outcome.error)
    if outcome.error is not None and not unset:
        logger.warning("digest of %s: e-mail failed, tried again next time: %s", period_start, outcome.error)
    return outcome.sent, None if unset else outcome.error


async def run(database: Database, interval: float) -> None:
    """Look every ``interval`` seconds until cancelled; a failed round is logged and tried again."""
    while True:
        try:
            result = await run_once(database)
            if result.written:
                logger.info("digest.weekly written for the week of %s", result.week)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database or the mail server may be away: try again next round
            logger.warning("weekly digest failed: %s", type(error).__name__)
        await asyncio.sleep(interval)
