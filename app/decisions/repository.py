"""SQL for decisions and their revisions. Hot paths use Core statements on the table."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.contractors.models import Contractor
from app.core.dialect import advisory_lock, contains_text, dialect_of, insert_or_nothing, json_array_contains
from app.core.driver import Driver, bind_converters, driver, insert_rows, row_arguments
from app.core.pagination import keyset_page
from app.core.types import AnyRow, UtcDateTime, table_of, utcnow
from app.core.unit_of_work import DatabaseSession
from app.decisions import contradictions
from app.decisions.models import Decision, DecisionRevision
from app.decisions.rationale_signals import SIGNAL_BITS, Signal
from app.events import repository as events_repository
from app.integrity import repository as integrity_repository
from app.kpis.models import Kpi
from app.people.models import Person
from app.sources.models import DataSource
from app.strategies.models import Strategy, StrategyVersion

decision = table_of(Decision)
revision = table_of(DecisionRevision)
person = table_of(Person)
data_source = table_of(DataSource)
kpi = table_of(Kpi)
strategy_table = table_of(Strategy)
strategy_version = table_of(StrategyVersion)
contractor = table_of(Contractor)


@dataclass(frozen=True, slots=True)
class ReferenceKeys:
    """The registry keys some writes name, by kind."""

    people: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    kpis: set[str] = field(default_factory=set)
    strategies: set[str] = field(default_factory=set)
    contractors: set[str] = field(default_factory=set)  # must exist and be active

    def arrays(self) -> list[list[str]]:
        """One sorted array per kind, in the order of the statements' parameters."""
        named = [self.people, self.sources, self.kpis, self.strategies, self.contractors]
        return [sorted(keys) for keys in named]


@dataclass(frozen=True, slots=True)
class References:
    teams: dict[str, str]  # handle → team, for the people that exist
    sources: set[str]  # data-source keys that exist
    kpis: dict[str, str | None]  # KPI key → its direction, for the KPIs that exist
    strategies: dict[str, list[tuple[datetime, int]]]  # strategy key → its versions' (effective_from, number)
    contractors: dict[str, bool] = field(default_factory=dict)  # contractor key → active, for those that exist

    @classmethod
    def from_rows(cls, rows: Sequence[Any]) -> References:
        """From the reference query's rows (``kind``, ``key``, ``detail``, ``at``; mappings or asyncpg records)."""
        versions: dict[str, list[tuple[datetime, int]]] = {r["key"]: [] for r in rows if r["kind"] == "st"}
        for r in rows:
            if r["kind"] == "sv":
                versions[r["key"]].append((r["at"], int(r["detail"])))
        return cls(
            teams={r["key"]: r["detail"] for r in rows if r["kind"] == "p"},
            sources={r["key"] for r in rows if r["kind"] == "s"},
            kpis={r["key"]: r["detail"] for r in rows if r["kind"] == "k"},
            strategies=versions,
            contractors={r["key"]: r["kind"] == "c" for r in rows if r["kind"] in ("c", "ci")},
        )

    @classmethod
    def none(cls) -> References:
        """Nothing found (nothing asked)."""
        return cls({}, set(), {}, {})

    def cover(self, keys: ReferenceKeys) -> bool:
        """Whether every one of ``keys`` was found."""
        return (
            keys.people <= self.teams.keys()
            and keys.sources <= self.sources
            and keys.kpis <= self.kpis.keys()
            and keys.strategies <= self.strategies.keys()
            and all(self.contractors.get(key, False) for key in keys.contractors)
        )

    def strategy_version_at(self, key: str, at: datetime) -> int | None:
        """The version of ``key`` in force at ``at``: the latest with effective_from ≤ at."""
        in_force = [number for effective_from, number in self.strategies.get(key, []) if effective_from <= at]
        return max(in_force, default=None)


@dataclass(frozen=True, slots=True)
class NewDecisions:
    """The rows of new decisions, in order: the decisions, their first revisions, their entries in the
    tamper-evident log (none when the log is off) and their ``decision.recorded`` events (the outbox's rows,
    :func:`app.events.service.rows`)."""

    decisions: list[dict[str, Any]]
    revisions: list[dict[str, Any]]
    entries: list[dict[str, Any]]
    events: list[dict[str, Any]]


