"""Exact rollups for the basis analytics: month cells per dimension, kept by triggers on ``decision``.

Every INSERT, UPDATE and DELETE of a decision appends its change per cell to ``basis_rollup_delta`` in the
same transaction (statement-level triggers with transition tables on PostgreSQL, so a batch of 1,000 rows
costs one grouped insert; row-level triggers on SQLite, whose writers are serialised anyway). The
compactor folds the deltas into ``basis_rollup``. The migration fills the rollup from the decisions there.

Revision ID: 4d8e2f61c3a7
Revises: 9a41c7e2b5d0
Create Date: 2026-11-29 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4d8e2f61c3a7"
down_revision: str | None = "9a41c7e2b5d0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSUPPORTED = "'data_claim_without_evidence'"
CELL_COLUMNS = "dimension, value, period, basis_class, unsupported, currency, decisions, budget"

# --- PostgreSQL -------------------------------------------------------------------------------------------


def _pg_rows(table: str, sign: int) -> str:
    """One row per decision of ``table`` (a transition table or ``decision``) with its cell values."""
    return f"""
        SELECT date_trunc('month', decided_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS period,
               owner_handle, coalesce(team, '') AS team, coalesce(channel, '') AS channel, category,
               coalesce(strategy_key, '') AS strategy, basis_class,
               classification_reason = {UNSUPPORTED} AS unsupported,
               CASE WHEN budget_amount IS NULL THEN '' ELSE coalesce(budget_currency, '') END AS currency,
               {sign} AS decisions, {sign} * coalesce(budget_amount, 0) AS budget
        FROM {table}"""


def _pg_cells(rows: str, target: str) -> str:
    """Sum ``rows`` into their six cells each and insert the non-zero sums into ``target``."""
    return f"""
        INSERT INTO {target} ({CELL_COLUMNS})
        SELECT cell.dimension, cell.value, r.period, r.basis_class, r.unsupported, r.currency,
               sum(r.decisions), sum(r.budget)
        FROM ({rows}) AS r
        CROSS JOIN LATERAL (VALUES ('all', ''), ('owner', r.owner_handle), ('team', r.team),
                                   ('channel', r.channel), ('category', r.category), ('strategy', r.strategy))
            AS cell (dimension, value)
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(r.decisions) <> 0 OR sum(r.budget) <> 0"""


PG_FUNCTIONS = [
    f"""
CREATE FUNCTION basis_rollup_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_pg_cells(_pg_rows("new_rows", 1), "basis_rollup_delta")};
    ELSIF TG_OP = 'UPDATE' THEN
        {_pg_cells(_pg_rows("new_rows", 1) + " UNION ALL " + _pg_rows("old_rows", -1), "basis_rollup_delta")};
    ELSE
        {_pg_cells(_pg_rows("old_rows", -1), "basis_rollup_delta")};
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION basis_rollup_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The tables first, whole: a folding round holding some of their rows finishes before, instead of
    -- deadlocking with this. DELETE, not TRUNCATE: the TRUNCATE that fired this may empty them too.
    LOCK TABLE basis_rollup_delta, basis_rollup IN EXCLUSIVE MODE;
    DELETE FROM basis_rollup;
    DELETE FROM basis_rollup_delta;
    RETURN NULL;
