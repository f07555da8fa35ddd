"""Predictor settings: one frozen struct, validated when it is built.

Field names are lowercase snake_case with simple types so that the shared env
loader can map ``RSI_PERIOD=21`` onto ``rsi_period`` (e.g. with
``msgspec.convert(env, PredictorConfig, strict=False)``). Every threshold of the
strategy lives here; docs/strategy.md explains each default.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Literal

import msgspec

# Below ~300 bars the TA-Lib seed has not decayed: RSI/MACD computed on the last
# W bars differ from the full-history values (docs/market-data-formats.md §5,
# warm-up table: W=300 -> 2e-8 RSI error, W=250 -> 6.5e-7, W=100 -> 3e-2).
MIN_HISTORY_BARS = 300
# TA-Lib's allowed range for RSI/MACD periods.
MAX_PERIOD = 100_000


class PredictorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """All knobs of the UP/DOWN/SKIP rule. Invalid combinations raise ValueError."""

    profile: Literal["strict", "default"] = "default"
    rsi_period: int = 14
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    rsi_oversold: float = 30.0
    rsi_overbought: float = 70.0
    obi_bullish: float = 0.1
    obi_bearish: float = -0.1
    history_bars: int = 500
    min_edge: Decimal | None = None
    fee_rate: Decimal = Decimal("0.07")

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the offending field; return None when valid."""
        _check_types(self)
        _check_periods(self)
        _check_thresholds(self)
        _check_money(self)

    @property
    def macd_lookback(self) -> int:
        """Index of the first non-NaN MACD/signal value in TA-Lib (33 by default)."""
        return (self.macd_slow - 1) + (self.macd_signal - 1)


def _fail(field: str, why: str) -> None:
    raise ValueError(f"{field}: {why}")


def _check_types(cfg: PredictorConfig) -> None:
    # A Struct built directly (not via msgspec.convert) does no type checking.
    if cfg.profile not in ("strict", "default"):
        _fail("profile", f"must be 'strict' or 'default', got {cfg.profile!r}")
    for name in ("rsi_period", "macd_fast", "macd_slow", "macd_signal", "history_bars"):
        value = getattr(cfg, name)
        if not isinstance(value, int) or isinstance(value, bool):
            _fail(name, f"must be an int, got {value!r}")
    for name in ("rsi_oversold", "rsi_overbought", "obi_bullish", "obi_bearish"):
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            _fail(name, f"must be a finite number, got {value!r}")
    for name in ("fee_rate", "min_edge"):
        value = getattr(cfg, name)
        if value is None and name == "min_edge":
            continue
        if not isinstance(value, Decimal) or not value.is_finite():
            _fail(name, f"must be a finite Decimal, got {value!r}")


def _check_periods(cfg: PredictorConfig) -> None:
    for name in ("rsi_period", "macd_fast", "macd_slow", "macd_signal"):
        if not 2 <= getattr(cfg, name) <= MAX_PERIOD:
            _fail(name, f"must be in [2, {MAX_PERIOD}]")
    if cfg.macd_fast >= cfg.macd_slow:
        # TA-Lib would silently swap them; a swapped config is almost surely a typo.
        _fail("macd_fast", f"must be < macd_slow ({cfg.macd_fast} >= {cfg.macd_slow})")
    if cfg.history_bars < MIN_HISTORY_BARS:
        _fail("history_bars", f"must be >= {MIN_HISTORY_BARS} (TA-Lib warm-up)")
    # The crossover needs two valid MACD/signal values; RSI needs period + 1 closes.
    needed = max(cfg.macd_lookback + 2, cfg.rsi_period + 2)
    if cfg.history_bars < needed:
        _fail("history_bars", f"must be >= {needed} for these periods")


def _check_thresholds(cfg: PredictorConfig) -> None:
    if not 0 < cfg.rsi_oversold < 50:
        _fail("rsi_oversold", "must be in (0, 50)")
    if not 50 < cfg.rsi_overbought < 100:
        _fail("rsi_overbought", "must be in (50, 100)")
    if not -1 < cfg.obi_bearish < 0:
        _fail("obi_bearish", "must be in (-1, 0)")
    if not 0 < cfg.obi_bullish < 1:
        _fail("obi_bullish", "must be in (0, 1)")


def _check_money(cfg: PredictorConfig) -> None:
    if not Decimal(0) <= cfg.fee_rate <= Decimal(1):
        _fail("fee_rate", "must be in [0, 1]")
    if cfg.min_edge is not None and not Decimal(-1) <= cfg.min_edge <= Decimal(1):
        _fail("min_edge", "must be in [-1, 1] or unset")
