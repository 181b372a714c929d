"""Where the summary's time goes on a large database: ``summary_with_parts`` (what the overview computes for each of
its two ranges) for the working tree and for a revision, alternating, on the same database, and each SQL statement
of one summary of the working tree with its time.

    .venv/bin/python bench/summary_parts.py --database-url postgresql://postgres@127.0.0.1:5432/DB \\
        [--against REV] [--rounds 3] [--without-quality] [--overview CURRENCY]

The database is one ``bench/pages.py --pg-rows N --keep`` loaded. ``--against`` exports the revision's package with
``git archive`` and runs it in a child process (same database, same default range). ``--without-quality`` answers the
summary's quality figures with zeros instead of their SQL (app.analytics.quality), to time the rest apart.
``--overview EUR`` times the whole overview page's data (``app.analytics.overview.overview``, both summaries, the
months, overdue reviews, currencies, strategy versions) in that currency instead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


async def measure(
    url: str, rounds: int, *, without_quality: bool, statements: bool, currency: str | None = None
) -> None:
    from sqlalchemy import event

    from app.analytics import overview, quality, service
    from app.core.config import Settings
    from app.core.unit_of_work import Database

    if without_quality:

        async def zeros(session: Any, *, start: Any, end: Any) -> Any:
            return SimpleNamespace(
                brier_score=None, overrides=0, overrides_success=0, overrides_concluded=0, contradictions=0
            )

        quality.summary = zeros  # type: ignore[assignment]
    database = Database(Settings(database_url=url, rate_limit="", integrity_seal_interval_seconds=0))
    seen: list[tuple[float, str]] = []

    def before(conn: Any, _cursor: Any, _statement: str, _params: Any, _context: Any, _many: bool) -> None:
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        seen.append((time.perf_counter() - conn.info["started"], " ".join(statement.split())))

    if statements:
        event.listen(database.engine.sync_engine, "before_cursor_execute", before)
        event.listen(database.engine.sync_engine, "after_cursor_execute", after)
    start, end = overview.default_range()
    times = []
    for _ in range(rounds):
        seen.clear()
        async with database.sessionmaker() as session, session.begin():
            started = time.perf_counter()
            if currency:
                await overview.overview(session, start=start, end=end, currency=currency)
            else:
                await service.summary_with_parts(session, start=start, end=end)
            times.append(time.perf_counter() - started)
    await database.dispose()
    label = "overview" if currency else "summary_with_parts"
    median = statistics.median(times) * 1000
    print(f"  {label} ms: {[round(t * 1000) for t in times]}, median {median:.0f}")
    for elapsed, statement in sorted(seen, reverse=True):
        print(f"    {elapsed * 1000:8.1f} ms  {statement[:140]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--against")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--without-quality", action="store_true")
    parser.add_argument("--overview", metavar="CURRENCY", help="time the whole overview in CURRENCY")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(
            measure(
                args.database_url,
                args.rounds,
                without_quality=args.without_quality,
                statements=False,
                currency=args.overview,
            )
        )
        return
    exported = None
    if args.against:
        exported = Path(tempfile.mkdtemp(prefix="summary_parts_"))
        archive = subprocess.run(["git", "archive", args.against, "app"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(exported)], input=archive.stdout, check=True)
    for _ in range(2 if exported else 1):
        print("working tree")
        asyncio.run(
            measure(
                args.database_url,
                args.rounds,
                without_quality=args.without_quality,
                statements=True,
                currency=args.overview,
            )
        )
        if exported:
            print(f"at {args.against}")
            command = [sys.executable, __file__, "--child", "--database-url", args.database_url]
            command += ["--rounds", str(args.rounds)] + (["--without-quality"] if args.without_quality else [])
            command += ["--overview", args.overview] if args.overview else []
            env = {**os.environ, "PYTHONPATH": str(exported)}
            subprocess.run(command, env=env, check=True)


if __name__ == "__main__":
    main()
