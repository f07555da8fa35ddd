"""polybot restart SERVICE: stop and start one process of the running stack.

Nothing is lost or repeated: the service's unacked messages stay pending in its
consumer group and it reads them again first; handlers are idempotent by message id.
"""

from __future__ import annotations

import argparse

from polybot.stack.layout import INFRA, SERVICES

NAME = "restart"
HELP = "restart one process of the stack (e.g. polybot restart executor) and wait until it is healthy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service", choices=(*SERVICES, *INFRA), metavar="SERVICE",
                        help=f"one of: {', '.join((*SERVICES, *INFRA))}")
    parser.add_argument("--state-dir", default="./state")
    parser.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                        help="how long to wait for its heartbeat (default 60)")


def run(args: argparse.Namespace) -> int:
    from polybot.stack import StackError, fail
    from polybot.stack.lifecycle import restart

    try:
        return restart(args.state_dir, args.service, args.wait)
    except StackError as exc:
        return fail(exc)
