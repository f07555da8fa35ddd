"""The bot state as a pure fold over the ledger's facts, interval by interval.

PnL is exact in Decimal: a win pays shares × $1, so pnl = shares − stake − fee; a loss
is −stake − fee.  Settlement is provisional from the recorded start and end prices
(Polymarket's rule: Up iff end ≥ start) until the venue's resolution arrives; the
venue wins a disagreement, and the fold is simply run again from the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal

import msgspec

from services.ledger.facts import Decision, Fact, Fill, HaltReset, Prices, Rejection, Resolution, fact_key

CENT = Decimal("0.01")
_INTERVAL_FACTS = (Decision, Fill, Rejection, Prices, Resolution)


class TradeRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One line of trades.log: the seed's Trade fields, then everything behind them."""

    timestamp: str
    interval_number: int
    prediction: str
    odds: Decimal | None
    position_size: Decimal
    outcome: str  # WIN | LOSS | VOID | SKIP
    pnl: Decimal
    capital_after: Decimal
    confidence: Decimal
    reasoning: str
    rule: str
    risk_reasons: tuple[str, ...]
    skip_reason: str | None
    market_slug: str | None
    side: str | None
    order_id: str | None
    shares: Decimal | None
    avg_price: Decimal | None
    fee: Decimal | None
    start_price: Decimal | None
    end_price: Decimal | None
    price_source: str | None
    winning_outcome: str | None
    win_streak_after: int


class EquityPoint(msgspec.Struct, frozen=True, kw_only=True):
    interval: int
    timestamp: str
    capital: Decimal
    peak: Decimal
    drawdown_pct: Decimal
    win_streak: int
    outcome: str


@dataclass(frozen=True)
class Totals:
    """Running state after the last folded interval."""

    capital: Decimal
    peak: Decimal
    streak: int = 0
    trades: int = 0
    wins: int = 0
    losses: int = 0
    fees: Decimal = Decimal(0)
    halted: bool = False
    halt_reason: str = ""
    next_interval: int = 1


@dataclass
class Facts:
    """All facts, indexed for the fold.

    Besides the facts by key it keeps what the ledger asks after every message -- the
    halt resets by interval, the last decided interval, the fills the venue has not
    confirmed -- so a message costs the same at interval 8,000 as at interval 1.
    The facts of closed intervals (see ``is_closed``) are dropped; ``count`` keeps
    counting every fact ever added.
    """

    by_key: dict[tuple, Fact] = field(default_factory=dict)
    resets: dict[int, list[HaltReset]] = field(default_factory=dict)  # by after_interval
    last_decision: int = 0  # the highest interval with a Decision
    unconfirmed: set[int] = field(default_factory=set)  # fills without the venue's Resolution
    count: int = 0  # facts added so far, dropped ones included: the state's version

    def add(self, fact: Fact) -> bool:
        key = fact_key(fact)
        if key in self.by_key:
            return False
        self.by_key[key] = fact
        self.count += 1
        if isinstance(fact, HaltReset):
            self.resets.setdefault(fact.after_interval, []).append(fact)
        elif isinstance(fact, Decision):
            self.last_decision = max(self.last_decision, fact.interval)
        elif isinstance(fact, Fill) and ("Resolution", fact.interval) not in self.by_key:
            self.unconfirmed.add(fact.interval)
        elif isinstance(fact, Resolution):
            self.unconfirmed.discard(fact.interval)
        return True

    def get(self, kind: type, interval: int):
        return self.by_key.get((kind.__name__, interval))

    def drop(self, interval: int) -> None:
        """Forget a closed interval's facts (halt resets stay: they are few)."""
        for kind in _INTERVAL_FACTS:
            self.by_key.pop((kind.__name__, interval), None)
        self.unconfirmed.discard(interval)

    def resets_after(self, interval: int) -> list[HaltReset]:
        return self.resets.get(interval, [])


@dataclass(frozen=True)
class Step:
    """The result of folding one interval that is final."""

    record: TradeRecord
    point: EquityPoint
    totals: Totals
    # Settled from the recorded prices, not the venue's resolution.  Not compared: the
    # venue confirming a provisional settlement changes nothing in the state.
    provisional: bool = field(default=False, compare=False)


