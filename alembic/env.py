"""Alembic environment: one history for SQLite and PostgreSQL, run on the async drivers."""

import asyncio
import logging.config

from alembic import context
from sqlalchemy import Connection, text

from app.core.config import Settings, get_settings
from app.core.engine import check_pooler, create_engine
from app.models import metadata

config = context.config
if config.config_file_name and not config.attributes.get("database_url") and not logging.getLogger().handlers:
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

# Several app processes may start at once against one PostgreSQL: one migrates, the others wait.
MIGRATION_LOCK = 7_320_417
# A migration that fills a rollup reads every decision (minutes at millions): the statement timeout that bounds the
# service's requests (DECISION_LOG_STATEMENT_TIMEOUT_SECONDS) is not meant for it, and would cut the upgrade short.
MIGRATION_STATEMENT_TIMEOUT_SECONDS = 24 * 3600.0


def _migration_settings() -> Settings:
    return get_settings().model_copy(update={"statement_timeout_seconds": MIGRATION_STATEMENT_TIMEOUT_SECONDS})


def _configure(connection: Connection, *, transaction_per_migration: bool = True) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # ALTERs as table copies on SQLite
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=transaction_per_migration,
    )


def _run(connection: Connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    if postgres and get_settings().database_pooler == "pgbouncer":
        # Behind a pooler in transaction mode a session's lock would stay with whichever server connection took it,
        # and the unlock could reach another: the whole upgrade is one transaction, which holds the lock.
        _configure(connection, transaction_per_migration=False)
        with context.begin_transaction():
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()
        return
    if postgres:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()
    try:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if postgres:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()


async def run_online() -> None:
    url = config.attributes.get("database_url") or get_settings().database_url
    settings = _migration_settings()
    engine = create_engine(settings, url=url)
    try:
        await check_pooler(engine, settings)
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def run_offline() -> None:
    context.configure(
        url=get_settings().database_url, target_metadata=metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
