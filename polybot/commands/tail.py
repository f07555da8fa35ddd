"""polybot tail [STREAM ...]: follow the bus and print every message, decoded and typed."""

from __future__ import annotations

import argparse
import sys

NAME = "tail"
HELP = "follow streams (default: all) and print decoded messages, one per line"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("streams", nargs="*", metavar="STREAM",
                        help="short names like signals, orders:events, signals:dlq (default: all streams)")
    parser.add_argument("--from", dest="start", default="$", metavar="ID",
                        help="start after this entry id: $ = only new entries (default), 0 = from the beginning")
    parser.add_argument("--json", action="store_true", help="one JSON object per entry")
    parser.add_argument("--count", type=int, default=None, help="stop after this many entries")
    parser.add_argument("--state-dir", default="./state", help="to find a stack started by polybot up")


def run(args: argparse.Namespace) -> int:
    import redis

    from polybot.stack import StackError, fail
    from polybot.stack.connect import connect
    from polybot.stack.layout import Layout
    from polybot.stack.tailing import as_json, follow, human, resolve_streams, short_name

    try:
        names = resolve_streams(args.streams)
        _check_id(args.start)
        client = connect(Layout.of(args.state_dir))
        print(f"following {', '.join(short_name(n) for n in names)} from {args.start} (Ctrl-C stops)",
              file=sys.stderr, flush=True)
        render = as_json if args.json else human
        for stream, entry_id, fields in follow(client, names, args.start, count=args.count):
            print(render(stream, entry_id, fields), flush=True)
    except StackError as exc:
        return fail(exc)
    except redis.RedisError as exc:
        return fail(StackError(f"Redis: {exc}"))
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # | head
        sys.stderr.close()
        return 0
    return 0


def _check_id(start: str) -> None:
    from polybot.stack import StackError

    head, _, tail = start.partition("-")
    if start != "$" and not (head.isdigit() and (not tail or tail.isdigit())):
        raise StackError(f"--from {start!r}: expected $ or an entry id such as 0 or 1700000000000-0")
