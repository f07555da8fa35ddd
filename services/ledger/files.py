"""The state directory: bot_state.json (atomic), trades.log, equity_curve.csv, metrics.log."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

import msgspec

from services.ledger.book import EquityPoint, TradeRecord

EQUITY_HEADER = "interval,timestamp,capital,peak,drawdown_pct,win_streak,outcome\n"
_json = msgspec.json.Encoder(decimal_format="string")


def write_atomic(path: Path, data: bytes, fsync: bool = True) -> None:
    """Temp file in the same directory, fsync, rename: readers never see half a file."""
    with staged(path, fsync) as f:
        f.write(data)


@contextmanager
def staged(path: Path, fsync: bool = True) -> Iterator[BinaryIO]:
    """A temp file in ``path``'s directory that replaces ``path`` when the block ends
    without an error (after an fsync), and is removed when it raises."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def trade_line(record: TradeRecord) -> bytes:
    return _json.encode(record) + b"\n"


def equity_line(point: EquityPoint) -> bytes:
    return (f"{point.interval},{point.timestamp},{point.capital},{point.peak},"
            f"{point.drawdown_pct},{point.win_streak},{point.outcome}\n").encode()


class StateFiles:
    def __init__(self, directory: Path, fsync: bool = True):
        self.dir = directory
        self.fsync = fsync
        directory.mkdir(parents=True, exist_ok=True)
        self.state = directory / "bot_state.json"
        self.trades = directory / "trades.log"
        self.equity = directory / "equity_curve.csv"
        self.metrics = directory / "metrics.log"

    def write_state(self, state: dict) -> None:
        write_atomic(self.state, msgspec.json.format(_json.encode(state), indent=2) + b"\n", self.fsync)

    @contextmanager
    def rewriting(self) -> Iterator[Callable[[Iterable[TradeRecord], Iterable[EquityPoint]], None]]:
        """trades.log and equity_curve.csv written anew, in pieces, by the function this
        yields; each replaces the old file atomically when the block ends without an error."""
        with ExitStack() as stack:
            trades = stack.enter_context(staged(self.trades, self.fsync))
            equity = stack.enter_context(staged(self.equity, self.fsync))
            equity.write(EQUITY_HEADER.encode())

            def write(records: Iterable[TradeRecord], points: Iterable[EquityPoint]) -> None:
                trades.write(b"".join(trade_line(r) for r in records))
                equity.write(b"".join(equity_line(p) for p in points))

            yield write

    def replace_tail(self, old: tuple[list[TradeRecord], list[EquityPoint]],
                     new: tuple[list[TradeRecord], list[EquityPoint]]) -> None:
        """Replace the lines of ``old`` (records, points), the last ones of trades.log and
        equity_curve.csv, with those of ``new``; each file atomically."""
        for path, line, before, after in ((self.trades, trade_line, old[0], new[0]),
                                          (self.equity, equity_line, old[1], new[1])):
            write_atomic(path, _without_tail(path, b"".join(map(line, before))) + b"".join(map(line, after)),
                         self.fsync)

    def append(self, records: list[TradeRecord], points: list[EquityPoint]) -> None:
        self._append(self.trades, b"".join(trade_line(r) for r in records))
        self._append(self.equity, b"".join(equity_line(p) for p in points))

    def append_metric(self, line: dict) -> None:
        self._append(self.metrics, _json.encode(line) + b"\n")

    def _append(self, path: Path, data: bytes) -> None:
        if not data:
            return
        with open(path, "ab") as f:
            f.write(data)
            f.flush()
            if self.fsync:
                os.fsync(f.fileno())


def _without_tail(path: Path, tail: bytes) -> bytes:
    data = path.read_bytes()
    if not data.endswith(tail):  # only we write these files, and every start rewrites them
        raise RuntimeError(f"{path.name} does not end with the lines the ledger wrote last")
    return data[:len(data) - len(tail)]
