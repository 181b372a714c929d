"""``decision-log export`` and ``decision-log import``: the whole record in one file, on either engine.

The file (format ``decision-log-backup``, version 1) is NDJSON, UTF-8, one JSON object a line,
gzip-compressed when its name ends in ``.gz`` (the importer recognises gzip by its magic bytes):

1. a header: ``{"format": "decision-log-backup", "version": 1, "schema_revision": <alembic head>,
   "exported_at": <UTC>, "database": "sqlite" | "postgresql", "tables": [<names, in order>],
   "counts": {<table>: <rows>}}``;
2. one line per row, ``{"table": <name>, "row": {<column>: <value>}}``, table by table in the order of
   ``tables`` (parents before children), rows in primary-key order (byte order for text keys, on both
   engines), object keys sorted, so the same data gives the same lines whichever engine holds it;
3. a trailer: ``{"end": {"rows": <row lines>, "sha256": <hex digest of the row lines' UTF-8 bytes,
   newlines included>}}``. A file without it is truncated; a digest that differs means it was altered.

Values are canonical: timestamps ``2026-03-01T10:00:00.123456Z`` (UTC, microseconds), UUIDs in their
hyphenated lower-case form, money (``budget_amount``) as its exact decimal string with the digits it needs
(``"1234.5"``; ``Numeric`` columns as decimal strings with the column's scale), floats as the shortest JSON
number that reads back as the same double, JSON columns as the JSON they hold, SQL NULL as ``null``.

Exported: people, data sources, strategies and their versions, KPIs and their revisions, decisions and
their revisions, and the tamper-evident log (entries, chain, signed checkpoints: a restored database
verifies, against the same signing key or one listed in ``DECISION_LOG_INTEGRITY_TRUSTED_KEYS``).
Never exported: idempotency records (transient: a replayed response for data that moved makes no sense).
API keys only with ``include_keys`` (hashes only: a secret is never stored).

Export reads one consistent snapshot (a read transaction; ``REPEATABLE READ`` on PostgreSQL) with
server-side cursors, so its memory does not grow with the database. Import migrates the target, then in
one transaction refuses a non-empty target (or, with ``force``, empties the tables the file fills), inserts
in batches, restores the decisions' ``superseded_by`` links once every decision is in, checks the row
counts and the digest, and moves PostgreSQL's id sequences past the imported ids. Any failure rolls the
whole import back.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import math
import os
import re
import tempfile
import uuid
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    Uuid,
    bindparam,
    delete,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator

from app.backup.errors import BackupError, TargetNotEmpty
from app.core.config import Settings, get_settings
from app.core.migrations import current_revision, head_revision
from app.core.money import MoneyUnits, plain
from app.core.types import UtcDateTime, format_utc, table_of
from app.core.unit_of_work import Database, transaction
from app.integrity import repository as integrity_repository
from app.models import (
    ApiKey,
    BasisRollup,
    BasisRollupDelta,
    Contractor,
    DataSource,
    Decision,
    DecisionRevision,
    DigestRun,
    Event,
    ForecastRollup,
    ForecastRollupDelta,
    IdempotencyRecord,
    Kpi,
    KpiRevision,
    KpiRollup,
    KpiRollupDelta,
    Person,
    ReviewDue,
    SignInLink,
    Strategy,
    StrategyVersion,
    SummaryRollup,
    SummaryRollupDelta,
    Webhook,
    WebhookAttempt,
    WebhookMessage,
    WebSession,
    metadata,
)

FORMAT = "decision-log-backup"
FORMAT_VERSION = 1

# The domain tables, parents before children: the order rows are written and inserted in.
DOMAIN_TABLES: tuple[Table, ...] = (
    table_of(Person),
    table_of(DataSource),
    table_of(Contractor),
    table_of(Strategy),
    table_of(StrategyVersion),
    table_of(Kpi),
    table_of(KpiRevision),
    table_of(Decision),
    table_of(DecisionRevision),
    # The decisions whose `decision.review_due` has fired: a restored database does not fire them again.
    table_of(ReviewDue),
    # The weeks whose digest was written and e-mailed: a restored database does not send them again.
    table_of(DigestRun),
    # The tamper-evident log (app/integrity), so a restored database still verifies.
    *integrity_repository.TABLES,
)
DOMAIN_TABLE_NAMES = tuple(table.name for table in DOMAIN_TABLES)
KEY_TABLE: Table = table_of(ApiKey)
# Left out on purpose: stored responses to POSTs, kept a day, meaningless once the data has moved; the pages'
# sessions and the first administrator's sign-in link (after the keys: they refer to them).
# The event feed too: its order is the writing transactions' ids, which belong to the database that wrote them (a
# restored database starts a feed of its own).
TRANSIENT_TABLES: tuple[Table, ...] = (
    table_of(IdempotencyRecord),
    table_of(WebSession),
    table_of(SignInLink),
    table_of(Event),
    # Subscriptions are configuration of a deployment, their secrets encrypted with its key: set up again after a
    # restore (their messages and delivery log go with them).
    table_of(Webhook),
    table_of(WebhookMessage),
    table_of(WebhookAttempt),
)
# Left out too: derived from the decisions by the database's own triggers as they are inserted (or deleted).
DERIVED_TABLES: tuple[Table, ...] = tuple(
    table_of(model)
    for model in (
        BasisRollup,
        BasisRollupDelta,
        ForecastRollup,
        ForecastRollupDelta,
        SummaryRollup,
        SummaryRollupDelta,
        KpiRollup,
        KpiRollupDelta,
    )
)

DECISION: Table = table_of(Decision)
BATCH_ROWS = 1000
SET_SUPERSEDED_BY = (
    update(DECISION).where(DECISION.c.id == bindparam("link_id")).values(superseded_by=bindparam("link_to"))
)
# Export and import are maintenance work: no request-sized statement timeout.
MAINTENANCE_TIMEOUT_SECONDS = 24 * 3600.0

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def unknown_tables() -> list[str]:
    """Tables neither exported nor left out on purpose: a new table must be decided on, not forgotten."""
    known = {t.name for t in (*DOMAIN_TABLES, KEY_TABLE, *TRANSIENT_TABLES, *DERIVED_TABLES)}
    return sorted(set(metadata.tables) - known)


def _check_table_coverage() -> None:
    if unknown := unknown_tables():
        raise BackupError(f"this version of decision-log does not know how to back up the tables {unknown}")


def maintenance_database(settings: Settings | None = None) -> Database:
    """The configured database, without the statement timeouts meant for API requests."""
    settings = settings or get_settings()
    return Database(
        settings.model_copy(update={"statement_timeout_seconds": MAINTENANCE_TIMEOUT_SECONDS, "pool_size": 1})
    )


# ---------------------------------------------------------------------------------------------
# Canonical values
# ---------------------------------------------------------------------------------------------

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]


def _encode_float(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise BackupError(f"{number} cannot be written as JSON")
    return number


def _column_type(column: Column[Any]) -> Any:
    """The column's type, seen through decorators (SQLModel's ``AutoString``) other than the service's own
    (``UtcDateTime``, ``MoneyUnits``)."""
    kind = column.type
    while isinstance(kind, TypeDecorator) and not isinstance(kind, UtcDateTime | MoneyUnits):
        kind = kind.impl_instance
    return kind


def _encoder(column: Column[Any]) -> Encoder:
    kind = _column_type(column)
    if isinstance(kind, UtcDateTime):
        return format_utc
    if isinstance(kind, Uuid):
        return str
    if isinstance(kind, MoneyUnits):
        return plain
    if isinstance(kind, Float):
        return _encode_float
    if isinstance(kind, Numeric):
        scale = kind.scale or 0
        return lambda value: format(Decimal(value), f".{scale}f")
    if isinstance(kind, Boolean):
        return bool
    if isinstance(kind, Integer):
        return int
    if isinstance(kind, String | JSON):
        return lambda value: value
    raise RuntimeError(f"app.backup cannot export {column.table.name}.{column.name} of type {kind!r}")


def _decoder(column: Column[Any]) -> Decoder:
    kind = _column_type(column)

    def expect(check: Callable[[Any], bool], what: str, convert: Callable[[Any], Any]) -> Decoder:
        def decode(value: Any) -> Any:
            if not check(value):
                raise ValueError(f"expected {what}, found {json.dumps(value, ensure_ascii=False)[:80]}")
            return convert(value)

        return decode

    def is_timestamp(value: Any) -> bool:
        return isinstance(value, str) and bool(_TIMESTAMP.match(value))

    def is_decimal(value: Any) -> bool:
        return isinstance(value, str) and bool(_DECIMAL.match(value))

    def is_number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    def to_uuid(value: str) -> uuid.UUID:
        parsed = uuid.UUID(value)
        if str(parsed) != value:
            raise ValueError(f"expected a UUID in canonical form, found {value!r}")
        return parsed

    if isinstance(kind, UtcDateTime):
        return expect(
            is_timestamp,
            "a UTC timestamp like 2026-03-01T10:00:00.123456Z",
            datetime.fromisoformat,  # the pattern leaves it one reading: UTC (Z), microseconds
        )
    if isinstance(kind, Uuid):
        return expect(lambda v: isinstance(v, str), "a UUID string", to_uuid)
    if isinstance(kind, Float):
        return expect(is_number, "a number", float)
    if isinstance(kind, Numeric | MoneyUnits):
        return expect(is_decimal, 'a decimal string like "1234.50"', Decimal)
    if isinstance(kind, Boolean):
        return expect(lambda v: isinstance(v, bool), "true or false", bool)
    if isinstance(kind, Integer):
        return expect(lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer", int)
    if isinstance(kind, String):
        return expect(lambda v: isinstance(v, str), "a string", str)
    if isinstance(kind, JSON):
        return lambda value: value
    raise RuntimeError(f"app.backup cannot import {column.table.name}.{column.name} of type {kind!r}")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class BackupSummary:
    """What an export wrote or an import restored."""

    path: Path
    counts: dict[str, int] = field(default_factory=dict)
    schema_revision: str | None = None

    @property
    def keys(self) -> bool:
        """Whether the API keys are part of it."""
        return KEY_TABLE.name in self.counts

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def table_line(self) -> str:
        return ", ".join(f"{table} {count}" for table, count in self.counts.items())


def _sqlite_file_missing(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


async def _check_schema(database: Database) -> str:
    head = head_revision()
    try:
        revision = await current_revision(database.engine)
    except (OSError, DBAPIError) as error:
        raise BackupError(f"cannot reach the database: {error}") from None
    if revision is None:
        raise BackupError("the database holds no decision-log schema: nothing to export")
    if revision != head:
        raise BackupError(
            f"the database is at schema revision {revision}, this version of decision-log writes {head}: "
            "run `decision-log migrate` first"
        )
    return revision


def _order(table: Table, dialect: str) -> list[Any]:
    """Primary-key order, the same on both engines: text in byte (code point) order."""
    columns: list[Any] = []
    for column in table.primary_key.columns:
        if dialect == "postgresql" and isinstance(_column_type(column), String):
            columns.append(column.collate("C"))
        else:
            columns.append(column)
    return columns


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[IO[str]]:
    """A text stream that becomes ``path`` only when the block succeeds: a failed export leaves no file
    that looks like a backup (and never clobbers an earlier one). Created readable by its owner only."""
    directory = path.resolve().parent
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as raw:
            binary: io.BufferedIOBase = raw
            if path.name.endswith(".gz"):
                binary = gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=6, mtime=0)
            out = io.TextIOWrapper(binary, encoding="utf-8", newline="\n")  # type: ignore[type-var]
            yield out
            out.flush()
            out.detach()
            if binary is not raw:
                binary.close()  # writes the gzip trailer; leaves `raw` open
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        directory_descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_descriptor)
        finally:
            os.close(directory_descriptor)


async def export_database(database: Database, path: Path, *, include_keys: bool = False) -> BackupSummary:
    """Write every row of the domain tables (and the API keys' hashes with ``include_keys``) to ``path``."""
    _check_table_coverage()
    missing = _sqlite_file_missing(str(database.engine.url))
    if missing is not None:
        raise BackupError(f"no database file at {missing}: nothing to export")
    schema = await _check_schema(database)
    tables = (*DOMAIN_TABLES, KEY_TABLE) if include_keys else DOMAIN_TABLES
    summary = BackupSummary(path=path, schema_revision=schema)
    dialect = database.dialect

    async with transaction(database, writes=False) as session:
        options: dict[str, Any] = (
            {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True} if dialect == "postgresql" else {}
        )
        connection = await session.connection(execution_options=options)
        if dialect == "postgresql":
            await connection.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
        for table in tables:
            count = await connection.scalar(select(func.count()).select_from(table))
            summary.counts[table.name] = int(count or 0)
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "schema_revision": schema,
            "exported_at": format_utc(datetime.now(UTC)),
            "database": dialect,
            "tables": [table.name for table in tables],
            "counts": summary.counts,
        }
        digest = hashlib.sha256()
        written = 0
        with _atomic_output(path) as out:
            out.write(_dumps(header) + "\n")
            for table in tables:
                written_here = 0
                async for line in _table_lines(connection, table, dialect):
                    out.write(line)
                    digest.update(line.encode("utf-8"))
                    written_here += 1
                if written_here != summary.counts[table.name]:  # cannot happen in one snapshot; never write a lie
                    raise BackupError(
                        f"{table.name}: counted {summary.counts[table.name]} rows but read {written_here}"
                    )
                written += written_here
            out.write(_dumps({"end": {"rows": written, "sha256": digest.hexdigest()}}) + "\n")
    return summary


