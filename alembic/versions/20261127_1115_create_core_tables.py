"""Create the core tables: API keys, people, data sources, decisions and their revisions.

Revision ID: 370e3a7c601c
Revises:
Create Date: 2026-11-27 11:15:59.268927+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "370e3a7c601c"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    op.create_table(
        "data_source",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_data_source")),
    )
    op.create_table(
        "person",
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("handle", name=op.f("pk_person")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_team"), ["team"], unique=False)

    op.create_table(
        "decision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("rationale", sa.String(), nullable=False),
        sa.Column("basis", sa.String(length=20), nullable=False),
        sa.Column("basis_class", sa.String(length=10), nullable=False),
        sa.Column("classification_reason", sa.String(length=40), nullable=False),
        sa.Column("evidence", JSON_DOC, nullable=False),
        sa.Column("evidence_count", sa.Integer(), nullable=False),
        sa.Column("owner_handle", sa.String(length=64), nullable=False),
        sa.Column("participants", JSON_DOC, nullable=False),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=50), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("budget_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("budget_currency", sa.String(length=3), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_outcome", JSON_DOC, nullable=True),
        sa.Column("review_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tags", JSON_DOC, nullable=False),
        sa.Column("external_system", sa.String(length=50), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reversal_reason", sa.String(), nullable=True),
        sa.Column("reversed_by", sa.String(length=64), nullable=True),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.Column("outcome_result", sa.String(length=12), nullable=True),
        sa.Column("outcome_notes", sa.String(), nullable=True),
        sa.Column("outcome_actual_value", sa.Float(), nullable=True),
        sa.Column("outcome_reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("outcome_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["outcome_reviewed_by"], ["person.handle"], name=op.f("fk_decision_outcome_reviewed_by_person")
        ),
        sa.ForeignKeyConstraint(["owner_handle"], ["person.handle"], name=op.f("fk_decision_owner_handle_person")),
        sa.ForeignKeyConstraint(["reversed_by"], ["person.handle"], name=op.f("fk_decision_reversed_by_person")),
        sa.ForeignKeyConstraint(["superseded_by"], ["decision.id"], name=op.f("fk_decision_superseded_by_decision")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision")),
        sa.UniqueConstraint("external_system", "external_id", name=op.f("uq_decision_external_system_external_id")),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_basis_class"), ["basis_class"], unique=False)
        batch_op.create_index(batch_op.f("ix_decision_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_decision_channel"), ["channel"], unique=False)
        batch_op.create_index("ix_decision_decided_at_id", ["decided_at", "id"], unique=False)
        batch_op.create_index("ix_decision_owner_decided_at", ["owner_handle", "decided_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_decision_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_decision_team"), ["team"], unique=False)
        batch_op.create_index("ix_decision_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "decision_revision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("edited_by", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("changes", JSON_DOC, nullable=False),
        sa.Column("snapshot", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decision.id"], name=op.f("fk_decision_revision_decision_id_decision")
        ),
        sa.ForeignKeyConstraint(["edited_by"], ["person.handle"], name=op.f("fk_decision_revision_edited_by_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_revision")),
        sa.UniqueConstraint("decision_id", "revision", name=op.f("uq_decision_revision_decision_id_revision")),
    )


def downgrade() -> None:
    op.drop_table("decision_revision")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_updated_at_id")
        batch_op.drop_index(batch_op.f("ix_decision_team"))
        batch_op.drop_index(batch_op.f("ix_decision_status"))
        batch_op.drop_index("ix_decision_owner_decided_at")
        batch_op.drop_index("ix_decision_decided_at_id")
        batch_op.drop_index(batch_op.f("ix_decision_channel"))
        batch_op.drop_index(batch_op.f("ix_decision_category"))
        batch_op.drop_index(batch_op.f("ix_decision_basis_class"))

    op.drop_table("decision")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_team"))

    op.drop_table("person")
    op.drop_table("data_source")
    op.drop_table("api_key")
