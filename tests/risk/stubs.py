"""Factories for the risk tests: fixed ids and times, one window per interval.

Interval k's window starts at ``T0 + 300·(k−1)``; its entry deadline is 60 s later.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import msgspec

from services.risk.config import RiskConfig
from services.risk.context import RiskContext
from shared import messages as m
from shared.clock import NS, slug_for
from tests import stubs as base

RUN = base.RUN
T0 = base.T0
D = Decimal


def window_start(interval: int) -> int:
    return T0 + 300 * (interval - 1)


def bars(start: int, *, first_open: str = "60000", high: str = "60100", low: str = "59950",
         count: int = 5, newest_open_ms: int | None = None) -> tuple[m.Bar, ...]:
    """``count`` consecutive minutes ending just before ``start``, each spanning low..high."""
    newest = start * 1000 - 60_000 if newest_open_ms is None else newest_open_ms
    first_minute = newest - 60_000 * (count - 1)
    return tuple(m.Bar(first_minute + 60_000 * i, D(first_open), D(high), D(low), D(first_open), D("2"))
                 for i in range(count))


def quote(start: int, *, up_asks=(("0.51", "100"),), down_asks=(("0.50", "100"),),
          accepting: bool = True, fee_rate: str = "0.07", exponent: int = 1,
          min_order_size: str = "5") -> m.MarketQuote:
    up = base.book("Up", "111", asks=up_asks)
    down = base.book("Down", "222", asks=down_asks)
    up = msgspec.structs.replace(up, min_order_size=D(min_order_size))
    down = msgspec.structs.replace(down, min_order_size=D(min_order_size))
    return m.MarketQuote(**m.header(key=("quote", start), ts_event=start * NS, ts_init=start * NS),
                         slug=slug_for(start), condition_id=f"0xcond{start}", window_start=start,
                         window_end=start + 300, up=up, down=down, tick_size=D("0.01"),
                         min_order_size=D(min_order_size),
                         fee=m.FeeSchedule(rate=D(fee_rate), exponent=exponent),
                         accepting_orders=accepting)


_DEFAULT = object()


def signal(interval: int = 1, side: str = "UP", *, run_id: str = RUN, quote_=_DEFAULT, bars_=_DEFAULT,
           data_complete: bool = True, data_reasons: tuple[str, ...] = (),
           reasoning: str = "RSI 25 < 30 and MACD crossed up") -> m.PredictionSignal:
    start = window_start(interval)
    return m.PredictionSignal(
        **m.header(key=("signal", run_id, interval), ts_event=start * NS, ts_init=start * NS),
        run_id=run_id, interval=interval, window_start=start, window_end=start + 300,
        entry_deadline=start + 60, signal=side, confidence=D("0.7"), rsi=D("25"), macd_line=D("1"),
        macd_signal=D("0.5"), order_book_imbalance=D("0.2"), btc_price=D("60000"),
        timestamp=datetime.fromtimestamp(start, timezone.utc), reasoning=reasoning, rule="strict_up",
        quote=quote(start) if quote_ is _DEFAULT else quote_,
        recent_bars=bars(start) if bars_ is _DEFAULT else bars_,
        data_complete=data_complete, data_reasons=data_reasons)


def state(*, capital: str = "100", streak: int = 0, settled_through: int = 0, decided_through: int | None = None,
          halted: bool = False, halt_reason: str = "", run_id: str = RUN, starting: str = "100",
          version: int = 1) -> m.LedgerState:
    decided = settled_through if decided_through is None else decided_through
    return m.LedgerState(
        **m.header(key=("state", run_id, version), ts_event=T0 * NS, ts_init=T0 * NS),
        run_id=run_id, starting_capital=D(starting), current_capital=D(capital), peak_capital=D(capital),
        win_streak=streak, total_trades=settled_through, is_active=not halted, halted=halted,
        halt_reason=halt_reason, intervals_total=18, current_interval=settled_through + 1,
        decided_through=decided, settled_through=settled_through, open_position=None,
        run_complete=False, version=version)


def config(**overrides) -> RiskConfig:
    return RiskConfig(**overrides)


def context(sig: m.PredictionSignal | None = None, st: m.LedgerState | None = None, *,
            now: float | None = None, cfg: RiskConfig | None = None) -> RiskContext:
    sig = sig or signal()
    now_s = sig.window_start + 5 if now is None else now
    return RiskContext(sig, st or state(), int(now_s * NS), cfg or config())