async def _table_lines(connection: AsyncConnection, table: Table, dialect: str) -> AsyncIterator[str]:
    encoders = [(column.name, _encoder(column)) for column in table.columns]
    prefix = '{"table":' + json.dumps(table.name) + ',"row":'
    statement = select(table).order_by(*_order(table, dialect)).execution_options(yield_per=BATCH_ROWS)
    result = await connection.stream(statement)
    async for rows in result.partitions():
        for row in rows:
            values = {
                name: None if value is None else encode(value)
                for (name, encode), value in zip(encoders, row, strict=True)
            }
            yield prefix + _dumps(values) + "}\n"


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _open_input(path: Path) -> Iterator[Iterator[tuple[int, str]]]:
    """The file's lines, numbered from 1, gzip or not (recognised by its magic bytes)."""
    try:
        raw = path.open("rb")
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error.strerror or error}") from None
    with raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        binary: io.BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        stream = io.TextIOWrapper(binary, encoding="utf-8", newline="\n")  # type: ignore[type-var]

        def lines() -> Iterator[tuple[int, str]]:
            number = 0
            try:
                for number, line in enumerate(stream, start=1):
                    yield number, line
            except (OSError, EOFError, UnicodeDecodeError, zlib.error) as error:
                raise BackupError(f"{path}: unreadable after line {number}: {error}") from None

        yield lines()


