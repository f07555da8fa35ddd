"""Measurements for docs/strategy.md (not collected by pytest; no timed assertions).

    .venv/bin/python -m tests.predictor.bench_predictor [DATA_DIR]

Prints the per-decision latency of `predict` / `predict_window`, then per shared
data file: windows, trade rate per profile, rule mix, and the naive hit rate of
the traded signals against the window's own Binance move (close of the last
minute vs open of the first; Polymarket settles on Chainlink, so this is only
indicative, and it ignores prices and fees).
"""

from __future__ import annotations

import collections
import io
import json
import sys
import time
from pathlib import Path

import numpy as np

from services.predictor.core import predict, predict_window
from services.predictor.replay import read_candles, run_predict
from tests.predictor.conftest import find_data_dir


def bench_latency(times: np.ndarray, closes: np.ndarray, repeats: int = 5000) -> None:
    window = np.ascontiguousarray(closes[:500])
    start_s = int(times[550] // 1000) // 300 * 300
    calls = {
        "predict(500 closes)": lambda: predict(window),
        "predict_window(600 candles)": lambda: predict_window(times[:600], closes[:600], window_start_s=start_s),
    }
    for name, call in calls.items():
        call()
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            call()
            samples.append(time.perf_counter_ns() - t0)
        p50, p99 = np.percentile(samples, [50, 99]) / 1000
        print(f"{name:30s} median {p50:6.1f} us   p99 {p99:6.1f} us   ({repeats} calls)")


def replay_stats(path: Path, profile: str) -> tuple[list[dict], float]:
    buffer = io.StringIO()
    t0 = time.perf_counter()
    assert run_predict(str(path), profile, out=buffer) == 0
    elapsed = time.perf_counter() - t0
    return [json.loads(line) for line in buffer.getvalue().splitlines()], elapsed


def hit_rate(rows: list[dict], times: np.ndarray, opens_closes: dict[int, tuple[float, float]]) -> str:
    hits = total = 0
    for row in rows:
        if row["signal"] == "SKIP":
            continue
        start_ms = int(np.datetime64(row["window_start"].rstrip("Z"), "ms").astype(np.int64))
        first, last = opens_closes.get(start_ms), opens_closes.get(start_ms + 240_000)
        if first is None or last is None:
            continue  # the window runs past the end of the file
        went_up = last[1] >= first[0]
        hits += went_up == (row["signal"] == "UP")
        total += 1
    return f"{hits / total:.3f} of {total}" if total else "n/a"


def main(argv: list[str]) -> int:
    data_dir = Path(argv[0]) if argv else find_data_dir()
    if data_dir is None:
        print("shared data folder not found (set POLYBOT_DATA_DIR)")
        return 1
    files = sorted(data_dir.glob("*.csv"))
    times, closes = read_candles(str(files[0]))
    bench_latency(times, closes)
    for path in files:
        opens_closes = _opens_closes(path)
        for profile in ("default", "strict"):
            rows, elapsed = replay_stats(path, profile)
            trades = sum(row["signal"] != "SKIP" for row in rows)
            rules = collections.Counter(row["rule"] for row in rows)
            print(
                f"{path.name[11:-4]:24s} {profile:7s} windows {len(rows):6d} trade rate {trades / len(rows):.3f} "
                f"hit {hit_rate(rows, times, opens_closes):14s} replay {elapsed:5.2f}s {dict(rules.most_common())}"
            )
    return 0


def _opens_closes(path: Path) -> dict[int, tuple[float, float]]:
    data = np.genfromtxt(path, delimiter=",", skip_header=1, usecols=(0, 1, 4))
    return {int(t): (o, c) for t, o, c in data}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
