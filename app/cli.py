"""The ``decision-log`` command."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic import ValidationError

from app.auth import service as keys_service
from app.auth import sessions
from app.auth.models import ApiKey
from app.auth.schemas import ApiKeyCreate
from app.auth.scopes import Scope
from app.backup import service as backup
from app.backup.errors import BackupError
from app.core.config import get_settings
from app.core.engine import PoolerMismatch, pooler_mismatch
from app.core.errors import AppError
from app.core.migrations import upgrade
from app.core.observability import log_config, resolved_log_format
from app.core.types import format_utc, utcnow
from app.core.unit_of_work import Database, DatabaseSession, transaction
from app.demo import DEFAULT_SEED, DemoRefused, DemoSummary, run_demo

if TYPE_CHECKING:
    from app.integrity.schemas import SavedCheckpoint
    from app.integrity.verify import Report

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
    link = asyncio.run(_with_session(sessions.new_sign_in_link))
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    shown_host = f"[{shown_host}]" if ":" in shown_host else shown_host
    if link is not None:
        minutes = settings.sign_in_link_minutes
        typer.echo(
            "\nThe database holds no API key yet. To set the service up, open this link (it works once, for "
            f"{minutes} minutes; restart `serve` for a new one):\n\n"
            f"    http://{shown_host}:{port}/ui/setup?token={link}\n",
            err=True,
        )
    else:
        typer.echo(
            f"\nThe pages: http://{shown_host}:{port}/ui/ (sign in with an API key of your own: "
            "`decision-log keys create --name NAME --scope read --person HANDLE`).\n",
            err=True,
        )
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each worker writes its samples here and /metrics adds them up; fresh for every start.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="decision-log-metrics-")
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # read by the app itself (app.main), after it keeps the peer's address
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        log_config=log_config(settings.log_level, resolved_log_format(settings.log_format)),
        access_log=False,  # app.core.observability.RequestTelemetry writes one JSON line per request instead
    )


async def _with_session(action: Callable[[DatabaseSession], Awaitable[T]]) -> T:
    database = Database()
    try:
        async with transaction(database, writes=True) as session:
            return await action(session)
    finally:
        await database.dispose()


@keys.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. `crm-sync`.")],
    scope: Annotated[Scope, typer.Option(help="analytics < read < write < admin.")] = Scope.read,
    person: Annotated[
        str | None,
        typer.Option(help="The handle of the person the key belongs to: what it writes is attributed to them."),
    ] = None,
    expires_in: Annotated[
        int | None, typer.Option(min=1, help="Days until the key stops working (default: never).")
    ] = None,
) -> None:
    """Create a key. The key is printed once, alone on the last line."""
    try:  # the same rules as POST /v1/keys: storable, not blank, at most 100 characters
        name = ApiKeyCreate(name=name, scope=scope).name
    except ValidationError as error:
        raise typer.BadParameter(error.errors()[0]["msg"], param_hint="--name") from None
    expires_at = utcnow() + timedelta(days=expires_in) if expires_in is not None else None

    async def action(session: DatabaseSession) -> tuple[ApiKey, str]:
        return await keys_service.create_key(
            session, name=name, scope=scope, person=person, expires_at=expires_at, loc=()
        )

    try:
        record, key = asyncio.run(_with_session(action))
    except AppError as refused:
        typer.echo(f"key not created: {refused.detail}", err=True)
        raise typer.Exit(1) from None
    whose = f", person {record.person_handle}" if record.person_handle else ""
    until = f", expires {format_utc(record.expires_at)}" if record.expires_at else ""
    typer.echo(
        f"created key {record.prefix} ({record.name}, scope {record.scope}{whose}{until}); "
        "store it now, it is not shown again:"
    )
    typer.echo(key)


@keys.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    records = asyncio.run(_with_session(keys_service.list_keys))
    typer.echo(f"{'PREFIX':<14}{'SCOPE':<11}{'CREATED':<29}{'REVOKED':<29}{'EXPIRES':<29}{'PERSON':<22}NAME")
    for k in records:
        revoked = format_utc(k.revoked_at) if k.revoked_at else "-"
        expires = format_utc(k.expires_at) if k.expires_at else "-"
        typer.echo(
            f"{k.prefix:<14}{k.scope:<11}{format_utc(k.created_at):<29}{revoked:<29}{expires:<29}"
            f"{k.person_handle or '-':<22}{k.name}"
        )


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
    """Write the whole record to FILE: people, data sources, contractors, strategies and versions, KPIs and revisions,
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
    except (BackupError, OSError) as error:
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
    except (BackupError, OSError) as error:
        typer.echo(f"import refused: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"imported {summary.rows} rows from {file}: {summary.table_line()}")
    if not summary.keys:
        typer.echo(
            "API keys were not in the file (export with --include-keys to move them): the database's own keys "
            "are unchanged; create new ones with `decision-log keys create` if need be."
        )


UNANCHORED_EXIT = 3  # 0: verified, 1: problems found, 2: a usage error (typer's), 3: nothing to anchor trust in


def _trusted_key(value: str) -> str:
    from app.integrity import signing

    try:
        return signing.parse_public_key(value)
    except ValueError as error:
        hint = "give the base64 public key GET /v1/integrity/public-key shows, or its PEM"
        raise typer.BadParameter(f"{error} ({hint})", param_hint="'--trusted-key'") from None


def _saved_checkpoint(path: Path) -> SavedCheckpoint:
    from pydantic import ValidationError

    from app.integrity.schemas import SavedCheckpoint

    try:
        return SavedCheckpoint.model_validate_json(path.read_bytes())
    except OSError as error:
        raise typer.BadParameter(f"cannot read {path}: {error.strerror}", param_hint="'--checkpoint'") from None
    except ValidationError as error:
        wrong = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'the file'}: {e['msg']}" for e in error.errors())
        raise typer.BadParameter(
            f"{path} is not a checkpoint saved from GET /v1/integrity/checkpoints/latest ({wrong})",
            param_hint="'--checkpoint'",
        ) from None


