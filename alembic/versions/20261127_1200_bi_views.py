"""Read-only SQL views for BI tools that read SQL (Metabase, Grafana, Power BI's SQL connectors).

Revision ID: 5c0b1e7a9d42
Revises: d3f65f00a78c
Create Date: 2026-11-27 12:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5c0b1e7a9d42"
down_revision: str | None = "d3f65f00a78c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECISION_VIEW = """
CREATE VIEW bi_decision AS
SELECT
    id, title, owner_handle AS owner, team, channel, category,
    basis, basis_class, classification_reason,
    CASE WHEN classification_reason = 'data_claim_without_evidence' THEN 1 ELSE 0 END AS data_claim_without_evidence,
    evidence_count, budget_amount, budget_currency,
    decided_at, strategy_key AS strategy, strategy_version,
    status, CASE WHEN status = 'active' THEN 0 ELSE 1 END AS reversed,
    review_by, outcome_result, outcome_reviewed_at,
    revision, recorded_at, updated_at
FROM decision
"""

STRATEGY_CHANGE_VIEW = {
    "postgresql": """
CREATE VIEW bi_strategy_change AS
SELECT
    strategy_key AS strategy, number, effective_from, change_reason,
    CASE WHEN number > 1 AND (change_reason IS NULL OR trim(change_reason) = '') THEN 1 ELSE 0 END AS unexplained,
    lag(effective_from) OVER (PARTITION BY strategy_key ORDER BY number) AS previous_effective_from,
    extract(epoch FROM effective_from - lag(effective_from) OVER (PARTITION BY strategy_key ORDER BY number))
        / 86400.0 AS days_since_previous
FROM strategy_version
""",
    "sqlite": """
CREATE VIEW bi_strategy_change AS
SELECT
    strategy_key AS strategy, number, effective_from, change_reason,
    CASE WHEN number > 1 AND (change_reason IS NULL OR trim(change_reason) = '') THEN 1 ELSE 0 END AS unexplained,
    lag(effective_from) OVER (PARTITION BY strategy_key ORDER BY number) AS previous_effective_from,
    round((julianday(effective_from)
           - julianday(lag(effective_from) OVER (PARTITION BY strategy_key ORDER BY number))) * 86400000)
        / 86400000.0 AS days_since_previous
FROM strategy_version
""",
}

DECISION_KPI_VIEW = {
    "postgresql": """
CREATE VIEW bi_decision_kpi AS
SELECT d.id AS decision_id, k.value AS kpi, d.decided_at, d.basis_class
FROM decision AS d CROSS JOIN LATERAL jsonb_array_elements_text(d.kpis) AS k(value)
""",
    "sqlite": """
CREATE VIEW bi_decision_kpi AS
SELECT d.id AS decision_id, k.value AS kpi, d.decided_at, d.basis_class
FROM decision AS d, json_each(d.kpis) AS k
""",
}

KPI_REVISION_VIEW = """
CREATE VIEW bi_kpi_revision AS
SELECT
    r.kpi_key AS kpi, r.revision, r.changed_at, r.changed_by, r.change_reason,
    CASE WHEN r.revision > 1 AND (r.change_reason IS NULL OR trim(r.change_reason) = '') THEN 1 ELSE 0 END
        AS unexplained,
    k.kind, k.owner_handle AS owner
FROM kpi_revision AS r JOIN kpi AS k ON k.key = r.kpi_key
"""

VIEWS = ("bi_kpi_revision", "bi_decision_kpi", "bi_strategy_change", "bi_decision")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(DECISION_VIEW)
    op.execute(STRATEGY_CHANGE_VIEW[dialect])
    op.execute(DECISION_KPI_VIEW[dialect])
    op.execute(KPI_REVISION_VIEW)


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
