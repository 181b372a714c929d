"""Decision quality: the owner's ``confidence``, the ``alternatives`` considered, the data's recommendation and
whether it was followed, the expected outcome's KPI and direction as columns (for the contradiction and
calibration queries), and whether a review met its target; ``bi_decision`` shows them (after the whole
system's columns, which the revision before added).

Revision ID: 7a91c3d2e5f0
Revises: 5d1a6e0c9b27
Create Date: 2026-12-07 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7a91c3d2e5f0"
down_revision: str | None = "5d1a6e0c9b27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
CONTRADICTABLE = "status = 'active' AND outcome_result IS NULL AND expected_direction IS NOT NULL"
UNITS = 10_000
EXACT_BUDGET = {
    "postgresql": f"trim_scale(budget_amount::numeric / {UNITS}) AS budget_amount, budget_amount AS budget_amount_e4",
    "sqlite": f"budget_amount / {UNITS} + (budget_amount % {UNITS}) / {UNITS}.0 AS budget_amount, "
    "budget_amount AS budget_amount_e4",
}
DECISION_VIEW = """
CREATE VIEW bi_decision AS
SELECT
    id, title, owner_handle AS owner, team, channel, category,
    basis, basis_class, classification_reason,
    CASE WHEN classification_reason = 'data_claim_without_evidence' THEN 1 ELSE 0 END AS data_claim_without_evidence,
    evidence_count, {budget}, budget_currency,
    decided_at, strategy_key AS strategy, strategy_version,
    status, CASE WHEN status = 'active' THEN 0 ELSE 1 END AS reversed,
    review_by, outcome_result, outcome_reviewed_at,
    revision, recorded_at, updated_at,
    contractor_key AS contractor, directed_by, outcome_cause,
    CASE WHEN rationale_signal_mask & 1 <> 0 THEN 1 ELSE 0 END AS rationale_feeling,
    CASE WHEN rationale_signal_mask & 2 <> 0 THEN 1 ELSE 0 END AS rationale_certainty,
    CASE WHEN rationale_signal_mask & 4 <> 0 THEN 1 ELSE 0 END AS rationale_authority,
    CASE WHEN rationale_signal_mask & 8 <> 0 THEN 1 ELSE 0 END AS rationale_hearsay{quality}
FROM decision
"""
QUALITY_COLUMNS = """,
    confidence, recommended_option, recommendation_followed,
    CASE WHEN recommendation_followed = {false} THEN 1 ELSE 0 END AS data_overridden,
    expected_kpi, expected_direction, outcome_target_met"""
FALSE = {"postgresql": "false", "sqlite": "0"}
# The expected outcome's KPI of the decisions recorded before it was a column.
EXPECTED_KPI = {
    "postgresql": "UPDATE decision SET expected_kpi = expected_outcome ->> 'kpi' WHERE expected_outcome IS NOT NULL",
    "sqlite": "UPDATE decision SET expected_kpi = json_extract(expected_outcome, '$.kpi') "
    "WHERE expected_outcome IS NOT NULL",
}


def _view(dialect: str, *, quality: bool) -> str:
    columns = QUALITY_COLUMNS.format(false=FALSE[dialect]) if quality else ""
    return DECISION_VIEW.format(budget=EXACT_BUDGET[dialect], quality=columns)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW bi_decision")
    # Plain ADD COLUMN (no batch rebuild): SQLite keeps the decision table, its triggers and the tables referring to it.
    op.add_column("decision", sa.Column("confidence", sa.Float(), nullable=True))
    op.add_column("decision", sa.Column("alternatives", JSON, server_default=sa.text("'[]'"), nullable=False))
    op.add_column("decision", sa.Column("recommended_option", sa.String(), nullable=True))
    op.add_column("decision", sa.Column("recommendation_followed", sa.Boolean(), nullable=True))
    op.add_column("decision", sa.Column("expected_kpi", sa.String(length=64), nullable=True))
    op.add_column("decision", sa.Column("expected_direction", sa.String(length=8), nullable=True))
    op.add_column("decision", sa.Column("outcome_target_met", sa.Boolean(), nullable=True))
    op.execute(EXPECTED_KPI[dialect])
    op.create_index(
        "ix_decision_expected_kpi_open",
        "decision",
        ["expected_kpi", "decided_at"],
        postgresql_where=sa.text(CONTRADICTABLE),
        sqlite_where=sa.text(CONTRADICTABLE),
    )
    op.execute(_view(dialect, quality=True))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW bi_decision")
    op.drop_index("ix_decision_expected_kpi_open", table_name="decision")
    for column in (
        "outcome_target_met",
        "expected_direction",
        "expected_kpi",
        "recommendation_followed",
        "recommended_option",
        "alternatives",
        "confidence",
    ):
        op.execute(f"ALTER TABLE decision DROP COLUMN {column}")
    op.execute(_view(dialect, quality=False))
