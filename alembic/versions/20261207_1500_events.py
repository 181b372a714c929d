"""The outbox: ``event``, one row per change of the record or derived signal, written in its cause's transaction.

Readers page by ``(txid, position)``: on PostgreSQL ``txid`` is the writing transaction's id, on SQLite 0 (one
writer at a time: positions follow commits, and AUTOINCREMENT never hands one out twice).

Revision ID: 420db425d681
Revises: 9e3b6f0a2d71
Create Date: 2026-12-07 15:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "420db425d681"
down_revision: str | None = "9e3b6f0a2d71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "data",
            sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
            nullable=False,
        ),
        sa.Column("once_key", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_event")),
        sa.UniqueConstraint("id", name=op.f("uq_event_id")),
        sa.UniqueConstraint("once_key", name=op.f("uq_event_once_key")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_event_txid_position", "event", ["txid", "position"], unique=True)
    op.create_index(op.f("ix_event_type"), "event", ["type"])


def downgrade() -> None:
    op.drop_index(op.f("ix_event_type"), table_name="event")
    op.drop_index("ix_event_txid_position", table_name="event")
    op.drop_table("event")
