"""Statistics over the Monte Carlo's runs, as one JSON-ready dict (``summary.json``).

Money is summed exactly (Decimal) and shown as floats rounded to 1e-6; everything is a
function of the run results only, so the same seed gives the same dict byte for byte.
Intervals: Wilson 95 % for probabilities, normal 95 % for the mean PnL.  Runs overlap
when their start windows are within 90 minutes of each other and share market regimes,
so the intervals are somewhat optimistic (docs/risk-analysis.md).
"""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal

import numpy as np

from polybot.analysis.montecarlo import RunResult, World

Z95 = 1.959963984540054
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)


def num(value) -> float:
    return round(float(value), 6)


def wilson(hits: int, n: int) -> dict:
    if n == 0:
        return {"value": None, "ci95": None, "count": 0}
    p = hits / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return {"value": num(p), "ci95": [num(centre - half), num(centre + half)], "count": hits}


def mean_ci(values: np.ndarray) -> dict:
    mean = float(values.mean())
    half = Z95 * float(values.std(ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return {"mean": num(mean), "ci95": [num(mean - half), num(mean + half)], "std": num(values.std(ddof=1))
            if len(values) > 1 else 0.0}


def summarize(results: list[RunResult], world: World) -> dict:
    start = world.risk.starting_capital
    finals = np.array([float(r.final_capital) for r in results])
    pnl = np.array([float(r.final_capital - start) for r in results])
    n = len(results)
    return {
        "final_capital": _distribution(finals),
        "pnl": {**mean_ci(pnl), "median": num(np.median(pnl)),
                "total_exact": str(sum((r.final_capital - start for r in results), Decimal(0)))},
        "p_loss": wilson(sum(r.final_capital < start for r in results), n),
        "p_profit": wilson(sum(r.final_capital > start for r in results), n),
        "p_halt": wilson(sum(r.halted for r in results), n),
        "p_floor_bound": wilson(sum(r.floor_bound for r in results), n),
        "losing_streak": _losing_streaks(results),
        "win_rate": _win_rate(results),
        "trades_per_run": _trades(results),
        "fees": _fees(results, pnl),
        "max_drawdown_pct": {"mean": num(100 * np.mean([float(r.max_drawdown) for r in results])),
                             "p95": num(100 * np.percentile([float(r.max_drawdown) for r in results], 95))},
        "lowest_capital": _distribution(np.array([float(r.min_capital) for r in results]), (1, 5, 50)),
        "windows": _windows(results, world),
        "by_file": _by_file(results, world),
    }


def _distribution(values: np.ndarray, percentiles=PERCENTILES) -> dict:
    return {"mean": num(values.mean()), "std": num(values.std()), "min": num(values.min()),
            "max": num(values.max()),
            "percentiles": {f"p{p}": num(np.percentile(values, p)) for p in percentiles}}


def _losing_streaks(results: list[RunResult]) -> dict:
    counts = Counter(r.longest_losing_streak for r in results)
    longest = np.array([r.longest_losing_streak for r in results])
    return {"mean": num(longest.mean()), "median": num(np.median(longest)), "max": int(longest.max()),
            "p_at_least": {str(k): num((longest >= k).mean()) for k in (3, 4, 5, 6, 8)},
            "distribution": {str(k): counts[k] for k in sorted(counts)}}


def _win_rate(results: list[RunResult]) -> dict:
    trades = sum(r.trades for r in results)
    wins = sum(r.wins for r in results)
    per_run = [r.wins / r.trades for r in results if r.trades]
    return {"pooled": wilson(wins, trades), "per_run_mean": num(np.mean(per_run)) if per_run else None,
            "trades": trades, "wins": wins}


def _trades(results: list[RunResult]) -> dict:
    trades = np.array([r.trades for r in results])
    counts = Counter(trades.tolist())
    return {"mean": num(trades.mean()), "median": num(np.median(trades)), "min": int(trades.min()),
            "max": int(trades.max()), "zero_trade_runs": int((trades == 0).sum()),
            "distribution": {str(k): counts[k] for k in sorted(counts)}}


def _fees(results: list[RunResult], pnl: np.ndarray) -> dict:
    fees = sum((r.fees for r in results), Decimal(0))
    staked = sum((r.staked for r in results), Decimal(0))
    per_run = fees / len(results)
    return {"total": num(fees), "per_run_mean": num(per_run), "staked_total": num(staked),
            "per_dollar_staked": num(fees / staked) if staked else None,
            "gross_pnl_per_run_mean": num(float(pnl.mean()) + float(per_run))}


def _windows(results: list[RunResult], world: World) -> dict:
    skips = Counter()
    for r in results:
        skips.update(r.skips)
    total = len(results) * world.intervals
    fired = sum(r.volatility_fired for r in results)
    blocked = sum(r.volatility_blocked for r in results)
    return {"total": total, "traded": sum(r.trades for r in results),
            "skips": {label: skips[label] for label in sorted(skips, key=lambda k: (-skips[k], k))},
            "volatility_fired": fired, "volatility_blocked": blocked}


def _by_file(results: list[RunResult], world: World) -> list[dict]:
    start = world.risk.starting_capital
    rows = []
    for index, data in enumerate(world.files):
        mine = [r for r in results if r.file == index]
        if not mine:
            continue
        trades = sum(r.trades for r in mine)
        rows.append({"file": data.name, "runs": len(mine),
                     "mean_pnl": num(np.mean([float(r.final_capital - start) for r in mine])),
                     "p_loss": num(np.mean([r.final_capital < start for r in mine])),
                     "win_rate": num(sum(r.wins for r in mine) / trades) if trades else None,
                     "trades_per_run": num(trades / len(mine))})
    return rows
