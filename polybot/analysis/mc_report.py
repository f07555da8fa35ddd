"""The Monte Carlo's markdown report and figure, from ``summary.json``'s dict."""

from __future__ import annotations

from pathlib import Path

from polybot.analysis import plots
from polybot.analysis.montecarlo import RunResult, World


def plot(results: list[RunResult], summary: dict, world: World, path: Path) -> Path:
    r = summary["results"]
    streaks = {int(k): v for k, v in r["losing_streak"]["distribution"].items()}
    trades = {int(k): v for k, v in r["trades_per_run"]["distribution"].items()}
    return plots.monte_carlo(path, [float(x.final_capital) for x in results], streaks, trades,
                             r["windows"]["skips"],
                             start=float(world.risk.starting_capital), floor=float(world.risk.floor))


def pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def prob(p: dict) -> str:
    if p["value"] is None:
        return "-"
    lo, hi = p["ci95"]
    return f"{pct(p['value'], 2)} ({p['count']:,} runs; 95% CI {pct(lo, 2)}–{pct(hi, 2)})"


def money(value: float, signed: bool = False) -> str:
    return f"{value:+,.2f}" if signed else f"${value:,.2f}"


def headline(s: dict) -> list[tuple[str, str]]:
    r = s["results"]
    pnl, fees, wins = r["pnl"], r["fees"], r["win_rate"]
    lo, hi = pnl["ci95"]
    return [
        ("expected PnL per run", f"{money(pnl['mean'], True)} (95% CI {money(lo, True)} to {money(hi, True)}; "
                                 f"median {money(pnl['median'], True)}; sd {pnl['std']:.2f})"),
        ("P(losing money)", prob(r["p_loss"])),
        ("P(ending with a profit)", prob(r["p_profit"])),
        ("P(halt: drawdown floor reached, capital < $1 above $70)", prob(r["p_halt"])),
        ("P(a wanted trade refused for lack of room above the floor)", prob(r["p_floor_bound"])),
        ("median final capital", money(r["final_capital"]["percentiles"]["p50"])),
        ("win rate (all trades)", f"{pct(wins['pooled']['value'], 2)} of {wins['trades']:,} trades "
                                  f"(95% CI {pct(wins['pooled']['ci95'][0], 2)}–{pct(wins['pooled']['ci95'][1], 2)})"),
        ("trades per run", f"{r['trades_per_run']['mean']:.2f} (median {r['trades_per_run']['median']:.0f}, "
                           f"{r['trades_per_run']['zero_trade_runs']:,} runs without a trade)"),
        ("fees per run", f"{money(fees['per_run_mean'])} = {pct(fees['per_dollar_staked'], 2)} of the stake; "
                         f"PnL before fees {money(fees['gross_pnl_per_run_mean'], True)}"),
        ("longest losing streak", f"mean {r['losing_streak']['mean']:.2f}, median "
                                  f"{r['losing_streak']['median']:.0f}, max {r['losing_streak']['max']}"),
        ("max drawdown within a run", f"mean {r['max_drawdown_pct']['mean']:.2f}%, "
                                      f"95th percentile {r['max_drawdown_pct']['p95']:.2f}%"),
    ]


def markdown(s: dict, png_name: str) -> str:
    c, r, perf = s["config"], s["results"], s["performance"]
    lines = ["# Risk analysis: Monte Carlo of the whole strategy", "",
             f"Command: `{c['command']}`", "",
             f"{c['runs']:,} runs of {c['intervals']} windows, seed {c['seed']}, profile `{c['profile']}`, "
             f"start windows drawn from {c['eligible_starts']:,} eligible starts in {len(c['files'])} file(s). "
             f"Starting capital ${c['starting_capital']}, halt floor ${c['floor']}. "
             f"Order-book imbalance: {c['order_book_imbalance']}. Decision time: {c['decision_time']}.", "",
             "| measure | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in headline(s)]
    lines += ["", f"![Monte Carlo distributions]({png_name})", ""]
    lines += _percentiles(r) + _streaks(r) + _windows(r) + _files(r) + _performance(perf)
    return "\n".join(lines) + "\n"


def _percentiles(r: dict) -> list[str]:
    final = r["final_capital"]["percentiles"]
    return ["## Final capital", "", "| " + " | ".join(final) + " |", "|" + "---|" * len(final),
            "| " + " | ".join(money(v) for v in final.values()) + " |", "",
            f"Mean {money(r['final_capital']['mean'])}, min {money(r['final_capital']['min'])}, "
            f"max {money(r['final_capital']['max'])}. Lowest capital reached in a run: 1st percentile "
            f"{money(r['lowest_capital']['percentiles']['p1'])}, 5th "
            f"{money(r['lowest_capital']['percentiles']['p5'])}.", ""]


def _streaks(r: dict) -> list[str]:
    dist = r["losing_streak"]["distribution"]
    at_least = r["losing_streak"]["p_at_least"]
    return ["## Longest losing streak per run", "", "| losses in a row | " + " | ".join(dist) + " |",
            "|---|" + "---|" * len(dist), "| runs | " + " | ".join(f"{v:,}" for v in dist.values()) + " |", "",
            "P(at least k losses in a row): " + ", ".join(f"k={k}: {pct(v)}" for k, v in at_least.items()), ""]


def _windows(r: dict) -> list[str]:
    w = r["windows"]
    fired, blocked = w["volatility_fired"], w["volatility_blocked"]
    lines = ["## Windows", "", f"{w['total']:,} windows, {w['traded']:,} traded ({pct(w['traded'] / w['total'])}). "
             f"The volatility breaker fired in {fired:,} windows ({pct(fired / w['total'], 3)}) and was what "
             f"stopped an UP/DOWN signal in {blocked:,} ({pct(blocked / w['total'], 3)}).", "",
             "| skipped because (first denying rule) | windows | share of all windows |", "|---|---|---|"]
    lines += [f"| {label} | {n:,} | {pct(n / w['total'], 2)} |" for label, n in w["skips"].items()]
    return lines + [""]


def _files(r: dict) -> list[str]:
    lines = ["## By data file", "", "| file | runs | mean PnL | P(loss) | win rate | trades/run |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {f['file']} | {f['runs']:,} | {money(f['mean_pnl'], True)} | {pct(f['p_loss'])} | "
              f"{pct(f['win_rate'])} | {f['trades_per_run']:.2f} |" for f in r["by_file"]]
    return lines + [""]


def _performance(p: dict) -> list[str]:
    return ["## Performance", "",
            f"Setup (load the files, TA-Lib over each) {p['setup_s']:.2f} s. Simulation {p['simulate_s']:.2f} s "
            f"wall, {p['simulate_cpu_s']:.2f} s CPU: {p['runs_per_s']:,.0f} runs/s wall "
            f"({p['runs_per_cpu_s']:,.0f} per CPU second), including the first computation of "
            f"{p['windows_computed']:,} windows (the predictor's call; the simulator's quote and the window's "
            f"risk rules once per window class). With every "
            f"window cached, the fold alone: {p['fold_runs_per_s']:,.0f} runs/s wall "
            f"({p['fold_runs_per_cpu_s']:,.0f} per CPU second). Windows recomputed by `predict_window` (near a "
            f"threshold): {p['predictor_core_fallbacks']}. State-rule evaluations (memoised on book, capital "
            f"and streak, one for all the capitals the rules cannot tell apart): {p['state_rule_evaluations']:,}; "
            f"distinct fills matched: {p['fills_matched']:,}.", ""]
