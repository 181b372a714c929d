"""A PostgreSQL cluster of the test's own, to stop, freeze and restart without touching any other.

``initdb`` in a temporary directory, its own free port on 127.0.0.1 (and its socket in that
directory), trust authentication; :meth:`PrivateCluster.destroy` stops it whatever state it is in
and removes the directory. As root (CI), the server runs as the ``postgres`` user (or ``nobody``):
PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

STEP_TIMEOUT = 60  # seconds for any one pg_ctl or initdb step


def find_binary(name: str) -> str | None:
    """``initdb``/``pg_ctl``: on PATH, in /usr/local/bin, or the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    versions = [Path(p) for p in glob.glob(f"/usr/lib/postgresql/*/bin/{name}")]
    versions.sort(key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return str(versions[-1]) if versions else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_as() -> dict[str, Any]:
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            account = pwd.getpwnam(name)
            return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    raise RuntimeError("running as root and no `postgres` or `nobody` user to run PostgreSQL as")


class PrivateCluster:
    def __init__(self) -> None:
        initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        if not initdb or not pg_ctl:
            raise FileNotFoundError("initdb and pg_ctl (PostgreSQL server binaries) are needed")
        self.initdb, self.pg_ctl = initdb, pg_ctl
        self.root = Path(tempfile.mkdtemp(prefix="decision-log-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user = run_as()
        self.paused: list[int] = []
        if self.as_user:
            os.chown(self.root, self.as_user["user"], self.as_user["group"])

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            args, capture_output=True, text=True, timeout=STEP_TIMEOUT, cwd=self.root, check=False, **self.as_user
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def init(self) -> None:
        self._run(
            self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w",
                  "-t", str(STEP_TIMEOUT), "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "-t", str(STEP_TIMEOUT), "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(FileNotFoundError, ValueError, PermissionError):
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        return None

    def processes(self) -> list[int]:
        """The postmaster, then every process it started (backends, checkpointer, …)."""
        postmaster = self.postmaster_pid()
        if postmaster is None:
            return []
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:
                    children.append(int(stat.split("/")[2]))
        return [postmaster, *children]

    def pause(self) -> None:
        """SIGSTOP the whole server: connections stay open, nothing answers."""
        self.paused = self.processes()
        for pid in self.paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in reversed(self.paused):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.paused = []

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.root / "server.log").read_text(errors="replace").splitlines()[-lines:])
        return ""

    def destroy(self) -> None:
        """Stop the server whatever its state (paused, half started) and remove its files."""
        try:
            self.resume()
            if self.postmaster_pid() is not None:
                with contextlib.suppress(Exception):
                    self.stop("immediate")
            pid = self.postmaster_pid()
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
