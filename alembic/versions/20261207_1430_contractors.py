"""Contractors: the agencies, freelancers and platforms that execute marketing work.

Revision ID: 4d7e1a92c5b3
Revises: c8a51f3e9d27
Create Date: 2026-12-07 14:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4d7e1a92c5b3"
down_revision: str | None = "c8a51f3e9d27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contractor",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_contractor")),
    )


def downgrade() -> None:
    op.drop_table("contractor")
