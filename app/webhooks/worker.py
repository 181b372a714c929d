"""``decision-log dispatch``: a process that delivers webhooks without serving HTTP.

It runs the dispatcher, and the periodic jobs that make signals (the review scan, the weekly digest, each at its
own interval, 0 leaving it to other processes), until SIGTERM or SIGINT; then the attempts in flight finish and
are recorded. Beside web workers started with ``DECISION_LOG_WEBHOOK_DISPATCH=separate`` the deliveries' CPU is
this process's, not the requests'. Run as many as wanted, on any host of one PostgreSQL (claims skip what another
has locked; fan-out, scan and digest take turns by advisory locks) or beside SQLite on its machine (one writer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from app.core.config import Settings
from app.core.migrations import current_revision, head_revision
from app.core.unit_of_work import Database
from app.digest import weekly
from app.events import reviews
from app.webhooks.dispatcher import Dispatcher

logger = logging.getLogger("app.webhooks")


class NotReady(RuntimeError):
    """The database cannot be dispatched from (unreachable, or not at the latest migration)."""


async def _check_schema(database: Database) -> None:
    try:
        revision = await current_revision(database.engine)
    except Exception as error:
        raise NotReady(f"the database is not reachable: {type(error).__name__}") from None
    if revision != head_revision():
        raise NotReady(
            f"the database schema is at {revision}, not at {head_revision()}: run `decision-log migrate` (or start "
            "`decision-log serve`, which migrates) first"
        )


async def run(settings: Settings) -> None:
    """Dispatch until SIGTERM or SIGINT. :class:`NotReady` when the database is not at the latest migration."""
    database = Database(settings)
    dispatcher = Dispatcher(database)
    try:
        await _check_schema(database)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        interval = settings.webhook_poll_interval_seconds
        dispatching = asyncio.create_task(dispatcher.run(interval), name="webhook-dispatcher")
        others = []
        if settings.review_scan_interval_seconds > 0:
            others.append(asyncio.create_task(reviews.run(database, settings.review_scan_interval_seconds)))
        if settings.digest_check_interval_seconds > 0:
            others.append(asyncio.create_task(weekly.run(database, settings.digest_check_interval_seconds)))
        logger.info(
            "dispatching webhooks every %g s, %d attempts in flight at most",
            interval,
            settings.webhook_max_concurrency,
        )
        await stop.wait()
        logger.info("stopping: the attempts in flight finish and are recorded")
        await dispatcher.stop(dispatching, settings.webhook_timeout_seconds + 5)
        for task in [dispatching, *others]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await dispatcher.close()
        await database.dispose()
