"""polybot status: processes, health, heartbeat ages, bot state and open position.

Exit code: 0 all healthy, 1 something unhealthy, 3 nothing running.
"""

from __future__ import annotations

import argparse
import json

NAME = "status"
HELP = "show each process (pid, health, heartbeat age), the bot state and the open position"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", default="./state")
    parser.add_argument("--json", action="store_true", help="one JSON document instead of a table")


def run(args: argparse.Namespace) -> int:
    from polybot.stack import StackError, fail
    from polybot.stack.status import collect, exit_code, render

    try:
        doc = collect(args.state_dir)
    except StackError as exc:
        return fail(exc)
    print(json.dumps(doc, indent=2, default=str) if args.json else render(doc))
    return exit_code(doc)
