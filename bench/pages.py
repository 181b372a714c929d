"""The overview page against the API calls that carry the same figures, in the same run, and what the page ships.

    .venv/bin/python bench/pages.py [--database-url URL] [--rounds 30]
    .venv/bin/python bench/pages.py --pg-rows 1000000          # PostgreSQL at 127.0.0.1:5432 (see --pg)
    .venv/bin/python bench/pages.py --pg-rows 1000000 --keep   # and keep that database (for bench/summary_parts.py)

Without ``--database-url`` it loads the demo data set (``decision-log demo``) into a throw-away SQLite database;
with ``--pg-rows N`` it makes a throw-away PostgreSQL database and loads N decisions of bench/common.py's
organisation (the demo's, three years, 50 people) directly, as bench/analytics.py does, then folds the rollup.
Requests go in-process through ASGI (no HTTP server, one at a time), so the figures are the server's time alone:
``GET /ui/`` (default range) against the sum of the seven API calls whose answers the overview shows (the summary
of the range and of the range before, the basis by month by count and by budget, strategy changes, KPIs,
accountability); and the decisions list (``/ui/decisions``, all and one owner's) against ``GET /v1/decisions``
with the same filters. It also reports the bytes the page ships: its HTML, stylesheet and scripts, raw and
gzipped.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from app.analytics.overview import default_range
from app.auth.scopes import Scope
from app.auth.service import create_key
from app.core.config import Settings
from app.core.migrations import upgrade
from app.core.types import format_utc
from app.core.unit_of_work import Database
from app.demo import run_demo
from app.main import create_app
from app.web.rendering import STATIC


async def timed(client: httpx.AsyncClient, path: str, **params: str) -> float:
    started = time.perf_counter()
    response = await client.get(path, params=params)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--pg-rows", type=int)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the --pg-rows database (its URL is printed)")
    args = parser.parse_args()
    if args.pg_rows:
        from analytics import fold_rollup
        from common import copy_into_pg, organisation, register, service, stored_rows

        org = organisation()
        with service("postgresql", pg=args.pg, prefix="bench_pages", keep=args.keep) as svc:
            with svc.client() as client:
                register(client, org)
            loaded = asyncio.run(copy_into_pg(svc.url, stored_rows(org, args.pg_rows), total=args.pg_rows))
            folded, _ = asyncio.run(fold_rollup(svc.url))
            print(f"loaded {args.pg_rows:,} decisions in {loaded:.0f} s, rollup folded in {folded:.1f} s")
            asyncio.run(measure(svc.url, args.rounds, demo=False))
        return
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'pages.db'}"
    asyncio.run(measure(url, args.rounds, demo=args.database_url is None))


async def measure(url: str, rounds: int, *, demo: bool) -> None:
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, rate_limit="", integrity_seal_interval_seconds=0)
    database = Database(settings)
    try:
        if demo:
            await run_demo(database, seed=2026, force=False)
        async with database.sessionmaker() as session, session.begin():
            _, key = await create_key(session, name="bench-pages", scope=Scope.admin)
    finally:
        await database.dispose()
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as browser:
            page = await browser.get("/ui/sign-in")
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            await browser.post("/ui/sign-in", data={"key": key, "csrf_token": token})
            start, end = default_range()
            previous = start - (end - start)
            span = {"from": format_utc(start), "to": format_utc(end)}
            api_calls = [
                ("/v1/analytics/summary", span),
                ("/v1/analytics/summary", {"from": format_utc(previous), "to": format_utc(start)}),
                ("/v1/analytics/basis", {**span, "bucket": "month"}),
                ("/v1/analytics/basis", {**span, "bucket": "month", "weight": "budget", "currency": "EUR"}),
                ("/v1/analytics/strategy-changes", span),
                ("/v1/analytics/kpis", span),
                ("/v1/analytics/accountability", span),
            ]
            api = httpx.AsyncClient(transport=transport, base_url="http://bench", headers={"X-API-Key": key})
            top = (await api.get("/v1/analytics/accountability", params=span)).json()["rows"]
            owner = max(top, key=lambda r: r["decisions"])["owner"] if top else "nobody"
            pages, sums = [], []
            lists: dict[str, tuple[list[float], list[float]]] = {"all": ([], []), "one owner": ([], [])}
            for _ in range(3):  # warm-up
                await timed(browser, "/ui/")
            for _ in range(rounds):
                pages.append(await timed(browser, "/ui/"))
                sums.append(sum([await timed(api, path, **params) for path, params in api_calls]))
                for name, filters in (("all", {}), ("one owner", {"owner": owner})):
                    lists[name][0].append(await timed(browser, "/ui/decisions", **filters))
                    lists[name][1].append(await timed(api, "/v1/decisions", limit="50", **filters))
            html = (await browser.get("/ui/")).content
            await api.aclose()

    def ms(values: list[float], q: float) -> str:
        return f"{statistics.quantiles(values, n=100)[int(q) - 1] * 1000:.1f}"

    print(f"rounds: {rounds}; range {start:%Y-%m-%d} to {end - timedelta(days=1):%Y-%m-%d}")
    print(f"GET /ui/                 p50 {ms(pages, 50)} ms  p95 {ms(pages, 95)} ms")
    print(f"the 7 API calls, summed  p50 {ms(sums, 50)} ms  p95 {ms(sums, 95)} ms")
    print(f"ratio of the p50s        {statistics.median(pages) / statistics.median(sums):.2f}")
    for name, (page_times, api_times) in lists.items():
        print(
            f"/ui/decisions ({name}) p50 {ms(page_times, 50)} ms p95 {ms(page_times, 95)} ms; "
            f"/v1/decisions p50 {ms(api_times, 50)} ms p95 {ms(api_times, 95)} ms"
        )
    shipped = {
        "HTML of /ui/": html,
        "app.css": (STATIC / "app.css").read_bytes(),
        "app.js": (STATIC / "app.js").read_bytes(),
        "htmx.min.js": (STATIC / "vendor" / "htmx" / "htmx.min.js").read_bytes(),
    }
    for name, data in shipped.items():
        print(f"{name:<24} {len(data):>8,} bytes, {len(gzip.compress(data)):>7,} gzipped")


if __name__ == "__main__":
    main()
