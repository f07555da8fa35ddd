"""PNG figures with matplotlib's non-interactive Agg backend (no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: a headless server has no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

FLOOR_STYLE = {"color": "tab:red", "linestyle": "--", "linewidth": 1}
START_STYLE = {"color": "grey", "linestyle": ":", "linewidth": 1}


def equity_and_drawdown(path: Path, intervals: list[int], capital: list[float], drawdown_pct: list[float],
                        *, start: float, floor: float | None) -> Path:
    """Capital per interval (interval 0 = the start) above its drawdown from the peak."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, height_ratios=(2, 1))
    top.plot(intervals, capital, marker="o", markersize=3, color="tab:blue", label="capital")
    top.axhline(start, **START_STYLE, label=f"start ${start:,.2f}")
    if floor is not None:
        top.axhline(floor, **FLOOR_STYLE, label=f"halt floor ${floor:,.2f}")
    top.set_ylabel("capital ($)")
    top.set_title("Equity curve")
    top.legend(loc="best", fontsize=8)
    top.grid(alpha=0.3)
    below = [-d for d in drawdown_pct]
    bottom.fill_between(intervals, below, 0, color="tab:red", alpha=0.3)
    bottom.plot(intervals, below, marker="o", markersize=3, color="tab:red")
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.set_ylabel("drawdown (%)")
    bottom.set_xlabel("interval")
    bottom.grid(alpha=0.3)
    return _save(fig, path)


def monte_carlo(path: Path, finals: list[float], streaks: dict[int, int], trades: dict[int, int],
                skips: dict[str, int], *, start: float, floor: float) -> Path:
    """Final capital, longest losing streak, trades per run, skip reasons (2 × 2)."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    _final_capital(axes[0][0], finals, start, floor)
    _bars(axes[0][1], list(streaks), list(streaks.values()), "longest losing streak per run", "runs")
    _bars(axes[1][0], list(trades), list(trades.values()), "trades per run", "runs")
    labels = sorted(skips, key=skips.get)
    axes[1][1].barh(labels, [skips[k] for k in labels], color="tab:grey")
    axes[1][1].set_title("skipped windows by first denying rule")
    fig.suptitle(f"Monte Carlo: {len(finals):,} runs")
    return _save(fig, path)


def _final_capital(ax, finals: list[float], start: float, floor: float) -> None:
    ax.hist(finals, bins=60, color="tab:blue", alpha=0.8)
    ax.axvline(start, **START_STYLE, label=f"start ${start:,.0f}")
    ax.axvline(floor, **FLOOR_STYLE, label=f"halt floor ${floor:,.0f}")
    ax.set_title("final capital")
    ax.set_xlabel("$")
    ax.set_ylabel("runs")
    ax.legend(fontsize=8)


def _bars(ax, xs, ys, title: str, ylabel: str) -> None:
    ax.bar(xs, ys, color="tab:orange" if "streak" in title else "tab:green")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xticks(xs)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
