"""The tamper-evident log: entries, the hash chain, signed checkpoints; triggers refusing UPDATE and DELETE.

Revision ID: 9a41c7e2b5d0
Revises: 5c0b1e7a9d42
Create Date: 2026-11-28 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9a41c7e2b5d0"
down_revision: str | None = "5c0b1e7a9d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("integrity_entry", "integrity_link", "integrity_checkpoint")

# Row-level triggers: any UPDATE or DELETE of a log row fails. (TRUNCATE, a table owner's privilege, is
# not a row operation; a truncated log is still detected by verification: records without entries.)
PG_FUNCTION = """
CREATE FUNCTION integrity_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END
$$
"""


def _pg_trigger(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION integrity_append_only()"
    )


def _sqlite_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
        for operation in ("UPDATE", "DELETE")
    ]


def upgrade() -> None:
    op.create_table(
        "integrity_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_entry")),
    )
    op.create_table(
        "integrity_link",
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["integrity_entry.id"], name=op.f("fk_integrity_link_entry_id_integrity_entry")
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_integrity_link")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_integrity_link_entry_id")),
    )
    op.create_table(
        "integrity_checkpoint",
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_integrity_checkpoint")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(_pg_trigger(table))
    else:
        for table in TABLES:
            for statement in _sqlite_triggers(table):
                op.execute(statement)


def downgrade() -> None:
    # Dropping a table drops its triggers, on both engines.
    for table in reversed(TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION integrity_append_only()")
