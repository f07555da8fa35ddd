"""The ``polybot`` command."""

from __future__ import annotations

import argparse
import sys


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def _speed(text: str) -> str:
    if text == "max":
        return text
    try:
        if float(text) > 0:
            return text
    except ValueError:
        pass
    raise argparse.ArgumentTypeError("must be 'max' or a positive number (1 = real time)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="polybot", description="Polymarket 5-minute BTC Up/Down trading bot")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the whole stack for one run (default: paper, local simulator)")
    run.add_argument("--market", choices=("sim", "polymarket"), default="sim")
    run.add_argument("--data", default="synthetic", help="synthetic or a Binance-format CSV (sim only)")
    run.add_argument("--start", help="ISO 8601 UTC start of the simulated time (sim only)")
    run.add_argument("--speed", type=_speed, default="max", help="'max' or a factor of real time (sim only)")
    run.add_argument("--mode", choices=("paper", "live"), default="paper")
    run.add_argument("--intervals", type=_positive_int, default=18)
    run.add_argument("--state-dir", default="./state")
    run.add_argument("--seed", type=int, default=7)
    run.add_argument("--fresh", action="store_true", help="delete polybot data found in REDIS_URL first")
    run.add_argument("--timeout", type=float, default=0.0, help="give up after this many seconds (0 = never)")

    sim = sub.add_parser("sim", help="run the exchange simulator", add_help=False)
    sim.add_argument("args", nargs=argparse.REMAINDER)

    predict = sub.add_parser("predict", help="replay a CSV through the predictor", add_help=False)
    predict.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        from polybot.run import RunError, RunOptions, run

        if args.market == "polymarket" and args.mode == "live":
            pass  # the executor itself refuses live mode without keys and confirmation
        opts = RunOptions(market=args.market, data=args.data, start=args.start, speed=args.speed,
                          mode=args.mode, intervals=args.intervals, state_dir=args.state_dir,
                          seed=args.seed, fresh=args.fresh, timeout_s=args.timeout)
        try:
            return run(opts)
        except RunError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted: everything started was stopped", file=sys.stderr)
            return 130
    if args.command == "sim":
        from services.sim.main import main as sim_main

        return sim_main(args.args)
    if args.command == "predict":
        from services.predictor.replay import main as predict_main

        return predict_main(args.args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
