"""``digest_run``: the weeks whose ``digest.weekly`` has been written (once each) and how their e-mailing went.

Revision ID: 5d1a6e0c9b27
Revises: 6a1c4e8f2b90
Create Date: 2026-12-07 16:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5d1a6e0c9b27"
down_revision: str | None = "6a1c4e8f2b90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_run",
        sa.Column("period_start", sa.String(length=10), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "mailed_to",
            sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
            nullable=False,
        ),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_attempts", sa.Integer(), nullable=False),
        sa.Column("mail_error", sa.String(length=500), nullable=True),
        sa.Column("mail_claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("period_start", name=op.f("pk_digest_run")),
    )


def downgrade() -> None:
    op.drop_table("digest_run")
