"""MarketData as the predictor reads it: every field decoded except the candles.

Decoding a tick's 500 bars into Decimals (five per bar) was most of the predictor's
CPU per message, on the tick's way to the order. The predictor needs only the bars'
open times and closes, as numpy arrays for TA-Lib, and the last few bars exactly (they
ride along to risk's volatility breaker). So its consumer decodes the market data
stream as ``MarketDataView``, the same struct with ``candles`` kept as raw msgpack, and
``candle_arrays`` reads the closes from it straight into floats.

The closes are the same floats as ``float(bar.close)`` on the full decode: Decimal
converts to float through its text, and msgspec's text-to-float is correctly rounded
(``tests/predictor/test_inputs.py`` checks both on every price of the real data).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
import numpy as np

from shared.messages import Bar, BookSnapshot, Msg, MarketQuote


class MarketDataView(Msg, frozen=True, kw_only=True, tag="MarketData"):
    """``shared.messages.MarketData`` field for field, but ``candles`` left encoded.
    A test keeps the two in step."""

    run_id: str
    interval: int
    window_start: int
    window_end: int
    entry_deadline: int
    btc_price: Decimal | None
    btc_price_source: str
    candles: msgspec.Raw
    book: BookSnapshot | None
    order_book_imbalance: Decimal | None
    quote: MarketQuote | None
    polymarket_odds_up: Decimal | None
    polymarket_odds_down: Decimal | None
    start_price: Decimal | None
    start_price_source: str | None
    complete: bool
    reasons: tuple[str, ...] = ()
    degraded: bool = False


class _TimeAndClose(msgspec.Struct, array_like=True):
    """The fields of a ``Bar`` the indicators use; the rest are skipped undecoded."""

    open_time_ms: int
    open: msgspec.Raw
    high: msgspec.Raw
    low: msgspec.Raw
    close: float  # from the Decimal's text (strict=False allows text to float)


_TIMES_AND_CLOSES = msgspec.msgpack.Decoder(list[_TimeAndClose], strict=False)
_RAW_BARS = msgspec.msgpack.Decoder(list[msgspec.Raw])
_BAR = msgspec.msgpack.Decoder(Bar)

CandleError = (msgspec.DecodeError, msgspec.ValidationError)  # what the two readers raise


def candle_arrays(candles: msgspec.Raw) -> tuple[np.ndarray, np.ndarray]:
    """(open times as int64 ms, closes as float64), oldest first."""
    bars = _TIMES_AND_CLOSES.decode(candles)
    open_times = np.fromiter((b.open_time_ms for b in bars), dtype=np.int64, count=len(bars))
    closes = np.fromiter((b.close for b in bars), dtype=np.float64, count=len(bars))
    return open_times, closes


def last_bars(candles: msgspec.Raw, n: int) -> tuple[Bar, ...]:
    """The newest ``n`` bars, decoded exactly."""
    return tuple(_BAR.decode(raw) for raw in _RAW_BARS.decode(candles)[-n:]) if n > 0 else ()
