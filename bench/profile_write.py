"""Profile the service under the write load of ``bench/write.py`` with py-spy, and summarise.

    python3 -m venv /tmp/pyspy && /tmp/pyspy/bin/pip install py-spy      # once, outside the project
    .venv/bin/python bench/profile_write.py --py-spy /tmp/pyspy/bin/py-spy [--seconds 20]

Same set-up as the benchmark (fresh database, the service on one worker, ``--connections`` keep-alive
clients through wrk, or bench/loadgen.py without it). py-spy samples the server process while the
load runs; the raw stacks land in ``bench/results/profile-app.txt`` (load them into
https://speedscope.app for a flame graph) and the summary is printed: where the CPU goes by
library (self time) and the heaviest functions on the request path (inclusive time).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from write import BODY, RESULTS, environment, run_python, run_wrk

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]*)(?::(?P<line>\d+))?\)$")
# Leaf frames of a thread that is waiting, not working (anyio's worker threads between jobs).
IDLE = {("wait", "threading.py"), ("Condition.wait", "threading.py"), ("Queue.get", "queue.py")}
LIBRARIES = {
    "pydantic_core": "pydantic",
    "typing_extensions.py": "pydantic",
    "httptools": "uvicorn",
    "h11": "uvicorn",
    "uvloop": "asyncio",
    "selectors.py": "asyncio",
    "sqlmodel": "sqlalchemy",
    "greenlet": "sqlalchemy",
    "_backends": "anyio",
    "sniffio": "anyio",
    "contextlib.py": "stdlib",
    "uuid.py": "stdlib",
    "weakref.py": "stdlib",
    "enum.py": "stdlib",
    "re": "stdlib",
    "typing.py": "stdlib",
    "threading.py": "threads",
    "queue.py": "threads",
}


def area_of(path: str) -> str:
    """The library a frame belongs to, from py-spy's shortened path (``sqlalchemy/sql/compiler.py``)."""
    if path.startswith("<sqlalchemy"):
        return "sqlalchemy"
    head = path.split("/", 1)[0]
    name = LIBRARIES.get(head, head)
    return name.removesuffix(".py")


def short(path: str) -> str:
    return path


def parse(lines: list[str]) -> list[tuple[list[tuple[str, str]], int]]:
    stacks = []
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        frames_text, _, count = line.rpartition(" ")
        frames = []
        for part in frames_text.split(";"):
            match = FRAME.match(part.strip())
            if match:
                frames.append((match["func"], match["file"]))
        if frames:
            stacks.append((frames, int(count)))
    return stacks


def summarise(stacks: list[tuple[list[tuple[str, str]], int]], top: int) -> str:
    idle = sum(n for frames, n in stacks if frames[-1] in IDLE)
    stacks = [(frames, n) for frames, n in stacks if frames[-1] not in IDLE]
    total = sum(n for _, n in stacks)
    by_area: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, n in stacks:
        func, path = frames[-1]
        by_area[area_of(path)] += n
        self_time[f"{func} ({short(path)})"] += n
        for key in {f"{f} ({short(p)})" for f, p in frames}:
            inclusive[key] += n
    out = [f"{total} busy samples ({idle} idle worker-thread samples left out)"]
    out.append("SQLAlchemy's sync layer runs in a greenlet, which py-spy shows as its own stack (root Session.execute")
    out.append("or Session.commit): the app function that called it does not include it. Read the library split.")
    out.append("\nself time by library:")
    out += [f"  {n / total:6.1%}  {name}" for name, n in by_area.most_common()]
    out.append(f"\nheaviest functions, inclusive (top {top}):")
    out += [f"  {n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    out.append(f"\nheaviest functions, self (top {top}):")
    out += [f"  {n / total:6.1%}  {name}" for name, n in self_time.most_common(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--py-spy", default=shutil.which("py-spy"), help="path to the py-spy binary")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--no-access-log", action="store_true", help="serve with log level WARNING")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server, no db")
    parser.add_argument("--summarise", type=Path, help="only summarise an existing raw profile")
    args = parser.parse_args()
    if args.summarise:
        print(summarise(parse(args.summarise.read_text().splitlines()), args.top))
        return
    if not args.py_spy:
        sys.exit(
            "py-spy not found: install it outside the project, e.g.\n"
            "  python3 -m venv /tmp/pyspy && /tmp/pyspy/bin/pip install py-spy\n"
            "then pass --py-spy /tmp/pyspy/bin/py-spy"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    body_file = RESULTS / "write-body.json"
    body_file.write_text(json.dumps(BODY))
    output = RESULTS / "profile-app.txt"
    drive = run_wrk if shutil.which("wrk") else run_python
    with environment(args.pg, prefix="bench_profile", access_log=not args.no_access_log) as env:
        server = env.servers["app"]
        drive(server, body_file, env.auth, connections=args.connections, seconds=3)  # warm-up
        result: dict[str, object] = {}
        load = threading.Thread(
            target=lambda: result.update(
                drive(server, body_file, env.auth, connections=args.connections, seconds=args.seconds + 2)
            )
        )
        load.start()
        subprocess.run(
            [args.py_spy, "record", "--pid", str(server.process.pid), "--duration", str(args.seconds),
             "--rate", str(args.rate), "--format", "raw", "--output", str(output)],
            check=True, capture_output=True,
        )  # fmt: skip
        load.join()
    print(f"load during the profile: {result.get('rps', 0):,.0f} req/s (slowed by the sampling)")
    print(f"raw stacks: {output}")
    print(summarise(parse(output.read_text().splitlines()), args.top))


if __name__ == "__main__":
    main()
