"""CoinGecko /simple/price: the last-resort spot price (a global aggregate, not Binance)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from services.feed.parsers.fields import InvalidPayload, decimal, integer, mapping, positive

SOURCE = "coingecko"


class SpotPrice(NamedTuple):
    price: Decimal
    updated_at: int | None  # unix seconds, when CoinGecko last refreshed the price


def parse_simple_price(payload: Any, *, coin: str = "bitcoin", vs: str = "usd",
                       now: float | None = None, max_age_s: float | None = None) -> SpotPrice:
    """``{"bitcoin":{"usd":67187.33,"last_updated_at":1711356300}}`` → SpotPrice.

    The price is a JSON number.  With ``now`` and ``max_age_s`` a price whose
    ``last_updated_at`` is older than ``max_age_s`` is rejected as stale.
    """
    body = mapping(SOURCE, payload, "response")
    if coin not in body:
        raise InvalidPayload(SOURCE, f"no entry for {coin!r}")  # unknown ids give {}
    entry = mapping(SOURCE, body[coin], coin)
    if vs not in entry:
        raise InvalidPayload(SOURCE, f"no {vs!r} price for {coin!r}")
    price = positive(SOURCE, decimal(SOURCE, entry[vs], vs, numbers=True), vs)
    updated = entry.get("last_updated_at")
    updated_at = None if updated is None else integer(SOURCE, updated, "last_updated_at")
    if now is not None and max_age_s is not None:
        if updated_at is None:
            raise InvalidPayload(SOURCE, "no last_updated_at, cannot tell staleness")
        age = now - updated_at
        if age > max_age_s:
            raise InvalidPayload(SOURCE, f"stale: updated {age:.0f}s ago (max {max_age_s:.0f}s)")
    return SpotPrice(price=price, updated_at=updated_at)
