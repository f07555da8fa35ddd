"""polybot bench: latency, throughput, memory and start-up of the pipeline on loopback."""

from __future__ import annotations

import argparse
import json
import signal
import sys

from polybot.commands._argtypes import non_negative_int

NAME = "bench"
HELP = "measure the bus hop floor, tick-to-order latency, replay throughput, risk analysis, RSS and start-up"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from polybot.bench.runner import PHASES

    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--hop-samples", type=non_negative_int, default=2000, help="floor samples (default 2000)")
    parser.add_argument("--latency-intervals", type=non_negative_int, default=600,
                        help="intervals of the latency run (default 600)")
    parser.add_argument("--latency-data", metavar="FILE.csv", help="default: the March-April 2021 file")
    parser.add_argument("--replay-intervals", type=non_negative_int, default=0,
                        help="intervals of the replay run (default 0 = the whole file)")
    parser.add_argument("--replay-data", metavar="FILE.csv", help="default: the July-August 2024 month")
    parser.add_argument("--risk-runs", type=non_negative_int, default=2000, help="Monte Carlo runs (default 2000)")
    parser.add_argument("--risk-data", nargs="+", default=(), metavar="FILE.csv",
                        help="default: every file of the data folder")
    parser.add_argument("--startup-runs", type=non_negative_int, default=3,
                        help="polybot up/down cycles for the start-up time (default 3; the median is reported)")
    parser.add_argument("--only", nargs="+", choices=PHASES, default=PHASES, metavar="PHASE",
                        help=f"run only these phases ({', '.join(PHASES)})")
    parser.add_argument("--fsync", action="store_true",
                        help="keep the ledger's fsync per fact (the service default; the bench turns it off)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="the services' LOG_LEVEL (default INFO, as deployed)")
    parser.add_argument("--keep", metavar="DIR", help="keep each run's state and logs under DIR")


def run(args: argparse.Namespace) -> int:
    from polybot.bench import report
    from polybot.bench.runner import BenchOptions, run as run_bench

    opts = BenchOptions(hop_samples=args.hop_samples, latency_intervals=args.latency_intervals,
                        latency_data=args.latency_data, replay_intervals=args.replay_intervals,
                        replay_data=args.replay_data, risk_runs=args.risk_runs, risk_data=tuple(args.risk_data),
                        startup_runs=args.startup_runs, phases=tuple(args.only), fsync=args.fsync,
                        log_level=args.log_level, keep=args.keep)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        doc = run_bench(opts)
    except (RuntimeError, OSError) as exc:
        print(f"polybot bench: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(doc, indent=2) if args.json else report.render(doc))
    return 0


def _interrupt(_signum, _frame) -> None:
    """A SIGTERM unwinds like Ctrl-C, so every process the bench started is stopped."""
    raise KeyboardInterrupt