ANCHOR_NAMES = {
    "signing_key": "the signing key (DECISION_LOG_SIGNING_KEY)",
    "trusted_keys": "DECISION_LOG_INTEGRITY_TRUSTED_KEYS",
    "trusted_key_option": "--trusted-key",
    "saved_checkpoint": "the checkpoint saved in --checkpoint",
}


@cli.command()
def verify(
    seal: Annotated[
        bool, typer.Option(help="Seal pending log entries first (needs write access; --no-seal reads only).")
    ] = True,
    trusted_key: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-key",
            help="A public key to trust (base64, as GET /v1/integrity/public-key shows it, or PEM); repeatable. "
            "Adds to DECISION_LOG_SIGNING_KEY's and DECISION_LOG_INTEGRITY_TRUSTED_KEYS'.",
        ),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="A checkpoint saved earlier from GET /v1/integrity/checkpoints/latest: the database must still "
            "hold it and extend it (a log rolled back or rewritten since fails).",
            dir_okay=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as GET /v1/integrity/verify answers it.")
    ] = False,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="After upgrading from a version that logged less: when the log itself verifies and the only "
            "problems are records or revisions it does not hold (or holds in an earlier form), log them as they "
            "stand now, vouched for by you (the log keeps these adoption entries for good). Writes nothing "
            "otherwise. Run it with the service stopped, or writes wait for it.",
        ),
    ] = False,
) -> None:
    """Verify the tamper-evident log offline, from the database: recompute the hash chain and the signed
    checkpoints, compare every record and revision with the log, the columns derived from them and the basis
    and forecast rollups with what they follow from.

    Trust never comes from the database: the keys are DECISION_LOG_SIGNING_KEY's public half,
    DECISION_LOG_INTEGRITY_TRUSTED_KEYS and --trusted-key; --checkpoint adds a checkpoint saved earlier.

    Exit 0 when everything verifies against one of those; 1 when anything does not, naming the first bad entry;
    3 when nothing is wrong but nothing anchored the verification (no trusted key, no saved checkpoint): a log
    rewritten and re-signed as a whole would pass too."""
    from app.integrity.verify import report_read, verify_database

    keys = [_trusted_key(value) for value in trusted_key or ()]
    saved = _saved_checkpoint(checkpoint) if checkpoint is not None else None

    async def run() -> Report:
        database = backup.maintenance_database()
        try:
            if adopt:
                return await _adopted(database, keys, saved)
            return await verify_database(database, seal=seal, trusted_keys=keys, checkpoint=saved)
        finally:
            await database.dispose()

    report = asyncio.run(run())
    if as_json:
        typer.echo(report_read(report).model_dump_json(indent=2))
    else:
        _print_report(report)
    if report.problem_count:
        raise typer.Exit(1)
    if not report.anchored:
        raise typer.Exit(UNANCHORED_EXIT)


