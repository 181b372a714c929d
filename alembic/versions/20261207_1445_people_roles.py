"""People's role (the business owner, the head of marketing, a member) and whether the weekly digest reaches them.

Revision ID: 9e3b6f0a2d71
Revises: 4d7e1a92c5b3
Create Date: 2026-12-07 14:45:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e3b6f0a2d71"
down_revision: str | None = "4d7e1a92c5b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both engines (SQLite has added and dropped columns since 3.35): a batch operation would copy
# the table, which decisions refer to.
def upgrade() -> None:
    op.add_column("person", sa.Column("role", sa.String(length=10), nullable=False, server_default="member"))
    op.add_column("person", sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("person", "digest")
    op.drop_column("person", "role")
