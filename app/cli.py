"""The ``decision-log`` command."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app import backup
from app.auth import service as keys_service
from app.auth.scopes import Scope
from app.core.config import get_settings
from app.core.db import Database, PoolerMismatch, pooler_mismatch
from app.core.migrations import upgrade
from app.core.observability import log_config
from app.core.types import format_utc
from app.demo import DEFAULT_SEED, DemoRefused, DemoSummary, run_demo

T = TypeVar("T")

cli = typer.Typer(help="Marketing Decision Log.", no_args_is_help=True, add_completion=False)
keys = typer.Typer(help="Manage API keys.", no_args_is_help=True)
cli.add_typer(keys, name="keys")


@cli.command()
def migrate() -> None:
    """Bring the database schema to the latest migration."""
    upgrade(get_settings().database_url)
    typer.echo("database is at the latest migration")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Migrate the database, then serve the API."""
    import uvicorn

    settings = get_settings()
    upgrade(settings.database_url)
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each worker writes its samples here and /metrics adds them up; fresh for every start.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="decision-log-metrics-")
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        log_config=log_config(settings.log_level, settings.log_format),
        access_log=False,  # app.core.observability.RequestTelemetry writes one JSON line per request instead
    )


async def _with_session(action: Callable[[AsyncSession], Awaitable[T]]) -> T:
    database = Database()
    try:
        async with database.sessionmaker() as session, session.begin():
            return await action(session)
    finally:
        await database.dispose()


@keys.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. `crm-sync`.")],
    scope: Annotated[Scope, typer.Option(help="analytics < read < write < admin.")] = Scope.read,
) -> None:
    """Create a key. The key is printed once, alone on the last line."""

    async def action(session):  # type: ignore[no-untyped-def]
        return await keys_service.create_key(session, name=name, scope=scope)

    record, key = asyncio.run(_with_session(action))
    typer.echo(
        f"created key {record.prefix} ({record.name}, scope {record.scope}); store it now, it is not shown again:"
    )
    typer.echo(key)


@keys.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    records = asyncio.run(_with_session(keys_service.list_keys))
    typer.echo(f"{'PREFIX':<14}{'SCOPE':<11}{'CREATED':<29}{'REVOKED':<29}NAME")
    for k in records:
        revoked = format_utc(k.revoked_at) if k.revoked_at else "-"
        typer.echo(f"{k.prefix:<14}{k.scope:<11}{format_utc(k.created_at):<29}{revoked:<29}{k.name}")


@keys.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's prefix, id or name.")]) -> None:
    """Revoke a key; it stops working within DECISION_LOG_KEY_CACHE_SECONDS in every process."""

    async def action(session):  # type: ignore[no-untyped-def]
        return await keys_service.revoke_key(session, key)

    record = asyncio.run(_with_session(action))
    if record is None:
        typer.echo(f"no single key matches {key!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked key {record.prefix} ({record.name})")


@cli.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the random generator: the same seed gives the same data.")] = (
        DEFAULT_SEED
    ),
    force: Annotated[
        bool, typer.Option("--force", help="Load even when the database already holds decisions (adds to them).")
    ] = False,
) -> None:
    """Migrate, then load a demo data set: a year of a marketing team, recorded by the API's rules.

    Refused when the database already holds decisions, unless --force.
    """
    upgrade(get_settings().database_url)

    async def load() -> DemoSummary:
        database = Database()
        try:
            return await run_demo(database, seed=seed, force=force)
        finally:
            await database.dispose()

    try:
        summary = asyncio.run(load())
    except DemoRefused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"loaded the demo data set (seed {seed}):")
    for line in summary.lines():
        typer.echo(line)
    typer.echo(
        "Try the analytics: start the service (`decision-log serve`), create a key\n"
        "(`KEY=$(decision-log keys create --name demo --scope analytics | tail -n 1)`), then:\n"
        '  curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:8000/v1/analytics/basis?bucket=month"\n'
        '  curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:8000/v1/analytics/summary"\n'
        'More in the README, "Try the analytics on demo data".'
    )


