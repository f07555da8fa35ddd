"""CoinGecko ``/api/v3/simple/price`` (and ``/ping``) for bitcoin in usd.

Like the public API it refreshes once a minute: the price is the close of the last
closed candle at the minute boundary, times a small seeded "aggregate basis" (within
±2 bp, CoinGecko averages many venues), and ``last_updated_at`` is that boundary.
"""

from __future__ import annotations

import hashlib
from typing import Callable

from services.sim.feed import PriceFeed
from services.sim.http_types import Request, Response, json_response

MAX_BASIS = 0.0002


class CoinGeckoApi:
    def __init__(self, feed: PriceFeed, feed_time: Callable[[], int]):
        self._feed = feed
        self._feed_time = feed_time

    def routes(self) -> dict:
        return {("GET", "/api/v3/simple/price"): self.simple_price,
                ("GET", "/api/v3/ping"): self.ping}

    def ping(self, request: Request) -> Response:
        return json_response({"gecko_says": "(V3) To the Moon!"})

    def simple_price(self, request: Request) -> Response:
        ids = [i.strip().lower() for i in request.args("ids")]
        currencies = [c.strip().lower() for c in request.args("vs_currencies")]
        if "bitcoin" not in ids or "usd" not in currencies:
            return json_response({})
        updated_ms = self._feed_time() // 60_000 * 60_000
        cents = self._feed.price_at(updated_ms)
        if cents is None:
            return json_response({})
        entry: dict = {"usd": self._with_basis(cents, updated_ms)}
        if (request.arg("include_last_updated_at") or "").lower() == "true":
            entry["last_updated_at"] = updated_ms // 1000
        return json_response({"bitcoin": entry})

    def _with_basis(self, cents: int, minute_ms: int) -> float:
        digest = hashlib.sha256(f"{self._feed.seed}:coingecko:{minute_ms}".encode()).digest()
        basis = (int.from_bytes(digest[:8], "big") / 2**64 * 2 - 1) * MAX_BASIS
        return round(cents / 100 * (1 + basis), 10)
