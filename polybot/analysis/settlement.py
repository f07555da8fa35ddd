"""A fill's PnL by the ledger's own fold (``services.ledger.book.fold_interval``).

win = shares − stake − fee, loss = −stake − fee, in exact Decimal.  The PnL of a fill
does not depend on the capital it is added to, so it is computed once per distinct
(fill, side, winner) and the Monte Carlo only adds it up.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from services.executor.brokers import Fill
from services.ledger.book import Facts, Totals, fold_interval
from services.ledger.facts import Decision, Fill as FillFact, Resolution

ZERO = Decimal(0)
NO_FLOOR = Decimal("-1e30")  # the halt is the caller's business: it depends on capital
SIGNAL_OF = {"Up": "UP", "Down": "DOWN"}


class Settled(NamedTuple):
    pnl: Decimal
    outcome: str  # WIN | LOSS | VOID, as the ledger writes it


class Settler:
    def __init__(self) -> None:
        self._memo: dict[tuple, Settled] = {}

    def __call__(self, fill: Fill, outcome: str, winner: str | None) -> Settled:
        key = (fill.stake, fill.shares, fill.fee, fill.avg_price, outcome, winner)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = ledger_settlement(fill, outcome, winner)
        return found


def ledger_settlement(fill: Fill, outcome: str, winner: str | None) -> Settled:
    """Fold one interval (decision, fill, venue resolution) with the ledger's code."""
    facts = Facts()
    facts.add(Decision(interval=1, window_start=0, approved=True, stake=fill.stake, reasons=(), halt=False,
                       signal=SIGNAL_OF[outcome], confidence=ZERO, reasoning="", rule="", odds=fill.avg_price,
                       slug=None, outcome=outcome))
    facts.add(FillFact(interval=1, order_id=fill.order_id, outcome=outcome, token_id="", stake=fill.stake,
                       shares=fill.shares, avg_price=fill.avg_price, fee=fill.fee))
    facts.add(Resolution(interval=1, winning_outcome=winner, source="analysis"))
    step = fold_interval(facts, Totals(capital=ZERO, peak=ZERO), NO_FLOOR)
    return Settled(step.record.pnl, step.record.outcome)
