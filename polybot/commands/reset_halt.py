"""polybot reset-halt: tell the ledger to clear a persisted trading halt.

Publishes a ResetHalt command on the ledger's command stream; the ledger records it
(it survives restarts like every other fact) and publishes its new state.
"""

from __future__ import annotations

import argparse

NAME = "reset-halt"
HELP = "clear a trading halt: publish ResetHalt to the ledger and show the state before and after"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", default="operator reset", help="recorded with the reset")
    parser.add_argument("--force", action="store_true", help="publish even if the bot is not halted")
    parser.add_argument("--wait", type=float, default=10.0, metavar="SECONDS",
                        help="wait this long for the ledger to apply it (0 = do not wait; default 10)")
    parser.add_argument("--state-dir", default="./state", help="to find a stack started by polybot up")


def run(args: argparse.Namespace) -> int:
    from polybot.stack import StackError, fail
    from polybot.stack.halt import reset_halt

    try:
        return reset_halt(args.state_dir, args.reason, force=args.force, wait_s=args.wait)
    except StackError as exc:
        return fail(exc)
