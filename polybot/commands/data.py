"""polybot data download: Binance BTCUSDT 1-minute klines into the shared CSV format."""

from __future__ import annotations

import argparse
import sys

NAME = "data"
HELP = "market data tools: 'polybot data download --start ISO --end ISO' fetches Binance 1m klines"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    download = sub.add_parser("download", help="download BTCUSDT 1m klines to a CSV (see shared/data/README.md)",
                              description="Download Binance spot 1-minute klines with open time in [start, end) "
                                          "into the CSV format of the shared data files.")
    download.add_argument("--start", required=True, help="ISO 8601 UTC, e.g. 2024-08-01 or 2024-08-01T12:00Z")
    download.add_argument("--end", required=True, help="ISO 8601 UTC, exclusive")
    download.add_argument("--out", help="CSV path, or - for stdout (default BTCUSDT-1m-<start>_<end>.csv)")
    download.add_argument("--base-url", default="https://api.binance.com",
                          help="Binance REST base URL (default https://api.binance.com; the simulator's "
                               "binance_rest URL works too)")
    download.add_argument("--symbol", default="BTCUSDT")


def run(args: argparse.Namespace) -> int:
    from polybot.stack import StackError, fail
    from polybot.stack.klines import download, http_fetch, iso, parse_time

    try:
        start, end = parse_time(args.start), parse_time(args.end)
        out = args.out or f"{args.symbol}-1m-{iso(start)[:10]}_{iso(end)[:10]}.csv"
        summary = download(http_fetch(args.base_url), start, end, out, symbol=args.symbol.upper())
    except StackError as exc:
        return fail(exc)
    except OSError as exc:
        return fail(StackError(f"cannot write {args.out}: {exc}"))
    if summary["clamped_end"]:
        print(f"note: stopped at {iso(summary['clamped_end'])}, the last closed minute", file=sys.stderr)
    if summary["gaps"]:
        missing = sum((b - a) // 60_000 for a, b in summary["gaps"])
        print(f"note: {missing} minute(s) missing in {len(summary['gaps'])} gap(s) (exchange downtime?), "
              f"first at {iso(summary['gaps'][0][0])}", file=sys.stderr)
    return 0
