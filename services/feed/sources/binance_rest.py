"""Binance spot REST: 1-minute klines (paged) and top-N depth."""

from __future__ import annotations

from typing import Callable

from services.feed.parsers import Depth, KlinePage, parse_depth, parse_rest_klines
from shared.http import HttpClient
from shared.messages.market import Bar

MINUTE_MS = 60_000
PAGE_LIMIT = 1000  # Binance's maximum klines per call


class BinanceRest:
    def __init__(self, http: HttpClient, *, symbol: str, now: Callable[[], float]):
        self._http = http
        self._symbol = symbol
        self._now = now

    def klines(self, first_open_ms: int, last_open_ms: int, *,
               deadline: float | None = None) -> list[Bar]:
        """Closed bars with ``first_open_ms <= open_time <= last_open_ms``, oldest first.

        Pages through at most 1000 bars per call; a still-open candle is dropped.
        """
        bars: list[Bar] = []
        start = first_open_ms
        while start <= last_open_ms:
            page, count = self._page(start, last_open_ms, PAGE_LIMIT, deadline)
            # Only what was asked for: a server answering outside the range must not
            # make the loop go backwards or forever.
            wanted = [bar for bar in page.closed if start <= bar.open_time_ms <= last_open_ms]
            bars.extend(wanted)
            if count < PAGE_LIMIT or page.open_bar is not None or not wanted:
                break
            start = wanted[-1].open_time_ms + MINUTE_MS
        return bars

    def kline_at(self, open_ms: int, *, deadline: float | None = None,
                 closed_only: bool = True) -> Bar | None:
        """The kline opening at ``open_ms``; with ``closed_only=False`` also the open one
        (its OPEN price is final as soon as the minute's first trade happened)."""
        page, _ = self._page(open_ms, open_ms, 1, deadline)
        candidates = list(page.closed)
        if not closed_only and page.open_bar is not None:
            candidates.append(page.open_bar)
        return next((bar for bar in candidates if bar.open_time_ms == open_ms), None)

    def recent_klines(self, count: int, *, deadline: float | None = None) -> list[Bar]:
        """The most recent ``count`` closed bars (used for polling while the WS is down)."""
        payload = self._http.get_json(
            "/api/v3/klines",
            {"symbol": self._symbol, "interval": "1m", "limit": min(count + 1, PAGE_LIMIT)},
            deadline=deadline)
        return list(parse_rest_klines(payload, self._now_ms()).closed)

    def depth(self, levels: int, *, deadline: float | None = None) -> Depth:
        payload = self._http.get_json(
            "/api/v3/depth", {"symbol": self._symbol, "limit": levels}, deadline=deadline)
        return parse_depth(payload)

    def _page(self, start_ms: int, end_ms: int, limit: int,
              deadline: float | None) -> tuple[KlinePage, int]:
        params = {"symbol": self._symbol, "interval": "1m", "startTime": start_ms,
                  "endTime": end_ms, "limit": limit}
        payload = self._http.get_json("/api/v3/klines", params, deadline=deadline)
        page = parse_rest_klines(payload, self._now_ms())
        return page, len(page.closed) + (page.open_bar is not None)

    def _now_ms(self) -> int:
        return int(self._now() * 1000)
