"""A real ``warding serve`` process on loopback for the latency and soak benchmarks:
set-up through the CLI, start, wait until ready, stop; and a small keep-alive HTTP/1.1
client on asyncio (no third-party client, so the client's own costs stay small).

Requests go only to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
WARDING = str(Path(sys.executable).with_name("warding"))


@dataclass(frozen=True)
class Site:
    db: str
    data: Path
    warding: str = WARDING

    def cli(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run([self.warding, "--db", self.db, "--data-dir", str(self.data),
                               *args], input=stdin, capture_output=True, text=True,
                              check=False, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"warding {' '.join(args)}: {proc.stderr[-2000:]}")
        return proc.stdout

    def api_key(self, user: str, role: str, env: dict[str, str] | None = None) -> str:
        self.cli("user", "create", user, "--role", role, "--password-stdin",
                 stdin="a long benchmark password\n", env=env)
        return self.cli("user", "api-key", user, env=env).strip().split()[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(site: Site, log: Path, env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """``warding serve`` on a free port until the block ends: (port, pid)."""
    port = free_port()
    server = subprocess.Popen([site.warding, "--db", site.db, "--data-dir", str(site.data),
                               "serve", "--host", HOST, "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL,
                              stderr=open(log, "w"))  # noqa: SIM115
    try:
        started = time.monotonic()
        while True:
            if server.poll() is not None or time.monotonic() - started > 600:
                raise RuntimeError(f"the server did not start; see {log}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/status", timeout=5) as r:
                    if (json.loads(r.read()).get("index") or {}).get("state", "ready") == "ready":
                        break
            except OSError:
                pass
            time.sleep(0.5)
        yield port, server.pid
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of the CLI and the server: no semantic model (nothing to load)."""
    return dict(os.environ, WARDING_SEMANTIC_MATCHING="false", WARDING_INDEX_POLL_SECONDS="0.25",
                **extra)


class Conn:
    """One keep-alive HTTP/1.1 connection (reopened after the server closes it)."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"",
                      ctype: str = "application/json") -> tuple[int, bytes]:
        head = (f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n"
                f"Authorization: Bearer {self.key}\r\nAccept: application/json\r\n")
        if body or method in ("POST", "PUT", "PATCH"):
            head += f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        data = (head + "\r\n").encode() + body
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
            assert self.reader is not None
            try:
                self.writer.write(data)
                return await _read(self.reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _read(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


def multipart(field: str, filename: str, data: bytes, ctype: str) -> tuple[bytes, str]:
    boundary = "benchBoundary7e3"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