async def _adopted(database: Database, keys: list[str], saved: SavedCheckpoint | None) -> Report:
    """``verify --adopt``: adopt what can be, say what was, and the report to print after it."""
    from app.integrity.verify import adopt_database

    result = await adopt_database(database, trusted_keys=keys, checkpoint=saved)
    settled = ", ".join(f"{code} {count}" for code, count in sorted(result.before.codes.items()))
    if result.adoption is None:
        if result.before.problem_count:
            typer.echo(
                f"NOT ADOPTED: some problems are not records the log lacks ({settled}): nothing was written",
                err=True,
            )
        return result.before
    assert result.after is not None
    typer.echo(
        f"ADOPTED: {result.adoption.records} records and {result.adoption.revisions} revisions logged as they stand "
        f"({settled})"
    )
    return result.after


def _print_report(report: Report) -> None:
    from app.integrity.verify import ADOPTABLE

    signed = f"signed up to position {report.signed_position}" if report.signed_position else "no signed checkpoint"
    typer.echo(
        f"{report.entries} entries in the chain ({report.unsealed} unsealed), {report.checkpoints} checkpoints "
        f"({signed}); compared: {report.records} records, {report.revisions} revisions, {report.registries} "
        "people, data sources, contractors and strategies, the derived columns and the basis and forecast rollups"
        + (f"; {report.adopted} adoption entries (vouched for by an operator)" if report.adopted else "")
    )
    if report.anchored:
        typer.echo("trusted: " + ", ".join(ANCHOR_NAMES[anchor] for anchor in report.anchors))
    saved = report.saved_checkpoint
    if saved is not None:
        held = "holds and extends it" if saved.contained else "does NOT hold it"
        typer.echo(f"saved checkpoint at position {saved.position}: the database {held}")
    if report.problem_count:
        first = report.problems[0]
        typer.echo(f"TAMPERED: {report.problem_count} problem(s); first bad entry:", err=True)
        typer.echo(
            f"  {first.code}: position={first.position} entry={first.entry_id} entity={first.entity}: {first.detail}",
            err=True,
        )
        for problem in report.problems[1:10]:
            typer.echo(f"  then {problem.code}: position={problem.position} {problem.detail}", err=True)
        typer.echo("  by code: " + ", ".join(f"{c} {n}" for c, n in sorted(report.codes.items())), err=True)
        if set(report.codes) <= ADOPTABLE:
            typer.echo(
                "  Only records and revisions the log does not hold, or holds in an earlier form: after an upgrade "
                "from a version that logged less, `decision-log verify --adopt` has the log vouch for them as they "
                "stand, if you do.",
                err=True,
            )
    elif report.anchored:
        typer.echo("OK: the log and the record verify")
    else:
        typer.echo(
            "UNANCHORED: nothing is wrong within the database, but nothing outside it vouched for the log (no "
            "signing key, trusted key or saved checkpoint), so a log rewritten and re-signed as a whole would pass "
            "too. Give the service's public key (--trusted-key, or set DECISION_LOG_SIGNING_KEY or "
            "DECISION_LOG_INTEGRITY_TRUSTED_KEYS), or a checkpoint saved earlier (--checkpoint FILE).",
            err=True,
        )


