"""The whole stack on loopback: a private Redis, the simulator at ``--speed max`` and
every service, the clock in lockstep (sim time moves as soon as the pipeline is done).

One run gives:

* **throughput** -- intervals per second from the first tick to the ledger's
  ``run_complete`` (services are up and healthy before the clock starts, so start-up
  is not counted);
* **tick-to-order latency** -- for every interval that placed an order: the
  simulator's wall-clock receive time of ``POST /order`` (``GET /sim/orders?wall=1``)
  minus the publish time of that interval's IntervalTick (the ``wall_ns`` of its bus
  entry), with the same split at every hop (tick -> MarketData -> signal ->
  SubmitOrder -> POST);
* **peak RSS** (``VmHWM``) of every process, read just before the stack is stopped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests

from polybot.bench.procinfo import cpu_seconds, peak_rss_kb, pss_kb
from polybot.bench.stats import summary
from polybot.bench.timeline import first_walls, timeline

SERVICES = ("ledger", "feed", "predictor", "risk", "executor", "resolver")  # the clock starts last
HISTORY_MIN, WINDOW_MS, MINUTE_MS = 500, 300_000, 60_000  # the predictor wants 500 closed bars
WARMUP_INTERVALS = 3  # not in the latency figures: the feed back-fills 500 candles on the first tick


@dataclass(frozen=True)
class StackSpec:
    data: str                 # a Binance-format CSV (or "synthetic")
    intervals: int
    env: dict = field(default_factory=dict)  # on top of polybot run's service environment
    seed: int = 7
    timeout_s: float = 600.0
    keep_dir: str | None = None  # keep state and logs here (default: a temp dir, removed)
    sim_args: tuple[str, ...] = ()  # extra simulator options (e.g. --log-level DEBUG: every request)


def csv_span(csv_path: str) -> tuple[int, int]:
    """(first start, windows): the first 5-minute boundary with 500 closed candles
    before it (every window then has complete data), and how many windows from there
    the simulator can settle (the last one ends at the file's last candle)."""
    with open(csv_path, "rb") as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip() and ln[:1].isdigit()]
    first, last = int(lines[0].split(b",")[0]), int(lines[-1].split(b",")[0])
    first, last = (first // 1000, last // 1000) if first > 10**14 else (first, last)  # µs files
    start = -(-(first + HISTORY_MIN * MINUTE_MS) // WINDOW_MS) * WINDOW_MS
    return start, max(0, (last + MINUTE_MS - start) // WINDOW_MS)


def windows_in(csv_path: str) -> int:
    return csv_span(csv_path)[1]


def run_stack(spec: StackSpec, log: Callable[[str], None] = lambda _: None) -> dict:
    from polybot.processes import Processes, start_private_redis, start_simulator
    from polybot.run import RunOptions, service_env

    workdir = Path(spec.keep_dir or tempfile.mkdtemp(prefix="polybot-bench-"))
    processes = Processes(workdir / "logs")
    try:
        redis_url = start_private_redis(processes)
        sim_args = ["--data", spec.data, "--seed", str(spec.seed), "--speed", "max", *spec.sim_args]
        if spec.data != "synthetic":
            start_ms = csv_span(spec.data)[0]
            sim_args += ["--start", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_ms // 1000))]
        urls = start_simulator(processes, sim_args, dict(os.environ))
        opts = RunOptions(data=spec.data, intervals=spec.intervals, state_dir=str(workdir / "state"),
                          seed=spec.seed)
        env = {**service_env(opts, redis_url, urls), **spec.env}
        client = redis.Redis.from_url(redis_url)
        for name in SERVICES:
            processes.start_service(name, env)
        _wait_healthy(client, processes, SERVICES, 60.0)
        log(f"  services healthy; clock starts ({spec.intervals} intervals)")
        cpu_before = {c.name: cpu_seconds(c.proc.pid) for c in processes.children}
        processes.start_service("clock", env)
        completed_ns, state = _wait_complete(client, processes, spec.timeout_s)
        rss = {c.name: peak_rss_kb(c.proc.pid) for c in processes.children}
        pss = {c.name: pss_kb(c.proc.pid) for c in processes.children}
        cpu = {c.name: cpu_seconds(c.proc.pid) - cpu_before.get(c.name, 0.0) for c in processes.children}
        result = _measure(client, urls["control"], completed_ns, state)
        result["rss_kb"], result["pss_kb"] = rss, pss
        result["cpu_ms_per_interval"] = {name: round(1000 * s / max(1, state.settled_through), 2)
                                         for name, s in cpu.items()}
        result["cpu_ms_per_interval"]["total"] = round(sum(result["cpu_ms_per_interval"].values()), 2)
        result["state_dir"] = str(workdir) if spec.keep_dir else None
        return result
    finally:
        processes.stop_all()
        if not spec.keep_dir:
            shutil.rmtree(workdir, ignore_errors=True)


def _wait_healthy(client: redis.Redis, processes, names, timeout_s: float) -> None:
    from shared.health import read_heartbeats

    deadline = time.monotonic() + timeout_s
    while True:
        _check_alive(processes)
        beating = {key.split(":", 1)[0] for key in read_heartbeats(client)}
        if all(name in beating for name in names):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"not healthy within {timeout_s:.0f} s: {sorted(set(names) - beating)}")
        time.sleep(0.05)


def _check_alive(processes) -> None:
    dead = processes.dead()
    if dead:
        names = ", ".join(f"{c.name} (exit {c.proc.returncode}, log {c.log_path})" for c in dead)
        raise RuntimeError(f"a process stopped during the benchmark: {names}")


def _wait_complete(client: redis.Redis, processes, timeout_s: float):
    """Block on the ledger's event stream until its state says the run is complete."""
    from shared import streams
    from shared.ledger_view import read_state

    deadline = time.monotonic() + timeout_s
    cursor = "0-0"
    while True:
        state = read_state(client)
        if state is not None and state.run_id and state.run_complete:
            return time.time_ns(), state
        _check_alive(processes)
        if time.monotonic() > deadline:
            done = state.settled_through if state else 0
            raise RuntimeError(f"the run did not complete within {timeout_s:.0f} s ({done} intervals settled)")
        reply = client.xread({streams.LEDGER_EVENTS: cursor}, count=1000, block=200)
        for _stream, entries in reply or []:
            cursor = entries[-1][0]


def _measure(client: redis.Redis, control_url: str, completed_ns: int, state) -> dict:
    from shared import streams

    tick_walls = first_walls(client, streams.CLOCK, "IntervalTick")  # interval -> publish wall ns
    ticks = {interval: start for (interval, start) in  # interval -> window start
             first_walls(client, streams.CLOCK, "IntervalTick", key=lambda t: (t.interval, t.window_start))}
    wall_s = (completed_ns - min(tick_walls.values())) / 1e9
    orders = requests.get(f"{control_url}/orders", params={"wall": "1"}, timeout=30).json()["orders"]
    accepted = {o["window_start"]: o["received_ns"] for o in orders if o["http_status"] == 200}
    latencies = [(accepted[ticks[k]] - wall) / 1e6 for k, wall in tick_walls.items()
                 if ticks[k] in accepted and k > WARMUP_INTERVALS]
    return {
        "intervals": state.settled_through, "halted": state.halted, "wall_s": round(wall_s, 3),
        "intervals_per_s": round(state.settled_through / wall_s, 1) if wall_s > 0 else None,
        "orders": len(accepted), "orders_attempted": len(orders),
        "tick_to_order": summary(latencies),
        "stages": _stages(client, tick_walls, ticks, accepted),
        "timeline": timeline(client, tick_walls, WARMUP_INTERVALS),
        "final_capital": str(state.current_capital),
    }


def _stages(client: redis.Redis, tick_walls: dict, ticks: dict, accepted: dict) -> dict:
    """Per-hop split of tick-to-order, over the intervals that placed an order."""
    from shared import streams

    md = first_walls(client, streams.MARKET_DATA, "MarketData")
    signals = first_walls(client, streams.SIGNALS, "PredictionSignal")
    cmds = first_walls(client, streams.ORDER_CMDS, "SubmitOrder")
    hops: dict[str, list[float]] = {
        "clock->feed (MarketData published)": [], "feed->predictor (signal published)": [],
        "predictor->risk (SubmitOrder published)": [], "risk->executor->POST /order received": []}
    names = list(hops)
    for k, tick_ns in tick_walls.items():
        if (k <= WARMUP_INTERVALS or ticks[k] not in accepted
                or not all(k in s for s in (md, signals, cmds))):
            continue
        points = [tick_ns, md[k], signals[k], cmds[k], accepted[ticks[k]]]
        for name, a, b in zip(names, points, points[1:]):
            hops[name].append((b - a) / 1e6)
    return {name: summary(values) for name, values in hops.items()}
