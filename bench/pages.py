"""The overview page against the API calls that carry the same figures, in the same run, and what the page ships.

    .venv/bin/python bench/pages.py [--database-url URL] [--rounds 30]

Without ``--database-url`` it loads the demo data set (``decision-log demo``) into a throw-away SQLite database.
Requests go in-process through ASGI (no HTTP server, one at a time), so the figures are the server's time alone:
``GET /ui/`` (default range) against the sum of the seven API calls whose answers the overview shows (the summary
of the range and of the range before, the basis by month by count and by budget, strategy changes, KPIs,
accountability). It also reports the bytes the page ships: its HTML, stylesheet and scripts, raw and gzipped.
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
from app.core.db import Database
from app.core.migrations import upgrade
from app.core.types import format_utc
from app.demo import run_demo
from app.main import create_app
from app.web.rendering import STATIC


async def timed(client: httpx.AsyncClient, path: str, **params: str) -> float:
    started = time.perf_counter()
    response = await client.get(path, params=params)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'pages.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, rate_limit="", integrity_seal_interval_seconds=0)
    database = Database(settings)
    try:
        if args.database_url is None:
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
            pages, sums = [], []
            for _ in range(3):  # warm-up
                await timed(browser, "/ui/")
            for _ in range(args.rounds):
                pages.append(await timed(browser, "/ui/"))
                sums.append(sum([await timed(api, path, **params) for path, params in api_calls]))
            html = (await browser.get("/ui/")).content
            await api.aclose()

    def ms(values: list[float], q: float) -> str:
        return f"{statistics.quantiles(values, n=100)[int(q) - 1] * 1000:.1f}"

    print(f"rounds: {args.rounds}; range {start:%Y-%m-%d} to {end - timedelta(days=1):%Y-%m-%d}")
    print(f"GET /ui/                 p50 {ms(pages, 50)} ms  p95 {ms(pages, 95)} ms")
    print(f"the 7 API calls, summed  p50 {ms(sums, 50)} ms  p95 {ms(sums, 95)} ms")
    print(f"ratio of the p50s        {statistics.median(pages) / statistics.median(sums):.2f}")
    shipped = {
        "HTML of /ui/": html,
        "app.css": (STATIC / "app.css").read_bytes(),
        "app.js": (STATIC / "app.js").read_bytes(),
        "htmx.min.js": (STATIC / "vendor" / "htmx" / "htmx.min.js").read_bytes(),
    }
    for name, data in shipped.items():
        print(f"{name:<24} {len(data):>8,} bytes, {len(gzip.compress(data)):>7,} gzipped")


if __name__ == "__main__":
    asyncio.run(main())