def _parse(number: int, line: str) -> Any:
    if not line.endswith("\n"):
        raise BackupError(f"line {number}: cut short (no end of line): the file is truncated")
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise BackupError(f"line {number}: not valid JSON ({error.msg}): the file is damaged") from None


def read_header(lines: Iterator[tuple[int, str]], path: Path) -> dict[str, Any]:
    """The header, checked: the format, its version, the schema it describes and the tables in it."""
    first = next(lines, None)
    if first is None:
        raise BackupError(f"{path} is empty: not a decision-log export")
    header = _parse(*first)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"{path} is not a decision-log export (its first line has no format {FORMAT!r})")
    if header.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is in {FORMAT} format version {header.get('version')!r}; "
            f"this version of decision-log reads version {FORMAT_VERSION} only"
        )
    head = head_revision()
    if header.get("schema_revision") != head:
        raise BackupError(
            f"{path} was exported at schema revision {header.get('schema_revision')!r}, this version of decision-log "
            f"is at {head}: import it with the version that exported it (then upgrade), or export it again"
        )
    names, counts = header.get("tables"), header.get("counts")
    exportable = [t.name for t in (*DOMAIN_TABLES, KEY_TABLE)]
    if (
        not isinstance(names, list)
        or not isinstance(counts, dict)
        or not set(DOMAIN_TABLE_NAMES) <= set(names) <= set(exportable)
        or names != [name for name in exportable if name in names]
        or set(counts) != set(names)
        or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts.values())
    ):
        raise BackupError(f"{path}: the header's tables and counts are not those of a complete export")
    return header


