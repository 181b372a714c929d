"""Integrity bench: ``POST /v1/decisions`` throughput with the tamper-evident log on and off, same run.

    .venv/bin/python bench/integrity.py                       # PostgreSQL at 127.0.0.1:5432, user postgres
    .venv/bin/python bench/integrity.py --engine sqlite --seconds 10 --rounds 2

Each round starts the real service (``decision-log serve``, one worker, background sealer every 5 s,
checkpoints signed) on a fresh database, once with ``DECISION_LOG_INTEGRITY_LOG=true`` (the default) and
once with ``false`` (no log entries: only for this comparison), alternating which goes first; posts the
body of bench/write.py with ``--connections`` keep-alive clients for ``--seconds``; reads the server's
CPU per request from /proc. After each "on" run it times ``decision-log verify`` over what was written.
Prints the table and writes ``bench/results/integrity.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from common import DEFAULT_PG, RESULTS, log, machine_note, service  # noqa: E402
from write import BODY, OWNER, SOURCE, TEAM, choose_generator, process_cpu, run_python, run_wrk  # noqa: E402

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
    return parser.parse_args()


def measure(args: argparse.Namespace, generator: str, log_on: bool, key: str) -> dict[str, Any]:
    env = {
        "DECISION_LOG_INTEGRITY_LOG": "true" if log_on else "false",
        "DECISION_LOG_SIGNING_KEY": key,
    }
    label = "on" if log_on else "off"
    with service(args.engine, pg=args.pg, prefix=f"bench_integrity_{label}", env=env) as svc:
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


def main() -> None:
    args = parse_args()
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
