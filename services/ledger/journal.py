"""Append-only journal of facts (JSON lines, fsync'd): the ledger's source of truth.

Every derived file (bot_state.json, trades.log, equity_curve.csv) can be rebuilt from
it, which is what the ledger does on every start.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import msgspec

from services.ledger.facts import Fact

log = logging.getLogger("polybot.ledger")

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Fact)


class Journal:
    def __init__(self, path: Path, fsync: bool = True):
        self.path = path
        self.fsync = fsync
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "ab")

    def load(self) -> Iterator[Fact]:
        """The facts in the order they were appended, read as they are needed."""
        with open(self.path, "rb") as f:
            for number, line in enumerate(f, 1):
                try:
                    fact = _decoder.decode(line)
                except msgspec.DecodeError:
                    # Only a torn last line (killed mid-write) can be bad: it was never
                    # acked, so its message will be redelivered.
                    log.warning("ignoring a torn journal line", extra={"data": {"line": number}})
                    continue
                yield fact

    def append(self, fact: Fact) -> None:
        self._file.write(_encoder.encode(fact) + b"\n")
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()