def iso(unix_s: int) -> str:
    return datetime.fromtimestamp(unix_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pending_position(facts: Facts, interval: int) -> Fill | None:
    decision = facts.get(Decision, interval)
    fill = facts.get(Fill, interval)
    return fill if decision is not None and decision.approved and fill is not None else None


def is_closed(facts: Facts, interval: int) -> bool:
    """True once a settled interval has every fact it can get, so its record can never
    change: its prices, and for a traded window the venue's resolution too.  (Its
    decision and its order's one final event came before it settled.)"""
    if facts.get(Prices, interval) is None:
        return False
    return facts.get(Fill, interval) is None or facts.get(Resolution, interval) is not None


def is_decided(facts: Facts, interval: int) -> bool:
    decision = facts.get(Decision, interval)
    if decision is None:
        return False
    if not decision.approved:
        return True
    return facts.get(Fill, interval) is not None or facts.get(Rejection, interval) is not None


def winning_outcome(facts: Facts, interval: int) -> tuple[str | None, str, bool] | None:
    """(winner, source, provisional) for a window, or None while unknown."""
    resolution = facts.get(Resolution, interval)
    if resolution is not None:
        return resolution.winning_outcome, resolution.source, False
    prices = facts.get(Prices, interval)
    if prices is None or prices.start_price is None or prices.end_price is None:
        return None
    return ("Up" if prices.end_price >= prices.start_price else "Down"), prices.source, True


def fold_interval(facts: Facts, totals: Totals, floor: Decimal) -> Step | None:
    """Fold interval ``totals.next_interval`` if it is final, else None."""
    k = totals.next_interval
    if facts.resets_after(k - 1):  # an operator cleared the halt after interval k-1
        totals = replace(totals, halted=False, halt_reason="")
    decision = facts.get(Decision, k)
    if decision is None or not is_decided(facts, k):
        return None
    fill = pending_position(facts, k)
    if fill is None:
        # A skipped window is final once its prices are in (even if incomplete), so its
        # record never changes afterwards, whatever the order in which facts arrived.
        if facts.get(Prices, k) is None and not decision.halt:
            return None
        return _skip(facts, decision, totals, floor)
    settlement = winning_outcome(facts, k)
    if settlement is None:
        return None
    return _settle(facts, decision, fill, settlement, totals, floor)


def _skip(facts: Facts, decision: Decision, totals: Totals, floor: Decimal) -> Step:
    rejection = facts.get(Rejection, decision.interval)
    reason = f"order rejected: {rejection.reason}" if rejection else "; ".join(decision.reasons)
    halted, halt_reason = totals.halted, totals.halt_reason
    if decision.halt and not halted:
        halted, halt_reason = True, "; ".join(decision.reasons)
    new = replace(totals, halted=halted, halt_reason=halt_reason, next_interval=decision.interval + 1)
    record = _record(facts, decision, new, outcome="SKIP", pnl=Decimal(0), skip_reason=reason)
    return Step(record, _point(decision, new, "SKIP"), new)


def _settle(facts, decision: Decision, fill: Fill, settlement, totals: Totals, floor: Decimal) -> Step:
    winner, _source, provisional = settlement
    if winner is None:  # void market: every share pays $0.50
        pnl, outcome, streak = fill.shares / 2 - fill.stake - fill.fee, "VOID", totals.streak
    elif winner == fill.outcome:
        pnl, outcome, streak = fill.shares - fill.stake - fill.fee, "WIN", totals.streak + 1
    else:
        pnl, outcome, streak = -fill.stake - fill.fee, "LOSS", 0
    capital = totals.capital + pnl
    new = replace(totals, capital=capital, peak=max(totals.peak, capital), streak=streak,
                  trades=totals.trades + 1, wins=totals.wins + (outcome == "WIN"),
                  losses=totals.losses + (outcome == "LOSS"), fees=totals.fees + fill.fee,
                  next_interval=decision.interval + 1)
    if capital <= floor and not new.halted:
        new = replace(new, halted=True,
                      halt_reason=f"max drawdown: capital {capital} <= floor {floor}")
    record = _record(facts, decision, new, outcome=outcome, pnl=pnl, skip_reason=None, fill=fill,
                     winner=winner)
    return Step(record, _point(decision, new, outcome), new, provisional)


def _record(facts: Facts, decision: Decision, totals: Totals, *, outcome: str, pnl: Decimal,
            skip_reason: str | None, fill: Fill | None = None, winner: str | None = None) -> TradeRecord:
    prices = facts.get(Prices, decision.interval)
    return TradeRecord(
        timestamp=iso(decision.window_start), interval_number=decision.interval,
        prediction=decision.signal, odds=fill.avg_price if fill else decision.odds,
        position_size=fill.stake if fill else Decimal(0), outcome=outcome, pnl=pnl,
        capital_after=totals.capital, confidence=decision.confidence, reasoning=decision.reasoning,
        rule=decision.rule, risk_reasons=decision.reasons, skip_reason=skip_reason,
        market_slug=decision.slug, side=fill.outcome if fill else None,
        order_id=fill.order_id if fill else None, shares=fill.shares if fill else None,
        avg_price=fill.avg_price if fill else None, fee=fill.fee if fill else None,
        start_price=prices.start_price if prices else None,
        end_price=prices.end_price if prices else None,
        price_source=prices.source if prices else None, winning_outcome=winner,
        win_streak_after=totals.streak)


def _point(decision: Decision, totals: Totals, outcome: str) -> EquityPoint:
    drawdown = (totals.peak - totals.capital) / totals.peak * 100 if totals.peak else Decimal(0)
    return EquityPoint(interval=decision.interval, timestamp=iso(decision.window_start + 300),
                       capital=totals.capital, peak=totals.peak,
                       drawdown_pct=drawdown.quantize(Decimal("0.0001")), win_streak=totals.streak,
                       outcome=outcome)
