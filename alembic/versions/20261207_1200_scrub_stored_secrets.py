"""Drop the API keys that idempotency records kept in the responses they stored.

Until this revision, ``POST /v1/keys`` made with an ``Idempotency-Key`` stored its whole response, the new
key's secret included, for replays. Responses that carry a secret are no longer stored with their body; this
clears the bodies already stored for such requests (the ones that created a key: ``Location: /v1/keys/…``),
so a replay answers 409 ``secret_not_replayed`` like a new one. Nothing else changes.

Revision ID: 6b2d9e4f7a13
Revises: 6f2a9c4e1b87
Create Date: 2026-12-07 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6b2d9e4f7a13"
down_revision: str | None = "6f2a9c4e1b87"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    location = (
        "response_headers ->> 'location'"
        if op.get_bind().dialect.name == "postgresql"
        else "json_extract(response_headers, '$.location')"
    )
    op.execute(
        sa.text(
            f"UPDATE idempotency_record SET response_body = NULL "
            f"WHERE response_body IS NOT NULL AND {location} LIKE '/v1/keys/%'"
        )
    )


def downgrade() -> None:
    """The secrets are gone for good: nothing to restore."""
