"""Polymarket CLOB REST reads (/book, /tick-size, /fee-rate) and the RTDS oracle feed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from services.feed.parsers.fields import (
    InvalidPayload, array, decimal, field, integer, mapping, non_negative,
)
from shared.messages.market import BookLevel, Outcome, OutcomeBook

BOOK = "clob book"
TICK = "clob tick-size"
FEE = "clob fee-rate"
RTDS = "rtds"
RTDS_TOPIC = "crypto_prices_chainlink"


class OraclePrice(NamedTuple):
    ts_ms: int  # the report's own timestamp (ms), not its arrival time
    value: Decimal


def parse_clob_book(payload: Any, outcome: Outcome, token_id: str) -> OutcomeBook:
    """``/book`` → OutcomeBook with both sides best FIRST.

    On the wire bids are ascending and asks descending (the best levels are LAST).  We
    sort by price rather than reverse, so a server that sends best-first is read the same.
    """
    book = mapping(BOOK, payload, "book")
    asset = book.get("asset_id")
    if asset is not None and asset != token_id:
        raise InvalidPayload(BOOK, f"book is for token {str(asset)[:20]!r}, not the one asked for")
    bids = _sorted_levels(field(BOOK, book, "bids"), "bids", best_high=True)
    asks = _sorted_levels(field(BOOK, book, "asks"), "asks", best_high=False)
    if bids and asks and bids[0].price >= asks[0].price:
        raise InvalidPayload(BOOK, f"crossed book: bid {bids[0].price} >= ask {asks[0].price}")
    return OutcomeBook(
        outcome=outcome,
        token_id=token_id,
        bids=bids,
        asks=asks,
        tick_size=_tick(BOOK, field(BOOK, book, "tick_size")),
        min_order_size=non_negative(
            BOOK, decimal(BOOK, field(BOOK, book, "min_order_size"), "min_order_size",
                          numbers=True), "min_order_size"),
        book_hash=str(book.get("hash") or "")[:80],
        book_ts_ms=integer(BOOK, book.get("timestamp") or 0, "timestamp"),
    )


def parse_clob_books(payload: Any, tokens: dict[Outcome, str]) -> dict[Outcome, OutcomeBook]:
    """``POST /books`` → each asked token's book, matched by ``asset_id`` (the answer's
    order is not promised).  A token without a book, or an unasked one, is an error."""
    by_token = {}
    for item in array(BOOK, payload, "/books answer"):
        asset = mapping(BOOK, item, "book").get("asset_id")
        if asset not in tokens.values():
            raise InvalidPayload(BOOK, f"/books: a book for token {str(asset)[:20]!r}, which was not asked for")
        by_token[asset] = item
    missing = [outcome for outcome, token in tokens.items() if token not in by_token]
    if missing:
        raise InvalidPayload(BOOK, f"/books: no book for the {' and '.join(missing)} token")
    return {outcome: parse_clob_book(by_token[token], outcome, token) for outcome, token in tokens.items()}


def parse_tick_size(payload: Any) -> Decimal:
    """``{"minimum_tick_size": 0.01}`` (a number or a string)."""
    body = mapping(TICK, payload, "response")
    return _tick(TICK, field(TICK, body, "minimum_tick_size"))


def parse_fee_rate(payload: Any) -> int:
    """``{"base_fee": 1000}`` in bps; only 0 vs > 0 is meaningful (it is not the rate)."""
    body = mapping(FEE, payload, "response")
    base = integer(FEE, field(FEE, body, "base_fee"), "base_fee")
    if base < 0:
        raise InvalidPayload(FEE, f"base_fee {base} is negative")
    return base


def parse_rtds_message(payload: Any, symbol: str) -> OraclePrice | None:
    """A Chainlink price update for ``symbol`` (e.g. 'btc/usd'); None for anything else."""
    msg = mapping(RTDS, payload, "message")
    if msg.get("topic") != RTDS_TOPIC or msg.get("type") != "update":
        return None
    body = mapping(RTDS, field(RTDS, msg, "payload"), "payload")
    if str(body.get("symbol", "")).lower() != symbol.lower():
        return None
    ts_ms = integer(RTDS, field(RTDS, body, "timestamp"), "timestamp")
    value = decimal(RTDS, field(RTDS, body, "value"), "value", numbers=True)
    if value <= 0:
        raise InvalidPayload(RTDS, f"price {value} must be > 0")
    return OraclePrice(ts_ms=ts_ms, value=value)


def _tick(source: str, raw: Any) -> Decimal:
    tick = decimal(source, raw, "tick size", numbers=True)
    if not 0 < tick < 1:
        raise InvalidPayload(source, f"tick size {tick} outside (0, 1)")
    return tick


def _sorted_levels(raw: Any, side: str, *, best_high: bool) -> tuple[BookLevel, ...]:
    levels = []
    for i, entry in enumerate(array(BOOK, raw, side)):
        level = mapping(BOOK, entry, f"{side}[{i}]")
        price = decimal(BOOK, field(BOOK, level, "price"), f"{side}[{i}].price")
        size = decimal(BOOK, field(BOOK, level, "size"), f"{side}[{i}].size")
        if not 0 < price < 1:
            raise InvalidPayload(BOOK, f"{side}[{i}] price {price} outside (0, 1)")
        levels.append(BookLevel(price=price, size=non_negative(BOOK, size, "size")))
    levels.sort(key=lambda level: level.price, reverse=best_high)
    for a, b in zip(levels, levels[1:]):
        if a.price == b.price:
            raise InvalidPayload(BOOK, f"{side} list price {a.price} twice")
    return tuple(levels)
