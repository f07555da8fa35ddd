"""Risk decisions, order commands and order events."""

from __future__ import annotations

from decimal import Decimal

from shared.messages.base import Msg
from shared.messages.market import FeeSchedule, Outcome, OutcomeBook
from shared.messages.signals import PredictionSignal


class RiskDecision(Msg, frozen=True, kw_only=True):
    """Approved (with a stake) or denied, with every reason the rules gave."""

    run_id: str
    interval: int
    approved: bool
    stake: Decimal
    reasons: tuple[str, ...]
    prediction: PredictionSignal
    capital: Decimal
    win_streak: int
    halt: bool = False


class SubmitOrder(Msg, frozen=True, kw_only=True):
    """Buy ``amount`` dollars of ``outcome`` with a fill-or-kill market order."""

    run_id: str
    interval: int
    order_key: str
    window_start: int
    window_end: int
    entry_deadline: int
    slug: str
    condition_id: str
    token_id: str
    outcome: Outcome
    amount: Decimal
    book: OutcomeBook
    fee: FeeSchedule
    decided_at_ns: int


class OrderFilled(Msg, frozen=True, kw_only=True):
    run_id: str
    interval: int
    order_key: str
    order_id: str
    slug: str
    token_id: str
    outcome: Outcome
    stake: Decimal
    shares: Decimal
    avg_price: Decimal
    fee: Decimal
    attempts: int
    latency_ms: float = 0.0


class OrderRejected(Msg, frozen=True, kw_only=True):
    run_id: str
    interval: int
    order_key: str
    reason: str
    attempts: int
    latency_ms: float = 0.0
