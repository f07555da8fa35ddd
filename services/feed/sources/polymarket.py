"""Polymarket reads: Gamma (which market is this window's) and CLOB (its books)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from decimal import Decimal
from typing import Callable, NamedTuple

from services.feed.parsers import (
    GammaMarket, InvalidPayload, parse_clob_book, parse_clob_books, parse_fee_rate, parse_gamma_events,
    parse_gamma_market, parse_tick_size,
)
from shared.http import HttpClient, HttpError, PermanentHttpError
from shared.messages.market import Outcome, OutcomeBook

log = logging.getLogger("polybot.feed")


class CachedMarket(NamedTuple):
    market: GammaMarket
    fetched_at: float


class Gamma:
    """Finds ``{slug_prefix}-{window_start}``; "not listed yet" is None, not an error.

    Found markets are cached (tokens, window and fee do not change), so the NEXT window's
    market can be looked up ahead of time with ``prefetch``.
    """

    def __init__(self, http: HttpClient, *, now: Callable[[], float],
                 slug_prefix: str = "btc-updown-5m", cache_size: int = 16):
        self._http = http
        self._now = now
        self._prefix = slug_prefix
        self._cache: OrderedDict[int, CachedMarket] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def slug(self, window_start: int) -> str:
        return f"{self._prefix}-{window_start}"

    def market(self, window_start: int, *, deadline: float | None = None,
               max_age_s: float | None = None) -> CachedMarket | None:
        """The cached market if fresh enough, else fetched (and cached if found)."""
        with self._lock:
            cached = self._cache.get(window_start)
        if cached is not None and (max_age_s is None or self._now() - cached.fetched_at <= max_age_s):
            return cached
        market = self.fetch(window_start, deadline=deadline)
        if market is None:
            return None
        entry = CachedMarket(market, self._now())
        with self._lock:
            self._cache[window_start] = entry
            self._cache.move_to_end(window_start)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return entry

    def prefetch(self, window_start: int, *, deadline: float | None = None) -> None:
        """Look a (future) window's market up now; failures are only logged."""
        try:
            if self.market(window_start, deadline=deadline) is None:
                log.info("gamma: %s not listed yet", self.slug(window_start))
        except (HttpError, InvalidPayload) as err:
            log.warning("gamma: prefetch of %s failed: %s", self.slug(window_start), err)

    def fetch(self, window_start: int, *, deadline: float | None = None) -> GammaMarket | None:
        slug = self.slug(window_start)
        try:
            market = parse_gamma_market(
                self._http.get_json(f"/markets/slug/{slug}", deadline=deadline))
        except PermanentHttpError as err:
            if err.status != 404:
                raise
            market = parse_gamma_events(
                self._http.get_json("/events", {"slug": slug}, deadline=deadline), slug)
        if market is not None and (market.slug != slug or market.window_start != window_start):
            raise InvalidPayload("gamma", f"asked for {slug}, got {market.slug}")
        return market


class Clob:
    def __init__(self, http: HttpClient):
        self._http = http

    def book(self, token_id: str, outcome: Outcome, *, deadline: float | None = None) -> OutcomeBook:
        payload = self._http.get_json("/book", {"token_id": token_id}, deadline=deadline)
        return parse_clob_book(payload, outcome, token_id)

    def books(self, tokens: dict[Outcome, str], *, deadline: float | None = None) -> dict[Outcome, OutcomeBook]:
        """Both outcome books in one ``POST /books`` (one round trip at the window's open)."""
        payload = self._http.post_json("/books", [{"token_id": token} for token in tokens.values()],
                                       deadline=deadline)
        return parse_clob_books(payload, tokens)

    def tick_size(self, token_id: str, *, deadline: float | None = None) -> Decimal:
        payload = self._http.get_json("/tick-size", {"token_id": token_id}, deadline=deadline)
        return parse_tick_size(payload)

    def fee_rate(self, token_id: str, *, deadline: float | None = None) -> int:
        """Base fee in bps: 0 means fee-free; any other value is not the effective rate."""
        payload = self._http.get_json("/fee-rate", {"token_id": token_id}, deadline=deadline)
        return parse_fee_rate(payload)
