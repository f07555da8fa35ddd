"""The feed's configuration: one frozen Struct, decoded once by the runtime and passed down.

Every base URL is configurable so the same code talks to the real hosts or to the
local simulator (``services/sim``).  Env ``BINANCE_REST_URL`` maps to ``binance_rest_url``.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import msgspec

from shared.http import MAX_ATTEMPTS

MIN_HISTORY_BARS = 300  # RSI(14)/MACD(12,26,9) need >= 300 closed bars to match TA-Lib
# Bars kept beyond the history: the window's own minutes and an hour of slack.  Each
# bar held costs about 0.7 KB (six Decimals); 2,000 of them were 1 MB of the feed's RSS.
CANDLE_MARGIN = 60


class FeedConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # Upstreams
    binance_rest_url: str = "https://api.binance.com"
    binance_ws_url: str = "wss://stream.binance.com:9443"
    coingecko_url: str = "https://api.coingecko.com"
    gamma_url: str = "https://gamma-api.polymarket.com"
    clob_url: str = "https://clob.polymarket.com"
    rtds_url: str = ""  # e.g. wss://ws-live-data.polymarket.com; empty = off (Binance prices)
    rtds_symbol: str = "btc/usd"
    # Market
    symbol: str = "BTCUSDT"
    slug_prefix: str = "btc-updown-5m"
    window_s: int = 300
    depth_levels: int = 10  # 5 | 10 | 20 (Binance partial-depth stream sizes)
    obi_levels: int = 10  # levels per side in the order-book imbalance (<= depth_levels)
    history_bars: int = 500
    candle_capacity: int = 0  # closed bars kept; 0 = history_bars + CANDLE_MARGIN
    # HTTP
    http_connect_timeout_s: float = 2.0
    http_timeout_s: float = 3.0
    max_attempts: int = 3
    backoff_base_s: float = 0.2
    max_retry_after_s: float = 5.0
    # Freshness and deadlines
    stale_after_s: float = 10.0  # WS price/depth older than this is not used
    coingecko_max_age_s: float = 180.0  # CoinGecko refreshes every 60 s on the free plan
    tick_budget_s: float = 3.0  # most a tick's MarketData may take (also capped by entry_deadline)
    window_prices_budget_s: float = 20.0  # most the end-of-window pricing may wait for the candle
    workers: int = 6
    # WebSocket
    use_websocket: bool = True
    ws_ping_interval_s: float = 30.0  # our pings; Binance's own pings are answered automatically
    ws_ping_timeout_s: float = 10.0
    ws_max_age_s: float = 23 * 3600.0  # Binance cuts connections at 24 h: leave before that
    ws_silence_s: float = 30.0  # no message for this long: reconnect
    ws_backoff_max_s: float = 30.0
    rest_poll_interval_s: float = 5.0  # candle polling while the WebSocket is down
    # Fees when Gamma does not state them in a known form (current crypto schedule)
    default_fee_rate: Decimal = Decimal("0.07")
    default_fee_exponent: int = 1

    @property
    def kept_bars(self) -> int:
        return self.candle_capacity or self.history_bars + CANDLE_MARGIN

    def validate(self) -> "FeedConfig":
        """Raise ValueError naming the first bad field; return self for chaining."""
        for name in ("binance_rest_url", "coingecko_url", "gamma_url", "clob_url"):
            _check_url(name, getattr(self, name), ("http", "https"))
        _check_url("binance_ws_url", self.binance_ws_url, ("ws", "wss"))
        if self.rtds_url:
            _check_url("rtds_url", self.rtds_url, ("ws", "wss"))
        _check(self.symbol.isalnum() and self.symbol.isupper(), "symbol", "upper-case letters/digits")
        _check(self.depth_levels in (5, 10, 20), "depth_levels", "5, 10 or 20")
        _check(1 <= self.obi_levels <= self.depth_levels, "obi_levels", "1..depth_levels")
        _check(self.history_bars >= MIN_HISTORY_BARS, "history_bars", f">= {MIN_HISTORY_BARS}")
        _check(self.candle_capacity == 0 or self.candle_capacity >= self.history_bars + CANDLE_MARGIN,
               "candle_capacity", f"0 (automatic) or >= history_bars + {CANDLE_MARGIN}")
        _check(1 <= self.max_attempts <= MAX_ATTEMPTS, "max_attempts", f"1..{MAX_ATTEMPTS}")
        _check(self.window_s > 0 and self.window_s % 60 == 0, "window_s", "a positive multiple of 60")
        _check(self.ws_ping_timeout_s < self.ws_ping_interval_s, "ws_ping_timeout_s",
               "< ws_ping_interval_s")
        _check(0 <= self.default_fee_rate < 1, "default_fee_rate", "in [0, 1)")
        _check(self.workers >= 4, "workers", ">= 4")
        for name in ("http_connect_timeout_s", "http_timeout_s", "backoff_base_s",
                     "max_retry_after_s", "stale_after_s", "coingecko_max_age_s",
                     "tick_budget_s", "window_prices_budget_s", "ws_ping_interval_s",
                     "ws_ping_timeout_s", "ws_max_age_s", "ws_silence_s", "ws_backoff_max_s",
                     "rest_poll_interval_s"):
            _check(getattr(self, name) > 0, name, "> 0")
        return self


def _check(ok: bool, name: str, expected: str) -> None:
    if not ok:
        raise ValueError(f"FeedConfig.{name} must be {expected}")


def _check_url(name: str, url: str, schemes: tuple[str, ...]) -> None:
    parts = urlsplit(url)
    _check(parts.scheme in schemes and bool(parts.hostname), name, f"a {'/'.join(schemes)} URL")
