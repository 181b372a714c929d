"""``review_due``: the decisions whose ``decision.review_due`` has fired (once each), and an index of the decisions
awaiting their review, for the scan that fires it.

Revision ID: 1f3fdef8abcb
Revises: 420db425d681
Create Date: 2026-12-07 15:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1f3fdef8abcb"
down_revision: str | None = "420db425d681"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNREVIEWED = "review_by IS NOT NULL AND outcome_result IS NULL"


def upgrade() -> None:
    op.create_table(
        "review_due",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("review_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"], name=op.f("fk_review_due_decision_id_decision")),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_review_due")),
    )
    op.create_index(
        "ix_decision_review_by_unreviewed",
        "decision",
        ["review_by"],
        postgresql_where=sa.text(UNREVIEWED),
        sqlite_where=sa.text(UNREVIEWED),
    )


def downgrade() -> None:
    op.drop_index("ix_decision_review_by_unreviewed", table_name="decision")
    op.drop_table("review_due")
