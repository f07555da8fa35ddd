"""``polybot run``: the whole product in one command.

Starts a private Redis (unless REDIS_URL is set), the simulator (market ``sim``) and
every service; runs one run; prints live progress and a final summary; stops
everything it started.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import redis

from polybot.processes import Processes, start_private_redis, start_simulator
from shared import messages as m, streams
from shared.redis_conn import connect

POLYMARKET = {"clob": "https://clob.polymarket.com", "gamma": "https://gamma-api.polymarket.com",
              "binance_rest": "https://api.binance.com", "binance_ws": "wss://stream.binance.com:9443",
              "coingecko": "https://api.coingecko.com"}


@dataclass(frozen=True)
class RunOptions:
    market: str = "sim"
    data: str = "synthetic"
    start: str | None = None
    speed: str = "max"
    mode: str = "paper"
    intervals: int = 18
    state_dir: str = "./state"
    seed: int = 7
    fresh: bool = False
    timeout_s: float = 0.0  # 0 = no limit beyond the run itself


class RunError(RuntimeError):
    pass


def service_env(opts: RunOptions, redis_url: str, urls: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1", "INTERVALS": str(opts.intervals),
        "STATE_DIR": str(Path(opts.state_dir).resolve()), "TRADING_MODE": opts.mode,
        "VENUE": opts.market, "CLOB_URL": urls["clob"], "GAMMA_URL": urls["gamma"],
        "BINANCE_REST_URL": urls["binance_rest"], "BINANCE_WS_URL": urls["binance_ws"],
        "COINGECKO_URL": urls["coingecko"],
        # Every process starts at once: the clock must hear from the ledger before it
        # plans, or a restarted stack would start a new run instead of resuming.
        "LEDGER_START_WAIT_S": "30",
    })
    if opts.market == "sim":
        env.update({"CLOCK": "sim", "SIM_CONTROL_URL": urls["control"],
                    "SIM_CLOCK_FILE": urls.get("clock_file", ""),
                    "LOCKSTEP": "true" if opts.speed == "max" else "false"})
    else:
        env.update({"CLOCK": "live", "LOCKSTEP": "false"})
    return env


def prepare_state_dir(path: Path) -> None:
    """Archive a previous run's files so this run starts clean."""
    if not path.exists() or not any(path.iterdir()):
        path.mkdir(parents=True, exist_ok=True)
        return
    previous = path / "run.json"
    name = json.loads(previous.read_text())["run_id"] if previous.exists() else "unknown"
    archive = path / "archive" / f"{name}-{int(time.time())}"
    archive.mkdir(parents=True)
    for item in path.iterdir():
        if item.name != "archive":
            shutil.move(str(item), archive / item.name)
    print(f"previous run's files moved to {archive}")


def check_redis_is_ours(url: str, fresh: bool, password: str | None = None) -> None:
    client = connect(url, password)
    try:
        keys = list(client.scan_iter(match=f"{streams.PREFIX}:*", count=1000))
    except redis.AuthenticationError as exc:
        raise RunError(f"REDIS_URL refused the credentials ({exc}); set REDIS_PASSWORD") from None
    except redis.RedisError as exc:
        raise RunError(f"cannot use REDIS_URL: {exc}") from None
    if keys and not fresh:
        raise RunError(f"REDIS_URL already holds polybot data ({len(keys)} keys); pass --fresh to delete "
                       "it, or unset REDIS_URL to use a private Redis")
    for key in keys:
        client.delete(key)
    for key in client.scan_iter(match="rq:*", count=1000):
        client.delete(key)


def run(opts: RunOptions, out=sys.stdout) -> int:
    state_dir = Path(opts.state_dir)
    prepare_state_dir(state_dir)
    processes = Processes(state_dir / "logs")
    # The services read REDIS_PASSWORD themselves; a private Redis is started with it
    # required, so the same environment works with or without REDIS_URL.
    password = os.environ.get("REDIS_PASSWORD") or None
    try:
        redis_url = os.environ.get("REDIS_URL") or start_private_redis(processes, password=password)
        if os.environ.get("REDIS_URL"):
            check_redis_is_ours(redis_url, opts.fresh, password)
        urls = POLYMARKET
        if opts.market == "sim":
            sim_args = ["--data", opts.data, "--seed", str(opts.seed), "--speed", opts.speed]
            if opts.start:
                sim_args += ["--start", opts.start]
            urls = start_simulator(processes, sim_args, dict(os.environ))
        env = service_env(opts, redis_url, urls)
        for name in ("ledger", "feed", "predictor", "risk", "executor", "resolver", "clock"):
            processes.start_service(name, env)
        print(f"polybot: {opts.intervals} intervals, market={opts.market}, mode={opts.mode}, "
              f"state in {state_dir}", file=out)
        return watch(connect(redis_url, password), state_dir, processes, opts, out)
    finally:
        processes.stop_all()


def watch(client: redis.Redis, state_dir: Path, processes: Processes, opts: RunOptions, out) -> int:
    """Print each interval as the ledger records it; return when the run is complete."""
    from polybot.progress import Progress

    progress = Progress(state_dir, opts.intervals, out)
    started = time.monotonic()
    while True:
        progress.poll()
        dead = [c for c in processes.dead() if c.name != "redis" or True]
        if dead:
            names = ", ".join(f"{c.name} (exit {c.proc.returncode}, log {c.log_path})" for c in dead)
            print(f"error: a process stopped unexpectedly: {names}", file=sys.stderr)
            return 1
        state = _state(client)
        if state is not None and state.run_complete and progress.confirmed():
            progress.poll()
            progress.summary()
            return 0
        if opts.timeout_s and time.monotonic() - started > opts.timeout_s:
            print(f"error: the run did not finish within {opts.timeout_s:.0f} s", file=sys.stderr)
            return 1
        time.sleep(0.1)


def _state(client: redis.Redis) -> m.LedgerState | None:
    raw = client.get(streams.LEDGER_STATE_KEY)
    return m.STATE_DECODER.decode(raw) if raw else None


def money(value) -> str:
    return f"${Decimal(value):,.2f}"
