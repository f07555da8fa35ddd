"""Read a ledger state directory (services/ledger/files.py formats) for ``polybot report``.

* ``bot_state.json``: the seed's BotState fields and more (one JSON object);
* ``trades.log``: one ``TradeRecord`` JSON line per interval (Decimals as strings);
* ``equity_curve.csv``: ``EQUITY_HEADER`` then one ``EquityPoint`` per interval.

Records are decoded with the ledger's own structs, so a field the ledger renames breaks
here loudly.  Every problem becomes one ``StateFileError`` line naming the file.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import msgspec

from services.ledger.book import EquityPoint, TradeRecord
from services.ledger.files import EQUITY_HEADER

REQUIRED_STATE = ("current_capital", "starting_capital", "win_streak", "total_trades")
_record_decoder = msgspec.json.Decoder(TradeRecord)


class StateFileError(ValueError):
    """A missing or unreadable state file; the message is one line."""


@dataclass(frozen=True)
class LedgerFiles:
    directory: Path
    state: dict
    records: list[TradeRecord]
    points: list[EquityPoint]

    @property
    def starting_capital(self) -> Decimal:
        return Decimal(str(self.state["starting_capital"]))

    @property
    def floor(self) -> Decimal | None:
        floor = self.state.get("floor")
        return None if floor is None else Decimal(str(floor))


def load_state_dir(directory: str | Path) -> LedgerFiles:
    directory = Path(directory)
    if not directory.is_dir():
        raise StateFileError(f"{directory}: not a directory (give the ledger's --state-dir)")
    state = _read_state(directory / "bot_state.json")
    records = _read_trades(directory / "trades.log")
    points = _read_equity(directory / "equity_curve.csv")
    if len(points) != len(records):
        raise StateFileError(f"{directory}: trades.log has {len(records)} intervals but equity_curve.csv "
                             f"has {len(points)}")
    return LedgerFiles(directory, state, records, points)


def _read_state(path: Path) -> dict:
    text = _read(path)
    try:
        state = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateFileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(state, dict):
        raise StateFileError(f"{path}: expected a JSON object")
    missing = [key for key in REQUIRED_STATE if key not in state]
    if missing:
        raise StateFileError(f"{path}: missing {', '.join(missing)}")
    for key in ("current_capital", "starting_capital"):
        try:
            Decimal(str(state[key]))
        except InvalidOperation:
            raise StateFileError(f"{path}: {key} {state[key]!r} is not a number") from None
    return state


def _read_trades(path: Path) -> list[TradeRecord]:
    records = []
    for number, line in enumerate(_read(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(_record_decoder.decode(line))
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise StateFileError(f"{path}: line {number}: {exc}") from None
    return records


def _read_equity(path: Path) -> list[EquityPoint]:
    lines = _read(path).splitlines()
    if not lines or lines[0] + "\n" != EQUITY_HEADER:
        raise StateFileError(f"{path}: line 1: expected the header {EQUITY_HEADER.strip()}")
    fields = EQUITY_HEADER.strip().split(",")
    points = []
    for number, row in enumerate(csv.reader(lines[1:]), 2):
        if not row:
            continue
        try:
            points.append(msgspec.convert(dict(zip(fields, row, strict=True)), EquityPoint, strict=False))
        except (ValueError, msgspec.ValidationError) as exc:
            raise StateFileError(f"{path}: line {number}: {exc}") from None
    return points


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StateFileError(f"{path}: not found (is this the ledger's state directory?)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateFileError(f"{path}: cannot read ({exc})") from None
