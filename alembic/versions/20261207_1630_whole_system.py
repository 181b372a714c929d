"""The whole system on decisions: the contractor executing one, the person who directed it, the cause a review
holds responsible, and the signals found in the rationale (their bits indexed, one partial index per signal).

``bi_decision`` gains ``contractor``, ``directed_by``, ``outcome_cause`` and one 0/1 column per rationale signal.
Decisions recorded before this revision have no signals until their rationale is corrected.

Revision ID: 6a1c4e8f2b90
Revises: cec209caa6f9
Create Date: 2026-12-07 16:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6a1c4e8f2b90"
down_revision: str | None = "cec209caa6f9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNAL_BITS = {"feeling": 1, "certainty": 2, "authority": 4, "hearsay": 8}
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
    revision, recorded_at, updated_at{extra}
FROM decision
"""
WHOLE_SYSTEM_COLUMNS = ",\n    contractor_key AS contractor, directed_by, outcome_cause" + "".join(
    f",\n    CASE WHEN rationale_signal_mask & {bit} <> 0 THEN 1 ELSE 0 END AS rationale_{name}"
    for name, bit in SIGNAL_BITS.items()
)


def _view(extra: str) -> str:
    return DECISION_VIEW.format(budget=EXACT_BUDGET[op.get_bind().dialect.name], extra=extra)


# Plain ALTER TABLE on both engines (as for people's roles): a batch operation would copy the table, which other
# tables refer to. The view reads the table's columns, so it is made again around the change.
def upgrade() -> None:
    op.execute("DROP VIEW bi_decision")
    for column, target in (("contractor_key", "contractor.key"), ("directed_by", "person.handle")):
        name = f"fk_decision_{column}_{target.split('.')[0]}"
        if op.get_bind().dialect.name == "postgresql":
            foreign_key = sa.ForeignKey(target, name=op.f(name))
            op.add_column("decision", sa.Column(column, sa.String(length=64), foreign_key, nullable=True))
        else:  # SQLite adds a column with its reference, not a constraint on its own
            table, key = target.split(".")
            op.execute(
                f"ALTER TABLE decision ADD COLUMN {column} VARCHAR(64) CONSTRAINT {name} REFERENCES {table} ({key})"
            )
    op.add_column("decision", sa.Column("outcome_cause", sa.String(length=12), nullable=True))
    op.add_column("decision", sa.Column("rationale_signals", _json(), nullable=False, server_default=sa.text("'[]'")))
    op.add_column(
        "decision", sa.Column("rationale_signal_mask", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    op.create_index("ix_decision_contractor_key_decided_at", "decision", ["contractor_key", "decided_at"])
    op.create_index("ix_decision_directed_by_decided_at", "decision", ["directed_by", "decided_at"])
    for name, bit in SIGNAL_BITS.items():
        predicate = sa.text(f"rationale_signal_mask & {bit} <> 0")
        op.create_index(
            f"ix_decision_signal_{name}",
            "decision",
            ["decided_at", "id"],
            postgresql_where=predicate,
            sqlite_where=predicate,
        )
    op.execute(_view(WHOLE_SYSTEM_COLUMNS))


def downgrade() -> None:
    op.execute("DROP VIEW bi_decision")
    for name in SIGNAL_BITS:
        op.drop_index(f"ix_decision_signal_{name}", table_name="decision")
    op.drop_index("ix_decision_directed_by_decided_at", table_name="decision")
    op.drop_index("ix_decision_contractor_key_decided_at", table_name="decision")
    for column in ("rationale_signal_mask", "rationale_signals", "outcome_cause", "directed_by", "contractor_key"):
        if op.get_bind().dialect.name == "postgresql":
            op.drop_column("decision", column)
        else:
            # SQLite drops no column that a foreign key or an index names: both are gone or plain here.
            op.execute(f"ALTER TABLE decision DROP COLUMN {column}")
    op.execute(_view(""))


def _json() -> sa.types.TypeEngine[object]:
    from sqlalchemy.dialects import postgresql

    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
