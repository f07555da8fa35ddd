"""polybot report: equity/drawdown plot, per-interval table and summary of one run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "report"
HELP = "equity and drawdown plot, per-interval table and summary (markdown + HTML) from the ledger's files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", default="./state", help="the ledger's state directory (default ./state)")
    parser.add_argument("--out", help="where to write the report (default: <state-dir>/report)")


def run(args: argparse.Namespace) -> int:
    # Imported here: matplotlib costs ~0.5 s and every other command would pay for it.
    from polybot.analysis.run_report import write_report
    from polybot.analysis.run_summary import summarize
    from polybot.analysis.state_files import StateFileError, load_state_dir

    try:
        files = load_state_dir(args.state_dir)
        out = Path(args.out) if args.out else Path(args.state_dir) / "report"
        paths = write_report(files, summarize(files), out)
    except StateFileError as exc:
        print(f"polybot report: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"polybot report: error: cannot write the report: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0
