"""CoinGecko spot price: the last resort when Binance gives no price (marked degraded)."""

from __future__ import annotations

from typing import Callable

from services.feed.parsers import SpotPrice, parse_simple_price
from shared.http import HttpClient


class CoinGecko:
    def __init__(self, http: HttpClient, *, now: Callable[[], float], max_age_s: float,
                 coin: str = "bitcoin", vs: str = "usd"):
        self._http = http
        self._now = now
        self._max_age_s = max_age_s
        self._coin = coin
        self._vs = vs

    def spot(self, *, deadline: float | None = None) -> SpotPrice:
        """Raises HttpError or InvalidPayload (including a stale ``last_updated_at``)."""
        payload = self._http.get_json(
            "/api/v3/simple/price",
            {"ids": self._coin, "vs_currencies": self._vs, "include_last_updated_at": "true"},
            deadline=deadline)
        return parse_simple_price(payload, coin=self._coin, vs=self._vs, now=self._now(),
                                  max_age_s=self._max_age_s)
