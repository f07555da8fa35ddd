"""A small ledger state directory made by the real ledger (``Ledger`` folding facts),
with ``bot_state.json`` written by the ledger handler's own ``state_document``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from services.ledger.config import LedgerConfig
from services.ledger.facts import Decision, Fill, Prices
from services.ledger.files import StateFiles
from services.ledger.handler import LedgerHandler
from services.ledger.journal import Journal
from services.ledger.ledger import Ledger
from shared.clock import ManualClock

D = Decimal
T0 = 1_722_837_600  # 2024-08-05T06:00:00Z


class Interval(NamedTuple):
    """One interval of the made-up run: a trade (side, stake, price, won) or a skip."""

    side: str | None          # "Up" | "Down" | None for a skip
    stake: str = "0"
    price: str = "0.5"
    won: bool = False
    skip_reason: str = ""
    wanted: str = "SKIP"      # a skip's prediction: SKIP, or UP/DOWN that risk denied


def trade_numbers(i: Interval) -> tuple[Decimal, Decimal]:
    """(shares, fee) the way the tests define them: stake / price, fee 0.07·p(1−p) per share."""
    shares = (D(i.stake) / D(i.price)).quantize(D("0.000001"))
    fee = (shares * D("0.07") * D(i.price) * (1 - D(i.price))).quantize(D("0.00001"))
    return shares, fee


def make_state_dir(directory: Path, intervals: list[Interval]) -> Path:
    cfg = LedgerConfig(state_dir=str(directory), intervals=len(intervals), fsync=False, run_id="run-test")
    files = StateFiles(directory, fsync=False)
    ledger = Ledger(starting_capital=D(100), floor=cfg.floor, intervals=cfg.intervals, files=files,
                    journal=Journal(directory / "ledger.journal", False))
    for k, interval in enumerate(intervals, 1):
        for fact in _facts(k, interval):
            ledger.apply(fact)
    handler = LedgerHandler(ledger, cfg, ManualClock(0))
    files.write_state(handler.state_document())
    return directory


def _facts(k: int, i: Interval) -> list:
    start = T0 + 300 * (k - 1)
    signal = {"Up": "UP", "Down": "DOWN", None: i.wanted}[i.side]
    approved = i.side is not None
    reasons = ("stake ok",) if approved else (i.skip_reason,)
    decision = Decision(interval=k, window_start=start, approved=approved, stake=D(i.stake) if approved else D(0),
                        reasons=reasons, halt=False, signal=signal, confidence=D("0.6"), reasoning="test",
                        rule="skip_disagree" if signal == "SKIP" else "secondary_up", odds=D(i.price) if approved else None,
                        slug=f"btc-updown-5m-{start}", outcome=i.side)
    up_won = (i.side == "Up") == i.won if approved else True
    prices = Prices(interval=k, start_price=D(60000), end_price=D(60001) if up_won else D(59999), source="test")
    if not approved:
        return [decision, prices]
    shares, fee = trade_numbers(i)
    fill = Fill(interval=k, order_id=f"0x{k:064x}", outcome=i.side, token_id="1", stake=D(i.stake),
                shares=shares, avg_price=D(i.price), fee=fee)
    return [decision, fill, prices]
