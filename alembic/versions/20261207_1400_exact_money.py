"""Exact money: budgets in integer ten-thousandths, rollup budgets in two exact integer parts, exact BI amounts.

``decision.budget_amount`` was NUMERIC(18, 2): exact on PostgreSQL, but a double on SQLite (99999999999999.99 was
stored as …98). It becomes a 64-bit count of ten-thousandths of the currency on both engines (15000.5 EUR is
150005000; app/core/money.py): four places hold every ISO 4217 minor unit, and amounts below 10**14 fit.

``basis_rollup`` and ``basis_rollup_delta`` kept ``budget`` as NUMERIC(20, 2), a double on SQLite too. They keep
``budget_high`` and ``budget_low`` instead: the sums of ``units / 10**9`` and ``units % 10**9`` of the cell's
amounts, each part below 10**9, so both add up in 64 bits on SQLite for any number of decisions below nine billion
(one sum of the amounts would overflow after nine of the largest). The triggers that append the deltas write the
parts; the rollup is rebuilt from the decisions.

``bi_decision.budget_amount`` is the exact amount on PostgreSQL (``numeric``, as many places as it needs); SQLite
has no decimal type, so there it is a double (exact up to 15 significant digits). ``budget_amount_e4``, the
integer count of ten-thousandths, is exact on both: add it up and divide by 10,000.

Existing data: every amount is converted exactly (on SQLite, the double the old column held, to the cent of its
scale). An amount above 922,337,203,685,477.58 cannot be counted in ten-thousandths in 64 bits: the upgrade
stops, naming such decisions, before changing anything. Downgrade restores NUMERIC(18, 2), rounding amounts of
three- and four-decimal currencies to the cent, and the rollup in its old form.

The tamper-evident log is append-only and left as it is: its entries logged each amount as a double, the same
number the service now logs for every amount a double spells (README, "Money"). On PostgreSQL, a decision whose
amount no double spells (16 or more significant digits) was logged rounded while its column held it exactly;
verification reports it as differing from its log.

Revision ID: c8a51f3e9d27
Revises: 2f6a8c40d1e9
Create Date: 2026-12-07 14:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c8a51f3e9d27"
down_revision: str | None = "2f6a8c40d1e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNITS = 10_000  # ten-thousandths
SPLIT = 1_000_000_000
LARGEST = "922337203685477.5807"  # (2**63 - 1) ten-thousandths
COMMENT = "Ten-thousandths of budget_currency (15000.5 EUR is 150005000); bi_decision.budget_amount is the amount."
UNSUPPORTED = "'data_claim_without_evidence'"
KEY_COLUMNS = "dimension, value, period, basis_class, unsupported, currency"

# The budget columns of the rollup, each with its value for one decision (``{r}`` the decision's row).
NEW_PARTS = (("budget_high", f"{{r}}budget_amount / {SPLIT}"), ("budget_low", f"{{r}}budget_amount % {SPLIT}"))
OLD_PARTS = (("budget", "{r}budget_amount"),)
Parts = tuple[tuple[str, str], ...]


def _columns(parts: Parts) -> str:
    return f"{KEY_COLUMNS}, decisions, " + ", ".join(name for name, _ in parts)


# --- PostgreSQL -------------------------------------------------------------------------------------------


def _pg_rows(table: str, sign: int, parts: Parts) -> str:
    """One row per decision of ``table`` (a transition table or ``decision``) with its cell values."""
    budgets = ", ".join(f"{sign} * coalesce({value.format(r='')}, 0) AS {name}" for name, value in parts)
    return f"""
        SELECT date_trunc('month', decided_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS period,
               owner_handle, coalesce(team, '') AS team, coalesce(channel, '') AS channel, category,
               coalesce(strategy_key, '') AS strategy, basis_class,
               classification_reason = {UNSUPPORTED} AS unsupported,
               CASE WHEN budget_amount IS NULL THEN '' ELSE coalesce(budget_currency, '') END AS currency,
               {sign} AS decisions, {budgets}
        FROM {table}"""


def _pg_cells(rows: str, target: str, parts: Parts) -> str:
    """Sum ``rows`` into their six cells each and insert the non-zero sums into ``target``."""
    sums = ", ".join(f"sum(r.{name})" for name, _ in parts)
    nonzero = " OR ".join(f"sum(r.{name}) <> 0" for name, _ in parts)
    return f"""
        INSERT INTO {target} ({_columns(parts)})
        SELECT cell.dimension, cell.value, r.period, r.basis_class, r.unsupported, r.currency,
               sum(r.decisions), {sums}
        FROM ({rows}) AS r
        CROSS JOIN LATERAL (VALUES ('all', ''), ('owner', r.owner_handle), ('team', r.team),
                                   ('channel', r.channel), ('category', r.category), ('strategy', r.strategy))
            AS cell (dimension, value)
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(r.decisions) <> 0 OR {nonzero}"""


def _pg_track(parts: Parts) -> str:
    def cells(*rows: str) -> str:
        return _pg_cells(" UNION ALL ".join(rows), "basis_rollup_delta", parts)

    new, old = _pg_rows("new_rows", 1, parts), _pg_rows("old_rows", -1, parts)
    return f"""
CREATE OR REPLACE FUNCTION basis_rollup_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {cells(new)};
    ELSIF TG_OP = 'UPDATE' THEN
        {cells(new, old)};
    ELSE
        {cells(old)};
    END IF;
    RETURN NULL;
END
$$
"""


# --- SQLite -------------------------------------------------------------------------------------------------

SQLITE_CELL_VALUES = ("'all', ''", "'owner', {r}owner_handle", "'team', coalesce({r}team, '')",
                      "'channel', coalesce({r}channel, '')", "'category', {r}category",
                      "'strategy', coalesce({r}strategy_key, '')")  # fmt: skip
TRACKED = (
    "decided_at, owner_handle, team, channel, category, strategy_key, basis_class, classification_reason, "
    "budget_amount, budget_currency"
)
SQLITE_TRIGGERS = ("insert", "update", "delete")


def _sqlite_cells(r: str, sign: int, parts: Parts) -> str:
    cells = " UNION ALL ".join(f"SELECT {values.format(r=r + '.')}" for values in SQLITE_CELL_VALUES)
    budgets = ", ".join(f"{sign} * coalesce({value.format(r=r + '.')}, 0)" for _, value in parts)
    return f"""
        INSERT INTO basis_rollup_delta ({_columns(parts)})
        SELECT cell.column1, cell.column2, substr({r}.decided_at, 1, 7) || '-01 00:00:00.000000', {r}.basis_class,
               {r}.classification_reason = {UNSUPPORTED},
               CASE WHEN {r}.budget_amount IS NULL THEN '' ELSE coalesce({r}.budget_currency, '') END,
               {sign}, {budgets}
        FROM (SELECT NULL AS column1, NULL AS column2 WHERE 0 UNION ALL {cells}) AS cell;"""


def _sqlite_triggers(parts: Parts) -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in TRACKED.split(", "))
    return [
        "CREATE TRIGGER decision_basis_rollup_insert AFTER INSERT ON decision "
        f"BEGIN {_sqlite_cells('NEW', 1, parts)} END",
        f"CREATE TRIGGER decision_basis_rollup_update AFTER UPDATE OF {TRACKED} ON decision WHEN {changed} "
        f"BEGIN {_sqlite_cells('OLD', -1, parts)} {_sqlite_cells('NEW', 1, parts)} END",
        "CREATE TRIGGER decision_basis_rollup_delete AFTER DELETE ON decision "
        f"BEGIN {_sqlite_cells('OLD', -1, parts)} END",
    ]


def _sqlite_backfill(values: str, parts: Parts) -> str:
    sums = ", ".join(f"coalesce(sum({value.format(r='')}), 0)" for _, value in parts)
    return f"""
        INSERT INTO basis_rollup ({_columns(parts)})
        SELECT {values.format(r="")}, substr(decided_at, 1, 7) || '-01 00:00:00.000000', basis_class,
               classification_reason = {UNSUPPORTED},
               CASE WHEN budget_amount IS NULL THEN '' ELSE coalesce(budget_currency, '') END,
               count(*), {sums}
        FROM decision GROUP BY 1, 2, 3, 4, 5, 6"""


# --- The rollup tables and the view -------------------------------------------------------------------------


def _cell_tables(parts: Parts, budget_type: sa.types.TypeEngine[object]) -> None:
    for name, delta in (("basis_rollup", False), ("basis_rollup_delta", True)):
        key = [sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)] if delta else []
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
            *(sa.Column(column, budget_type, nullable=False) for column, _ in parts),
            sa.PrimaryKeyConstraint(*(["id"] if delta else KEY_COLUMNS.split(", ")), name=op.f(f"pk_{name}")),
        )


def _rebuild_rollup(dialect: str, parts: Parts, budget_type: sa.types.TypeEngine[object]) -> None:
    """The rollup tables in their new form, filled from the decisions; the triggers that keep them."""
    op.drop_table("basis_rollup_delta")
    op.drop_table("basis_rollup")
    _cell_tables(parts, budget_type)
    if dialect == "postgresql":
        op.execute(_pg_track(parts))
        op.execute(_pg_cells(_pg_rows("decision", 1, parts), "basis_rollup", parts))
    else:
        for statement in _sqlite_triggers(parts):
            op.execute(statement)
        for values in SQLITE_CELL_VALUES:
            op.execute(_sqlite_backfill(values, parts))


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
    revision, recorded_at, updated_at
FROM decision
"""
EXACT_BUDGET = {
    "postgresql": f"trim_scale(budget_amount::numeric / {UNITS}) AS budget_amount, budget_amount AS budget_amount_e4",
    # The whole part exactly, then the fraction: the nearest double (one division would round the integer first).
    "sqlite": f"budget_amount / {UNITS} + (budget_amount % {UNITS}) / {UNITS}.0 AS budget_amount, "
    "budget_amount AS budget_amount_e4",
}


def _replace_column(dialect: str, new_type: str, convert: str, comment: str | None) -> None:
    """``decision.budget_amount`` as ``new_type``, each value through ``convert`` (SQL on ``budget_amount``)."""
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE decision ALTER COLUMN budget_amount TYPE {new_type} USING {convert}")
        op.execute(f"COMMENT ON COLUMN decision.budget_amount IS {_quoted(comment)}")
        return
    # SQLite changes a column's type by a new column: the table is not rebuilt (other tables refer to it).
    op.execute(f"ALTER TABLE decision ADD COLUMN budget_amount_new {new_type}")
    op.execute(f"UPDATE decision SET budget_amount_new = {convert} WHERE budget_amount IS NOT NULL")
    op.execute("ALTER TABLE decision DROP COLUMN budget_amount")
    op.execute("ALTER TABLE decision RENAME COLUMN budget_amount_new TO budget_amount")


def _quoted(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def _drop_dependants(dialect: str) -> None:
    """What refers to ``decision.budget_amount``: the view, and on SQLite the rollup's triggers."""
    op.execute("DROP VIEW bi_decision")
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER decision_basis_rollup_{name}")


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    too_large = bind.execute(
        sa.text(f"SELECT id FROM decision WHERE abs(budget_amount) >= {LARGEST} ORDER BY id LIMIT 5")
    ).scalars()
    if ids := [str(found) for found in too_large]:
        raise RuntimeError(
            "decision budgets above 922,337,203,685,477.58 cannot be kept exactly (in ten-thousandths, in 64 bits): "
            f"correct these decisions' budget_amount first, e.g. {', '.join(ids)}"
        )
    _drop_dependants(dialect)
    if dialect == "postgresql":
        _replace_column(dialect, "bigint", f"round(budget_amount * {UNITS})::bigint", COMMENT)
    else:
        # The double the old column held, to the cent (its scale), then in ten-thousandths.
        _replace_column(dialect, "BIGINT", "CAST(round(budget_amount * 100) AS INTEGER) * 100", None)
    _rebuild_rollup(dialect, NEW_PARTS, sa.BigInteger())
    op.execute(DECISION_VIEW.format(budget=EXACT_BUDGET[dialect]))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_dependants(dialect)
    if dialect == "postgresql":
        _replace_column(dialect, "numeric(18, 2)", f"round(budget_amount / {UNITS}.0, 2)", None)
    else:
        # To the cent in integers (SQLite's round to two places errs on large doubles), then the nearest double.
        _replace_column(dialect, "NUMERIC(18, 2)", "round(budget_amount / 100.0) / 100.0", None)
    _rebuild_rollup(dialect, OLD_PARTS, sa.Numeric(precision=20, scale=2))
    op.execute(DECISION_VIEW.format(budget="budget_amount"))
