"""A whole polybot stack as separate processes that a test can kill and restart.

Redis, the simulator and the seven services are started exactly as ``polybot run``
starts them (``polybot/processes.py``, ``polybot.run.service_env``).  On top of that a
``Stack`` can SIGKILL any of them and start it again with the same environment,
restart Redis empty on the same port (the private Redis has no persistence), kill the
whole stack but the simulator (the venue keeps running) and start it again on the same
state directory, and play supervisor: a service that dies on its own is restarted and
counted as a crash.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests

from polybot.processes import SERVICES, Processes, free_port, start_private_redis, start_simulator
from polybot.run import RunOptions, service_env
from shared import messages as m, streams
from shared.redis_conn import connect

# The ledger first (it republishes the state everyone waits for), the clock last.
START_ORDER = ("ledger", "feed", "predictor", "risk", "executor", "resolver", "clock")
RESULT_FILES = ("trades.log", "bot_state.json", "equity_curve.csv")


@dataclass(frozen=True)
class StackOptions:
    data: str = "synthetic"
    start: str | None = None
    intervals: int = 12
    seed: int = 7
    faults: str = ""                      # the simulator's --faults at start
    redis_password: str | None = None
    service_env: dict[str, str] = field(default_factory=dict)  # added to every service's env
    sim_args: tuple[str, ...] = ()


class Stack:
    def __init__(self, run_dir: Path, opts: StackOptions):
        self.run_dir = Path(run_dir)
        self.opts = opts
        self.state_dir = self.run_dir / "state"
        self.processes = Processes(self.run_dir / "logs", cwd=self.run_dir)
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.urls: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.kills: Counter[str] = Counter()
        self.restarts: Counter[str] = Counter()
        self.crashes: Counter[str] = Counter()
        self._client: redis.Redis | None = None

    # -- starting ------------------------------------------------------------------
    def start(self) -> "Stack":
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.start_redis()
        self.start_simulator()
        self.start_services()
        return self

    def start_redis(self) -> None:
        start_private_redis(self.processes, port=self.redis_port, password=self.opts.redis_password)

    def start_simulator(self) -> None:
        opts = self.opts
        args = ["--data", opts.data, "--seed", str(opts.seed), "--speed", "max", *opts.sim_args]
        if opts.start:
            args += ["--start", opts.start]
        if opts.faults:
            args += ["--faults", opts.faults]
        self.urls = start_simulator(self.processes, args, dict(os.environ))
        run = RunOptions(data=opts.data, start=opts.start, intervals=opts.intervals, seed=opts.seed,
                         state_dir=str(self.state_dir))
        env = service_env(run, self.redis_url, self.urls)
        env.pop("REDIS_PASSWORD", None)
        if opts.redis_password:
            env["REDIS_PASSWORD"] = opts.redis_password
        env.update(opts.service_env)
        self.env = env

    def start_services(self, names: tuple[str, ...] = START_ORDER) -> None:
        for name in names:
            self.processes.start_service(name, self.env)

    # -- killing -------------------------------------------------------------------
    def kill(self, name: str) -> None:
        """SIGKILL one process (and its helpers); counted as a kill."""
        if self.processes.kill(name) is not None:
            self.kills[name] += 1

    def restart(self, name: str) -> None:
        """Start ``name`` again with the same environment."""
        if name == "redis":
            self.start_redis()
        else:
            self.processes.start_service(name, self.env)
        self.restarts[name] += 1

    def restart_redis_empty(self) -> None:
        """Redis dies and comes back on the same port with nothing in it."""
        self.kill("redis")
        self.restart("redis")

    def kill_all_but_simulator(self) -> None:
        for name in (*START_ORDER, "redis"):
            self.kill(name)

    def restart_all_but_simulator(self) -> None:
        """A new Redis, then every service, on the same state directory."""
        self.restart("redis")
        for name in START_ORDER:
            self.restart(name)

    def supervise(self) -> list[str]:
        """Restart services that died on their own (what supervisor or compose does)."""
        crashed = []
        for child in self.processes.dead():
            if child.name == "sim":
                raise RuntimeError(f"the simulator died (exit {child.proc.returncode}); see {child.log_path}")
            if child.name in SERVICES or child.name == "redis":
                child.exited()
                self.processes.children.remove(child)
                self.crashes[child.name] += 1
                self.restart(child.name)
                crashed.append(child.name)
        return crashed

    # -- observing -------------------------------------------------------------------
    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = connect(self.redis_url, self.opts.redis_password)
        return self._client

    def ledger_state(self) -> m.LedgerState | None:
        try:
            raw = self.client.get(streams.LEDGER_STATE_KEY)
        except redis.RedisError:
            return None  # Redis is being restarted
        return m.STATE_DECODER.decode(raw) if raw else None

    def bot_state(self) -> dict | None:
        try:
            return json.loads((self.state_dir / "bot_state.json").read_text())
        except (FileNotFoundError, ValueError):
            return None  # not written yet (the ledger replaces it atomically)

    def complete(self) -> bool:
        """The run is over: the ledger says so and every settlement is confirmed."""
        state, files = self.ledger_state(), self.bot_state()
        return (state is not None and state.run_complete and files is not None
                and files["run_complete"] and files["unconfirmed_settlements"] == 0)

    def wait_complete(self, timeout_s: float, poll_s: float = 0.1) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.supervise()
            if self.complete():
                return True
            time.sleep(poll_s)
        return False

    def venue_orders(self, slug: str | None = None) -> list[dict]:
        """Every POST /order the simulator saw (``GET {control}/orders[?slug=]``)."""
        response = requests.get(f"{self.urls['control']}/orders", params={"slug": slug} if slug else None,
                                timeout=5)
        response.raise_for_status()
        return response.json()["orders"]

    def set_faults(self, spec: str) -> None:
        response = requests.post(f"{self.urls['control']}/faults", json={"spec": spec}, timeout=5)
        response.raise_for_status()

    def result_bytes(self) -> dict[str, bytes]:
        return {name: (self.state_dir / name).read_bytes() for name in RESULT_FILES}

    def trade_records(self) -> list[dict]:
        path = self.state_dir / "trades.log"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    # -- stopping --------------------------------------------------------------------
    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        self.processes.stop_all(grace_s=3.0)

    def __enter__(self) -> "Stack":
        try:
            return self.start()
        except BaseException:
            self.stop()  # whatever did start must not outlive us
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
