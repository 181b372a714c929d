"""Strategies with numbered versions, KPIs with revisions; decisions link to both.

Revision ID: 75b6a1be01c4
Revises: 370e3a7c601c
Create Date: 2026-11-27 11:19:58.912680+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "75b6a1be01c4"
down_revision: str | None = "370e3a7c601c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "strategy",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("version_count", sa.Integer(), nullable=False),
        sa.Column("latest_effective_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_strategy")),
    )
    op.create_table(
        "kpi",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("direction", sa.String(length=10), nullable=True),
        sa.Column("owner_handle", sa.String(length=64), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_handle"], ["person.handle"], name=op.f("fk_kpi_owner_handle_person")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kpi")),
    )
    with op.batch_alter_table("kpi", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_kind"), ["kind"], unique=False)

    op.create_table(
        "strategy_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("strategy_key", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=True),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_reason", sa.String(), nullable=True),
        sa.Column("changed_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["person.handle"], name=op.f("fk_strategy_version_changed_by_person")),
        sa.ForeignKeyConstraint(
            ["strategy_key"], ["strategy.key"], name=op.f("fk_strategy_version_strategy_key_strategy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_version")),
        sa.UniqueConstraint("strategy_key", "number", name=op.f("uq_strategy_version_strategy_key_number")),
    )
    with op.batch_alter_table("strategy_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_strategy_version_strategy_key_effective_from", ["strategy_key", "effective_from"], unique=False
        )

    op.create_table(
        "kpi_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi_key", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("change_reason", sa.String(), nullable=True),
        sa.Column("changes", JSON_DOC, nullable=False),
        sa.Column("snapshot", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(["kpi_key"], ["kpi.key"], name=op.f("fk_kpi_revision_kpi_key_kpi")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_revision")),
        sa.UniqueConstraint("kpi_key", "revision", name=op.f("uq_kpi_revision_kpi_key_revision")),
    )
    with op.batch_alter_table("kpi_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_revision_changed_at"), ["changed_at"], unique=False)

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("strategy_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("strategy_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("kpis", JSON_DOC, server_default=sa.text("'[]'"), nullable=False))
        batch_op.create_index(batch_op.f("ix_decision_strategy_key"), ["strategy_key"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_decision_strategy_key_strategy"), "strategy", ["strategy_key"], ["key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_decision_strategy_key_strategy"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_decision_strategy_key"))
        batch_op.drop_column("kpis")
        batch_op.drop_column("strategy_version")
        batch_op.drop_column("strategy_key")

    with op.batch_alter_table("kpi_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_revision_changed_at"))

    op.drop_table("kpi_revision")
    with op.batch_alter_table("strategy_version", schema=None) as batch_op:
        batch_op.drop_index("ix_strategy_version_strategy_key_effective_from")

    op.drop_table("strategy_version")
    with op.batch_alter_table("kpi", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_kind"))

    op.drop_table("kpi")
    op.drop_table("strategy")
