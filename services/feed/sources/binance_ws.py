"""Binance combined stream: 1m klines and top-N partial depth, in a background thread."""

from __future__ import annotations

import json
import logging
import threading
from decimal import Decimal
from typing import Callable, NamedTuple

from services.feed.parsers import (
    Depth, Ignored, InvalidPayload, ServerShutdown, WsKline, parse_ws_message,
)
from services.feed.sources.wsloop import ReconnectingSocket
from shared.messages.market import Bar

log = logging.getLogger("polybot.feed")


class Stamped(NamedTuple):
    """A value and when (injected clock, seconds) we received it."""

    value: object
    received_at: float


def stream_url(ws_base: str, symbol: str, depth_levels: int) -> str:
    sym = symbol.lower()
    return f"{ws_base.rstrip('/')}/stream?streams={sym}@kline_1m/{sym}@depth{depth_levels}@100ms"


class BinanceStream(ReconnectingSocket):
    """Keeps the latest price, the latest depth snapshot and the open kline.

    Closed klines (``x: true``) go to ``on_closed_bar`` (the candle store); open ones
    only update the live price and the open candle (whose OPEN is the start price).
    """

    name = "binance-ws"

    def __init__(self, ws_base: str, *, symbol: str, depth_levels: int,
                 on_closed_bar: Callable[[Bar], None], now: Callable[[], float],
                 on_invalid: Callable[[InvalidPayload], None] | None = None, **loop_options):
        super().__init__(stream_url(ws_base, symbol, depth_levels), now=now, **loop_options)
        self._symbol = symbol
        self._on_closed_bar = on_closed_bar
        self._on_invalid = on_invalid or (lambda err: None)
        self._state_lock = threading.Lock()
        self._price: Stamped | None = None
        self._depth: Stamped | None = None
        self._open_bar: Bar | None = None

    def handle(self, text: str) -> None:
        try:
            event = parse_ws_message(json.loads(text), self._symbol)
        except ValueError as err:  # InvalidPayload is a ValueError, and so is bad JSON
            invalid = err if isinstance(err, InvalidPayload) else InvalidPayload("binance WS", "not JSON")
            log.warning("dropped invalid message: %s", invalid)
            self._on_invalid(invalid)
            return
        if isinstance(event, WsKline):
            self._on_kline(event)
        elif isinstance(event, Depth):
            with self._state_lock:
                self._depth = Stamped(event, self.received_at())
        elif isinstance(event, ServerShutdown):
            self.reconnect_now("server shutdown notice")
        elif isinstance(event, Ignored):
            log.debug("binance-ws: ignored %s", event.what)

    def _on_kline(self, event: WsKline) -> None:
        with self._state_lock:
            self._price = Stamped(event.bar.close, self.received_at())
            if not event.closed:
                self._open_bar = event.bar
        if event.closed:
            self._on_closed_bar(event.bar)

    def latest_price(self, max_age_s: float, now: float | None = None) -> Decimal | None:
        """The last traded price seen (a kline's current close), if fresh (at ``now``,
        by default the clock's)."""
        with self._state_lock:
            stamped = self._price
        if stamped is None or (self._now() if now is None else now) - stamped.received_at > max_age_s:
            return None
        return stamped.value  # type: ignore[return-value]

    def latest_depth(self, max_age_s: float, now: float | None = None) -> Depth | None:
        with self._state_lock:
            stamped = self._depth
        if stamped is None or (self._now() if now is None else now) - stamped.received_at > max_age_s:
            return None
        return stamped.value  # type: ignore[return-value]

    def open_bar(self, open_ms: int) -> Bar | None:
        """The still-open kline starting at ``open_ms``, if the stream has shown it."""
        with self._state_lock:
            bar = self._open_bar
        return bar if bar is not None and bar.open_time_ms == open_ms else None
