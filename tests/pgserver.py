"""A throw-away PostgreSQL server for the tests, started with initdb/pg_ctl.

PostgreSQL refuses to run as root; when the tests run as root (as in CI), the
server runs as the ``postgres`` system user through ``runuser``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CANDIDATE_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in CANDIDATE_BIN_DIRS:
        if (d / name).exists():
            return str(d / name)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    root: Path
    port: int
    prefix: list[str]
    pg_ctl: str

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://warding@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(self.prefix + [self.pg_ctl, "-D", str(self.root / "data"), "-m", "immediate",
                                      "stop"], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> PgServer:
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found; "
                           "install the 'postgresql' package")
    prefix: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="warding-pg-"))
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    root.chmod(0o700)
    data = root / "data"
    subprocess.run(prefix + [initdb, "-D", str(data), "-U", "warding", "-A", "trust",
                             "-E", "UTF8", "--no-locale"], check=True, capture_output=True)
    port = _free_port()
    log = root / "log"
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run(prefix + [pg_ctl, "-D", str(data), "-l", str(log), "-o", opts, "-w", "start"],
                   check=True, capture_output=True)
    server = PgServer(root, port, prefix, pg_ctl)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError("PostgreSQL did not start")
