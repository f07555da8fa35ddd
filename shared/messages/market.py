"""Market data: BTC candles and depth, the window's Polymarket market, MarketData."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from shared.messages.base import Data, Msg

Outcome = Literal["Up", "Down"]


class Bar(msgspec.Struct, frozen=True, array_like=True):
    """One closed 1-minute BTC/USDT kline (array-like: compact on the wire)."""

    open_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @property
    def close_time_ms(self) -> int:
        return self.open_time_ms + 59_999


class BookLevel(msgspec.Struct, frozen=True, array_like=True):
    price: Decimal
    size: Decimal


class Candle(Msg, frozen=True, kw_only=True):
    """A closed candle as it arrived (published for observability and replay)."""

    symbol: str
    bar: Bar
    source: str


class BookSnapshot(Msg, frozen=True, kw_only=True):
    """Top-N BTC depth. Both sides are ordered best first."""

    symbol: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    last_update_id: int
    source: str


class FeeSchedule(Data, frozen=True, kw_only=True):
    """Taker fee per share = rate * (p * (1 - p)) ** exponent (Polymarket crypto: 0.07, 1)."""

    rate: Decimal
    exponent: int = 1
    taker_only: bool = True


class OutcomeBook(Data, frozen=True, kw_only=True):
    """One outcome token's CLOB book, normalised so that both sides are best FIRST."""

    outcome: Outcome
    token_id: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    tick_size: Decimal
    min_order_size: Decimal
    book_hash: str = ""
    book_ts_ms: int = 0

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None


class MarketQuote(Msg, frozen=True, kw_only=True):
    """The window's ``btc-updown-5m-{start}`` market with both outcome books."""

    slug: str
    condition_id: str
    window_start: int
    window_end: int
    up: OutcomeBook
    down: OutcomeBook
    tick_size: Decimal
    min_order_size: Decimal
    fee: FeeSchedule
    accepting_orders: bool
    neg_risk: bool = False

    def book(self, outcome: Outcome) -> OutcomeBook:
        return self.up if outcome == "Up" else self.down


class MarketData(Msg, frozen=True, kw_only=True):
    """Everything the predictor and risk need for one interval (the seed's MarketData).

    ``candles`` are closed 1-minute bars strictly before ``window_start`` (oldest first).
    ``complete`` is False when something required is missing; ``reasons`` says what.
    """

    run_id: str
    interval: int
    window_start: int
    window_end: int
    entry_deadline: int
    btc_price: Decimal | None
    btc_price_source: str
    candles: tuple[Bar, ...]
    book: BookSnapshot | None
    order_book_imbalance: Decimal | None
    quote: MarketQuote | None
    polymarket_odds_up: Decimal | None
    polymarket_odds_down: Decimal | None
    start_price: Decimal | None
    start_price_source: str | None
    complete: bool
    reasons: tuple[str, ...] = ()
    degraded: bool = False


class WindowPrices(Msg, frozen=True, kw_only=True):
    """A window's start and end BTC price, from the resolution source where available."""

    run_id: str
    interval: int
    window_start: int
    window_end: int
    start_price: Decimal | None
    end_price: Decimal | None
    source: str
    complete: bool
    reason: str = ""


class MarketResolved(Msg, frozen=True, kw_only=True):
    """The venue's own resolution of a window's market (None = void / 50-50)."""

    run_id: str
    interval: int
    slug: str
    condition_id: str
    winning_outcome: Outcome | None
    source: str
