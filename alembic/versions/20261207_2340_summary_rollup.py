"""Exact day rollups for the summary (the owner's overview): per (UTC day, owner, directed_by, review_by) the
additive counts and sums of the summary's, accountability's and decision quality's figures, and per (UTC day, KPI)
the decisions aiming at the KPI; kept by triggers on ``decision`` exactly as the basis rollup is
(20261129_0900_basis_rollup.py): every write appends its change per cell to the ``*_delta`` tables in the same
transaction (statement-level triggers with transition tables on PostgreSQL, row triggers on SQLite), the folding
round moves them into the cells, and this migration fills the cells from the decisions there.

The figures are counts of decisions (additive whatever the cell holds) and three sums of forecasts; flags are
columns, never key dimensions, so a cell holds every decision of its owner, director, day and review date. A decision
without a director has ``directed_by`` '' and one without a review date the ``review_by`` 9999-12-31 (never due).

Revision ID: 7c2a9e4d1b83
Revises: 5e2b9d7c1a48
Create Date: 2026-12-07 23:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c2a9e4d1b83"
down_revision: str | None = "5e2b9d7c1a48"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The signals that make a data claim's language emotional: feeling 1, certainty 2, hearsay 8 (rationale_signals).
EMOTIONAL_BITS = 11
FORECAST = "{r}.confidence IS NOT NULL AND {r}.outcome_result IN ('success', 'partial', 'failure')"
# A forecast's figures as exact integers, as the forecast rollup keeps them: confidence and observed in millionths.
CONFIDENCE = "CAST(round({r}.confidence * 1000000) AS BIGINT)"
OBSERVED = "CASE {r}.outcome_result WHEN 'success' THEN 1000000 WHEN 'partial' THEN 500000 ELSE 0 END"
OVERRIDE = "NOT {r}.recommendation_followed"
# Each count: the decisions of the cell meeting the condition.
COUNTS = {
    "decisions": "1 = 1",
    "data": "{r}.basis_class = 'data'",
    "emotion": "{r}.basis_class = 'emotion'",
    "emotion_unsupported": "{r}.classification_reason = 'data_claim_without_evidence'",
    "reviewed": "{r}.outcome_result IS NOT NULL",
    "reversed": "{r}.status <> 'active'",
    "with_strategy": "{r}.strategy_key IS NOT NULL",
    **{
        f"{basis_class}_{name}": f"{{r}}.basis_class = '{basis_class}' AND {condition}"
        for basis_class in ("data", "emotion")
        for name, condition in (
            ("reviewed", "{r}.outcome_result IS NOT NULL"),
            ("success", "{r}.outcome_result = 'success'"),
            ("inconclusive", "{r}.outcome_result = 'inconclusive'"),
        )
    },
    "data_emotional": f"{{r}}.basis_class = 'data' AND ({{r}}.rationale_signal_mask & {EMOTIONAL_BITS}) <> 0",
    "forecasts": FORECAST,
    "overrides": OVERRIDE,
    "overrides_concluded": f"{OVERRIDE} AND {{r}}.outcome_result <> 'inconclusive'",
    "overrides_success": f"{OVERRIDE} AND {{r}}.outcome_result = 'success'",
}
# Each sum: over the forecasts of the cell.
SUMS = {
    "confidence_e6": CONFIDENCE,
    "observed_e6": OBSERVED,
    "squared_error_e12": f"({CONFIDENCE} - {OBSERVED}) * ({CONFIDENCE} - {OBSERVED})",
}
KEY = ("day", "owner_handle", "directed_by", "review_by")
FIGURES = (*COUNTS, *SUMS)
NEVER = {"postgresql": "TIMESTAMPTZ '9999-12-31 00:00:00+00'", "sqlite": "'9999-12-31 00:00:00.000000'"}


def _day(r: str, dialect: str) -> str:
    """The first instant of the UTC day of ``decided_at``, as the column stores it."""
    if dialect == "postgresql":
        return f"date_trunc('day', {r}.decided_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    return f"substr({r}.decided_at, 1, 10) || ' 00:00:00.000000'"


def _values(r: str, sign: int, dialect: str) -> str:
    """A decision's key and figures (``r`` its row: an alias, NEW or OLD), times ``sign``."""
    counts = [f"CASE WHEN {c.format(r=r)} THEN {sign} ELSE 0 END AS {name}" for name, c in COUNTS.items()]
    forecast = FORECAST.format(r=r)
    sums = [f"CASE WHEN {forecast} THEN {sign} * ({s.format(r=r)}) ELSE 0 END AS {name}" for name, s in SUMS.items()]
    return ", ".join(
        [
            f"{_day(r, dialect)} AS day",
            f"{r}.owner_handle AS owner_handle",
            f"coalesce({r}.directed_by, '') AS directed_by",
            f"coalesce({r}.review_by, {NEVER[dialect]}) AS review_by",
            *counts,
            *sums,
        ]
    )


