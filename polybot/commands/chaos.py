"""polybot chaos: kill services at random (and at the dangerous moments) during a run,
and check the result is the same as an uninterrupted run's."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from polybot.commands._argtypes import positive_int

NAME = "chaos"
HELP = "kill and restart services during a simulated run; compare with an uninterrupted run"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kills", type=positive_int, default=20, help="SIGKILLs to deliver (>= 14: two per service)")
    parser.add_argument("--data", default="synthetic", help="synthetic or a Binance-format CSV")
    parser.add_argument("--start", help="ISO 8601 UTC start of the simulated time")
    parser.add_argument("--intervals", type=positive_int, help="windows in the run (default: max(12, kills))")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill plan")
    parser.add_argument("--sim-seed", type=int, default=7, help="seed of the simulated market")
    parser.add_argument("--work-dir", help="where both runs keep their state and logs (default: a temp dir)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds per run")
    parser.add_argument("--env", action="append", default=[], type=env_setting, metavar="NAME=VALUE",
                        help="a setting for every service in both runs, e.g. MAX_DRAWDOWN=0.9 so that a long "
                             "run is not ended early by a drawdown halt (repeatable)")


def env_setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.isupper():
        raise argparse.ArgumentTypeError("must be NAME=VALUE, e.g. MAX_DRAWDOWN=0.9")
    return name, value


def run(args: argparse.Namespace) -> int:
    from polybot.chaos import ChaosError, ChaosOptions, run_experiment, summary_lines

    work_dir = Path(args.work_dir or tempfile.mkdtemp(prefix="polybot-chaos-"))
    intervals = args.intervals or max(12, args.kills)
    # The simulator runs in another directory: a relative CSV path is resolved here.
    data = args.data if args.data == "synthetic" else str(Path(args.data).resolve())
    opts = ChaosOptions(work_dir=work_dir, kills=args.kills, data=data, start=args.start,
                        intervals=intervals, seed=args.seed, sim_seed=args.sim_seed, timeout_s=args.timeout,
                        service_env=dict(args.env))
    print(f"polybot chaos: {args.kills} kills over {intervals} intervals (seed {args.seed}); "
          f"state and logs in {work_dir}", flush=True)
    try:
        report = run_experiment(opts, on_kill=lambda r: print(
            f"  {r.at_s:7.2f} s  step {r.step:>3}  kill {r.service:<9} {r.moment}{'' if r.phase == 'random' else ': ' + r.phase}",
            flush=True))
    except ChaosError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in summary_lines(report):
        print(line)
    return 0 if report.ok else 1
