"""polybot logs SERVICE [-f]: print (and follow) one process's log from ``<state>/logs``."""

from __future__ import annotations

import argparse

from polybot.stack.layout import INFRA, SERVICES

NAME = "logs"
HELP = "print the last lines of one process's log; -f follows it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service", choices=(*SERVICES, *INFRA, "supervisord"), metavar="SERVICE",
                        help=f"one of: {', '.join((*SERVICES, *INFRA, 'supervisord'))}")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new lines (Ctrl-C stops)")
    parser.add_argument("-n", "--lines", type=int, default=50, help="how many past lines (default 50)")
    parser.add_argument("--state-dir", default="./state")


def run(args: argparse.Namespace) -> int:
    from polybot.stack import StackError, fail
    from polybot.stack.layout import Layout
    from polybot.stack.logfile import follow, last_lines

    layout = Layout.of(args.state_dir)
    path = layout.supervisord_log if args.service == "supervisord" else layout.log(args.service)
    try:
        for line in last_lines(path, args.lines):
            print(line)
        if args.follow:
            for line in follow(path):
                print(line, flush=True)
    except StackError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        return 0
    return 0
