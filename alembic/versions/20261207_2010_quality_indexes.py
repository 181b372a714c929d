"""Decision quality at scale. Contradictions: the index of open decisions (active, unreviewed, with a direction) by
KPI, direction and time, instead of by KPI and time, so that the pairs are looked up from the decisions pushing a KPI
against its direction (an equality on the direction) rather than by comparing every open decision with every other
on its KPI; on PostgreSQL, statistics of KPI and direction together, so that the planner knows how few decisions
push a KPI against its direction. Calibration: a partial index of the forecasts by time, carrying what calibration
reads of them.

Revision ID: 3c8e5b1f7d24
Revises: 7a91c3d2e5f0
Create Date: 2026-12-07 20:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c8e5b1f7d24"
down_revision: str | None = "7a91c3d2e5f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTRADICTABLE = "status = 'active' AND outcome_result IS NULL AND expected_direction IS NOT NULL"
FORECAST = "confidence IS NOT NULL AND outcome_result IN ('success', 'partial', 'failure')"
FORECAST_COLUMNS = ["confidence", "outcome_result", "basis_class", "owner_handle", "team", "channel"]


STATISTICS = "decision_expected_kpi_direction"


def upgrade() -> None:
    op.create_index(
        "ix_decision_expected_kpi_direction_open",
        "decision",
        ["expected_kpi", "expected_direction", "decided_at"],
        postgresql_where=sa.text(CONTRADICTABLE),
        sqlite_where=sa.text(CONTRADICTABLE),
    )
    op.drop_index("ix_decision_expected_kpi_open", table_name="decision")
    op.create_index(
        "ix_decision_forecast_decided_at",
        "decision",
        ["decided_at"],
        postgresql_include=FORECAST_COLUMNS,
        postgresql_where=sa.text(FORECAST),
        sqlite_where=sa.text(FORECAST),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE STATISTICS {STATISTICS} (mcv) ON expected_kpi, expected_direction FROM decision")
        op.execute("ANALYZE decision")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
    op.drop_index("ix_decision_forecast_decided_at", table_name="decision")
    op.create_index(
        "ix_decision_expected_kpi_open",
        "decision",
        ["expected_kpi", "decided_at"],
        postgresql_where=sa.text(CONTRADICTABLE),
        sqlite_where=sa.text(CONTRADICTABLE),
    )
    op.drop_index("ix_decision_expected_kpi_direction_open", table_name="decision")
