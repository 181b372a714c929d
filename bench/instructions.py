"""Instructions per ``POST /v1/decisions``, counted by valgrind, for the service at two revisions.

    .venv/bin/python bench/instructions.py                      # the working tree against HEAD
    .venv/bin/python bench/instructions.py --against e36fd0e    # … against another revision
    .venv/bin/python bench/instructions.py --against A --against B --requests 200
    .venv/bin/python bench/instructions.py --baseline raw_app --baseline lean_app   # … and bench/write.py's baselines
    .venv/bin/python bench/instructions.py --baseline raw_app --baseline orm_app    # … or its reference points

CPU time per request moves by 10 to 20 % from one run to the next on these shared machines, more than
most changes to the request path save. The number of instructions a request executes does not depend
on who else runs, so this tool counts them (valgrind's callgrind, ``Ir``) to compare revisions:

1. creates a throw-away database on the local PostgreSQL (``--pg``), migrates it (the working tree's
   migrations, so the revisions compared must share the schema) and creates a write key;
2. exports each ``--against`` revision (``git archive``) to a temporary directory, and starts the service
   from the working tree and from each export under valgrind, instrumentation off (the start-up runs at
   near full speed); with ``--baseline``, also ``bench/raw_app.py``, ``bench/lean_app.py`` or a reference
   point of ``bench/write.py --reference`` (``orm_app``, ``orm_app_no_refresh``), served as ``bench/write.py``
   serves them (uvicorn, one worker);
3. for each server, one client posts ``--warmup`` decisions, then instrumentation is switched on for
   ``--requests`` sequential posts, then off;
4. prints the instructions per request of each and their ratio to the working tree's, stops the servers
   and drops the database.

One client and sequential requests: it counts the work of a request, not what concurrency adds (waits
for a connection, the event loop's turns). Background work that falls in the window (the tamper-evident
log's sealer, the rollup folding) is counted too, which makes figures vary by about ±2 %.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from write import (
    BENCH,
    BIN,
    BODY,
    OWNER,
    REFERENCES,
    ROOT,
    SOURCE,
    TEAM,
    Server,
    create_database,
    create_write_key,
    drop_database,
    export,
    free_port,
    log,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", action="append", help="a revision to compare with (default: HEAD)")
    parser.add_argument(
        "--baseline",
        action="append",
        choices=["raw_app", *sorted(REFERENCES)],
        default=[],
        help="also count a baseline",
    )
    parser.add_argument("--requests", type=int, default=100, help="counted requests per server (default 100)")
    parser.add_argument("--warmup", type=int, default=30, help="requests before counting (default 30)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server, no db")
    return parser.parse_args()


VALGRIND = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null"]
# The system allocator, which valgrind follows.
VALGRIND_ENV = {"PYTHONMALLOC": "malloc"}


def service(name: str, tree: Path, url: str) -> Server:
    """The service from ``tree``, one worker, under callgrind with instrumentation off until switched on."""
    port = free_port()
    code = (
        f"import sys; sys.path.insert(0, {str(tree)!r}); "
        f"sys.argv = ['decision-log', 'serve', '--host', '127.0.0.1', '--port', '{port}']; "
        "from app.cli import main; main()"
    )
    # The limiter stays on, far above the offered load.
    env = {"DECISION_LOG_DATABASE_URL": url, "DECISION_LOG_RATE_LIMIT": "100000000/minute", **VALGRIND_ENV}
    return Server(name, [*VALGRIND, str(BIN / "python"), "-c", code], env, port)


def baseline(name: str, endpoint: str, url: str) -> Server:
    """``endpoint`` (``raw_app`` or one of :data:`write.REFERENCES`) served as ``bench/write.py`` serves it, under
    callgrind."""
    module, extra = REFERENCES.get(endpoint, (endpoint, {}))
    port = free_port()
    command = [
        *VALGRIND, str(BIN / "python"), "-m", "uvicorn", f"{module}:app", "--app-dir", str(BENCH),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    return Server(name, command, {"BENCH_RAW_DSN": url, **VALGRIND_ENV, **extra}, port)


def count(server: Server, auth: str, args: argparse.Namespace) -> None:
    with httpx.Client(base_url=server.base_url, headers={"Authorization": auth}, timeout=60) as client:
        for _ in range(args.warmup):
            client.post("/v1/decisions", json=BODY).raise_for_status()
        subprocess.run(["callgrind_control", "-i", "on", str(server.process.pid)], check=True, capture_output=True)
        for _ in range(args.requests):
            client.post("/v1/decisions", json=BODY).raise_for_status()
        subprocess.run(["callgrind_control", "-i", "off", str(server.process.pid)], check=True, capture_output=True)


def collected(server: Server) -> int:
    """The instructions callgrind counted while instrumentation was on (its summary at exit)."""
    found = re.findall(r"Collected : ([\d,]+)", server.log_path.read_text(errors="replace"))
    if not found:
        raise RuntimeError(f"{server.name}: no callgrind summary in {server.log_path}")
    return int(found[-1].replace(",", ""))


def main() -> None:
    args = parse_args()
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        sys.exit("valgrind is not installed (apt-get install -y valgrind)")
    revisions = args.against or ([] if args.baseline else ["HEAD"])
    pg = args.pg.rstrip("/")
    name = f"bench_instructions_{os.getpid()}"
    url = f"{pg}/{name}"
    servers: dict[str, Server] = {}
    log(f"creating database {name}")
    asyncio.run(create_database(f"{pg}/postgres", name))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-instructions-") as scratch:
            from app.core.migrations import upgrade

            upgrade(url)
            auth = "Bearer " + asyncio.run(create_write_key(url))
            trees = {"working tree": ROOT, **{revision: export(revision, Path(scratch)) for revision in revisions}}
            for index, (label, tree) in enumerate(trees.items()):
                servers[label] = service(f"instructions-{index}", tree, url)
            for endpoint in args.baseline:
                servers[endpoint] = baseline(f"instructions-{endpoint}", endpoint, url)
            for server in servers.values():
                server.wait_ready(timeout=600)
            with httpx.Client(base_url=servers["working tree"].base_url, headers={"Authorization": auth}) as client:
                client.put(f"/v1/people/{OWNER}", json={"name": "Anna Petrova", "team": TEAM}).raise_for_status()
                client.put(f"/v1/data-sources/{SOURCE}", json={"name": "GA4", "kind": "analytics"}).raise_for_status()
            for label, server in servers.items():
                log(f"counting {label}")
                count(server, auth, args)
            for server in servers.values():
                server.stop()  # callgrind writes its summary at exit
            per_request = {label: collected(server) / args.requests for label, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()  # does nothing for a server already stopped
        asyncio.run(drop_database(f"{pg}/postgres", name))
        log(f"dropped database {name}")
    mine = per_request["working tree"]
    width = max(map(len, per_request))
    print(f"{'':<{width}}  {'instructions per create':>24}  {'vs working tree':>15}")
    for label, value in per_request.items():
        print(f"{label:<{width}}  {value / 1e6:>22.3f} M  {value / mine:>15.3f}")
    print(f"{args.requests} sequential requests each after {args.warmup} unmeasured, one client, valgrind callgrind")


if __name__ == "__main__":
    main()