@cli.command("scan-reviews")
def scan_reviews() -> None:
    """Fire `decision.review_due` for every decision whose review date has passed with no review and that has not
    had one yet (what `serve` does every DECISION_LOG_REVIEW_SCAN_INTERVAL_SECONDS). Safe beside running services:
    one process scans at a time, and a decision's event fires once."""
    from app.events import reviews

    async def run() -> int | None:
        database = backup.maintenance_database()
        try:
            return await reviews.scan(database)
        finally:
            await database.dispose()

    fired = asyncio.run(run())
    if fired is None:
        typer.echo("Another process is scanning now; nothing done here.")
    else:
        typer.echo(f"decision.review_due fired for {fired} decision(s).")


@cli.command("send-digest")
def send_digest() -> None:
    """Write the weekly digest's `digest.weekly` event when due and not written yet, and e-mail every digest not
    fully e-mailed (what `serve` does every DECISION_LOG_DIGEST_CHECK_INTERVAL_SECONDS). Safe beside running
    services: a week's event is written once, and nobody is e-mailed twice."""
    from app.digest import weekly

    async def run() -> weekly.WeeklyResult:
        database = backup.maintenance_database()
        try:
            return await weekly.run_once(database)
        finally:
            await database.dispose()

    result = asyncio.run(run())
    written = "written" if result.written else "already written (or being written by another process)"
    typer.echo(f"digest.weekly for the week of {result.week}: {written}; e-mailed to {len(result.mailed)} address(es).")
    if result.error:
        typer.echo(f"E-mail failed, tried again next time: {result.error}", err=True)


@cli.command()
def dispatch(
    metrics_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Serve this process's Prometheus metrics on this port (GET /metrics)."),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Interface of the metrics port.")] = "127.0.0.1",
) -> None:
    """Deliver webhooks without serving HTTP, until SIGTERM or SIGINT (the attempts in flight then finish). Also runs
    the review scan and the weekly digest at their intervals. Start the web workers with
    DECISION_LOG_WEBHOOK_DISPATCH=separate so that they deliver nothing; run one or several of these (any host of
    one PostgreSQL; each message is claimed by one). Needs the database migrated (`decision-log migrate`)."""
    import logging.config

    from prometheus_client import start_http_server

    from app.webhooks import worker

    settings = get_settings()
    if settings.webhook_poll_interval_seconds <= 0:
        typer.echo("DECISION_LOG_WEBHOOK_POLL_INTERVAL_SECONDS must be above 0 for `dispatch`.", err=True)
        raise typer.Exit(2)
    logging.config.dictConfig(log_config(settings.log_level, resolved_log_format(settings.log_format)))
    if metrics_port is not None:
        start_http_server(metrics_port, addr=metrics_host)
    try:
        asyncio.run(worker.run(settings))
    except worker.NotReady as not_ready:
        typer.echo(f"not dispatching: {not_ready}", err=True)
        raise typer.Exit(1) from None


@cli.command("signing-key")
def signing_key() -> None:
    """Print a new Ed25519 signing key for DECISION_LOG_SIGNING_KEY (base64), then its public key."""
    from app.integrity import signing

    private = signing.new_private_key_b64()
    public = signing.public_key_b64(signing.load_private_key_b64(private))
    typer.echo(f"public key (GET /v1/integrity/public-key will show it): {public}", err=True)
    typer.echo(private)


@cli.command("webhook-key")
def webhook_key() -> None:
    """Print a new key for DECISION_LOG_WEBHOOK_SECRET_KEY: it encrypts the webhooks' signing secrets at rest (keep
    it: with another key the stored secrets no longer decrypt, and their subscriptions must be made again)."""
    from app.webhooks import crypto

    typer.echo(crypto.new_key())


def main() -> None:
    try:
        cli()
    except Exception as error:
        mismatch = error if isinstance(error, PoolerMismatch) else pooler_mismatch(error, get_settings().database_url)
        if mismatch is None:
            raise
        typer.echo(f"decision-log: {mismatch}", err=True)
        raise SystemExit(1) from None
