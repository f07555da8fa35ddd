"""Binance spot REST (``/api/v3/klines``, ``/depth``, ``/ticker/price``, ``/time``).

Paging follows the real API: ``limit`` defaults to 500 and is capped at 1000, rows are
oldest first, ``startTime`` selects klines opening at or after it, ``endTime`` at or
before it, and with neither the newest ``limit`` klines come back. The newest row may
be the still-open minute, built from the price path up to now (feed.py / paths.py).
"""

from __future__ import annotations

from typing import Callable

from services.sim.feed import Kline, PriceFeed
from services.sim.formats import cents_text, e8_text
from services.sim.http_types import Request, Response, binance_error, json_response

SYMBOL = "BTCUSDT"
DEFAULT_LIMIT, MAX_LIMIT = 500, 1000
DEPTH_DEFAULT, DEPTH_MAX = 100, 5000


def rest_row(k: Kline) -> list:
    """The 12-element REST kline array (prices and volumes as strings)."""
    return [k.open_ms, cents_text(k.open), cents_text(k.high), cents_text(k.low),
            cents_text(k.close), e8_text(k.volume), k.close_ms, f"{k.quote:.8f}", k.trades,
            e8_text(k.taker_base), f"{k.taker_quote:.8f}", "0"]


def ws_kline_event(k: Kline, event_ms: int) -> dict:
    """The WebSocket ``kline`` event for one candle state."""
    return {"e": "kline", "E": event_ms, "s": SYMBOL, "k": {
        "t": k.open_ms, "T": k.close_ms, "s": SYMBOL, "i": "1m",
        "f": k.first_trade_id, "L": k.last_trade_id, "o": cents_text(k.open),
        "c": cents_text(k.close), "h": cents_text(k.high), "l": cents_text(k.low),
        "v": e8_text(k.volume), "n": k.trades, "x": k.closed, "q": f"{k.quote:.8f}",
        "V": e8_text(k.taker_base), "Q": f"{k.taker_quote:.8f}", "B": "0"}}


class BinanceApi:
    def __init__(self, feed: PriceFeed, feed_time: Callable[[], int], now: Callable[[], int]):
        self._feed = feed
        self._feed_time = feed_time  # sim time, or the frozen time of a stale-feed fault
        self._now = now  # the server clock keeps running even when the feed is stale

    def routes(self) -> dict:
        return {("GET", "/api/v3/klines"): self.klines, ("GET", "/api/v3/depth"): self.depth,
                ("GET", "/api/v3/ticker/price"): self.ticker_price,
                ("GET", "/api/v3/time"): self.server_time, ("GET", "/api/v3/ping"): self.ping}

    def klines(self, request: Request) -> Response:
        problem = _check_symbol(request)
        if problem:
            return problem
        if request.arg("interval") != "1m":
            return binance_error(400, -1120, "Invalid interval.")
        try:
            limit = min(max(int(request.arg("limit", str(DEFAULT_LIMIT))), 1), MAX_LIMIT)
            start = _time_param(request.arg("startTime"))
            end = _time_param(request.arg("endTime"))
        except ValueError:
            return binance_error(400, -1100, "Illegal characters found in a parameter.")
        now = self._feed_time()
        lo, hi = self._slice(now, start, end, limit)
        return json_response([rest_row(k) for k in self._feed.klines(lo, hi, now)])

    def _slice(self, now: int, start: int | None, end: int | None, limit: int) -> tuple[int, int]:
        store = self._feed.store
        hi = self._feed.visible_count(now)  # never a candle that has not opened yet
        if end is not None:
            hi = min(hi, store.count_open_by(end))
        if start is not None:
            lo = store.count_open_by(start - 1)
            return lo, max(lo, min(hi, lo + limit))
        return max(0, hi - limit), hi

    def depth(self, request: Request) -> Response:
        problem = _check_symbol(request)
        if problem:
            return problem
        try:
            limit = min(max(int(request.arg("limit", str(DEPTH_DEFAULT))), 1), DEPTH_MAX)
        except ValueError:
            return binance_error(400, -1100, "Illegal characters found in a parameter.")
        book = self._feed.depth(self._feed_time(), limit)
        if book is None:
            return binance_error(400, -1121, "Invalid symbol.")
        return json_response(book)

    def ticker_price(self, request: Request) -> Response:
        problem = _check_symbol(request)
        price = None if problem else self._feed.price_at(self._feed_time())
        if problem or price is None:
            return problem or binance_error(400, -1121, "Invalid symbol.")
        return json_response({"symbol": SYMBOL, "price": cents_text(price)})

    def server_time(self, request: Request) -> Response:
        return json_response({"serverTime": self._now()})

    def ping(self, request: Request) -> Response:
        return json_response({})


def _check_symbol(request: Request) -> Response | None:
    symbol = request.arg("symbol")
    if symbol is None:
        return binance_error(400, -1102, "Mandatory parameter 'symbol' was not sent, "
                                         "was empty/null, or malformed.")
    if symbol.upper() != SYMBOL:
        return binance_error(400, -1121, "Invalid symbol.")
    return None


def _time_param(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    value = int(raw)
    return value // 1000 if value > 10**14 else value  # microseconds are allowed too
