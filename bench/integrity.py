"""Integrity bench: ``POST /v1/decisions`` throughput with the tamper-evident log on and off, same run; and with
``--verify N``, the time ``decision-log verify`` takes over a record of about N log entries, for the working tree
and for earlier revisions, same run.

    .venv/bin/python bench/integrity.py                       # PostgreSQL at 127.0.0.1:5432, user postgres
    .venv/bin/python bench/integrity.py --engine sqlite --seconds 10 --rounds 2
    .venv/bin/python bench/integrity.py --verify 100000 --against main --rounds 3

Each round starts the real service (``decision-log serve``, one worker, background sealer every 5 s,
checkpoints signed) on a fresh database, once as it is and once through ``bench/serve.py --no-integrity-log``
(no log entries: only for this comparison), alternating which goes first; posts the
body of bench/write.py with ``--connections`` keep-alive clients for ``--seconds``; reads the server's
CPU per request from /proc. After each "on" run it times ``decision-log verify`` over what was written.
Prints the table and writes ``bench/results/integrity.json``.

``--verify N``: for the working tree and each ``--against`` revision (``git archive`` of its package and migrations,
first on ``PYTHONPATH``), a fresh database migrated by that revision, the service of that revision serving it,
bench/common.py's organisation registered, 90 % of N decisions posted through ``POST /v1/decisions/batch`` and
10 % of N changes made one by one (corrections, outcome reviews, reversals: each a revision of its own). Then,
``--rounds`` times, each revision's ``decision-log verify`` (a process of its own, as a user runs it) times a
verification of its own database, alternating which goes first; a first, untimed run seals what is pending.
Writes ``bench/results/integrity-verify.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from common import (  # noqa: E402
    DEFAULT_PG,
    RESULTS,
    Decisions,
    log,
    machine_note,
    organisation,
    register,
    service,
)
from write import (  # noqa: E402
    BIN,
    BODY,
    OWNER,
    SOURCE,
    TEAM,
    Server,
    choose_generator,
    create_database,
    drop_database,
    export,
    free_port,
    git_state,
    process_cpu,
    run_python,
    run_wrk,
)

from app.integrity.signing import new_private_key_b64  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--verify", type=int, metavar="N", help="Time `decision-log verify` over about N entries.")
    parser.add_argument("--against", action="append", default=[], metavar="REV", help="With --verify: also REV.")
    parser.add_argument("--keep", action="store_true", help="With --verify: keep the databases (URLs logged).")
    return parser.parse_args()


def measure(args: argparse.Namespace, generator: str, log_on: bool, key: str) -> dict[str, Any]:
    env = {"DECISION_LOG_SIGNING_KEY": key}
    serve = None if log_on else [sys.executable, str(Path(__file__).with_name("serve.py")), "--no-integrity-log"]
    label = "on" if log_on else "off"
    with service(args.engine, pg=args.pg, prefix=f"bench_integrity_{label}", env=env, serve=serve) as svc:
        with svc.client() as client:
            client.put(f"/v1/people/{OWNER}", json={"name": "Anna Petrova", "team": TEAM}).raise_for_status()
            client.put(f"/v1/data-sources/{SOURCE}", json={"name": "GA4", "kind": "analytics"}).raise_for_status()
        body_file = RESULTS / "integrity-body.json"
        body_file.write_text(json.dumps(BODY))
        drive = run_wrk if generator == "wrk" else run_python
        if args.warmup:
            drive(svc.server, body_file, svc.auth, connections=args.connections, seconds=args.warmup)
        cpu_before = process_cpu(svc.pid)
        result = drive(svc.server, body_file, svc.auth, connections=args.connections, seconds=args.seconds)
        cpu = process_cpu(svc.pid) - cpu_before
        figures = {
            "log": label,
            "requests_per_second": result["ok"] / result["seconds"],
            "server_cpu_ms_per_request": cpu / result["ok"] * 1000 if result["ok"] else float("nan"),
            "errors": result.get("errors"),
        }
        if log_on:
            started = time.perf_counter()
            verify = subprocess.run(
                [str(Path(sys.executable).parent / "decision-log"), "verify"],
                env={**os.environ, **env, "DECISION_LOG_DATABASE_URL": svc.url},
                capture_output=True,
                text=True,
            )
            figures["verify_seconds"] = time.perf_counter() - started
            figures["verify_output"] = (verify.stdout + verify.stderr).strip().splitlines()[-1]
            figures["verify_exit"] = verify.returncode
        rps, cpu_ms = figures["requests_per_second"], figures["server_cpu_ms_per_request"]
        log(f"  log {label}: {rps:.0f} req/s, {cpu_ms:.2f} ms CPU per request")
        return figures


# ---------------------------------------------------------------------------------------------
# --verify N: how long verification takes, the working tree against earlier revisions
# ---------------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str  # "working tree" or the revision
    env: dict[str, str]  # the database, the signing key, and PYTHONPATH for a revision
    url: str
    drop: Callable[[], None]


def cli(target: Target, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "decision-log"), *arguments], env={**os.environ, **target.env}, capture_output=True, text=True
    )


def make_target(args: argparse.Namespace, name: str, tree: Path | None, key: str) -> Target:
    """A fresh database, migrated by the revision's own migrations."""
    label = re.sub(r"\W", "_", name)[:20]
    db_name = f"bench_verify_{label}_{os.getpid()}_{int(time.time())}"
    if args.engine == "postgresql":
        admin = f"{args.pg.rstrip('/')}/postgres"
        asyncio.run(create_database(admin, db_name))
        url = f"{args.pg.rstrip('/')}/{db_name}"

        def drop() -> None:
            asyncio.run(drop_database(admin, db_name))
    else:
        path = Path("/tmp") / f"{db_name}.db"
        url = f"sqlite:///{path}"

        def drop() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    env = {"DECISION_LOG_DATABASE_URL": url, "DECISION_LOG_SIGNING_KEY": key, "DECISION_LOG_RATE_LIMIT": ""}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    target = Target(name, env, url, drop)
    migrated = cli(target, "migrate")
    if migrated.returncode != 0:
        drop()
        raise RuntimeError(f"{name}: migrate failed: {migrated.stderr}")
    return target


