"""The ``decision-log`` command."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from app.auth import service as keys_service
from app.auth.scopes import Scope
from app.core.config import get_settings
from app.core.db import Database
from app.core.migrations import upgrade
from app.core.types import format_utc
from app.demo import DEFAULT_SEED, DemoRefused, DemoSummary, run_demo

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

    upgrade(get_settings().database_url)
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        timeout_graceful_shutdown=get_settings().shutdown_grace_seconds,
        log_level=get_settings().log_level.lower(),
    )


async def _with_session(action):  # type: ignore[no-untyped-def]
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


def main() -> None:
    cli()
