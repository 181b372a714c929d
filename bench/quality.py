"""Decision quality at scale: ``GET /v1/analytics/calibration`` (by basis class and by owner) and
``GET /v1/analytics/contradictions`` on 1,000,000 decisions in PostgreSQL, against the plain SQL of the same
aggregation run directly through the driver, same run.

    .venv/bin/python bench/quality.py                          # or: make bench-quality
    .venv/bin/python bench/quality.py --decisions 20000 --contradicting 0.01 --repetitions 10

What one run does:

1. a throw-away PostgreSQL database (``--pg``), migrated, a key, the service (``decision-log serve``, one worker)
   and the organisation of bench/common.py (the demo's, grown to 50 people over three years) registered through
   the API;
2. ``--decisions`` decisions of the demo generator (``app.demo.plan.Decisions``) loaded directly, untimed (COPY,
   secondary indexes rebuilt, VACUUM ANALYZE), then the rollup deltas folded (what the service's background folding
   does within seconds). The generator states a confidence by basis (``CONFIDENCE_BY_BASIS`` in app/demo/data.py:
   data-based calls more often and less surely than gut calls) and, with ``--contradicting`` chance
   (``CONTRADICTING_CHANCE``), has the performance and brand teams pull one KPI (average order value) opposite ways;
   the reviews, reversals and open decisions are the generator's;
3. three cases over the organisation's whole range (``from``/``to`` its first and last day):
   ``calibration_basis`` (``group_by=basis_class``), ``calibration_owner`` (``group_by=owner``) and
   ``contradictions``. Two ways of getting the same figures, alternating, after ``--warmup`` unmeasured
   repetitions, ``--repetitions`` (20) times each:
   - **api**: the HTTP request, timed by this client on the same machine (keep-alive; the JSON parsed after the
     clock stops), so it is the server's time plus a loopback round trip;
   - **raw_sql**: the aggregation as one would write it by hand, through asyncpg (prepared): for calibration one
     statement with ``GROUPING SETS`` giving the rows and the ten bins in one pass over the forecasts (the exact
     sums in millionths the service adds up, their means rounded from the exact quotients as the service does); for
     contradictions the self-join of the open decisions (active, unreviewed, with a direction) on KPI, opposite
     direction (an equality on ``CASE``: with ``<>`` the join reads every open decision's 90 days of its KPI, which
     at 1 M does not finish) and 90 days;
   both must give the same answer (the API's figures to its 4 places);
4. EXPLAIN (ANALYZE, BUFFERS) of the raw SQL (the scans it uses, its execution time); then the database is
   dropped (``--keep-db`` keeps it, to look at the service's plans by hand).

Goal (issue 20): api p50 under 100 ms at 1 M and at most 1.2x the raw SQL's p50. Shared 2-core machine: compare
within a run, and read the load average printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analytics import PgRunner, fold_rollup, plan_findings, time_methods, utc_text
from common import (
    CALLER,
    DEFAULT_PG,
    RESULTS,
    Decisions,
    Service,
    copy_into_pg,
    git_state,
    log,
    machine_note,
    organisation,
    register,
    service,
    summary_ms,
)

from app.analytics import forecast_units, quality
from app.demo.data import CONTRADICTING_CHANCE

CASES = ("calibration_basis", "calibration_owner", "contradictions")
GROUPS = {"calibration_basis": ("basis_class", "basis_class"), "calibration_owner": ("owner", "owner_handle")}
BIN = "CASE " + " ".join(f"WHEN confidence < {(i + 1) / 10} THEN {i}" for i in range(9)) + " ELSE 9 END"
# The sums in millionths, exact (app/analytics/quality.py, UNITS): their means are rounded from the exact quotient.
CALIBRATION_SQL = """SELECT {column} AS "group", bin, count(*) AS forecasts, sum(confidence_e6) AS confidence_e6,
  sum(observed_e6) AS observed_e6,
  sum((confidence_e6 - observed_e6) * (confidence_e6 - observed_e6)) AS squared_error_e12
