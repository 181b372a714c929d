"""Export memory and speed: ``GET /v1/exports/decisions`` of 100,000 decisions, NDJSON and CSV, on
PostgreSQL and SQLite, with the server's RSS sampled while it streams; a driver-level export of the same
rows in the same run as the speed baseline.

    .venv/bin/python bench/export.py                          # or: make bench-export
    .venv/bin/python bench/export.py --engines postgresql --rounds 3
    .venv/bin/python bench/export.py --py-spy /tmp/pyspy/bin/py-spy   # + a profiled NDJSON export

What one run does, for each engine:

1. a throw-away database (PostgreSQL on ``--pg``, or a SQLite file in /tmp), migrated, a key, the service
   (``decision-log serve``, one worker), and the organisation of bench/common.py registered through the API;
2. loads ``--rows`` (100,000) decisions directly (COPY on PostgreSQL, multi-row INSERT on SQLite; untimed):
   the rows the service writes for the generator's bodies, after three years of use (some reversed, some
   with outcome reviews), in ``updated_at`` order;
3. warms the service with one small export of each format, then, for each round, format and size (the full
   table, and the last ``--small`` (10,000) rows by ``updated_since``, so the table is the same), streams
   the export while a thread reads the server's VmRSS from /proc every ``--interval`` (10 ms) and the
   kernel's high-water mark (VmHWM, reset before each export) catches any peak between samples;
4. the baseline, in the bench process: a server-side cursor of the same query (asyncpg, or sqlite3) whose
   rows are written out as NDJSON (``json.dumps``) or CSV (``csv.writer``), no validation; on PostgreSQL
   also ``COPY (…) TO STDOUT`` in CSV, the database's own floor;
5. prints the table, writes ``bench/results/export.json``, stops the service, drops the database.

Memory is flat when the peak over the RSS before the export is about the same for 10,000 and 100,000
rows. Rates are shared-machine figures (2 cores: the service, the database and this client); read the
ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import platform
import signal
import sqlite3
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from common import (
    DEFAULT_PG,
    RESULTS,
    CpuMeter,
    RssSampler,
    Service,
    copy_into_pg,
    git_state,
    insert_into_sqlite,
    log,
    machine_note,
    organisation,
    register,
    reset_peak_rss,
    rss_kib,
    service,
    stored_rows,
)

FORMATS = ("ndjson", "csv")
ORDER = "ORDER BY updated_at, id"


# ---------------------------------------------------------------------------------------------
# The export through the API, with the server's memory sampled
# ---------------------------------------------------------------------------------------------


def api_export(svc: Service, fmt: str, updated_since: str | None, interval: float) -> dict[str, Any]:
    params = {"format": fmt}
    if updated_since:
        params["updated_since"] = updated_since
    pid = svc.pid
    time.sleep(0.3)  # let the previous response's buffers go
    before = rss_kib(pid)
    hwm_reset = reset_peak_rss(pid)
    sampler = RssSampler(pid, interval).start()
    meter = CpuMeter(pid).start()
    lines = size = 0
    first_byte: float | None = None
    started = time.perf_counter()
    with (
        httpx.Client(base_url=svc.server.base_url, headers={"Authorization": svc.auth}, timeout=600) as client,
        client.stream("GET", "/v1/exports/decisions", params=params) as response,
    ):
        if response.status_code != 200:
            raise RuntimeError(f"export -> {response.status_code} {response.read()[:500]!r}")
        for chunk in response.iter_raw(65536):
            if first_byte is None:
                first_byte = time.perf_counter() - started
            lines += chunk.count(b"\n")
            size += len(chunk)
    elapsed = time.perf_counter() - started
    cpu = meter.stop()
    samples = sampler.stop()
    after = rss_kib(pid)
    hwm = rss_kib(pid, "VmHWM")
    rows = lines - (1 if fmt == "csv" else 0)
    peak = max(kib for _, kib in samples) if samples else before
    return {
        "rows": rows,
        "bytes": size,
        "seconds": elapsed,
        "rows_per_s": rows / elapsed,
        "mib_per_s": size / elapsed / 2**20,
        "first_byte_ms": (first_byte or 0) * 1000,
        "rss_before_mib": before / 1024,
        "rss_peak_sampled_mib": peak / 1024,
        "rss_after_mib": after / 1024,
        "peak_minus_before_mib": (peak - before) / 1024,
        "hwm_minus_before_mib": (hwm - before) / 1024 if hwm_reset else None,
        "after_minus_before_mib": (after - before) / 1024,
        "samples": len(samples),
        "server_cpu_s_per_10k_rows": cpu["server_cpu_s"] * 10_000 / max(1, rows),
        "machine_busy_cores": cpu["machine_busy_cores"],
    }


# ---------------------------------------------------------------------------------------------
# Baselines: the same rows, streamed by the driver and written out with no validation
# ---------------------------------------------------------------------------------------------


def _writer(fmt: str) -> tuple[Any, Any]:
    """(write one row from its mapping, flush) writing into a throw-away buffer."""
    buffer = io.StringIO()
    if fmt == "csv":
        out = csv.writer(buffer)

        def write(row: Any) -> None:
            out.writerow(row.values())
    else:

        def write(row: Any) -> None:
            buffer.write(json.dumps(row, default=str, ensure_ascii=False))
            buffer.write("\n")

    def flush() -> None:
        buffer.seek(0)
        buffer.truncate()

    return write, flush


async def pg_baseline(dsn: str, fmt: str, updated_since: datetime | None) -> dict[str, Any]:
    write, flush = _writer(fmt)
    where, params = ("WHERE updated_at > $1", [updated_since]) if updated_since else ("", [])
    connection = await asyncpg.connect(dsn)
    rows = 0
    try:
        started = time.perf_counter()
        async with connection.transaction():
            async for record in connection.cursor(f"SELECT * FROM decision {where} {ORDER}", *params, prefetch=500):
                write(dict(record))
                rows += 1
                if rows % 500 == 0:
                    flush()
        elapsed = time.perf_counter() - started
    finally:
        await connection.close()
    return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed}


async def pg_copy(dsn: str, updated_since: datetime | None) -> dict[str, Any]:
    connection = await asyncpg.connect(dsn)
    size = 0

    async def sink(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)

    try:
        started = time.perf_counter()
        query = f"SELECT * FROM decision {'WHERE updated_at > $1' if updated_since else ''} {ORDER}"
        args = [updated_since] if updated_since else []
        status = await connection.copy_from_query(query, *args, output=sink, format="csv", header=True)
        elapsed = time.perf_counter() - started
    finally:
        await connection.close()
    rows = int(status.split()[-1])
    return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed, "bytes": size}


def sqlite_baseline(path: str, fmt: str, updated_since: str | None) -> dict[str, Any]:
    write, flush = _writer(fmt)
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    rows = 0
    try:
        started = time.perf_counter()
        where, params = ("WHERE updated_at > ?", (updated_since,)) if updated_since else ("", ())
        cursor = connection.execute(f"SELECT * FROM decision {where} {ORDER}", params)
        while batch := cursor.fetchmany(500):
            for record in batch:
                write({k: record[k] for k in record.keys()})  # noqa: SIM118 (sqlite3.Row iterates values)
                rows += 1
            flush()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed}


# ---------------------------------------------------------------------------------------------
# One engine
# ---------------------------------------------------------------------------------------------


async def cut_after(dsn: str, skip: int) -> datetime:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(f"SELECT updated_at FROM decision {ORDER} OFFSET $1 LIMIT 1", skip)  # type: ignore[no-any-return]
    finally:
        await connection.close()


def sqlite_cut_after(path: str, skip: int) -> str:
    with sqlite3.connect(path) as connection:
        return str(
            connection.execute(f"SELECT updated_at FROM decision {ORDER} LIMIT 1 OFFSET ?", (skip,)).fetchone()[0]
        )


def profile(py_spy: str, svc: Service, interval: float) -> str:
    from profile_write import parse
    from profile_write import summarise as summarise_profile

    output = RESULTS / f"profile-export-{svc.engine}.txt"
    spy = subprocess.Popen(
        [py_spy, "record", "--pid", str(svc.pid), "--rate", "100", "--format", "raw", "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    api_export(svc, "ndjson", None, interval)
    spy.send_signal(signal.SIGINT)
    spy.wait(timeout=60)
    return summarise_profile(parse(output.read_text().splitlines()), 30) + f"\n(raw stacks: {output})"


def run_engine(engine: str, args: argparse.Namespace, org: Any) -> dict[str, Any]:
    with service(engine, pg=args.pg, prefix="bench_export", keep=args.keep_db) as svc:
        with svc.client() as client:
            register(client, org)
        log(f"{engine}: loading {args.rows:,} decisions directly (untimed)")
        rows = stored_rows(org, args.rows, seed=args.seed)
        sqlite_path = svc.url.removeprefix("sqlite:///")
        if engine == "postgresql":
            load_s = asyncio.run(copy_into_pg(svc.url, rows, total=args.rows))
            cut: Any = asyncio.run(cut_after(svc.url, args.rows - args.small - 1))
            since = cut.astimezone(UTC).isoformat().replace("+00:00", "Z")
        else:
            load_s = insert_into_sqlite(svc.url, rows)
            cut = sqlite_cut_after(sqlite_path, args.rows - args.small - 1)
            since = cut.replace(" ", "T") + "Z"
        log(f"{engine}: loaded in {load_s:.0f} s; the last {args.small:,} rows are those updated after {since}")
        sizes = {"full": None, "small": since}
        for fmt in FORMATS:  # warm-up: code paths, pools and caches
            api_export(svc, fmt, since, args.interval)
        runs: list[dict[str, Any]] = []
        baselines: list[dict[str, Any]] = []

        def baseline(fmt: str, size: str) -> dict[str, Any]:
            since_value = cut if size == "small" else None
            if engine == "postgresql":
                result = asyncio.run(pg_baseline(svc.url, fmt, since_value))
            else:
                result = sqlite_baseline(sqlite_path, fmt, since_value)
            return {**result, "method": f"driver+{fmt}", "format": fmt, "size": size}

        for round_no in range(args.rounds):
            order = ("small", "full") if round_no % 2 == 0 else ("full", "small")
            for fmt in FORMATS:
                for size in order:
                    result = api_export(svc, fmt, sizes[size], args.interval)
                    result.update(engine=engine, format=fmt, size=size, round=round_no + 1)
                    runs.append(result)
                    base = baseline(fmt, size)
                    base["round"] = round_no + 1
                    baselines.append(base)
                    log(
                        f"{engine} {fmt} {size}: {result['rows']:,} rows in {result['seconds']:.1f} s "
                        f"({result['rows_per_s']:,.0f} rows/s; driver {base['rows_per_s']:,.0f}); RSS "
                        f"{result['rss_before_mib']:.1f} MiB before, peak +{result['peak_minus_before_mib']:.1f} MiB"
                        f" (VmHWM +{result['hwm_minus_before_mib'] or float('nan'):.1f}),"
                        f" after +{result['after_minus_before_mib']:.1f}"
                    )
            if engine == "postgresql":
                for size in ("full", "small"):
                    result = asyncio.run(pg_copy(svc.url, cut if size == "small" else None))
                    result.update(method="copy_to_stdout_csv", format="csv", size=size, round=round_no + 1)
                    baselines.append(result)
        profile_text = profile(args.py_spy, svc, args.interval) if args.py_spy else None
    return {"engine": engine, "load_s": load_s, "runs": runs, "baselines": baselines, "profile": profile_text}


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def summarise(result: dict[str, Any], rows: int, small: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fmt in FORMATS:
        entry: dict[str, Any] = {}
        for size in ("full", "small"):
            runs = [r for r in result["runs"] if r["format"] == fmt and r["size"] == size]
            bases = [
                b for b in result["baselines"] if b["format"] == fmt and b["size"] == size and "driver" in b["method"]
            ]
            rate = statistics.median(r["rows_per_s"] for r in runs)
            base_rate = statistics.median(b["rows_per_s"] for b in bases)
            entry[size] = {
                "rows": runs[0]["rows"],
                "rows_per_s": rate,
                "baseline_rows_per_s": base_rate,
                "vs_baseline": rate / base_rate,
                "peak_minus_before_mib": max(r["peak_minus_before_mib"] for r in runs),
                "hwm_minus_before_mib": max((r["hwm_minus_before_mib"] or 0) for r in runs),
                "after_minus_before_mib": max(r["after_minus_before_mib"] for r in runs),
                "rss_before_mib": statistics.median(r["rss_before_mib"] for r in runs),
                "first_byte_ms": statistics.median(r["first_byte_ms"] for r in runs),
                "server_cpu_s_per_10k_rows": statistics.median(r["server_cpu_s_per_10k_rows"] for r in runs),
            }
        full, part = entry["full"], entry["small"]
        entry["peak_growth_mib_full_vs_small"] = full["hwm_minus_before_mib"] - part["hwm_minus_before_mib"]
        entry["rows_complete"] = full["rows"] == rows and part["rows"] == small
        out[fmt] = entry
    copy = [b["rows_per_s"] for b in result["baselines"] if b["method"] == "copy_to_stdout_csv" and b["size"] == "full"]
    if copy:
        out["copy_to_stdout_csv_rows_per_s"] = statistics.median(copy)
    return out


def table(summaries: dict[str, dict[str, Any]], config: dict[str, Any]) -> str:
    header = ("engine", "format", "rows", "rows/s", "driver rows/s", "api/driver", "server CPU s/10k",
              "RSS before MiB", "peak +MiB (sampled)", "peak +MiB (VmHWM)", "after +MiB", "first byte ms")  # fmt: skip
    lines = []
    for engine, summary in summaries.items():
        for fmt in FORMATS:
            for size in ("small", "full"):
                s = summary[fmt][size]
                lines.append(
                    (engine, fmt, f"{s['rows']:,}", f"{s['rows_per_s']:,.0f}", f"{s['baseline_rows_per_s']:,.0f}",
                     f"{s['vs_baseline']:.0%}", f"{s['server_cpu_s_per_10k_rows']:.2f}", f"{s['rss_before_mib']:.1f}",
                     f"{s['peak_minus_before_mib']:.1f}", f"{s['hwm_minus_before_mib']:.1f}",
                     f"{s['after_minus_before_mib']:.1f}", f"{s['first_byte_ms']:.0f}")
                )  # fmt: skip
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    out = ["  ".join(h.rjust(w) if i > 1 else h.ljust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True)))]
    out += ["  ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
            for line in lines]  # fmt: skip
    for engine, summary in summaries.items():
        growth = ", ".join(f"{fmt} {summary[fmt]['peak_growth_mib_full_vs_small']:+.1f} MiB" for fmt in FORMATS)
        out.append(f"{engine}: peak growth from {config['small']:,} to {config['rows']:,} rows (VmHWM): {growth}")
        if "copy_to_stdout_csv_rows_per_s" in summary:
            out.append(
                f"{engine}: COPY (SELECT …) TO STDOUT CSV: {summary['copy_to_stdout_csv_rows_per_s']:,.0f} rows/s"
            )
    out.append(
        f"{config['rounds']} round(s); RSS sampled every {config['interval'] * 1000:.0f} ms; "
        f"{config['machine']['cpus']} CPUs, load average {config['machine']['loadavg']}"
    )
    return "\n".join(out)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="the smaller export, to compare memory")
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.01, help="RSS sampling interval, seconds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--py-spy", help="path to py-spy: adds a profiled NDJSON export per engine")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server, no database")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "export.json")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    org = organisation()
    load_before = machine_note()
    results = {engine: run_engine(engine, args, org) for engine in args.engines.split(",") if engine}
    summaries = {engine: summarise(result, args.rows, args.small) for engine, result in results.items()}
    config = {
        "rows": args.rows,
        "small": args.small,
        "rounds": args.rounds,
        "interval": args.interval,
        "machine": machine_note(),
        "loadavg_before": load_before["loadavg"],
        "python": platform.python_version(),
        "finished_at": datetime.now(UTC).isoformat(),
        "git": git_state(),
    }
    report = {"config": config, "summary": summaries, "results": results}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(table(summaries, config))
    for engine, result in results.items():
        if result["profile"]:
            print(f"\nprofile of the service during a full NDJSON export on {engine} (py-spy):\n{result['profile']}")
    log(f"written {args.output}")


if __name__ == "__main__":
    main()