def load(target: Target, entries: int) -> dict[str, Any]:
    """The organisation, 90 % of ``entries`` decisions in batches, 10 % changes one by one, through the service."""
    created = cli(target, "keys", "create", "--name", "bench-verify", "--scope", "write")
    if created.returncode != 0:
        raise RuntimeError(f"{target.name}: keys create failed: {created.stderr}")
    auth = {"Authorization": "Bearer " + created.stdout.strip().splitlines()[-1]}
    port = free_port()
    label = re.sub(r"\W", "_", target.name)
    command = [str(BIN / "decision-log"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = Server(f"integrity-verify-{label}", command, target.env, port)
    started = time.perf_counter()
    try:
        server.wait_ready()
        org = organisation()
        with httpx.Client(base_url=server.base_url, headers=auth, timeout=300) as client:
            register(client, org)
            bodies = list(Decisions(org, entries * 9 // 10, seed=11, external_refs=True).payloads())
            ids: list[str] = []
            for start in range(0, len(bodies), 1000):
                response = client.post("/v1/decisions/batch", json={"items": bodies[start : start + 1000]})
                response.raise_for_status()
                ids += [item["id"] for item in response.json()["items"]]
        changes = change_plan(ids, entries // 10)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda part: apply_changes(server.base_url, auth, part), [changes[i::4] for i in range(4)]))
    finally:
        server.stop()
    return {"decisions": len(ids), "changes": len(changes), "load_seconds": time.perf_counter() - started}


def change_plan(ids: list[str], count: int) -> list[tuple[str, str, dict[str, Any]]]:
    """``count`` changes on distinct decisions, the same for every revision: corrections, reviews, reversals."""
    rng = random.Random(5)
    plan = []
    for i, decision_id in enumerate(rng.sample(ids, min(count, len(ids)))):
        if i % 3 == 0:
            body = {"edit_reason": "Title made precise.", "title": f"Corrected decision {i}", "tags": ["corrected"]}
            plan.append(("PATCH", f"/v1/decisions/{decision_id}", body))
        elif i % 3 == 1:
            body = {"result": "success", "notes": "Met its target.", "actual_value": 42, "reviewed_by": OWNERS[0]}
            plan.append(("POST", f"/v1/decisions/{decision_id}/outcome", body))
        else:
            body = {"reason": "Budget cut.", "by": OWNERS[1]}
            plan.append(("POST", f"/v1/decisions/{decision_id}/reverse", body))
    return plan


OWNERS = [owner.handle for owner in organisation().members[:2]]


def apply_changes(base_url: str, auth: dict[str, str], changes: list[tuple[str, str, dict[str, Any]]]) -> None:
    with httpx.Client(base_url=base_url, headers=auth, timeout=60) as client:
        for method, path, body in changes:
            response = client.request(method, path, json=body)
            if response.status_code >= 300:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")


def time_verify(target: Target) -> dict[str, Any]:
    """Wall time and the CPU time of the ``decision-log verify`` process (user + system): on a machine others share,
    the CPU time is the steadier figure, and verification's work is the process's (the database's is small)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = cli(target, "verify")
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = (result.stdout + result.stderr).strip().splitlines()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "exit": result.returncode,
        "summary": lines[0] if lines else "",
        "last": lines[-1],
    }


def verify_main(args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    key = new_private_key_b64()
    scratch = tempfile.TemporaryDirectory(prefix="bench-integrity-")
    targets: list[Target] = []
    figures: dict[str, Any] = {}
    try:
        for name in ["working tree", *args.against]:
            tree = None if name == "working tree" else export(name, Path(scratch.name))
            log(f"{name}: loading about {args.verify} entries ({args.engine})")
            target = make_target(args, name, tree, key)
            targets.append(target)
            figures[name] = {"load": load(target, args.verify), "runs": []}
            first = time_verify(target)  # seals what is pending; not timed
            log(f"{name}: {first['summary']} ({first['last']})")
            figures[name]["first"] = first
        for round_ in range(args.rounds):
            for target in targets[round_ % len(targets) :] + targets[: round_ % len(targets)]:
                run = time_verify(target)
                figures[target.name]["runs"].append(run)
                log(
                    f"  round {round_ + 1}, {target.name}: {run['seconds']:.2f} s, {run['cpu_seconds']:.2f} s CPU, "
                    f"exit {run['exit']}"
                )
    finally:
        for target in targets:
            if args.keep:
                log(f"kept {target.url}")
            else:
                target.drop()
        scratch.cleanup()
    for item in figures.values():
        item["median_seconds"] = statistics.median(run["seconds"] for run in item["runs"])
        item["median_cpu_seconds"] = statistics.median(run["cpu_seconds"] for run in item["runs"])
    summary = {
        "engine": args.engine,
        "entries": args.verify,
        "rounds": args.rounds,
        "git": git_state(),
        "targets": figures,
        "machine": machine_note(),
    }
    (RESULTS / "integrity-verify.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\n`decision-log verify` over about {args.verify} entries, {args.engine}, {args.rounds} rounds:")
    base = figures["working tree"]
    for name, item in figures.items():
        versus = ""
        if name != "working tree":
            versus = (
                f"   working tree / this: {base['median_seconds'] / item['median_seconds']:.2f} wall, "
                f"{base['median_cpu_seconds'] / item['median_cpu_seconds']:.2f} CPU"
            )
        runs = ", ".join(f"{run['seconds']:.1f}/{run['cpu_seconds']:.1f}" for run in item["runs"])
        print(
            f"  {name:<16}{item['median_seconds']:>7.2f} s wall, {item['median_cpu_seconds']:.2f} s CPU "
            f"(medians; wall/CPU per round: {runs}){versus}"
        )
        print(f"  {'':<16}{item['first']['summary']}")


def main() -> None:
    args = parse_args()
    if args.verify:
        verify_main(args)
        return
    generator = choose_generator(args.generator)
    key = new_private_key_b64()
    runs: list[dict[str, Any]] = []
    for round_ in range(args.rounds):
        order = (True, False) if round_ % 2 == 0 else (False, True)
        for log_on in order:
            runs.append(measure(args, generator, log_on, key))

    def median(label: str, name: str) -> float:
        return statistics.median(r[name] for r in runs if r["log"] == label)

    on, off = median("on", "requests_per_second"), median("off", "requests_per_second")
    summary = {
        "engine": args.engine,
        "generator": generator,
        "connections": args.connections,
        "seconds": args.seconds,
        "requests_per_second": {"log on": on, "log off": off, "ratio": on / off},
        "server_cpu_ms_per_request": {
            "log on": median("on", "server_cpu_ms_per_request"),
            "log off": median("off", "server_cpu_ms_per_request"),
        },
        "verify": [
            {k: r[k] for k in ("verify_seconds", "verify_exit", "verify_output")} for r in runs if r["log"] == "on"
        ],
        "runs": runs,
        "machine": machine_note(),
    }
    (RESULTS / "integrity.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nPOST /v1/decisions, {args.engine}, {args.connections} connections, {args.seconds:g} s x {args.rounds}:")
    print(f"  {'':<28}{'log on':>12}{'log off':>12}")
    print(f"  {'requests/s (median)':<28}{on:>12.0f}{off:>12.0f}   on/off = {on / off:.2f}")
    cpu = summary["server_cpu_ms_per_request"]
    print(f"  {'server CPU ms/request':<28}{cpu['log on']:>12.2f}{cpu['log off']:>12.2f}")
    for item in summary["verify"]:
        print(f"  verify: {item['verify_seconds']:.1f} s, exit {item['verify_exit']}: {item['verify_output']}")


if __name__ == "__main__":
    main()
