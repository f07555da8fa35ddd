"""Operating the stack without Docker: ``polybot up/down/restart/status/logs`` (under
supervisor), ``polybot tail``, ``polybot reset-halt`` and ``polybot data download``.

Command modules in ``polybot/commands`` stay thin; the work is done here.  Every
expected failure is a :class:`StackError`, shown as one ``error: ...`` line.
"""

from __future__ import annotations


class StackError(RuntimeError):
    """An operator-facing failure: ``str()`` is the one line shown."""


def fail(exc: StackError) -> int:
    import sys

    print(f"error: {exc}", file=sys.stderr)
    return 1
