"""The ledger's view of the bot: positions, settlements, the bot state, halts."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from shared.messages.base import Data, Msg
from shared.messages.market import Outcome


class Position(Data, frozen=True, kw_only=True):
    interval: int
    slug: str
    outcome: Outcome
    token_id: str
    stake: Decimal
    shares: Decimal
    avg_price: Decimal
    fee: Decimal
    order_id: str
    status: Literal["OPEN", "SETTLED"] = "OPEN"


class PositionSettled(Msg, frozen=True, kw_only=True):
    run_id: str
    interval: int
    result: Literal["WIN", "LOSS"]
    pnl: Decimal
    capital_after: Decimal
    winning_outcome: Outcome
    provisional: bool
    source: str


class LedgerState(Msg, frozen=True, kw_only=True):
    """The authoritative bot state (the seed's BotState and more)."""

    run_id: str
    starting_capital: Decimal
    current_capital: Decimal
    peak_capital: Decimal
    win_streak: int
    total_trades: int
    is_active: bool
    halted: bool
    halt_reason: str
    intervals_total: int
    current_interval: int
    decided_through: int
    settled_through: int
    open_position: Position | None
    run_complete: bool
    version: int


class TradingHalted(Msg, frozen=True, kw_only=True):
    run_id: str
    interval: int
    reason: str
    capital: Decimal
    floor: Decimal


class ResetHalt(Msg, frozen=True, kw_only=True):
    """Operator command: clear a persisted halt (``polybot reset-halt``)."""

    reason: str = "operator reset"
