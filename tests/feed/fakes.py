"""Fake upstreams (Binance, CoinGecko, Gamma, CLOB) served by the local HttpServer."""

from __future__ import annotations

import copy
import json
import time
from decimal import Decimal
from typing import Callable

from shared.messages.market import Bar
from shared.messages.schedule import IntervalTick, WindowClosed
from tests.feed.servers import HttpServer, Reply, fixture

MINUTE_MS = 60_000
WS0 = 1_773_307_500  # the window of gamma_market_down_up.json: 09:25-09:30 UTC
UP_TOKEN, DOWN_TOKEN = "111", "222"


def shifted_clock(at: float) -> Callable[[], float]:
    """A real, moving clock that reads ``at`` now."""
    offset = at - time.time()
    return lambda: time.time() + offset


def bar_at(t_ms: int) -> Bar:
    base = Decimal(100_000) + Decimal((t_ms // MINUTE_MS) % 97)
    return Bar(open_time_ms=t_ms, open=base, high=base + 3, low=base - 2, close=base + 1,
               volume=Decimal("1.5"))


def kline_row(t_ms: int) -> list:
    bar = bar_at(t_ms)
    return [t_ms, str(bar.open), str(bar.high), str(bar.low), str(bar.close), str(bar.volume),
            t_ms + MINUTE_MS - 1, "150000.0", 42, "0.7", "70000.0", "0"]


class FakeUpstreams:
    """Installs well-behaved routes; tests then override single routes to break things."""

    def __init__(self, server: HttpServer, now: Callable[[], float], window_start: int = WS0):
        self.server = server
        self.now = now
        self.window_start = window_start
        routes = server.routes
        routes["/api/v3/klines"] = self.klines
        routes["/api/v3/depth"] = lambda q: Reply(200, self.depth_body())
        routes["/api/v3/simple/price"] = lambda q: Reply(200, {
            "bitcoin": {"usd": 100050.25, "last_updated_at": int(self.now()) - 20}})
        routes[f"/markets/slug/btc-updown-5m-{window_start}"] = Reply(200, self.gamma_market(window_start))
        routes["/events"] = Reply(200, [])  # Gamma lists no other window
        routes["/book"] = self.book
        routes["/books"] = self.books
        routes["/fee-rate"] = Reply(200, {"base_fee": 1000})

    def klines(self, query: dict) -> Reply:
        now_ms = int(self.now() * 1000)
        limit = int(query.get("limit", ["500"])[0])
        current = now_ms // MINUTE_MS * MINUTE_MS  # the still-open candle
        if "startTime" in query:
            start = -(-int(query["startTime"][0]) // MINUTE_MS) * MINUTE_MS
            end = min(int(query.get("endTime", [str(now_ms)])[0]), current)
            times = list(range(start, end + 1, MINUTE_MS))[:limit]
        else:
            times = [current - k * MINUTE_MS for k in range(limit - 1, -1, -1)]
        return Reply(200, [kline_row(t) for t in times])

    @staticmethod
    def depth_body() -> dict:
        return {"lastUpdateId": 7, "bids": [["100000.0", "3"], ["99999.0", "1"]],
                "asks": [["100001.0", "1"], ["100002.0", "1"]]}

    def gamma_market(self, window_start: int) -> dict:
        market = fixture("gamma_market_down_up.json")
        market.update(slug=f"btc-updown-5m-{window_start}",
                      eventStartTime=_iso(window_start), endDate=_iso(window_start + 300))
        return market

    def book(self, query: dict) -> Reply:
        token = query["token_id"][0]
        body = copy.deepcopy(fixture("clob_book.json"))
        body.update(asset_id=token, timestamp=str(int(self.now() * 1000)))
        if token == DOWN_TOKEN:  # the Down book mirrors Up: best ask 0.91
            body["bids"] = [{"price": "0.86", "size": "100"}]
            body["asks"] = [{"price": "0.95", "size": "10"}, {"price": "0.91", "size": "50"}]
        return Reply(200, body)


    def books(self, query: dict) -> Reply:
        """``POST /books``: the same books as ``/book``, in one array."""
        replies = [self.book({"token_id": [item["token_id"]]}) for item in query["body"][0]]
        failed = next((r for r in replies if r.status != 200), None)
        return failed or Reply(200, [json.loads(r.text) for r in replies])


def tick(window_start: int = WS0, *, interval: int = 7, entry_deadline: int | None = None) -> IntervalTick:
    from shared.messages.base import header

    return IntervalTick(
        **header(key=("tick", "run-1", interval), ts_event=window_start * 10**9,
                 ts_init=window_start * 10**9),
        run_id="run-1", interval=interval, intervals_total=12, window_start=window_start,
        window_end=window_start + 300,
        entry_deadline=entry_deadline if entry_deadline is not None else window_start + 60)


def window_closed(window_start: int = WS0, *, interval: int = 7) -> WindowClosed:
    from shared.messages.base import header

    return WindowClosed(
        **header(key=("closed", "run-1", interval), ts_event=(window_start + 300) * 10**9,
                 ts_init=(window_start + 300) * 10**9),
        run_id="run-1", interval=interval, intervals_total=12, window_start=window_start,
        window_end=window_start + 300)


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def ws_kline_message(bar: Bar, *, closed: bool, symbol: str = "BTCUSDT") -> str:
    return json.dumps({"stream": f"{symbol.lower()}@kline_1m", "data": {
        "e": "kline", "E": bar.open_time_ms + 1000, "s": symbol, "k": {
            "t": bar.open_time_ms, "T": bar.open_time_ms + 59_999, "s": symbol, "i": "1m",
            "o": str(bar.open), "c": str(bar.close), "h": str(bar.high), "l": str(bar.low),
            "v": str(bar.volume), "x": closed}}})
