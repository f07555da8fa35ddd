"""Static factories with fixed ids and times (nautilus' TestStubs idea)."""

from __future__ import annotations

from decimal import Decimal

from shared import messages as m

RUN = "run-test"
T0 = 1_722_470_400  # 2024-08-01T00:00:00Z, a multiple of 300


def tick(interval: int = 1, run_id: str = RUN, total: int = 18) -> m.IntervalTick:
    start = T0 + 300 * (interval - 1)
    return m.IntervalTick(**m.header(key=("tick", run_id, interval), ts_event=start * 10**9, ts_init=start * 10**9),
                          run_id=run_id, interval=interval, intervals_total=total,
                          window_start=start, window_end=start + 300, entry_deadline=start + 60)


def window_closed(interval: int = 1, run_id: str = RUN, total: int = 18) -> m.WindowClosed:
    start = T0 + 300 * (interval - 1)
    return m.WindowClosed(**m.header(key=("closed", run_id, interval), ts_event=(start + 300) * 10**9,
                                     ts_init=(start + 300) * 10**9),
                          run_id=run_id, interval=interval, intervals_total=total,
                          window_start=start, window_end=start + 300)


def bar(open_time_ms: int, close: str = "60000", spread: str = "10") -> m.Bar:
    c = Decimal(close)
    return m.Bar(open_time_ms, c, c + Decimal(spread), c - Decimal(spread), c, Decimal("1.5"))


def book(outcome: str = "Up", token: str = "111", asks=(("0.51", "100"), ("0.52", "200")),
         bids=(("0.49", "100"),)) -> m.OutcomeBook:
    lv = lambda rows: tuple(m.BookLevel(Decimal(p), Decimal(s)) for p, s in rows)  # noqa: E731
    return m.OutcomeBook(outcome=outcome, token_id=token, bids=lv(bids), asks=lv(asks),
                         tick_size=Decimal("0.01"), min_order_size=Decimal("5"))
