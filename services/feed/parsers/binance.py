"""Binance spot payloads: REST klines and depth, WebSocket kline/depth/serverShutdown."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from services.feed.parsers.fields import (
    InvalidPayload, array, boolean, decimal, field, integer, mapping, non_negative, positive,
)
from shared.messages.market import Bar, BookLevel

REST_KLINES = "binance REST klines"
REST_DEPTH = "binance REST depth"
WS = "binance WS"
MINUTE_MS = 60_000


class KlinePage(NamedTuple):
    """One REST /klines answer: the closed bars, and the still-open candle if it came."""

    closed: tuple[Bar, ...]
    open_bar: Bar | None


class WsKline(NamedTuple):
    bar: Bar
    closed: bool
    event_ms: int


class Depth(NamedTuple):
    """A top-N book, both sides best first."""

    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    last_update_id: int


class ServerShutdown(NamedTuple):
    event_ms: int


class Ignored(NamedTuple):
    what: str


WsEvent = WsKline | Depth | ServerShutdown | Ignored


def make_bar(source: str, open_ms: Any, close_ms: Any, o: Any, h: Any, l: Any, c: Any,
             v: Any) -> Bar:
    """Validate one 1-minute kline's fields and build a Bar."""
    t = integer(source, open_ms, "open time")
    end = integer(source, close_ms, "close time")
    if t < 0 or t % MINUTE_MS:
        raise InvalidPayload(source, f"open time {t} is not a whole minute")
    if end != t + MINUTE_MS - 1:
        raise InvalidPayload(source, f"close time {end} != open time {t} + 59999")
    op, hi, lo, cl = (positive(source, decimal(source, x, name), name)
                      for x, name in ((o, "open"), (h, "high"), (l, "low"), (c, "close")))
    vol = non_negative(source, decimal(source, v, "volume"), "volume")
    if hi < max(op, cl) or lo > min(op, cl):
        raise InvalidPayload(source, f"kline {t}: high/low do not bound open/close")
    return Bar(open_time_ms=t, open=op, high=hi, low=lo, close=cl, volume=vol)


def parse_kline_row(row: Any) -> Bar:
    """One REST kline array: [t, o, h, l, c, v, T, ...]."""
    items = array(REST_KLINES, row, "kline row")
    if len(items) < 7:
        raise InvalidPayload(REST_KLINES, f"kline row has {len(items)} fields, expected 12")
    t, o, h, l, c, v, end = items[:7]
    return make_bar(REST_KLINES, t, end, o, h, l, c, v)


def parse_rest_klines(payload: Any, now_ms: int) -> KlinePage:
    """REST /api/v3/klines; a kline whose close time is not yet past ``now_ms`` is still open.

    Only the last row may be open (Binance returns the current candle when endTime is
    absent or in the future); it is split off so it never reaches the candle store.
    """
    rows = array(REST_KLINES, payload, "klines")
    bars = [parse_kline_row(row) for row in rows]
    for before, after in zip(bars, bars[1:]):
        if after.open_time_ms <= before.open_time_ms:
            raise InvalidPayload(REST_KLINES, f"open times not increasing at {after.open_time_ms}")
    open_bar = None
    if bars and bars[-1].close_time_ms >= now_ms:
        open_bar = bars.pop()
    if bars and bars[-1].close_time_ms >= now_ms:
        raise InvalidPayload(REST_KLINES, f"kline {bars[-1].open_time_ms} closes in the future")
    return KlinePage(closed=tuple(bars), open_bar=open_bar)


def parse_ws_kline(data: Any, symbol: str) -> WsKline:
    """A kline event's payload (``{"e":"kline","E":..,"s":..,"k":{..}}``)."""
    event = mapping(WS, data, "kline event")
    k = mapping(WS, field(WS, event, "k"), "k")
    _check_symbol(event.get("s"), symbol)
    _check_symbol(k.get("s"), symbol)
    if k.get("i") != "1m":
        raise InvalidPayload(WS, f"kline interval {k.get('i')!r}, expected '1m'")
    bar = make_bar(WS, *(field(WS, k, key) for key in ("t", "T", "o", "h", "l", "c", "v")))
    closed = boolean(WS, field(WS, k, "x"), "x")
    return WsKline(bar=bar, closed=closed, event_ms=integer(WS, field(WS, event, "E"), "E"))


def parse_depth(payload: Any, source: str = REST_DEPTH) -> Depth:
    """REST /api/v3/depth or a WS partial-depth snapshot (the latter names no symbol)."""
    book = mapping(source, payload, "depth")
    update_id = integer(source, field(source, book, "lastUpdateId"), "lastUpdateId")
    bids = _levels(source, field(source, book, "bids"), "bids")
    asks = _levels(source, field(source, book, "asks"), "asks")
    _check_sorted(source, bids, descending=True, side="bids")
    _check_sorted(source, asks, descending=False, side="asks")
    if bids and asks and bids[0].price >= asks[0].price:
        raise InvalidPayload(source, f"crossed book: bid {bids[0].price} >= ask {asks[0].price}")
    return Depth(bids=bids, asks=asks, last_update_id=update_id)


def parse_ws_message(payload: Any, symbol: str) -> WsEvent:
    """Route one WS message (combined ``{"stream","data"}`` wrapper or a raw payload)."""
    msg = mapping(WS, payload, "message")
    stream = msg.get("stream")
    data = msg["data"] if isinstance(stream, str) and "data" in msg else msg
    data = mapping(WS, data, "data")
    if "result" in data and "id" in data:
        return Ignored("subscription reply")
    kind = data.get("e")
    if kind == "serverShutdown" or stream == "!serverShutdown":
        return ServerShutdown(event_ms=integer(WS, data.get("E", 0), "E"))
    if kind == "kline":
        return parse_ws_kline(data, symbol)
    if "lastUpdateId" in data:
        return parse_depth(data, WS)
    return Ignored(f"event {kind or stream!r}")


def order_book_imbalance(bids: tuple[BookLevel, ...], asks: tuple[BookLevel, ...],
                         levels: int) -> Decimal:
    """(Σbid − Σask) / (Σbid + Σask) over the best ``levels`` of each side; 0 if empty."""
    bid_qty = sum((level.size for level in bids[:levels]), Decimal(0))
    ask_qty = sum((level.size for level in asks[:levels]), Decimal(0))
    total = bid_qty + ask_qty
    return Decimal(0) if total == 0 else (bid_qty - ask_qty) / total


def _levels(source: str, raw: Any, side: str) -> tuple[BookLevel, ...]:
    levels = []
    for i, entry in enumerate(array(source, raw, side)):
        pair = array(source, entry, f"{side}[{i}]")
        if len(pair) < 2:
            raise InvalidPayload(source, f"{side}[{i}] is not [price, qty]")
        price = positive(source, decimal(source, pair[0], f"{side}[{i}] price"), "price")
        qty = non_negative(source, decimal(source, pair[1], f"{side}[{i}] qty"), "quantity")
        levels.append(BookLevel(price=price, size=qty))
    return tuple(levels)


def _check_sorted(source: str, levels: tuple[BookLevel, ...], *, descending: bool,
                  side: str) -> None:
    for better, worse in zip(levels, levels[1:]):
        if (better.price <= worse.price) if descending else (better.price >= worse.price):
            raise InvalidPayload(source, f"{side} not best-first at price {worse.price}")


def _check_symbol(value: Any, symbol: str) -> None:
    if value is not None and value != symbol.upper():
        raise InvalidPayload(WS, f"symbol {value!r}, expected {symbol.upper()!r}")