FROM (SELECT {column}, {bin} AS bin, round(confidence * 1000000)::bigint AS confidence_e6,
        CASE outcome_result WHEN 'success' THEN 1000000 WHEN 'partial' THEN 500000 ELSE 0 END AS observed_e6
      FROM decision
      WHERE decided_at >= $1 AND decided_at < $2 AND confidence IS NOT NULL
        AND outcome_result IN ('success', 'partial', 'failure')) AS forecast
GROUP BY GROUPING SETS (({column}), ({column}, bin))"""
OPEN = "{t}.status = 'active' AND {t}.outcome_result IS NULL AND {t}.expected_direction IS NOT NULL"
CONTRADICTIONS_SQL = f"""SELECT a.expected_kpi AS kpi, a.id AS decision_a, b.id AS decision_b,
  a.owner_handle AS owner_a, b.owner_handle AS owner_b, a.expected_direction AS direction_a,
  b.expected_direction AS direction_b
FROM decision a JOIN decision b ON b.expected_kpi = a.expected_kpi
  AND b.expected_direction = CASE a.expected_direction
    WHEN 'increase' THEN 'decrease' WHEN 'decrease' THEN 'increase' END
  AND b.decided_at BETWEEN a.decided_at AND a.decided_at + interval '90 days'
  AND (b.decided_at > a.decided_at OR b.id > a.id)
WHERE {OPEN.format(t="a")} AND {OPEN.format(t="b")}
  AND ((a.decided_at >= $1 AND a.decided_at < $2) OR (b.decided_at >= $1 AND b.decided_at < $2))
ORDER BY a.expected_kpi, a.decided_at, a.id, b.decided_at, b.id"""


def calibration_answer(rows: list[dict[str, Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """Raw rows (GROUPING SETS) as the API's rows and bins with a forecast, to 4 places."""
    figures, bins = [], []
    for r in rows:
        n = r["forecasts"]
        mean, observed = quality.mean(r["confidence_e6"], n), quality.mean(r["observed_e6"], n)
        if r["bin"] is None:
            overconfidence = quality.mean(r["confidence_e6"] - r["observed_e6"], n)
            brier = quality.mean(r["squared_error_e12"], n, forecast_units.SCALE**2)
            figures.append((r["group"], int(n), mean, observed, brier, overconfidence))
        else:
            bins.append((r["group"], int(r["bin"]), int(r["forecasts"]), mean, observed))
    return {"rows": sorted(figures, key=repr), "bins": sorted(bins, key=repr)}