def _grouped(rows: str, target: str) -> str:
    """Sum ``rows`` (key and figures) per cell and insert the non-zero sums into ``target``."""
    return f"""
        INSERT INTO {target} ({", ".join((*KEY, *FIGURES))})
        SELECT {", ".join(KEY)}, {", ".join(f"sum({name})" for name in FIGURES)}
        FROM ({rows}) AS r
        GROUP BY {", ".join(KEY)}
        HAVING {" OR ".join(f"sum({name}) <> 0" for name in FIGURES)}"""


def _kpi_rows(table: str, sign: int, dialect: str) -> str:
    elements = "jsonb_array_elements_text(r.kpis)" if dialect == "postgresql" else "json_each(r.kpis)"
    return f"SELECT {_day('r', dialect)} AS day, e.value AS kpi, {sign} AS decisions FROM {table} AS r, {elements} AS e"


def _kpi_grouped(rows: str, target: str) -> str:
    return f"""
        INSERT INTO {target} (day, kpi, decisions)
        SELECT day, kpi, sum(decisions) FROM ({rows}) AS k GROUP BY day, kpi HAVING sum(decisions) <> 0"""


# --- PostgreSQL -------------------------------------------------------------------------------------------


def _pg_rows(table: str, sign: int) -> str:
    return f"SELECT {_values('r', sign, 'postgresql')} FROM {table} AS r"


def _pg_track(*tables: tuple[str, int]) -> str:
    rows = " UNION ALL ".join(_pg_rows(t, s) for t, s in tables)
    kpis = " UNION ALL ".join(_kpi_rows(t, s, "postgresql") for t, s in tables)
    return f"{_grouped(rows, 'summary_rollup_delta')}; {_kpi_grouped(kpis, 'kpi_rollup_delta')};"


PG_FUNCTIONS = [
    f"""
CREATE FUNCTION summary_rollup_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_pg_track(("new_rows", 1))}
    ELSIF TG_OP = 'UPDATE' THEN
        {_pg_track(("new_rows", 1), ("old_rows", -1))}
    ELSE
        {_pg_track(("old_rows", -1))}
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION summary_rollup_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE summary_rollup_delta, summary_rollup, kpi_rollup_delta, kpi_rollup IN EXCLUSIVE MODE;
    DELETE FROM summary_rollup;
    DELETE FROM summary_rollup_delta;
    DELETE FROM kpi_rollup;
    DELETE FROM kpi_rollup_delta;
    RETURN NULL;
END
$$
""",
]

PG_TRIGGERS = [
    "CREATE TRIGGER decision_summary_rollup_insert AFTER INSERT ON decision REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION summary_rollup_track()",
    "CREATE TRIGGER decision_summary_rollup_update AFTER UPDATE ON decision "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION summary_rollup_track()",
    "CREATE TRIGGER decision_summary_rollup_delete AFTER DELETE ON decision REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION summary_rollup_track()",
    "CREATE TRIGGER decision_summary_rollup_truncate AFTER TRUNCATE ON decision "
    "FOR EACH STATEMENT EXECUTE FUNCTION summary_rollup_reset()",
]

# --- SQLite -------------------------------------------------------------------------------------------------

TRACKED = (
    "decided_at, owner_handle, directed_by, review_by, basis_class, classification_reason, outcome_result, status, "
    "strategy_key, rationale_signal_mask, confidence, recommendation_followed, kpis"
)


def _sqlite_track(r: str, sign: int) -> str:
    return (
        f"INSERT INTO summary_rollup_delta ({', '.join((*KEY, *FIGURES))}) SELECT {_values(r, sign, 'sqlite')}; "
        f"INSERT INTO kpi_rollup_delta (day, kpi, decisions) "
        f"SELECT {_day(r, 'sqlite')}, e.value, {sign} FROM json_each({r}.kpis) AS e;"
    )


