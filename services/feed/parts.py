"""The independent parts of a tick's MarketData, each fetched and validated on its own.

Every part returns a ``Part``: a value (or None) and the reasons it is missing or
degraded.  Upstream errors become reasons here, logged and counted, never exceptions.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, Callable, NamedTuple

from services.feed.candles import CandleStore
from services.feed.config import FeedConfig
from services.feed.counters import FeedCounters
from services.feed.parsers import Depth, InvalidPayload, SpotPrice
from services.feed.sources.binance_rest import BinanceRest
from services.feed.sources.binance_ws import BinanceStream
from services.feed.sources.coingecko import CoinGecko
from services.feed.sources.polymarket import CachedMarket, Clob, Gamma
from shared.http import HttpError
from shared.messages.market import Bar, FeeSchedule, OutcomeBook

log = logging.getLogger("polybot.feed")


class Part(NamedTuple):
    value: Any
    reasons: tuple[str, ...] = ()
    source: str = ""


class QuoteParts(NamedTuple):
    market: CachedMarket
    up: OutcomeBook
    down: OutcomeBook
    fee: FeeSchedule


def guarded(name: str, counters: FeedCounters, fetch: Callable[[], Part]) -> Part:
    """Run one part; HTTP and payload errors become a reason (logged and counted)."""
    try:
        return fetch()
    except InvalidPayload as err:
        counters.incr(f"invalid.{err.source}")
        log.warning("%s: invalid payload dropped: %s", name, err)
        return Part(None, (f"{name}: invalid {err}",))
    except HttpError as err:
        counters.incr(f"http_error.{name}")
        log.warning("%s: %s", name, err)
        return Part(None, (f"{name}: {err}",))
    except Exception as err:  # noqa: BLE001 - a bug in one part must not lose the whole tick
        counters.incr(f"internal_error.{name}")
        log.exception("%s: unexpected error", name)
        return Part(None, (f"{name}: internal error ({type(err).__name__})",))


def candles_part(store: CandleStore, window_start: int, history: int, deadline: float) -> Part:
    reasons: tuple[str, ...] = ()
    try:
        bars = store.bars_before(window_start, history, deadline=deadline)
    except (HttpError, InvalidPayload) as err:
        reasons = (f"candles: gap fill failed: {err}",)
        bars = store.bars_before(window_start, history, fill=False)
    if len(bars) < history:
        return Part(None, reasons + (f"candles: {len(bars)} of {history} bars before window",))
    return Part(bars, reasons)


def depth_part(cfg: FeedConfig, rest: BinanceRest, stream: BinanceStream | None,
               counters: FeedCounters, deadline: float, now: float | None = None) -> Part:
    if stream is not None:
        depth = stream.latest_depth(cfg.stale_after_s, now)
        if depth is not None:
            return _usable_depth(depth, "binance_ws")
        counters.incr("stale.binance_ws_depth")
    return _usable_depth(rest.depth(cfg.depth_levels, deadline=deadline), "binance_rest")


def _usable_depth(depth: Depth, source: str) -> Part:
    if not depth.bids or not depth.asks:
        return Part(None, (f"depth: {source} book has an empty side",))
    return Part(depth, source=source)


def quote_part(cfg: FeedConfig, gamma: Gamma, clob: Clob, window_start: int, deadline: float) -> Part:
    cached = gamma.market(window_start, deadline=deadline)
    if cached is None:
        return Part(None, (f"polymarket: market {gamma.slug(window_start)} not listed yet",))
    market = cached.market
    books = clob.books({"Up": market.up_token, "Down": market.down_token}, deadline=deadline)
    fee = market.fee or _fee_from_clob(cfg, clob, market.up_token, deadline)
    return Part(QuoteParts(cached, books["Up"], books["Down"], fee))


def _fee_from_clob(cfg: FeedConfig, clob: Clob, token_id: str, deadline: float) -> FeeSchedule:
    """Gamma gave no usable schedule: /fee-rate says fee-free (0) or not; the rate itself
    is not in the answer, so a charged market gets the configured default schedule."""
    if clob.fee_rate(token_id, deadline=deadline) == 0:
        return FeeSchedule(rate=Decimal(0))
    return FeeSchedule(rate=cfg.default_fee_rate, exponent=cfg.default_fee_exponent)


def gamma_odds(gamma: Gamma, window_start: int, max_age_s: float,
               deadline: float) -> tuple[Decimal | None, Decimal | None]:
    """Gamma's outcomePrices, refreshed if older than ``max_age_s`` (books unavailable)."""
    cached = gamma.market(window_start, deadline=deadline, max_age_s=max_age_s)
    if cached is None or cached.market.closed:
        return None, None
    return cached.market.up_price, cached.market.down_price


def coingecko_part(coingecko: CoinGecko | None, deadline: float) -> Part:
    if coingecko is None:
        return Part(None, ("coingecko: not configured",))
    spot: SpotPrice = coingecko.spot(deadline=deadline)
    return Part(spot.price, source="coingecko")


def candle_price(last_bar: Bar | None, now: float, stale_after_s: float) -> Decimal | None:
    """The last closed bar's close, if that bar closed recently enough to stand for "now".

    Bars close once a minute, so up to 60 s + ``stale_after_s`` old is normal.
    """
    if last_bar is None:
        return None
    closed_at = (last_bar.close_time_ms + 1) / 1000
    return last_bar.close if now - closed_at <= 60 + stale_after_s else None
