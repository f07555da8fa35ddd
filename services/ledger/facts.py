"""What the ledger knows: facts about intervals, each recorded at most once.

A fact is keyed by (kind, interval) — or by the command id for operator commands — so
a redelivered message is recognised and never counted twice.  Facts are plain msgspec
structs, journalled as JSON lines (see journal.py) and folded into the bot state by
book.py.  The fold only depends on the SET of facts, not on their arrival order, so a
replay after a crash gives the same state byte for byte.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Union

import msgspec

from shared import messages as m


class Decision(msgspec.Struct, frozen=True, tag="decision", kw_only=True):
    interval: int
    window_start: int
    approved: bool
    stake: Decimal
    reasons: tuple[str, ...]
    halt: bool
    signal: str
    confidence: Decimal
    reasoning: str
    rule: str
    odds: Decimal | None
    slug: str | None
    outcome: m.Outcome | None
    rsi: Decimal | None = None
    macd_line: Decimal | None = None
    macd_signal: Decimal | None = None
    order_book_imbalance: Decimal | None = None
    btc_price: Decimal | None = None


class Fill(msgspec.Struct, frozen=True, tag="fill", kw_only=True):
    interval: int
    order_id: str
    outcome: m.Outcome
    token_id: str
    stake: Decimal
    shares: Decimal
    avg_price: Decimal
    fee: Decimal


class Rejection(msgspec.Struct, frozen=True, tag="rejection", kw_only=True):
    interval: int
    reason: str


class Prices(msgspec.Struct, frozen=True, tag="prices", kw_only=True):
    interval: int
    start_price: Decimal | None
    end_price: Decimal | None
    source: str


class Resolution(msgspec.Struct, frozen=True, tag="resolution", kw_only=True):
    interval: int
    winning_outcome: m.Outcome | None
    source: str


class HaltReset(msgspec.Struct, frozen=True, tag="halt_reset", kw_only=True):
    command_id: str
    after_interval: int
    reason: str


Fact = Union[Decision, Fill, Rejection, Prices, Resolution, HaltReset]


def fact_key(fact: Fact) -> tuple:
    if isinstance(fact, HaltReset):
        return ("halt_reset", fact.command_id)
    return (type(fact).__name__, fact.interval)


def from_message(msg: m.Msg, settled_through: int) -> Fact | None:
    """The fact a message brings, or None if the ledger has no use for it."""
    match msg:
        case m.RiskDecision():
            return _decision(msg)
        case m.OrderFilled():
            return Fill(interval=msg.interval, order_id=msg.order_id, outcome=msg.outcome,
                        token_id=msg.token_id, stake=msg.stake, shares=msg.shares,
                        avg_price=msg.avg_price, fee=msg.fee)
        case m.OrderRejected():
            return Rejection(interval=msg.interval, reason=msg.reason)
        case m.WindowPrices():
            return Prices(interval=msg.interval, start_price=msg.start_price,
                          end_price=msg.end_price if msg.complete else None, source=msg.source)
        case m.MarketResolved():
            return Resolution(interval=msg.interval, winning_outcome=msg.winning_outcome, source=msg.source)
        case m.ResetHalt():
            return HaltReset(command_id=str(msg.id), after_interval=settled_through, reason=msg.reason)
    return None


def _decision(msg: m.RiskDecision) -> Decision:
    p = msg.prediction
    outcome = {"UP": "Up", "DOWN": "Down"}.get(p.signal)
    return Decision(interval=msg.interval, window_start=p.window_start, approved=msg.approved,
                    stake=msg.stake, reasons=msg.reasons, halt=msg.halt, signal=p.signal,
                    confidence=p.confidence, reasoning=p.reasoning, rule=p.rule,
                    odds=p.implied_probability, slug=p.quote.slug if p.quote else None,
                    outcome=outcome, rsi=p.rsi, macd_line=p.macd_line, macd_signal=p.macd_signal,
                    order_book_imbalance=p.order_book_imbalance, btc_price=p.btc_price)