async def _tables_holding_rows(connection: AsyncConnection, tables: list[Table]) -> list[str]:
    held = []
    for table in tables:
        if await connection.scalar(select(exists().select_from(table))):
            held.append(table.name)
    return held


def check_file(path: Path) -> dict[str, Any]:
    """The file's header, checked (see :func:`read_header`), before anything touches the database."""
    with _open_input(path) as lines:
        return read_header(lines, path)


async def _wipe(connection: AsyncConnection, tables: list[Table], dialect: str) -> None:
    """Delete every row of ``tables`` (which hold every table referring to one of them), in the transaction."""
    if dialect == "postgresql":
        async with integrity_repository.append_only_guard_lifted(connection):  # in case the log refuses TRUNCATE
            await connection.execute(text(f"TRUNCATE {', '.join(table.name for table in tables)}"))
        return
    # A decision may point at another (superseded_by), a column without an index: deleting the rows one by one
    # would scan the table for each. An index for the time of the transaction keeps that linear.
    await connection.execute(text("CREATE INDEX ix_backup_wipe_superseded_by ON decision (superseded_by)"))
    await connection.execute(update(DECISION).where(DECISION.c.superseded_by.is_not(None)).values(superseded_by=None))
    async with integrity_repository.append_only_guard_lifted(connection):  # the log refuses DELETE otherwise
        for table in reversed(tables):  # children first
            await connection.execute(delete(table))
    await connection.execute(text("DROP INDEX ix_backup_wipe_superseded_by"))


