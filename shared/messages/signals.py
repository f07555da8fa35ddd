"""The predictor's output."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from shared.messages.base import Msg
from shared.messages.market import Bar, MarketQuote

Signal = Literal["UP", "DOWN", "SKIP"]


class PredictionSignal(Msg, frozen=True, kw_only=True):
    """The seed's PredictionSignal plus the context risk needs to decide on it."""

    run_id: str
    interval: int
    window_start: int
    window_end: int
    entry_deadline: int
    signal: Signal
    confidence: Decimal
    rsi: Decimal | None
    macd_line: Decimal | None
    macd_signal: Decimal | None
    order_book_imbalance: Decimal | None
    btc_price: Decimal | None
    timestamp: datetime
    reasoning: str
    rule: str
    implied_probability: Decimal | None = None
    break_even_probability: Decimal | None = None
    quote: MarketQuote | None = None
    recent_bars: tuple[Bar, ...] = ()
    data_complete: bool = True
    data_reasons: tuple[str, ...] = ()
    start_price: Decimal | None = None
    start_price_source: str | None = None
