"""``decision-log serve`` with what only a benchmark changes, for its comparisons.

    .venv/bin/python bench/serve.py [--no-integrity-log] [--no-rationale-signals] [the options of decision-log serve]

``--no-integrity-log``: writes add no entries to the tamper-evident log (``decision-log verify`` then fails), to
measure what the log costs (bench/integrity.py). The switch lives here, not in the service's settings: with one
worker, uvicorn serves the app in this process, where the switch is set.

``--no-rationale-signals``: rationales are written without their analysis (``rationale_signals`` stays empty), to
measure what the analysis costs the write path (``bench/write.py --without-rationale-signals``).
"""

from __future__ import annotations

import sys

from app import cli
from app.decisions import service as decisions
from app.integrity import service as integrity


def main() -> None:
    args = sys.argv[1:]
    if "--no-integrity-log" in args:
        args.remove("--no-integrity-log")
        if "--workers" in args:
            sys.exit("--no-integrity-log needs one worker: the switch is set in this process")
        integrity.LOG_WRITES = False
    if "--no-rationale-signals" in args:
        args.remove("--no-rationale-signals")
        if "--workers" in args:
            sys.exit("--no-rationale-signals needs one worker: the switch is set in this process")
        decisions.ANALYSE_RATIONALES = False
    sys.argv = ["decision-log", "serve", *args]
    cli.main()


if __name__ == "__main__":
    main()
