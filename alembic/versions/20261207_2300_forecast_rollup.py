"""Exact rollups for calibration: the forecasts' sums per month cell, kept by triggers on ``decision``.

A forecast (a decision with a ``confidence`` and a result ``success``, ``partial`` or ``failure``) counts in six
cells per month, one per dimension as in ``basis_rollup``, keyed further by its basis class and its bin of
confidence (0 to 9: [0, 0.1) … [0.9, 1.0]). A cell holds the forecasts, and the sums of their confidence, of what
was observed (1, 0.5, 0) and of the squared error: what calibration's means and Brier score are made of. The sums are
exact integers, in millionths (the squared error in millionths squared): added in any order, by any engine, they are
the same, so the rollup's answers are the decisions' own to the last digit, and verify compares them exactly.

As for the basis rollup: statement-level triggers with transition tables on PostgreSQL (an UPDATE appends only the
rows whose cell or figures changed, so that the sums of an unchanged cell are not touched), row-level triggers on
SQLite, both appending to ``forecast_rollup_delta``; the folding round folds them into ``forecast_rollup``. The
migration fills the rollup from the decisions there.

Revision ID: 5e2b9d7c1a48
Revises: 3c8e5b1f7d24
Create Date: 2026-12-07 23:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e2b9d7c1a48"
down_revision: str | None = "3c8e5b1f7d24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "dimension, value, period, basis_class, bin"
FIGURES = "forecasts, confidence_e6, observed_e6, squared_error_e12"
FORECAST = "{r}confidence IS NOT NULL AND {r}outcome_result IN ('success', 'partial', 'failure')"
BIN = "CASE " + " ".join(f"WHEN {{r}}confidence < {(i + 1) / 10} THEN {i}" for i in range(9)) + " ELSE 9 END"
# A confidence and what was observed in millionths (a confidence counts to six places).
CONFIDENCE = "CAST(round({r}confidence * 1000000) AS BIGINT)"
OBSERVED = "CASE {r}outcome_result WHEN 'success' THEN 1000000 WHEN 'partial' THEN 500000 ELSE 0 END"
# The columns a cell or its figures depend on.
TRACKED = "decided_at, owner_handle, team, channel, category, strategy_key, basis_class, confidence, outcome_result"
# A decision's cell in each dimension ('' where it has none), as in basis_rollup.
CELLS = ("'all', ''", "'owner', {r}owner_handle", "'team', coalesce({r}team, '')",
         "'channel', coalesce({r}channel, '')", "'category', {r}category",
         "'strategy', coalesce({r}strategy_key, '')")  # fmt: skip
PERIOD = {
    "postgresql": "date_trunc('month', {r}decided_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    # decided_at is stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC).
    "sqlite": "substr({r}decided_at, 1, 7) || '-01 00:00:00.000000'",
}


def _figures(r: str, sign: str) -> str:
    """A forecast's confidence, observed value and squared error (of the row ``r``, a prefix), each times ``sign``."""
    confidence, observed = CONFIDENCE.format(r=r), OBSERVED.format(r=r)
    error = f"({confidence} - {observed})"
    return f"{sign} * {confidence}, {sign} * {observed}, {sign} * {error} * {error}"


# --- PostgreSQL -------------------------------------------------------------------------------------------


def _pg_forecasts(table: str) -> str:
    """The forecasts of ``table`` (a transition table or ``decision``), one row each with what its cells need."""
    return f"""
        SELECT {PERIOD["postgresql"].format(r="")} AS period, owner_handle, coalesce(team, '') AS team,
               coalesce(channel, '') AS channel, category, coalesce(strategy_key, '') AS strategy_key, basis_class,
               confidence, outcome_result
        FROM {table} WHERE {FORECAST.format(r="")}"""


def _pg_cells(rows: str, target: str) -> str:
    """Sum ``rows`` (with their ``sign``) into their six cells each and insert the sums into ``target``."""
    values = ", ".join(f"({v.format(r='r.')})" for v in CELLS)
    sums = ", ".join(f"sum({figure})" for figure in _figures("r.", "r.sign").split(", "))
    return f"""
        INSERT INTO {target} ({KEY}, {FIGURES})
        SELECT cell.dimension, cell.value, r.period, r.basis_class, {BIN.format(r="r.")}, sum(r.sign), {sums}
        FROM ({rows}) AS r CROSS JOIN LATERAL (VALUES {values}) AS cell (dimension, value)
        GROUP BY 1, 2, 3, 4, 5"""


def _pg_changed(minuend: str, subtrahend: str, sign: int) -> str:
    return f"SELECT {sign} AS sign, * FROM ({_pg_forecasts(minuend)} EXCEPT ALL {_pg_forecasts(subtrahend)}) AS c"