def api_calibration_answer(body: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    figures = [
        (r["group"], r["forecasts"], r["mean_confidence"], r["observed_rate"], r["brier_score"], r["overconfidence"])
        for r in body["rows"]
        if r["forecasts"]
    ]
    bins = [
        (b["group"], round(b["bin_from"] * 10), b["forecasts"], b["mean_confidence"], b["observed_rate"])
        for b in body["bins"]
        if b["forecasts"]
    ]
    return {"rows": sorted(figures, key=repr), "bins": sorted(bins, key=repr)}


def pairs_answer(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    names = ("kpi", "decision_a", "decision_b", "owner_a", "owner_b", "direction_a", "direction_b")
    return [tuple(str(r[n]) for n in names) for r in rows]


@contextmanager
def reused(url: str) -> Iterator[Service]:
    """The service on a database kept by an earlier run (``--keep-db``), migrated to the head first."""
    from write import create_write_key

    from app.core.migrations import upgrade

    upgrade(url)
    env = {"DECISION_LOG_DATABASE_URL": url, "DECISION_LOG_RATE_LIMIT": "100000000/minute"}
    auth = "Bearer " + asyncio.run(create_write_key(url))
    name = url.rsplit("/", 1)[1]
    svc = Service(engine="postgresql", url=url, auth=auth, server=None, name=name, prefix="quality2_bench", env=env)  # type: ignore[arg-type]
    svc.start()
    try:
        yield svc
    finally:
        svc.server.stop()
        log(f"left {url} in place")


def first_difference(got: Any, expected: Any) -> str:
    """Where the API's answer and the raw SQL's part first (lists of rows, or dicts of them)."""
    if isinstance(got, dict):
        return "; ".join(f"{k}: {first_difference(got[k], expected[k])}" for k in got if got[k] != expected[k])
    for i, (g, e) in enumerate(zip(got, expected, strict=False)):
        if g != e:
            return f"row {i}: api {g} / raw {e}"
    return f"api {len(got)} rows / raw {len(expected)} rows"


def run(args: argparse.Namespace) -> dict[str, Any]:
    org = organisation()
    start, end = org.start, org.end
    load_s = fold_s = 0.0
    with (
        reused(args.reuse)
        if args.reuse
        else service("postgresql", pg=args.pg, prefix="quality2_bench", keep=args.keep_db)
    ) as svc:
        if not args.reuse:
            with svc.client() as client:
                register(client, org)
            log(f"loading {args.decisions:,} decisions directly (untimed)")
            rows = Decisions(org, args.decisions, seed=args.seed, contradicting=args.contradicting).rows(CALLER)
            load_s = asyncio.run(copy_into_pg(svc.url, rows, total=args.decisions))
            fold_s, cells = asyncio.run(fold_rollup(svc.url))
            log(f"loaded in {load_s:.0f} s; rollup folded in {fold_s:.1f} s ({cells:,} cells)")
        runner = PgRunner(svc.url)
        try:
            census = {
                "decisions": runner.fetchval("SELECT count(*) FROM decision"),
                "with_confidence": runner.fetchval("SELECT count(*) FROM decision WHERE confidence IS NOT NULL"),
                "forecasts": runner.fetchval(
                    "SELECT count(*) FROM decision WHERE confidence IS NOT NULL"
                    " AND outcome_result IN ('success', 'partial', 'failure')"
                ),
                "open_with_direction": runner.fetchval(f"SELECT count(*) FROM decision d WHERE {OPEN.format(t='d')}"),
                "table_size": runner.fetchval("SELECT pg_size_pretty(pg_total_relation_size('decision'))"),
            }
            log(f"census: {census}")
            results, plans = {}, {}
            with svc.client(timeout=300) as client:
                for name in args.cases:
                    results[name], plans[name] = measure(name, svc, client, runner, start, end, args)
        finally:
            runner.close()
    return {"census": census, "load_s": load_s, "rollup_fold_s": fold_s, "cases": results, "plans": plans}


def measure(
    name: str, svc: Any, client: Any, runner: PgRunner, start: datetime, end: datetime, args: argparse.Namespace
) -> tuple[dict[str, Any], dict[str, Any]]:
    params = {"from": utc_text(start), "to": utc_text(end)}
    if name == "contradictions":
        path, sql = "/v1/analytics/contradictions", CONTRADICTIONS_SQL
    else:
        group_by, column = GROUPS[name]
        path, sql = "/v1/analytics/calibration", CALIBRATION_SQL.format(column=column, bin=BIN)
        params["group_by"] = group_by

    def api() -> Any:
        response = client.get(path, params=params)
        if response.status_code != 200:
            raise RuntimeError(f"{path} -> {response.status_code} {response.text[:500]}")
        return response

    raw = runner.query(sql, (start, end))
    if name == "contradictions":
        expected: Any = pairs_answer(raw())
        got: Any = pairs_answer(api().json()["rows"])
        size = len(expected)
    else:
        expected = calibration_answer(raw())
        got = api_calibration_answer(api().json())
        size = sum(r[1] for r in expected["rows"])
    same = got == expected
    if not same:
        log(f"  {name}: ANSWERS DIFFER: {first_difference(got, expected)}")
    timings = time_methods({"api": api, "raw_sql": raw}, args.repetitions, args.warmup, ("api", "raw_sql"))
    stats = {m: summary_ms(t) for m, t in timings.items()}
    ratio = stats["api"]["p50"] / stats["raw_sql"]["p50"]
    label = "pairs" if name == "contradictions" else "forecasts"
    log(
        f"  {name}: {size:,} {label}; api p50 {stats['api']['p50']:.1f} ms (p95 {stats['api']['p95']:.1f}), "
        f"raw_sql p50 {stats['raw_sql']['p50']:.1f} ms (p95 {stats['raw_sql']['p95']:.1f}), api/raw {ratio:.2f}x"
        + ("" if same else "  ANSWERS DIFFER")
    )
    plan = runner.explain(sql, (start, end))
    result = {"size": size, "same_answers": same, "ms": stats, "ratio_p50_vs_raw": ratio}
    result["meets_goal"] = stats["api"]["p50"] < 100 and ratio <= 1.2
    return result, {"raw_sql": plan, "findings": plan_findings(plan)}


def table(result: dict[str, Any], config: dict[str, Any]) -> str:
    header = ("case", "size", "api p50", "p95", "raw_sql p50", "p95", "api/raw", "same", "goal")
    lines = [
        (name, f"{c['size']:,}", f"{c['ms']['api']['p50']:.1f}", f"{c['ms']['api']['p95']:.1f}",
         f"{c['ms']['raw_sql']['p50']:.1f}", f"{c['ms']['raw_sql']['p95']:.1f}", f"{c['ratio_p50_vs_raw']:.2f}x",
         "yes" if c["same_answers"] else "NO", "met" if c["meets_goal"] else "not met")
        for name, c in result["cases"].items()
    ]  # fmt: skip
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    out = ["  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True)))]
    out += ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
            for line in lines]  # fmt: skip
    census = result["census"]
    out.append(
        f"times in ms; goal api p50 < 100 ms and api/raw <= 1.20x. {census['decisions']:,} decisions "
        f"({census['table_size']}), {census['with_confidence']:,} with a confidence, {census['forecasts']:,} "
        f"forecasts, {census['open_with_direction']:,} open with a direction"
    )
    for name, plan in result["plans"].items():
        found = plan["findings"]
        out.append(f"  raw_sql plan {name} ({found['execution_time']}): {' | '.join(found['scans'])}")
    out.append(
        f"{config['repetitions']} repetitions after {config['warmup']} warm-up; {config['machine']['cpus']} CPUs, "
        f"load average before {config['loadavg_before']}, after {config['machine']['loadavg']}"
    )
    return "\n".join(out)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument(
        "--contradicting",
        type=float,
        default=CONTRADICTING_CHANCE,
        help="chance of an opposite pull on the contradicted KPI (raise it at small sizes to have pairs)",
    )
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of " + ",".join(CASES))
    parser.add_argument("--repetitions", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server, no database")
    parser.add_argument("--keep-db", action="store_true", help="keep the database (its URL is logged) for --reuse")
    parser.add_argument(
        "--reuse", metavar="URL", help="measure on a database kept by an earlier run (migrated first; no load)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "quality.json")
    args = parser.parse_args()
    args.cases = [c for c in args.cases.split(",") if c]
    return args


def main() -> None:
    args = parse_args()
    load_before = machine_note()
    started = time.perf_counter()
    result = run(args)
    config = {
        "decisions": args.decisions,
        "contradicting": args.contradicting,
        "repetitions": args.repetitions,
        "warmup": args.warmup,
        "machine": machine_note(),
        "loadavg_before": load_before["loadavg"],
        "wall_s": time.perf_counter() - started,
        "python": platform.python_version(),
        "finished_at": datetime.now(UTC).isoformat(),
        "git": git_state(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"config": config, "result": result}, indent=2, default=str) + "\n")
    print(table(result, config))
    log(f"written {args.output}")


if __name__ == "__main__":
    main()