class DecisionWriter(Protocol):
    """How new decisions are written, and the reads that go with them, on one engine: :class:`StatementWriter`
    (SQLAlchemy statements, any engine) or :class:`DriverWriter` (PostgreSQL, straight through asyncpg).
    :func:`writer_of` gives the one for a session's engine."""

    async def resolve_references(self, session: DatabaseSession, keys: ReferenceKeys) -> References:
        """Which of these people, data sources, KPIs and strategies exist, with each strategy's versions: one
        round trip for all of them, however many decisions they come from."""
        ...

    async def insert_decisions(
        self, session: DatabaseSession, new: NewDecisions, *, named: ReferenceKeys | None = None
    ) -> set[uuid.UUID] | None:
        """Insert new decisions with their first revisions and log entries; returns the ids written. A decision
        whose external reference is already taken is not written: its id is missing from the answer, and then no
        history is written at all (the caller refuses the request, and its transaction rolls back). With
        ``named``, the registry keys the decisions name that were not checked yet: when one of them does not
        exist, nothing at all is written, and the answer is None."""
        ...

    async def ids_by_external_ref(
        self, session: DatabaseSession, refs: list[tuple[str, str]]
    ) -> dict[tuple[str, str], uuid.UUID]:
        """The decisions already holding these external references."""
        ...

    async def contradicting(self, session: DatabaseSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        """The decisions each of these (just written) contradicts (:mod:`app.decisions.contradictions`)."""
        ...

    async def insert_events(self, session: DatabaseSession, rows: list[dict[str, Any]]) -> None:
        """Insert outbox rows (:func:`app.events.service.rows`) in the write's transaction."""
        ...


class StatementWriter:
    """:class:`DecisionWriter` through SQLAlchemy statements: the reference query, then one statement per table."""

    async def resolve_references(self, session: DatabaseSession, keys: ReferenceKeys) -> References:
        wanted = {
            "people": keys.people,
            "sources": keys.sources,
            "kpis": keys.kpis,
            "strategies": keys.strategies,
            "contractors": keys.contractors,
        }
        present = frozenset(name for name, named in wanted.items() if named)
        if not present:
            return References.none()
        params = {name: sorted(wanted[name]) for name in present}
        return References.from_rows((await session.execute(_reference_statement(present), params)).mappings().all())

    async def insert_decisions(
        self, session: DatabaseSession, new: NewDecisions, *, named: ReferenceKeys | None = None
    ) -> set[uuid.UUID] | None:
        if named is not None and not (await self.resolve_references(session, named)).cover(named):
            return None
        statement = insert_or_nothing(session.dialect, decision, decision.c.id)
        written = set((await session.execute(statement, new.decisions)).scalars())
        if len(written) == len(new.decisions):
            await session.execute(revision.insert(), new.revisions)
            if new.entries:
                await integrity_repository.insert_entries(session, new.entries)
            await events_repository.insert_events(session, new.events)
        return written

    async def ids_by_external_ref(
        self, session: DatabaseSession, refs: list[tuple[str, str]]
    ) -> dict[tuple[str, str], uuid.UUID]:
        statement = select(decision.c.external_system, decision.c.external_id, decision.c.id).where(
            tuple_(decision.c.external_system, decision.c.external_id).in_(refs)
        )
        return {
            (r["external_system"], r["external_id"]): r["id"] for r in (await session.execute(statement)).mappings()
        }

    async def contradicting(self, session: DatabaseSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        return await contradictions.contradicting(session, ids)

    async def insert_events(self, session: DatabaseSession, rows: list[dict[str, Any]]) -> None:
        await events_repository.insert_events(session, rows)


class DriverWriter:
    """:class:`DecisionWriter` on PostgreSQL, straight through asyncpg (:mod:`app.core.driver`) in the unit of
    work's transaction: the insert is one statement however many decisions, the check of ``named`` included (a
    data-modifying CTE over one decision's values, or over one array per column for a batch)."""

    async def resolve_references(self, session: DatabaseSession, keys: ReferenceKeys) -> References:
        if not (keys.people or keys.sources or keys.kpis or keys.strategies or keys.contractors):
            return References.none()
        return References.from_rows(await (await _driver(session)).fetch(REFERENCES_SQL, *keys.arrays()))

    async def insert_decisions(
        self, session: DatabaseSession, new: NewDecisions, *, named: ReferenceKeys | None = None
    ) -> set[uuid.UUID] | None:
        decision_columns, revision_columns = tuple(new.decisions[0]), tuple(new.revisions[0])
        entry_columns = tuple(new.entries[0]) if new.entries else ()
        event_columns = tuple(new.events[0])
        many = len(new.decisions) > 1
        sql = _create_sql(decision_columns, revision_columns, entry_columns, event_columns, many=many)
        args = [
            len(new.decisions),
            *row_arguments(new.decisions, decision_columns, DECISION_BINDS, many=many),
            *row_arguments(new.revisions, revision_columns, REVISION_BINDS, many=many),
            *row_arguments(new.entries, entry_columns, {}, many=many),
            *row_arguments(new.events, event_columns, EVENT_BINDS, many=many),
            *(named or ReferenceKeys()).arrays(),
        ]
        records = await (await _driver(session)).fetch(sql, *args)
        if not records[0]["known"]:
            return None
        return {record["id"] for record in records if record["id"] is not None}

    async def ids_by_external_ref(
        self, session: DatabaseSession, refs: list[tuple[str, str]]
    ) -> dict[tuple[str, str], uuid.UUID]:
        """Through the driver, like the insert that found them taken."""
        systems, ids = [system for system, _ in refs], [external_id for _, external_id in refs]
        rows = await (await _driver(session)).fetch(EXTERNAL_REFS_SQL, systems, ids)
        return {(r["external_system"], r["external_id"]): r["id"] for r in rows}

    async def contradicting(self, session: DatabaseSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        rows = await (await _driver(session)).fetch(contradictions.CONTRADICTING_SQL, ids)
        return contradictions.grouped(rows)

    async def insert_events(self, session: DatabaseSession, rows: list[dict[str, Any]]) -> None:
        if rows:
            args = row_arguments(rows, EVENT_COLUMNS, EVENT_BINDS, many=True)
            await (await _driver(session)).fetch(EVENTS_SQL, *args)


async def _driver(session: DatabaseSession) -> Driver:
    found = await driver(session)
    if found is None:
        raise RuntimeError(f"the driver writer needs PostgreSQL, not {session.dialect}")
    return found


# The writer of each engine: a session's dialect is its Database's, fixed when the service starts.
WRITERS: dict[str, DecisionWriter] = {"postgresql": DriverWriter()}
STATEMENTS = StatementWriter()


def writer_of(session: DatabaseSession) -> DecisionWriter:
    """The decision writer for ``session``'s engine."""
    return WRITERS.get(session.dialect, STATEMENTS)


# The reference query through the driver (PostgreSQL): every kind at once, an empty array for a kind not asked.
REFERENCES_SQL = " UNION ALL ".join(
    (
        f"SELECT 'p' AS kind, handle AS key, team::text AS detail, NULL::timestamptz AS at FROM {person.name}"
        " WHERE handle = ANY($1::varchar[])",
        f"SELECT 's', key, NULL, NULL FROM {data_source.name} WHERE key = ANY($2::varchar[])",
        f"SELECT 'k', key, direction::text, NULL FROM {kpi.name} WHERE key = ANY($3::varchar[])",
        f"SELECT 'st', key, NULL, NULL FROM {strategy_table.name} WHERE key = ANY($4::varchar[])",
        f"SELECT 'sv', strategy_key, number::text, effective_from FROM {strategy_version.name}"
        " WHERE strategy_key = ANY($4::varchar[])",
        # 'c' an active contractor, 'ci' an inactive one (refused, and named so).
        f"SELECT CASE WHEN active THEN 'c' ELSE 'ci' END, key, NULL, NULL FROM {contractor.name}"
        " WHERE key = ANY($5::varchar[])",
    )
)


@functools.cache
def _reference_statement(present: frozenset[str]) -> Any:
    """The reference query for this combination of kinds, built (and compiled) once."""
    parts = []
    if "people" in present:
        parts.append(_refs("p", person.c.handle, person.c.team).where(person.c.handle.in_(_keys("people"))))
    if "sources" in present:
        parts.append(_refs("s", data_source.c.key).where(data_source.c.key.in_(_keys("sources"))))
    if "kpis" in present:
        parts.append(_refs("k", kpi.c.key, kpi.c.direction).where(kpi.c.key.in_(_keys("kpis"))))
    if "strategies" in present:
        parts.append(_refs("st", strategy_table.c.key).where(strategy_table.c.key.in_(_keys("strategies"))))
        parts.append(
            _refs(
                "sv",
                strategy_version.c.strategy_key,
                cast(strategy_version.c.number, String),
                strategy_version.c.effective_from,
            ).where(strategy_version.c.strategy_key.in_(_keys("strategies")))
        )
    if "contractors" in present:
        state = case((contractor.c.active, literal("c")), else_=literal("ci"))
        parts.append(
            select(
                state.label("kind"),
                contractor.c.key.label("key"),
                cast(null(), String).label("detail"),
                cast(null(), UtcDateTime).label("at"),
            ).where(contractor.c.key.in_(_keys("contractors")))
        )
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _keys(name: str) -> Any:
    return bindparam(name, expanding=True)


def _refs(kind: str, key: Any, detail: Any = None, at: Any = None) -> Any:
    """One arm of the reference query: (kind, key, detail, at)."""
    return select(
        literal(kind).label("kind"),
        key.label("key"),
        (detail if detail is not None else cast(null(), String)).label("detail"),
        (at if at is not None else cast(null(), UtcDateTime)).label("at"),
    )


async def insert_revisions(session: AsyncSession, values: list[dict[str, Any]]) -> None:
    await session.execute(revision.insert(), values)


DECISION_BINDS = bind_converters(decision)
REVISION_BINDS = bind_converters(revision)
EVENT_BINDS = bind_converters(events_repository.event)


@functools.cache
def _create_sql(
    decision_columns: tuple[str, ...],
    revision_columns: tuple[str, ...],
    entry_columns: tuple[str, ...],
    event_columns: tuple[str, ...],
    *,
    many: bool,
) -> str:
    """The decisions, their first revisions, their log entries (when ``entry_columns``) and their events in one
    statement; ``$1`` is the number of decisions, then each row's values (one decision) or one array per column
    (many), then the arrays of registry keys to check (:meth:`ReferenceKeys.arrays`).

    Nothing is inserted unless every key exists (``known``). The history is inserted only when every
    decision was: ``ON CONFLICT DO NOTHING`` leaves a decision whose external reference is taken out of
    ``d``. Rows go in in the order given (the log entries' ids order the tamper-evident chain). The answer:
    ``known``, with each id written (one row with a null id when none was)."""
    n, m, k, v = len(decision_columns), len(revision_columns), len(entry_columns), len(event_columns)
    all_written = "(SELECT count(*) FROM d) = $1::integer"
    keys = n + m + k + v + 2
    named = (
        (person, "handle", ""),
        (data_source, "key", ""),
        (kpi, "key", ""),
        (strategy_table, "key", ""),
        (contractor, "key", " AND active"),  # a contractor named must be active
    )
    exist = " AND ".join(
        f"(SELECT count(*) FROM {table.name} WHERE {column} = ANY(${number}::varchar[]){also})"
        f" = cardinality(${number}::varchar[])"
        for number, (table, column, also) in enumerate(named, keys)
    )
    decisions = insert_rows(decision, decision_columns, 2, many=many, where="(SELECT known FROM known)")
    parts = [
        f"WITH known AS (SELECT {exist} AS known)",
        f"d AS ({decisions} ON CONFLICT DO NOTHING RETURNING id)",
        f"r AS ({insert_rows(revision, revision_columns, n + 2, many=many, where=all_written)})",
    ]
    if entry_columns:
        entry = integrity_repository.entry
        parts.append(f"e AS ({insert_rows(entry, entry_columns, n + m + 2, many=many, where=all_written)})")
    outbox = events_repository.event
    computed = {"txid": events_repository.CURRENT_TXID_SQL}
    events = insert_rows(outbox, event_columns, n + m + k + 2, many=many, where=all_written, computed=computed)
    parts.append(f"v AS ({events})")
    return ", ".join(parts) + " SELECT known.known, d.id FROM known LEFT JOIN d ON true"


# Outbox rows through the driver: the transaction's id as ``txid``, as app.events.repository writes it.
EVENT_COLUMNS = ("id", "type", "subject", "occurred_at", "data")
EVENT_BINDS = bind_converters(events_repository.event)
EVENTS_SQL = (
    f"INSERT INTO {events_repository.event.name} (txid, {', '.join(EVENT_COLUMNS)})"
    f" SELECT pg_current_xact_id()::text::bigint, {', '.join(EVENT_COLUMNS)}"
    " FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::timestamptz[], $5::jsonb[])"
    f" AS v({', '.join(EVENT_COLUMNS)})"
)
EXTERNAL_REFS_SQL = (
    f"SELECT external_system, external_id, id FROM {decision.name}"
    " WHERE (external_system, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
)


async def get(session: AsyncSession, decision_id: uuid.UUID, *, for_update: bool = False) -> AnyRow | None:
    statement = select(decision).where(decision.c.id == decision_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).first()


async def exists(session: AsyncSession, decision_id: uuid.UUID) -> bool:
    return (await session.execute(select(decision.c.id).where(decision.c.id == decision_id))).first() is not None


# The advisory lock (PostgreSQL) that serialises supersessions: two requests superseding A by B and B by A at once
# would each find no cycle in the other's uncommitted change. SQLite runs one writer at a time anyway.
SUPERSESSION_LOCK = 0x53555045  # 'SUPE'


async def lock_supersession(session: AsyncSession) -> None:
    """Wait for any other supersession in progress to end; held until this transaction ends."""
    await advisory_lock(session, SUPERSESSION_LOCK)


async def superseded_through(session: AsyncSession, start: uuid.UUID, target: uuid.UUID) -> bool:
    """Whether following ``superseded_by`` from ``start`` (the decision that supersedes it, and so on) reaches
    ``target``. One recursive query; a cycle already stored (none can be written) would still end it."""
    chain = select(decision.c.superseded_by.label("id")).where(decision.c.id == start).cte("chain", recursive=True)
    chain = chain.union(
        select(decision.c.superseded_by)
        .join(chain, decision.c.id == chain.c.id)
        .where(decision.c.superseded_by.is_not(None))
    )
    statement = select(chain.c.id).where(chain.c.id == target).limit(1)
    return (await session.execute(statement)).first() is not None


async def update_decision(
    session: AsyncSession, decision_id: uuid.UUID, expected_revision: int, values: dict[str, Any]
) -> bool:
    """Apply ``values`` if the decision is still at ``expected_revision``."""
    result = await session.execute(
        update(decision).where(decision.c.id == decision_id, decision.c.revision == expected_revision).values(**values)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True, slots=True)
class DecisionFilters:
    owner: str | None = None
    team: str | None = None
    channel: str | None = None
    category: str | None = None
    basis: str | None = None
    basis_class: str | None = None
    strategy: str | None = None
    kpi: str | None = None
    tag: str | None = None
    status: str | None = None
    decided_from: datetime | None = None
    decided_to: datetime | None = None
    q: str | None = None
    # `overdue`: review_by has passed and no outcome is recorded; `reviewed`: an outcome is recorded.
    review: str | None = None
    contractor: str | None = None
    directed_by: str | None = None
    rationale_signal: str | None = None  # a signal found in the rationale (the decision list only)


def apply_filters(statement: Any, filters: DecisionFilters, dialect: str) -> Any:
    equal = {
        "owner_handle": filters.owner,
        "team": filters.team,
        "channel": filters.channel,
        "category": filters.category,
        "basis": filters.basis,
        "basis_class": filters.basis_class,
        "status": filters.status,
        "strategy_key": filters.strategy,
        "contractor_key": filters.contractor,
        "directed_by": filters.directed_by,
    }
    for column, value in equal.items():
        if value is not None:
            statement = statement.where(decision.c[column] == value)
    if filters.rationale_signal is not None:
        statement = statement.where(has_signal(filters.rationale_signal))
    if filters.tag is not None:
        statement = statement.where(json_array_contains(decision.c.tags, filters.tag, dialect))
    if filters.kpi is not None:
        statement = statement.where(json_array_contains(decision.c.kpis, filters.kpi, dialect))
    if filters.decided_from is not None:
        statement = statement.where(decision.c.decided_at >= filters.decided_from)
    if filters.decided_to is not None:
        statement = statement.where(decision.c.decided_at < filters.decided_to)
    if filters.q:
        statement = statement.where(contains_text([decision.c.title, decision.c.rationale], filters.q, dialect))
    if filters.review == "overdue":
        statement = statement.where(decision.c.review_by <= utcnow(), decision.c.outcome_result.is_(None))
    elif filters.review == "reviewed":
        statement = statement.where(decision.c.outcome_result.is_not(None))
    return statement


def has_signal(*signals: str) -> Any:
    """The rationale has one of these signals: the predicate of the signal's partial index, written as its
    definition is (constants, not parameters), so that both engines use the index."""
    bits = sum(SIGNAL_BITS[Signal(signal)] for signal in signals)
    return decision.c.rationale_signal_mask.op("&")(literal_column(str(bits))) != literal_column("0")


async def overdue_reviews(
    session: AsyncSession, start: datetime, end: datetime, *, currency: str | None, limit: int
) -> list[AnyRow]:
    """Decisions decided in [start, end) whose review is overdue, largest budgets first: those in ``currency``
    first (amounts in different currencies are not compared), then the others by amount, then those without a
    budget; the earliest review date first among equals."""
    in_currency = case((decision.c.budget_currency == currency, 0), else_=1) if currency else literal(1)
    keys = [in_currency, decision.c.budget_amount.is_(None), decision.c.budget_amount, decision.c.review_by]
    descending = [False, False, True, False]
    # The first ``limit`` ids from the columns of the unreviewed decisions' index alone (an index-only scan of the
    # range on PostgreSQL), then those decisions.
    chosen = apply_filters(
        select(decision.c.id, *(key.label(f"k{i}") for i, key in enumerate(keys))),
        DecisionFilters(decided_from=start, decided_to=end, review="overdue"),
        dialect_of(session),
    )
    order = [key.desc() if down else key for key, down in zip(keys, descending, strict=True)]
    top = chosen.where(decision.c.review_by.is_not(None)).order_by(*order, decision.c.id).limit(limit).subquery("top")
    again = [top.c[f"k{i}"].desc() if down else top.c[f"k{i}"] for i, down in enumerate(descending)]
    statement = select(decision).join(top, top.c.id == decision.c.id).order_by(*again, top.c.id)
    return list((await session.execute(statement)).all())


async def currencies(session: AsyncSession, start: datetime, end: datetime) -> list[str]:
    """The budget currencies of the decisions decided in [start, end), the most used first."""
    used = func.count()
    statement = (
        select(decision.c.budget_currency)
        .where(decision.c.decided_at >= start, decision.c.decided_at < end, decision.c.budget_currency.is_not(None))
        .group_by(decision.c.budget_currency)
        .order_by(used.desc(), decision.c.budget_currency)
    )
    return [row[0] for row in (await session.execute(statement)).all()]


async def list_page(
    session: AsyncSession, filters: DecisionFilters, *, limit: int, cursor: str | None
) -> tuple[list[AnyRow], str | None]:
    """Newest decision first; ties broken by id."""
    statement = apply_filters(select(decision), filters, dialect_of(session))
    return await keyset_page(
        session,
        statement,
        [(decision.c.decided_at, True), (decision.c.id, True)],
        limit=limit,
        cursor=cursor,
        key=lambda row: [row.decided_at.isoformat(), str(row.id)],
    )


async def revisions_page(
    session: AsyncSession, decision_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[AnyRow], str | None]:
    """Oldest first, the current one included."""
    statement = select(revision).where(revision.c.decision_id == decision_id)
    return await keyset_page(
        session, statement, [(revision.c.revision, False)], limit=limit, cursor=cursor, key=lambda row: [row.revision]
    )


async def stream_for_export(
    session: AsyncSession, updated_since: datetime | None, *, chunk: int = 500
) -> AsyncIterator[Sequence[AnyRow]]:
    """Every decision changed after ``updated_since`` (exclusive), oldest change first, in chunks
    read through a server-side cursor: memory stays flat however many there are."""
    statement = select(decision).order_by(decision.c.updated_at, decision.c.id)
    if updated_since is not None:
        statement = statement.where(decision.c.updated_at > updated_since)
    result = await session.stream(statement.execution_options(yield_per=chunk))
    async for rows in result.partitions():
        yield rows


async def superseded_by(session: AsyncSession, decision_id: uuid.UUID) -> list[AnyRow]:
    """The decisions that ``decision_id`` superseded (those whose ``superseded_by`` names it), oldest first."""
    statement = (
        select(decision).where(decision.c.superseded_by == decision_id).order_by(decision.c.decided_at, decision.c.id)
    )
    return list((await session.execute(statement)).all())