SQLITE_TRIGGERS = [
    f"CREATE TRIGGER decision_summary_rollup_insert AFTER INSERT ON decision BEGIN {_sqlite_track('NEW', 1)} END",
    f"CREATE TRIGGER decision_summary_rollup_update AFTER UPDATE OF {TRACKED} ON decision "
    f"WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in TRACKED.split(', '))} "
    f"BEGIN {_sqlite_track('OLD', -1)} {_sqlite_track('NEW', 1)} END",
    f"CREATE TRIGGER decision_summary_rollup_delete AFTER DELETE ON decision BEGIN {_sqlite_track('OLD', -1)} END",
]


def _tables() -> None:
    for name in ("summary_rollup", "summary_rollup_delta"):
        delta = name.endswith("_delta")
        op.create_table(
            name,
            *([sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)] if delta else []),
            sa.Column("day", sa.DateTime(timezone=True), nullable=False),
            sa.Column("owner_handle", sa.String(length=64), nullable=False),
            sa.Column("directed_by", sa.String(length=64), nullable=False),
            sa.Column("review_by", sa.DateTime(timezone=True), nullable=False),
            *(sa.Column(figure, sa.Integer(), nullable=False) for figure in COUNTS),
            *(sa.Column(figure, sa.BigInteger(), nullable=False) for figure in SUMS),
            sa.PrimaryKeyConstraint(*(["id"] if delta else KEY), name=op.f(f"pk_{name}")),
        )
    for name in ("kpi_rollup", "kpi_rollup_delta"):
        delta = name.endswith("_delta")
        op.create_table(
            name,
            *([sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)] if delta else []),
            sa.Column("day", sa.DateTime(timezone=True), nullable=False),
            sa.Column("kpi", sa.String(length=64), nullable=False),
            sa.Column("decisions", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint(*(["id"] if delta else ["day", "kpi"]), name=op.f(f"pk_{name}")),
        )


UNREVIEWED_SQL = "review_by IS NOT NULL AND outcome_result IS NULL"


def _indexes() -> None:
    """The overview's overdue reviews and currencies of a range: index-only scans of the range on PostgreSQL."""
    op.create_index(
        "ix_decision_unreviewed_decided_at",
        "decision",
        ["decided_at"],
        postgresql_include=["review_by", "budget_currency", "budget_amount", "id"],
        postgresql_where=sa.text(UNREVIEWED_SQL),
        sqlite_where=sa.text(UNREVIEWED_SQL),
    )
    op.create_index(
        "ix_decision_currency_decided_at",
        "decision",
        ["decided_at"],
        postgresql_include=["budget_currency"],
        postgresql_where=sa.text("budget_currency IS NOT NULL"),
        sqlite_where=sa.text("budget_currency IS NOT NULL"),
    )


def upgrade() -> None:
    _tables()
    _indexes()
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in (*PG_FUNCTIONS, *PG_TRIGGERS):
            op.execute(statement)
        # The fill reads every decision once (a minute at a few million): not bounded by the requests' timeout.
        op.execute("SET LOCAL statement_timeout = 0")
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    # In key order, so that a range of days is a run of adjacent pages.
    op.execute(
        _grouped(f"SELECT {_values('r', 1, dialect)} FROM decision AS r", "summary_rollup") + " ORDER BY 1, 2, 3, 4"
    )
    op.execute(_kpi_grouped(_kpi_rows("decision", 1, dialect), "kpi_rollup") + " ORDER BY 1, 2")
    if dialect == "postgresql":
        op.execute("ANALYZE summary_rollup, kpi_rollup, decision")


def downgrade() -> None:
    op.drop_index("ix_decision_currency_decided_at", table_name="decision")
    op.drop_index("ix_decision_unreviewed_decided_at", table_name="decision")
    if op.get_bind().dialect.name == "postgresql":
        for name in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER decision_summary_rollup_{name} ON decision")
        op.execute("DROP FUNCTION summary_rollup_track()")
        op.execute("DROP FUNCTION summary_rollup_reset()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER decision_summary_rollup_{name}")
    for name in ("kpi_rollup_delta", "kpi_rollup", "summary_rollup_delta", "summary_rollup"):
        op.drop_table(name)
