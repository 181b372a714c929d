"""PgBouncer (Debian's package) in transaction pooling mode, started by a test in front of the PostgreSQL server the
suite runs on: a configuration of its own in a temporary directory, a free port on 127.0.0.1, trust authentication.
:meth:`PgBouncer.stop` ends it and removes the directory. As root (CI) it runs as the ``postgres`` user (or
``nobody``): PgBouncer refuses to run as root."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from tests.faults.cluster import free_port, run_as

START_TIMEOUT = 30


def find_pgbouncer() -> str | None:
    """On PATH, or where Debian puts it (/usr/sbin, off the PATH of most users)."""
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")


class PgBouncer:
    """``pgbouncer`` with ``pool_mode = transaction`` in front of ``server`` (a ``postgresql://`` URL), few server
    connections handed out in turn (``server_round_robin``), so a client's consecutive transactions land on
    different server connections, as they do under load. ``settings`` adds lines to its ``[pgbouncer]`` section."""

    def __init__(self, server: str, *, pool_size: int = 3, **settings: str) -> None:
        binary = find_pgbouncer()
        if binary is None:
            raise FileNotFoundError("pgbouncer (Debian package pgbouncer) is needed")
        self.binary = binary
        self.server: URL = make_url(server)
        self.root = Path(tempfile.mkdtemp(prefix="decision-log-pgbouncer-"))
        self.port = free_port()
        self.as_user = run_as()
        user = self.server.username or "postgres"
        password = self.server.password or ""
        (self.root / "userlist.txt").write_text(f'"{user}" "{password}"\n')
        lines = {
            "listen_addr": "127.0.0.1",
            "listen_port": str(self.port),
            "unix_socket_dir": "",
            "auth_type": "trust",
            "auth_file": str(self.root / "userlist.txt"),
            "pool_mode": "transaction",
            "default_pool_size": str(pool_size),
            "server_round_robin": "1",
            "max_client_conn": "200",
            **settings,
        }
        config = [
            "[databases]",
            f"* = host={self.server.host or '127.0.0.1'} port={self.server.port or 5432}",
            "[pgbouncer]",
            *(f"{name} = {value}" for name, value in lines.items()),
        ]
        self.config = self.root / "pgbouncer.ini"
        self.config.write_text("\n".join(config) + "\n")
        self.log = self.root / "pgbouncer.log"
        if self.as_user:
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, self.as_user["user"], self.as_user["group"])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                **self.as_user,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited at start:\n{self.log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"pgbouncer did not listen within {START_TIMEOUT} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def url(self, database: str) -> str:
        """The URL of ``database`` through this pooler, with the server's user (and password)."""
        return self.server.set(host="127.0.0.1", port=self.port, database=database).render_as_string(
            hide_password=False
        )

    def log_tail(self, lines: int = 60) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
