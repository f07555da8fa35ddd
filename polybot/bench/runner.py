"""Run the phases of ``polybot bench`` in order and assemble one document."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from polybot.bench import report

PHASES = ("floor", "latency", "replay", "analysis", "startup")
LATENCY_FILE = "BTCUSDT-1m-2021-03-27_2021-04-20.csv"   # volatile: March-April 2021
REPLAY_FILE = "BTCUSDT-1m-2024-07-27_2024-08-24.csv"    # a month, ~8,000 windows
# Every bench run: no drawdown halt (so the run goes to the end) and a large capital.
RUN_ENV = {"MAX_DRAWDOWN": "0.99", "STARTING_CAPITAL": "100000"}
# The latency run: the default profile with thresholds that let most windows trade.
TRADE_OFTEN_ENV = {"PROFILE": "default", "RSI_OVERSOLD": "1", "RSI_OVERBOUGHT": "99",
                   "OBI_BULLISH": "0.99", "OBI_BEARISH": "-0.99"}


@dataclass(frozen=True)
class BenchOptions:
    hop_samples: int = 2000
    latency_intervals: int = 600
    latency_data: str | None = None
    replay_intervals: int = 0          # 0 = every window of the file
    replay_data: str | None = None
    risk_runs: int = 2000
    risk_data: tuple[str, ...] = ()
    startup_runs: int = 3
    phases: tuple[str, ...] = PHASES
    fsync: bool = False
    log_level: str = "INFO"
    keep: str | None = None


def data_dir() -> Path | None:
    here = Path(__file__).resolve().parents[2]
    for candidate in (os.environ.get("POLYBOT_DATA_DIR"), here.parent / "shared" / "data" / "btcusdt-1m"):
        if candidate and Path(candidate).is_dir() and any(Path(candidate).glob("*.csv")):
            return Path(candidate)
    return None


def _data(given: str | None, default_name: str) -> str:
    if given:
        return given
    folder = data_dir()
    return str(folder / default_name) if folder and (folder / default_name).exists() else "synthetic"


def run(opts: BenchOptions, say=lambda text: print(text, file=sys.stderr, flush=True)) -> dict:
    doc: dict = {"machine": report.machine(), "command": " ".join(["polybot", "bench", *sys.argv[2:]])}
    env = {**RUN_ENV, "FSYNC": "true" if opts.fsync else "false", "LOG_LEVEL": opts.log_level}
    doc["config"] = {"env": env, "latency_env": TRADE_OFTEN_ENV}
    rss: dict[str, int] = {}
    pss: dict[str, int] = {}
    if "floor" in opts.phases:
        say("floor: XADD -> XREADGROUP between two processes ...")
        doc["floor"] = _floor(opts.hop_samples)
    if "latency" in opts.phases:
        doc["latency"] = _stack_phase("latency", _data(opts.latency_data, LATENCY_FILE), opts.latency_intervals,
                                      {**env, **TRADE_OFTEN_ENV}, opts, rss, pss, say)
    if "replay" in opts.phases:
        doc["replay"] = _stack_phase("replay", _data(opts.replay_data, REPLAY_FILE), opts.replay_intervals,
                                     env, opts, rss, pss, say)
    if rss:
        doc["memory"] = report.memory(rss, pss)
    if "analysis" in opts.phases:
        say(f"analysis: {opts.risk_runs} runs in process ...")
        from polybot.bench.analysis import measure

        files = [Path(p) for p in opts.risk_data] or sorted((data_dir() or Path("/nonexistent")).glob("*.csv"))
        doc["risk_analysis"] = (measure(opts.risk_runs, files) if files
                                else {"todo": "no data files found (POLYBOT_DATA_DIR)"})
    if "startup" in opts.phases:
        say(f"startup: polybot up -> healthy, {opts.startup_runs} times ...")
        from polybot.bench.startup import repeat

        doc["startup"] = repeat(max(1, opts.startup_runs))
    doc["targets"] = report.targets(doc)
    return doc


def _floor(samples: int) -> dict:
    import tempfile

    from polybot.bench.hop import measure
    from polybot.processes import Processes, start_private_redis

    processes = Processes(Path(tempfile.mkdtemp(prefix="polybot-bench-hop-")))
    try:
        return measure(start_private_redis(processes), samples)
    finally:
        processes.stop_all()


def _stack_phase(name: str, data: str, intervals: int, env: dict, opts: BenchOptions, rss: dict, pss: dict,
                 say) -> dict:
    from polybot.bench.pipeline import StackSpec, run_stack, windows_in

    if not intervals:
        intervals = windows_in(data) if data != "synthetic" else 8000
    say(f"{name}: {intervals} intervals of {Path(data).name} through the whole stack ...")
    keep = str(Path(opts.keep) / name) if opts.keep else None
    result = run_stack(StackSpec(data=data, intervals=intervals, env=env, keep_dir=keep,
                                 timeout_s=max(120.0, intervals * 1.0)), log=say)
    for proc, kb in result.pop("rss_kb").items():
        rss[proc] = max(rss.get(proc, 0), kb)
    for proc, kb in result.pop("pss_kb").items():
        pss[proc] = max(pss.get(proc, 0), kb)
    result["data"] = Path(data).name
    return result
