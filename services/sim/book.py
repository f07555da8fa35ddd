"""Per-window CLOB books: the model's quote minus the depth fills have taken.

Both outcome books come from one Up quote. The Down book is its complement: Down bid =
1 − Up ask and Down ask = 1 − Up bid, with the same sizes. So buying Down at q takes the
same liquidity as selling Up at 1 − q, and depth consumed on one token shows on the other.
A fill removes size from the levels it took for the rest of the window.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from decimal import Decimal

from services.sim.formats import decimal_text, mils_text
from services.sim.market_model import MarketModel, Quote
from services.sim.windows import Window

MIN_ORDER_SIZE = "5"

Level = tuple[int, Decimal]  # (price in thousandths, shares)


@dataclass(frozen=True)
class TokenBook:
    tick_mils: int
    bids: tuple[Level, ...]  # best first
    asks: tuple[Level, ...]  # best first


@dataclass
class WindowState:
    consumed: dict = field(default_factory=dict)  # (Up-book side, price mils) → shares
    version: int = 0
    last_trade: dict = field(default_factory=dict)  # token → (price mils, "BUY"|"SELL")
    volume: Decimal = Decimal(0)  # pUSD notional filled
    cached: tuple | None = None  # (second, version, Quote)


def up_book_key(window: Window, token: str, side: str, price_mils: int) -> tuple[str, int]:
    """Where a level of ``token``'s own book lives in the Up quote."""
    if token == window.up_token:
        return side, price_mils
    return ("bid" if side == "ask" else "ask"), 1000 - price_mils


class Books:
    def __init__(self, model: MarketModel):
        self._model = model
        self._states: dict[int, WindowState] = {}
        self._lock = threading.Lock()

    def state(self, window: Window) -> WindowState:
        with self._lock:
            return self._states.setdefault(window.start_s, WindowState())

    def up_quote(self, window: Window, now_ms: int) -> Quote:
        state = self.state(window)
        second = now_ms // 1000
        cached = state.cached
        if cached and cached[0] == second and cached[1] == state.version:
            return cached[2]
        quote = self._model.quote(window, now_ms, state.consumed)
        state.cached = (second, state.version, quote)
        return quote

    def token_book(self, window: Window, token: str, now_ms: int) -> TokenBook:
        quote = self.up_quote(window, now_ms)
        if token == window.up_token:
            return TokenBook(quote.tick_mils, quote.bids, quote.asks)
        return TokenBook(quote.tick_mils, tuple((1000 - p, s) for p, s in quote.asks),
                         tuple((1000 - p, s) for p, s in quote.bids))

    def consume(self, window: Window, token: str, side: str, price_mils: int,
                shares: Decimal) -> None:
        """A fill took ``shares`` from level ``price_mils`` of ``token``'s ``side``."""
        state = self.state(window)
        key = up_book_key(window, token, side, price_mils)
        with self._lock:
            state.consumed[key] = state.consumed.get(key, Decimal(0)) + shares
            state.version += 1

    def record_trade(self, window: Window, token: str, price_mils: int, side: str,
                     notional: Decimal) -> None:
        state = self.state(window)
        with self._lock:
            state.last_trade[token] = (price_mils, side)
            state.volume += notional

    def last_trade(self, window: Window, token: str) -> tuple[int, str]:
        return self.state(window).last_trade.get(token, (500, "BUY"))

    def render(self, window: Window, token: str, now_ms: int) -> dict:
        """The CLOB ``/book`` body: bids ascending, asks descending (best LAST), strings."""
        book = self.token_book(window, token, now_ms)
        payload = {
            "market": window.condition_id, "asset_id": token, "timestamp": str(now_ms),
            "hash": "",
            "bids": _levels_json(reversed(book.bids)), "asks": _levels_json(reversed(book.asks)),
            "min_order_size": MIN_ORDER_SIZE, "tick_size": mils_text(book.tick_mils),
            "neg_risk": False, "last_trade_price": mils_text(self.last_trade(window, token)[0]),
        }
        serialized = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        payload["hash"] = hashlib.sha1(serialized.encode("utf-8")).hexdigest()
        return payload


def _levels_json(levels) -> list[dict]:
    return [{"price": mils_text(p), "size": decimal_text(s)} for p, s in levels]