CHANGED = _pg_changed("new_rows", "old_rows", 1) + " UNION ALL " + _pg_changed("old_rows", "new_rows", -1)
PG_TRACK = f"""
CREATE FUNCTION forecast_rollup_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_pg_cells(f"SELECT 1 AS sign, * FROM ({_pg_forecasts('new_rows')}) AS c", "forecast_rollup_delta")};
    ELSIF TG_OP = 'UPDATE' THEN
        {_pg_cells(CHANGED, "forecast_rollup_delta")};
    ELSE
        {_pg_cells(f"SELECT -1 AS sign, * FROM ({_pg_forecasts('old_rows')}) AS c", "forecast_rollup_delta")};
    END IF;
    RETURN NULL;
END
$$
"""
PG_RESET = """
CREATE FUNCTION forecast_rollup_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- As basis_rollup_reset: the tables first, whole, then emptied (DELETE: the TRUNCATE may empty them too).
    LOCK TABLE forecast_rollup_delta, forecast_rollup IN EXCLUSIVE MODE;
    DELETE FROM forecast_rollup;
    DELETE FROM forecast_rollup_delta;
    RETURN NULL;
END
$$
"""
PG_TRIGGERS = {
    "insert": "AFTER INSERT ON decision REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "update": "AFTER UPDATE ON decision REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    "delete": "AFTER DELETE ON decision REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "truncate": "AFTER TRUNCATE ON decision FOR EACH STATEMENT",
}

# --- SQLite -------------------------------------------------------------------------------------------------


def _sqlite_cells(r: str, sign: int) -> str:
    """The cells of the decision ``r`` (NEW or OLD) when it is a forecast, each with its figures times ``sign``."""
    cells = " UNION ALL ".join(f"SELECT {values.format(r=r + '.')}" for values in CELLS)
    return f"""
        INSERT INTO forecast_rollup_delta ({KEY}, {FIGURES})
        SELECT cell.column1, cell.column2, {PERIOD["sqlite"].format(r=r + ".")}, {r}.basis_class,
               {BIN.format(r=r + ".")}, {sign}, {_figures(r + ".", str(sign))}
        FROM (SELECT NULL AS column1, NULL AS column2 WHERE 0 UNION ALL {cells}) AS cell
        WHERE {FORECAST.format(r=r + ".")};"""


SQLITE_TRIGGERS = {
    "insert": f"AFTER INSERT ON decision BEGIN {_sqlite_cells('NEW', 1)} END",
    "update": f"AFTER UPDATE OF {TRACKED} ON decision "
    f"WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in TRACKED.split(', '))} "
    f"BEGIN {_sqlite_cells('OLD', -1)} {_sqlite_cells('NEW', 1)} END",
    "delete": f"AFTER DELETE ON decision BEGIN {_sqlite_cells('OLD', -1)} END",
}


def _sqlite_fill(values: str) -> str:
    sums = ", ".join(f"sum({figure})" for figure in _figures("", "1").split(", "))
    return f"""
        INSERT INTO forecast_rollup ({KEY}, {FIGURES})
        SELECT {values.format(r="")}, {PERIOD["sqlite"].format(r="")}, basis_class, {BIN.format(r="")}, count(*), {sums}
        FROM decision WHERE {FORECAST.format(r="")} GROUP BY 1, 2, 3, 4, 5"""


def _tables() -> None:
    for name, delta in (("forecast_rollup", False), ("forecast_rollup_delta", True)):
        key = [sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)] if delta else []
        op.create_table(
            name,
            *key,
            sa.Column("dimension", sa.String(length=10), nullable=False),
            sa.Column("value", sa.String(length=200), nullable=False),
            sa.Column("period", sa.DateTime(timezone=True), nullable=False),
            sa.Column("basis_class", sa.String(length=10), nullable=False),
            sa.Column("bin", sa.SmallInteger(), nullable=False),
            sa.Column("forecasts", sa.Integer(), nullable=False),
            *(sa.Column(figure, sa.BigInteger(), nullable=False) for figure in FIGURES.split(", ")[1:]),
            sa.PrimaryKeyConstraint(*(["id"] if delta else KEY.split(", ")), name=op.f(f"pk_{name}")),
        )


def upgrade() -> None:
    _tables()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_TRACK)
        op.execute(PG_RESET)
        for name, when in PG_TRIGGERS.items():
            function = "forecast_rollup_reset" if name == "truncate" else "forecast_rollup_track"
            op.execute(f"CREATE TRIGGER decision_forecast_rollup_{name} {when} EXECUTE FUNCTION {function}()")
        op.execute(_pg_cells(f"SELECT 1 AS sign, * FROM ({_pg_forecasts('decision')}) AS c", "forecast_rollup"))
        op.execute("ANALYZE forecast_rollup")  # its first readers know its size (a hash of the cells, not a sort)
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER decision_forecast_rollup_{name} {body}")
        for values in CELLS:
            op.execute(_sqlite_fill(values))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in PG_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER decision_forecast_rollup_{name}" + (" ON decision" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION forecast_rollup_track()")
        op.execute("DROP FUNCTION forecast_rollup_reset()")
    op.drop_table("forecast_rollup_delta")
    op.drop_table("forecast_rollup")