END
$$
""",
]

PG_TRIGGERS = [
    "CREATE TRIGGER decision_basis_rollup_insert AFTER INSERT ON decision REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION basis_rollup_track()",
    "CREATE TRIGGER decision_basis_rollup_update AFTER UPDATE ON decision "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION basis_rollup_track()",
    "CREATE TRIGGER decision_basis_rollup_delete AFTER DELETE ON decision REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION basis_rollup_track()",
    "CREATE TRIGGER decision_basis_rollup_truncate AFTER TRUNCATE ON decision "
    "FOR EACH STATEMENT EXECUTE FUNCTION basis_rollup_reset()",
]

# --- SQLite -------------------------------------------------------------------------------------------------

# decided_at is stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); the month starts at 'YYYY-MM-01 00:00:00.000000'.
SQLITE_CELL_VALUES = ("'all', ''", "'owner', {r}.owner_handle", "'team', coalesce({r}.team, '')",
                      "'channel', coalesce({r}.channel, '')", "'category', {r}.category",
                      "'strategy', coalesce({r}.strategy_key, '')")  # fmt: skip


def _sqlite_cells(r: str, sign: int) -> str:
    cells = " UNION ALL ".join(f"SELECT {values.format(r=r)}" for values in SQLITE_CELL_VALUES)
    return f"""
        INSERT INTO basis_rollup_delta ({CELL_COLUMNS})
        SELECT cell.column1, cell.column2, substr({r}.decided_at, 1, 7) || '-01 00:00:00.000000', {r}.basis_class,
               {r}.classification_reason = {UNSUPPORTED},
               CASE WHEN {r}.budget_amount IS NULL THEN '' ELSE coalesce({r}.budget_currency, '') END,
               {sign}, {sign} * coalesce({r}.budget_amount, 0)
        FROM (SELECT NULL AS column1, NULL AS column2 WHERE 0 UNION ALL {cells}) AS cell;"""


TRACKED = "decided_at, owner_handle, team, channel, category, strategy_key, basis_class, classification_reason, "
TRACKED += "budget_amount, budget_currency"

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER decision_basis_rollup_insert AFTER INSERT ON decision BEGIN {_sqlite_cells('NEW', 1)} END",
    f"CREATE TRIGGER decision_basis_rollup_update AFTER UPDATE OF {TRACKED} ON decision "
    f"WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in TRACKED.split(', '))} "
    f"BEGIN {_sqlite_cells('OLD', -1)} {_sqlite_cells('NEW', 1)} END",
    f"CREATE TRIGGER decision_basis_rollup_delete AFTER DELETE ON decision BEGIN {_sqlite_cells('OLD', -1)} END",
]


def _cell_table(name: str, *, delta: bool) -> None:
    key = [] if not delta else [sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)]
    op.create_table(
        name,
        *key,
        sa.Column("dimension", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("period", sa.DateTime(timezone=True), nullable=False),
        sa.Column("basis_class", sa.String(length=10), nullable=False),
        sa.Column("unsupported", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.Column("budget", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.PrimaryKeyConstraint(
            *(["id"] if delta else ["dimension", "value", "period", "basis_class", "unsupported", "currency"]),
            name=op.f(f"pk_{name}"),
        ),
    )


def upgrade() -> None:
    _cell_table("basis_rollup", delta=False)
    _cell_table("basis_rollup_delta", delta=True)
    if op.get_bind().dialect.name == "postgresql":
        for statement in (*PG_FUNCTIONS, *PG_TRIGGERS):
            op.execute(statement)
        op.execute(_pg_cells(_pg_rows("decision", 1), "basis_rollup"))
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        for values in SQLITE_CELL_VALUES:
            op.execute(_sqlite_backfill(values.format(r="decision")))


def _sqlite_backfill(values: str) -> str:
    return f"""
        INSERT INTO basis_rollup ({CELL_COLUMNS})
        SELECT {values}, substr(decided_at, 1, 7) || '-01 00:00:00.000000', basis_class,
               classification_reason = {UNSUPPORTED},
               CASE WHEN budget_amount IS NULL THEN '' ELSE coalesce(budget_currency, '') END,
               count(*), coalesce(sum(budget_amount), 0)
        FROM decision GROUP BY 1, 2, 3, 4, 5, 6"""


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER decision_basis_rollup_{name} ON decision")
        op.execute("DROP FUNCTION basis_rollup_track()")
        op.execute("DROP FUNCTION basis_rollup_reset()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER decision_basis_rollup_{name}")
    op.drop_table("basis_rollup_delta")
    op.drop_table("basis_rollup")
