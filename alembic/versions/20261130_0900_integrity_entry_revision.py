"""The tamper-evident log binds revision rows: ``integrity_entry.revision`` holds the revision's own fields.

A decision or KPI write logs the record's new state (``content``) and, from now on, the fields of the revision
row it adds besides that state (who, when, why, what changed), as RFC 8785 JSON. Entries written before keep
the column null and their hash form without it.

Revision ID: 6f2a9c4e1b87
Revises: 4d8e2f61c3a7
Create Date: 2026-11-30 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6f2a9c4e1b87"
down_revision: str | None = "4d8e2f61c3a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Adding a nullable column is an ALTER TABLE on both engines (no copy of the table), so the triggers that
    # keep the log append-only stay as they are.
    with op.batch_alter_table("integrity_entry") as batch:
        batch.add_column(sa.Column("revision", sa.Text(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's own DROP COLUMN (3.35+) rewrites the rows in place and keeps the append-only triggers; a batch
        # copy of the table would drop them.
        op.execute("ALTER TABLE integrity_entry DROP COLUMN revision")
    else:
        op.drop_column("integrity_entry", "revision")
