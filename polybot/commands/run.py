"""polybot run: the whole stack for one run (default: paper trading on the local simulator)."""

from __future__ import annotations

import argparse
import sys

from polybot.commands._argtypes import positive_int

NAME = "run"
HELP = "run the whole stack for one run (default: paper, local simulator, synthetic data)"


def speed(text: str) -> str:
    if text == "max":
        return text
    try:
        if float(text) > 0:
            return text
    except ValueError:
        pass
    raise argparse.ArgumentTypeError("must be 'max' or a positive number (1 = real time)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--market", choices=("sim", "polymarket"), default="sim")
    parser.add_argument("--data", default="synthetic", help="synthetic or a Binance-format CSV (sim only)")
    parser.add_argument("--start", help="ISO 8601 UTC start of the simulated time (sim only)")
    parser.add_argument("--speed", type=speed, default="max", help="'max' or a factor of real time (sim only)")
    parser.add_argument("--mode", choices=("paper", "live"), default="paper")
    parser.add_argument("--intervals", type=positive_int, default=18)
    parser.add_argument("--state-dir", default="./state")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fresh", action="store_true", help="delete polybot data found in REDIS_URL first")
    parser.add_argument("--timeout", type=float, default=0.0, help="give up after this many seconds (0 = never)")


def run(args: argparse.Namespace) -> int:
    from polybot.run import RunError, RunOptions, run as run_stack

    opts = RunOptions(market=args.market, data=args.data, start=args.start, speed=args.speed,
                      mode=args.mode, intervals=args.intervals, state_dir=args.state_dir,
                      seed=args.seed, fresh=args.fresh, timeout_s=args.timeout)
    try:
        return run_stack(opts)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
