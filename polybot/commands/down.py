"""polybot down: stop everything ``polybot up`` started (clock first, Redis last)."""

from __future__ import annotations

import argparse

NAME = "down"
HELP = "stop the stack started by polybot up; state and logs are kept"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", default="./state")


def run(args: argparse.Namespace) -> int:
    from polybot.stack import StackError, fail
    from polybot.stack.lifecycle import down

    try:
        return down(args.state_dir)
    except StackError as exc:
        return fail(exc)
