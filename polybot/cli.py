"""The ``polybot`` command: one subcommand per module in ``polybot/commands``.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``.  Every error is one clear line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import polybot.commands


def command_modules():
    for info in sorted(pkgutil.iter_modules(polybot.commands.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"polybot.commands.{info.name}")


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(prog="polybot", description="Polymarket 5-minute BTC Up/Down trading bot")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    handlers = {}
    for module in command_modules():
        passthrough = getattr(module, "PASSTHROUGH", False)
        command = sub.add_parser(module.NAME, help=module.HELP, add_help=not passthrough,
                                 description=module.HELP)
        if passthrough:  # the module parses its own arguments (sim, predict)
            command.add_argument("args", nargs=argparse.REMAINDER)
        else:
            module.add_arguments(command)
        handlers[module.NAME] = module
    return parser, handlers


def main(argv: list[str] | None = None) -> int:
    parser, handlers = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    module = handlers.get(argv[0]) if argv else None
    if module is not None and getattr(module, "PASSTHROUGH", False):
        # argparse's REMAINDER would swallow neither --help nor leading options
        args = argparse.Namespace(command=argv[0], args=argv[1:])
    else:
        args = parser.parse_args(argv)
    try:
        return handlers[args.command].run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