@cli.command("export")
def export_(
    file: Annotated[Path, typer.Argument(help="Where to write: gzip-compressed when the name ends in .gz.")],
    include_keys: Annotated[
        bool,
        typer.Option(
            "--include-keys",
            help="Also export the API keys (their names, scopes and hashes; secrets are never stored), so the "
            "same keys keep working after an import.",
        ),
    ] = False,
) -> None:
    """Write the whole record to FILE: people, data sources, strategies and versions, KPIs and revisions,
    decisions with all their revisions, reversals and outcome reviews, and the tamper-evident log.

    One consistent snapshot, read while the service keeps running. The file is NDJSON (a header line,
    one line per row, an end line with a SHA-256 of the rows); FILE appears only once it is complete.
    Idempotency records are not exported; API keys only with --include-keys.
    """

    async def run() -> backup.BackupSummary:
        database = backup.maintenance_database()
        try:
            return await backup.export_database(database, file, include_keys=include_keys)
        finally:
            await database.dispose()

    try:
        summary = asyncio.run(run())
    except (backup.BackupError, OSError) as error:
        typer.echo(f"export failed: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"exported {summary.rows} rows to {file} (schema {summary.schema_revision}): {summary.table_line()}")


@cli.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A file written by `decision-log export` (gzip or not).")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Import even when the database holds data: first delete every person, data source, strategy "
            "and version, KPI and revision, decision and revision, the tamper-evident log and every idempotency "
            "record (and every API key when FILE carries keys), in the same transaction as the import.",
        ),
    ] = False,
) -> None:
    """Migrate the database, then restore FILE into it, in one transaction: all of it or nothing.

    Refused (exit 1, nothing written) when the database already holds data, unless --force; and when
    FILE is truncated, damaged, of another format version or of another schema revision. Ids, revisions
    and timestamps are kept exactly. API keys in the database are kept unless FILE carries keys.
    """

    async def run() -> backup.BackupSummary:
        database = backup.maintenance_database()
        try:
            return await backup.import_database(database, file, force=force)
        finally:
            await database.dispose()

    try:
        backup.check_file(file)
        upgrade(get_settings().database_url)
        summary = asyncio.run(run())
    except (backup.BackupError, OSError) as error:
        typer.echo(f"import refused: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"imported {summary.rows} rows from {file}: {summary.table_line()}")
    if not summary.keys:
        typer.echo(
            "API keys were not in the file (export with --include-keys to move them): the database's own keys "
            "are unchanged; create new ones with `decision-log keys create` if need be."
        )


@cli.command()
def verify(
    seal: Annotated[
        bool, typer.Option(help="Seal pending log entries first (needs write access; --no-seal reads only).")
    ] = True,
) -> None:
    """Verify the tamper-evident log offline, from the database: recompute the hash chain and the signed
    checkpoints, and compare every decision, KPI and strategy version with its latest log entry.

    Exit 0 when everything verifies; 1 when anything does not, naming the first bad entry."""
    from app.integrity.verify import Report, verify_database

    async def run() -> Report:
        database = backup.maintenance_database()
        try:
            return await verify_database(database, seal=seal)
        finally:
            await database.dispose()

    report = asyncio.run(run())
    signed = f"signed up to position {report.signed_position}" if report.signed_position else "no signed checkpoint"
    typer.echo(
        f"{report.entries} entries in the chain ({report.unsealed} unsealed), {report.checkpoints} checkpoints "
        f"({signed}), {report.records} records compared"
    )
    if report.ok:
        typer.echo("OK: the log and the record verify")
        return
    first = report.problems[0]
    typer.echo(f"TAMPERED: {report.problem_count} problem(s); first bad entry:", err=True)
    typer.echo(
        f"  {first.code}: position={first.position} entry={first.entry_id} entity={first.entity}: {first.detail}",
        err=True,
    )
    for problem in report.problems[1:10]:
        typer.echo(f"  then {problem.code}: position={problem.position} {problem.detail}", err=True)
    raise typer.Exit(1)


@cli.command("signing-key")
def signing_key() -> None:
    """Print a new Ed25519 signing key for DECISION_LOG_SIGNING_KEY (base64), then its public key."""
    from app.integrity import signing

    private = signing.new_private_key_b64()
    public = signing.public_key_b64(signing.load_private_key_b64(private))
    typer.echo(f"public key (GET /v1/integrity/public-key will show it): {public}", err=True)
    typer.echo(private)


def main() -> None:
    try:
        cli()
    except Exception as error:
        mismatch = error if isinstance(error, PoolerMismatch) else pooler_mismatch(error, get_settings().database_url)
        if mismatch is None:
            raise
        typer.echo(f"decision-log: {mismatch}", err=True)
        raise SystemExit(1) from None
