"""polybot up: start the whole stack detached, under supervisor (see docs/operations.md)."""

from __future__ import annotations

import argparse

from polybot.commands.run import positive_int, speed

NAME = "up"
HELP = "start the stack in the background under supervisor (default: paper on the local simulator)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", default="./state", help="state, logs and supervisor files (default ./state)")
    parser.add_argument("--market", choices=("sim", "polymarket"), default="sim")
    parser.add_argument("--mode", choices=("paper", "live"), default="paper")
    parser.add_argument("--data", default="synthetic", help="synthetic or a Binance-format CSV (sim only)")
    parser.add_argument("--start", help="ISO 8601 UTC start of the simulated time (sim only)")
    parser.add_argument("--speed", type=speed, default="1",
                        help="'max' or a factor of real time (sim only; default 1 = real time)")
    parser.add_argument("--intervals", type=positive_int, default=18)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fresh", action="store_true",
                        help="archive the state dir (and delete polybot keys in REDIS_URL) first")
    parser.add_argument("--wait", type=float, default=90.0, metavar="SECONDS",
                        help="how long to wait for every process to be healthy (default 90)")
    parser.add_argument("--stop-wait", type=float, default=20.0, metavar="SECONDS",
                        help="warm-stop grace before a process is killed, on down/restart (default 20)")


def run(args: argparse.Namespace) -> int:
    from polybot.stack import StackError, fail
    from polybot.stack.lifecycle import UpOptions, up

    opts = UpOptions(state_dir=args.state_dir, market=args.market, mode=args.mode, data=args.data,
                     start=args.start, speed=args.speed, intervals=args.intervals, seed=args.seed,
                     fresh=args.fresh, wait_s=args.wait, stop_wait_s=args.stop_wait)
    try:
        return up(opts)
    except StackError as exc:
        return fail(exc)