async def import_database(database: Database, path: Path, *, force: bool = False) -> BackupSummary:
    """Restore an export into the (migrated) database, in one transaction. See the module's docstring."""
    _check_table_coverage()
    with _open_input(path) as lines:
        header = read_header(lines, path)
        tables = [t for t in (*DOMAIN_TABLES, KEY_TABLE) if t.name in header["tables"]]
        expected: dict[str, int] = header["counts"]
        summary = BackupSummary(path=path, schema_revision=header["schema_revision"])
        dialect = database.dialect
        try:
            async with transaction(database, writes=True) as session:
                connection = await session.connection()
                if dialect == "postgresql":
                    await connection.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
                    # Nobody else writes these tables until the import commits or rolls back (SQLite: the
                    # transaction is BEGIN IMMEDIATE). --force also keeps readers out: they would wait anyway.
                    every = ", ".join(t.name for t in (*tables, *TRANSIENT_TABLES))
                    mode = "ACCESS EXCLUSIVE" if force else "EXCLUSIVE"
                    await connection.execute(text(f"LOCK TABLE {every} IN {mode} MODE"))
                held = await _tables_holding_rows(connection, tables)
                if held and not force:
                    raise TargetNotEmpty(
                        f"the database already holds data ({', '.join(held)}): nothing imported. "
                        "Import into an empty database, or add --force to delete what it holds first"
                    )
                if force:
                    await _wipe(connection, [*tables, *TRANSIENT_TABLES], dialect)
                summary.counts = await _insert_rows(connection, lines, tables)
                for table in tables:
                    if summary.counts.get(table.name, 0) != expected[table.name]:
                        raise BackupError(
                            f"{path}: the header announces {expected[table.name]} {table.name} rows, the file holds "
                            f"{summary.counts.get(table.name, 0)}: the file is damaged"
                        )
                if dialect == "postgresql":
                    await _advance_sequences(connection, tables)
        except DBAPIError as error:
            raise BackupError(f"the database refused the data: {error.orig or error}; nothing imported") from None
    summary.counts = {table.name: summary.counts.get(table.name, 0) for table in tables}
    return summary


