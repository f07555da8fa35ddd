"""``polybot tail``: follow streams with XREAD BLOCK and print typed messages.

Human form, one line each: entry time (UTC), short stream name, type, key fields.
``--json``: ``{"stream", "id", "type", "message"}`` with the message as msgspec JSON.
An entry that cannot be decoded is printed as such (with its error); it never stops
the tail.  XREAD reads without a consumer group: tailing acks nothing and changes
nothing for the services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

import msgspec
import redis

from polybot.stack import StackError
from shared import messages, streams

# The fields worth a glance, per message type (others: the first few scalar fields).
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "IntervalTick": ("run_id", "interval", "intervals_total", "window_start"),
    "WindowClosed": ("interval", "window_end"),
    "MarketData": ("interval", "btc_price", "order_book_imbalance", "polymarket_odds_up", "complete", "reasons"),
    "Candle": ("symbol", "bar.open_time_ms", "bar.close", "bar.volume", "source"),
    "WindowPrices": ("interval", "start_price", "end_price", "source", "complete"),
    "PredictionSignal": ("interval", "signal", "confidence", "rsi", "macd_line", "order_book_imbalance", "rule"),
    "RiskDecision": ("interval", "approved", "stake", "capital", "win_streak", "halt", "reasons"),
    "SubmitOrder": ("interval", "outcome", "amount", "order_key", "slug"),
    "OrderFilled": ("interval", "outcome", "stake", "avg_price", "shares", "fee", "attempts", "latency_ms"),
    "OrderRejected": ("interval", "reason", "attempts"),
    "MarketResolved": ("interval", "slug", "winning_outcome", "source"),
    "LedgerState": ("current_capital", "win_streak", "total_trades", "decided_through", "settled_through",
                    "halted", "run_complete"),
    "PositionSettled": ("interval", "result", "pnl", "capital_after", "provisional"),
    "TradingHalted": ("interval", "reason", "capital", "floor"),
    "ResetHalt": ("reason",),
}
HEADER = {"id", "ts_event", "ts_init", "correlation_id"}
_json = msgspec.json.Encoder(decimal_format="string")


def short_name(stream: str) -> str:
    return stream.removeprefix(streams.PREFIX + ":")


def resolve_streams(names: Iterable[str]) -> list[str]:
    """``signals``, ``orders:events``, ``polybot:signals`` or ``signals:dlq`` -> full names."""
    known = {short_name(s): s for s in streams.ALL_STREAMS}
    out = []
    for name in names:
        full = name if name.startswith(streams.PREFIX + ":") else f"{streams.PREFIX}:{name}"
        base = full.removesuffix(":dlq")
        if base not in streams.ALL_STREAMS:
            raise StackError(f"unknown stream {name!r}; known: {', '.join(sorted(known))} (add :dlq for a "
                             "dead-letter stream)")
        out.append(full)
    return out or list(streams.ALL_STREAMS)


def follow(client: redis.Redis, names: list[str], start: str = "$", block_ms: int = 1000,
           count: int | None = None, stop: Callable[[], bool] = lambda: False) -> Iterator[tuple[str, str, dict]]:
    """(stream, entry id, fields) for each entry after ``start``, oldest first, until
    ``count`` entries were yielded or ``stop()``."""
    last = {name: _start_id(client, name, start) for name in names}
    seen = 0
    while not stop() and (count is None or seen < count):
        reply = client.xread(last, count=100, block=block_ms)
        batch = [(_text(stream), _text(entry_id), fields) for stream, entries in reply or []
                 for entry_id, fields in entries]
        for stream, entry_id, fields in sorted(batch, key=lambda item: _id_key(item[1])):  # in time order
            last[stream] = entry_id
            yield stream, entry_id, fields
            seen += 1
            if count is not None and seen >= count:
                return


def _start_id(client: redis.Redis, stream: str, start: str) -> str:
    if start != "$":
        return start
    # "$" re-evaluated on every XREAD could skip entries between calls: pin the last id now.
    newest = client.xrevrange(stream, count=1)
    return _text(newest[0][0]) if newest else "0-0"


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# -- formatting --------------------------------------------------------------------------
def decode(stream: str, fields: dict) -> tuple[str, msgspec.Struct | None, str | None]:
    """(type name, message or None, error or None)."""
    kind = _text(fields.get(b"type", fields.get("type", b"?")))
    payload = fields.get(b"data", fields.get("data"))
    base = stream.removesuffix(":dlq")
    if stream.endswith(":dlq") or base not in messages.DECODERS:
        return kind, None, None
    if payload is None:
        return kind, None, "entry has no 'data' field"
    try:
        return kind, messages.decode(stream, payload), None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return kind, None, f"{type(exc).__name__}: {exc}"


def entry_time(entry_id: str) -> str:
    ms = int(entry_id.split("-", 1)[0])
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def human(stream: str, entry_id: str, fields: dict) -> str:
    kind, msg, error = decode(stream, fields)
    head = f"{entry_time(entry_id)}  {short_name(stream):<16} {kind:<16}"
    if error is not None:
        return f"{head} UNDECODABLE {entry_id}: {error[:200]}"
    if msg is None:  # a dead-letter record or an unknown stream: show its fields
        shown = {(_text(k)): _raw(v) for k, v in fields.items() if _text(k) not in ("orig_data", "data")}
        return f"{head} " + " ".join(f"{k}={v}" for k, v in shown.items())
    return f"{head} " + " ".join(f"{name}={_fmt(_get(msg, name))}" for name in _fields_of(msg))


def as_json(stream: str, entry_id: str, fields: dict) -> str:
    kind, msg, error = decode(stream, fields)
    doc: dict = {"stream": stream, "id": entry_id, "type": kind}
    if msg is not None:
        doc["message"] = msg
    else:
        doc["error"] = error
        doc["fields"] = {_text(k): _raw(v) for k, v in fields.items()}
    return _json.encode(doc).decode()


def _fields_of(msg) -> tuple[str, ...]:
    chosen = KEY_FIELDS.get(type(msg).__name__)
    if chosen:
        return chosen
    scalars = [f for f in msg.__struct_fields__ if f not in HEADER
               and isinstance(getattr(msg, f), (str, int, float, bool, Decimal))]
    return tuple(scalars[:6])


def _get(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
    return obj


def _fmt(value) -> str:
    if isinstance(value, (tuple, list)):
        return "[" + ",".join(_fmt(v) for v in value) + "]"
    text = str(value) if value is not None else "-"
    return text if len(text) <= 60 and " " not in text else repr(text[:60])


def _raw(value) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return f"<{len(value)} bytes>"
    return str(value)
