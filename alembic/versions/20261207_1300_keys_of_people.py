"""API keys bound to a person and expiring; each decision revision names who recorded it.

``api_key.person_handle`` (the person a key belongs to) and ``api_key.expires_at``;
``decision_revision.recorded_by`` (the key's person's handle, else the key's name), filled for the
revisions already there from ``changed_by``, the key's name, which is who recorded them.

Revision ID: 7b3e9d15a8c2
Revises: 6b2d9e4f7a13
Create Date: 2026-12-07 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b3e9d15a8c2"
down_revision: str | None = "6b2d9e4f7a13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.add_column(sa.Column("person_handle", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("decision_revision") as batch:
        batch.add_column(sa.Column("recorded_by", sa.String(length=100), nullable=True))
    op.execute("UPDATE decision_revision SET recorded_by = changed_by")
    with op.batch_alter_table("decision_revision") as batch:
        batch.alter_column("recorded_by", existing_type=sa.String(length=100), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("decision_revision") as batch:
        batch.drop_column("recorded_by")
    with op.batch_alter_table("api_key") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("person_handle")