async def _insert_rows(
    connection: AsyncConnection, lines: Iterator[tuple[int, str]], tables: list[Table]
) -> dict[str, int]:
    """Insert the row lines, table by table in batches; check the trailer. Returns rows per table."""
    by_name = {table.name: table for table in tables}
    position = 0  # index in `tables` of the table being read: tables only come in order
    counts: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []  # decisions' superseded_by, set once every decision exists
    digest = hashlib.sha256()
    codecs: dict[str, tuple[set[str], dict[str, Decoder]]] = {
        table.name: ({c.name for c in table.columns}, {c.name: _decoder(c) for c in table.columns}) for table in tables
    }
    end: dict[str, Any] | None = None

    async def insert_batch(table: Table) -> None:
        if batch:
            await connection.execute(table.insert(), batch)
            batch.clear()

    async def finish(table: Table) -> None:
        await insert_batch(table)
        if table is DECISION and links:  # every decision is in: the links can point anywhere now
            for start in range(0, len(links), BATCH_ROWS):
                await connection.execute(SET_SUPERSEDED_BY, links[start : start + BATCH_ROWS])
            links.clear()

    for number, line in lines:
        if end is not None:
            raise BackupError(f"line {number}: data after the end of the export: the file is damaged")
        item = _parse(number, line)
        if isinstance(item, dict) and set(item) == {"end"}:
            end = item["end"]
            continue
        if not isinstance(item, dict) or set(item) != {"table", "row"} or not isinstance(item["row"], dict):
            raise BackupError(f"line {number}: not a row of a decision-log export: the file is damaged")
        name = item["table"]
        if name not in by_name:
            raise BackupError(f"line {number}: a row of table {name!r}, which the header does not announce")
        index = tables.index(by_name[name])
        if index < position:
            raise BackupError(f"line {number}: a {name} row after the rows of later tables: the file is damaged")
        if index > position:
            await finish(tables[position])
            position = index
        elif len(batch) >= BATCH_ROWS:
            await insert_batch(tables[position])
        table = by_name[name]
        columns, decoders = codecs[name]
        raw = item["row"]
        if set(raw) != columns:
            unknown, missing = sorted(set(raw) - columns), sorted(columns - set(raw))
            raise BackupError(
                f"line {number}: a {name} row with unknown columns {unknown} or missing columns {missing}"
            )
        row: dict[str, Any] = {}
        for column, value in raw.items():
            try:
                row[column] = None if value is None else decoders[column](value)
            except ValueError as error:
                raise BackupError(f"line {number}: {name}.{column}: {error}") from None
        if table is DECISION and row["superseded_by"] is not None:
            links.append({"link_id": row["id"], "link_to": row["superseded_by"]})
            row["superseded_by"] = None
        batch.append(row)
        counts[name] = counts.get(name, 0) + 1
        digest.update(line.encode("utf-8"))
    if end is None:  # before the last rows go in: a cut file's links may point past the cut
        raise BackupError("the file ends before its end line: it is truncated")
    await finish(tables[position])
    if not isinstance(end, dict) or end.get("rows") != sum(counts.values()) or end.get("sha256") != digest.hexdigest():
        raise BackupError("the rows do not match the file's end line (row count or SHA-256): the file is damaged")
    return counts


async def _advance_sequences(connection: AsyncConnection, tables: list[Table]) -> None:
    """PostgreSQL hands out serial ids from a sequence that explicit ids do not move: move it past them."""
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        await connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), COALESCE(MAX({column.name}), 1), "
                f"MAX({column.name}) IS NOT NULL) FROM {table.name}"
            ),
            {"table": table.name, "column": column.name},
        )
