"""Reading a process log: the last N lines, and following it across supervisor's
rotation (the file is renamed and a new one starts)."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from polybot.stack import StackError


def last_lines(path: Path, count: int) -> list[str]:
    if not path.exists():
        raise StackError(f"no log at {path} (has the stack been started with polybot up in this state dir?)")
    if count <= 0:
        return []
    with open(path, "rb") as f:
        return [line.decode(errors="replace").rstrip("\n") for line in deque(f, maxlen=count)]


def follow(path: Path, poll_s: float = 0.2, stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
    """New lines appended to ``path`` from now on; reopens it when it is rotated."""
    f = open(path, "rb")
    f.seek(0, os.SEEK_END)
    partial = b""
    try:
        while not stop():
            chunk = f.readline()
            if chunk:
                partial += chunk
                if partial.endswith(b"\n"):
                    yield partial.decode(errors="replace").rstrip("\n")
                    partial = b""
                continue
            if _rotated(f, path):
                f.close()
                f = open(path, "rb")
                continue
            time.sleep(poll_s)
    finally:
        f.close()


def _rotated(f, path: Path) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False  # between rename and re-create
    return st.st_ino != os.fstat(f.fileno()).st_ino or st.st_size < f.tell()
