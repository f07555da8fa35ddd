"""polybot risk-analysis: Monte Carlo of the whole strategy on real candles, in process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from polybot.commands._argtypes import positive_int

NAME = "risk-analysis"
HELP = "Monte Carlo of the whole strategy (predictor, risk rules, simulator fills, ledger) on real data"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", nargs="+", metavar="FILE.csv",
                        help="Binance 1m CSVs (default: every file of $POLYBOT_DATA_DIR or ../shared/data/btcusdt-1m)")
    parser.add_argument("--runs", type=positive_int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--intervals", type=positive_int, default=18)
    parser.add_argument("--profile", choices=("default", "strict"), default="default")
    parser.add_argument("--out", default="./risk-analysis", help="output directory (default ./risk-analysis)")
    parser.add_argument("--streak-multiplier", metavar="X",
                        help="override STREAK_MULTIPLIER (1 = flat $5 stakes), to compare sizing rules")


def run(args: argparse.Namespace) -> int:
    from polybot.analysis.data_files import DataError, default_data_files
    from polybot.analysis.risk_analysis import Options, analyse, risk_config

    try:
        data = [Path(p) for p in args.data] if args.data else default_data_files()
        opts = Options(data=data, runs=args.runs, seed=args.seed, intervals=args.intervals,
                       profile=args.profile, out=Path(args.out), data_given=bool(args.data),
                       risk=risk_config(args.streak_multiplier))
        summary, paths = analyse(opts)
    except (DataError, ValueError) as exc:
        print(f"polybot risk-analysis: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"polybot risk-analysis: error: cannot write the outputs: {exc}", file=sys.stderr)
        return 2
    r = summary["results"]
    perf = summary["performance"]
    print(f"runs {opts.runs:,}: E[PnL] {r['pnl']['mean']:+.2f}, P(loss) {r['p_loss']['value']:.1%}, "
          f"P(halt) {r['p_halt']['value']:.2%}; {perf['runs_per_s']:,.0f} runs/s "
          f"({perf['fold_runs_per_s']:,.0f} runs/s once every window is cached)")
    for path in paths:
        print(path)
    return 0
