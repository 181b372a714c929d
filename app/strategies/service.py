from datetime import datetime
from typing import Any, cast

from app.core.errors import UnknownReference, Unprocessable
from app.core.http import etag_of
from app.core.types import column_getter, format_utc, utcnow
from app.core.unit_of_work import DatabaseSession
from app.events import service as events
from app.events.schemas import EventType
from app.integrity import service as integrity
from app.people import repository as people
from app.strategies import repository
from app.strategies.errors import DuplicateStrategy, StrategyNotFound, StrategyVersionNotFound
from app.strategies.schemas import StrategyCreate, StrategyRead, StrategyVersionCreate, StrategyVersionRead


def etag(strategy: StrategyRead) -> str:
    """Changes with the record and with the version in force, the same whichever endpoint answers."""
    return etag_of(strategy.key, strategy.updated_at, strategy.current_version)


def version_etag(version: StrategyVersionRead) -> str:
    return etag_of(version.strategy, version.number)


def _strategy(row: Any) -> StrategyRead:
    return StrategyRead(
        key=row.key,
        title=row.title,
        description=row.description,
        current_version=row.current_version,
        versions=row.version_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _version(row: Any) -> StrategyVersionRead:
    return StrategyVersionRead(
        strategy=row.strategy_key,
        number=row.number,
        summary=row.summary,
        body=row.body,
        effective_from=row.effective_from,
        change_reason=row.change_reason,
        changed_by=row.changed_by,
        created_at=row.created_at,
    )


async def create_strategy(session: DatabaseSession, data: StrategyCreate) -> StrategyRead:
    now = utcnow()
    values = {
        "key": data.key,
        "title": data.title,
        "description": data.description,
        "version_count": 0,
        "latest_effective_from": None,
        "created_at": now,
        "updated_at": now,
    }
    if not await repository.insert(session, values):
        raise DuplicateStrategy(f"A strategy with key {data.key!r} already exists.")
    await integrity.record(
        session, integrity.LogItem("strategy.created", integrity.strategy_entity(data.key), logged_strategy(values))
    )
    created = StrategyRead(**values, current_version=None, versions=0)
    await events.emit(
        session,
        events.NewEvent(
            EventType.strategy_created,
            integrity.strategy_entity(data.key),
            {"strategy": created.model_dump(mode="json")},
        ),
    )
    return created


def logged_strategy(row: Any) -> dict[str, Any]:
    """What the tamper-evident log keeps of a strategy: its own fields, from the values written or a row read.
    Its versions are logged apart; its version count, latest ``effective_from`` and ``updated_at`` follow
    from them (verification recomputes them), and ``current_version`` from the time of asking."""
    get = column_getter(row)
    return {
        "key": get("key"),
        "title": get("title"),
        "description": get("description"),
        "created_at": format_utc(cast(datetime, get("created_at"))),
    }


async def get_strategy(session: DatabaseSession, key: str) -> StrategyRead:
    row = await repository.get(session, key, utcnow())
    if row is None:
        raise StrategyNotFound(f"No strategy with key {key!r}.")
    return _strategy(row)


async def list_strategies(
    session: DatabaseSession, *, limit: int, cursor: str | None
) -> tuple[list[StrategyRead], str | None]:
    rows, next_cursor = await repository.list_page(session, utcnow(), limit=limit, cursor=cursor)
    return [_strategy(row) for row in rows], next_cursor


async def add_version(session: DatabaseSession, key: str, data: StrategyVersionCreate) -> StrategyVersionRead:
    if data.changed_by is not None and not await people.teams_of(session, {data.changed_by}):
        raise UnknownReference.field(["body", "changed_by"], f"unknown person {data.changed_by!r}")
    number = await repository.claim_next_number(session, key, data.effective_from)
    if number is None:
        found, latest = await repository.latest_effective_from(session, key)
        if not found:
            raise StrategyNotFound(f"No strategy with key {key!r}.")
        assert latest is not None
        raise Unprocessable.field(
            ["body", "effective_from"],
            f"effective_from must not precede the previous version's ({format_utc(latest)})",
        )
    # The time is read once the claim holds the strategy's lock, so versions are in time order.
    now = utcnow()
    values = {
        "strategy_key": key,
        "number": number,
        "summary": data.summary,
        "body": data.body,
        "effective_from": data.effective_from,
        "change_reason": data.change_reason,
        "changed_by": data.changed_by,
        "created_at": now,
    }
    await repository.insert_version(session, values)
    version = StrategyVersionRead(strategy=key, **{k: v for k, v in values.items() if k != "strategy_key"})
    snapshot = version.model_dump(mode="json")
    entity = integrity.strategy_version_entity(key, number)
    await integrity.record(session, integrity.LogItem("strategy.version_added", entity, snapshot))
    await events.emit(
        session, events.NewEvent(EventType.strategy_version_added, entity, await _version_signal(session, version))
    )
    return version


async def _version_signal(session: DatabaseSession, version: StrategyVersionRead) -> dict[str, Any]:
    """What ``strategy.version_added`` says: the version; whether it is a change (every version after the first),
    and for a change whether it was explained (a reason that says something) and whether it leaves the strategy
    unstable (it came less than ``DECISION_LOG_STRATEGY_MIN_STABLE_DAYS`` after the previous version)."""
    days: float | None = None
    if version.number > 1:
        previous = await repository.get_version(session, version.strategy, version.number - 1)
        assert previous is not None
        days = (version.effective_from - previous.effective_from).total_seconds() / 86400
    min_days = session.settings.strategy_min_stable_days
    return {
        "strategy": version.strategy,
        "version": version.model_dump(mode="json"),
        "change": version.number > 1,
        "explained": version.number == 1 or events.explained(version.change_reason),
        "unstable": days is not None and days < min_days,
        "days_since_previous": days,
    }


async def _require_strategy(session: DatabaseSession, key: str) -> None:
    found, _ = await repository.latest_effective_from(session, key)
    if not found:
        raise StrategyNotFound(f"No strategy with key {key!r}.")


async def get_version(session: DatabaseSession, key: str, number: int) -> StrategyVersionRead:
    row = await repository.get_version(session, key, number)
    if row is None:
        await _require_strategy(session, key)
        raise StrategyVersionNotFound(f"Strategy {key!r} has no version {number}.")
    return _version(row)


async def list_versions(
    session: DatabaseSession, key: str, *, limit: int, cursor: str | None
) -> tuple[list[StrategyVersionRead], str | None]:
    await _require_strategy(session, key)
    rows, next_cursor = await repository.versions_page(session, key, limit=limit, cursor=cursor)
    return [_version(row) for row in rows], next_cursor
