"""``decision.review_due``: fired once per decision whose ``expected_outcome.review_by`` has passed with no
review, by a periodic scan.

Every process runs the scan (``serve``'s background task, ``decision-log scan-reviews``); one scans at a time:
a PostgreSQL advisory lock (a process that finds it taken skips the round), SQLite's single writer. Once per
decision whatever happens: the ``review_due`` row and the event commit together, and its primary key refuses a
second. Never missed: the scan looks at every decision due and not yet fired, not at a time window, so decisions
that fell due while no process ran (or were written already past due) are found by the next scan.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from app.core.dialect import try_advisory_lock
from app.core.types import format_utc, utcnow
from app.core.unit_of_work import Database, transaction
from app.decisions.service import to_read
from app.events import repository, service
from app.events.schemas import EventType
from app.integrity.service import decision_entity

logger = logging.getLogger("app.events")

SCAN_LOCK = 0x52455644  # 'REVD': the advisory lock key of the review scan
BATCH = 500  # decisions per scanning transaction


async def scan(database: Database, *, now: datetime | None = None) -> int | None:
    """Fire ``decision.review_due`` for every decision due by ``now`` (default: now): the number fired, None when
    another process was scanning."""
    fired = 0
    while True:
        found = await _scan_batch(database, now or utcnow())
        if found is None:
            return None if fired == 0 else fired
        fired += found[0]
        if found[1] < BATCH:
            return fired


async def _scan_batch(database: Database, now: datetime) -> tuple[int, int] | None:
    """One transaction's worth: (fired, looked at), None when another process holds the scan."""
    limit = database.settings.statement_timeout_seconds + 1
    async with transaction(database, writes=True, wait_limit=limit) as session:
        if not await try_advisory_lock(session, SCAN_LOCK):
            return None
        due = await repository.due_for_review(session, now, BATCH)
        if not due:
            return 0, 0
        events = {row.id: service.rows([_event(row)], now)[0] for row in due}
        claimed = await repository.claim_reviews_due(
            session,
            [
                {"decision_id": row.id, "event_id": events[row.id]["id"], "review_by": row.review_by, "fired_at": now}
                for row in due
            ],
        )
        await repository.insert_events(session, [events[decision_id] for decision_id in claimed])
        return len(claimed), len(due)


def _event(row: Any) -> service.NewEvent:
    decision = to_read(row)
    return service.NewEvent(
        EventType.decision_review_due,
        decision_entity(decision.id),
        {"decision": decision.model_dump(mode="json"), "owner": decision.owner, "review_by": format_utc(row.review_by)},
        once_key=f"decision.review_due:{decision.id}",
    )


async def run(database: Database, interval: float) -> None:
    """Scan every ``interval`` seconds until cancelled; a failed round is logged and retried."""
    while True:
        try:
            fired = await scan(database)
            if fired:
                logger.info("decision.review_due fired for %d decision(s)", fired)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database may be away: try again next round
            logger.warning("review scan failed: %s", error)
        await asyncio.sleep(interval)
