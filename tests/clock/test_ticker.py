"""The interval clock: aligned windows, resume after restart, simulated and lockstep time."""

from __future__ import annotations

import threading

import msgspec
import pytest

from services.clock.config import ClockConfig
from services.clock.schedule import RunPlan
from services.clock.ticker import Ticker
from shared import messages as m, streams
from shared.bus import Bus
from shared.clock import ManualClock

T0 = 1_722_470_400  # a 5-minute boundary


class StopAfter:
    """Stop the ticker once it has published ``n`` clock events (or after many checks, so
    a wrong expectation fails the test instead of hanging it)."""

    def __init__(self, client, n: int, max_checks: int = 20_000):
        self.client, self.n, self.checks_left = client, n, max_checks

    def __call__(self) -> bool:
        self.checks_left -= 1
        return self.checks_left <= 0 or self.client.xlen(streams.CLOCK) >= self.n


def events(client) -> list[m.Msg]:
    return [m.decode(streams.CLOCK, f[b"data"]) for _, f in client.xrange(streams.CLOCK)]


def ticker(client, clock, stop, **cfg) -> Ticker:
    def sleep(seconds):  # simulated time passes while the ticker sleeps
        clock.advance(seconds)
    return Ticker(ClockConfig(**cfg), Bus(client), clock, should_stop=stop, sleep=sleep)


def test_new_run_starts_at_the_next_five_minute_boundary(fake_redis):
    plan = ticker(fake_redis, ManualClock(T0 + 17), lambda: True).load_plan()
    assert (plan.first_start, plan.run_id) == (T0 + 300, f"run-{T0 + 300}")
    plan = ticker(fake_redis, ManualClock(T0), lambda: True).load_plan()
    assert plan.first_start == T0  # exactly on a boundary: that window starts now


def test_live_clock_publishes_tick_then_close_for_each_window_on_time(fake_redis):
    clock = ManualClock(T0 - 1)
    ticker(fake_redis, clock, StopAfter(fake_redis, 6), intervals=3, entry_deadline_s=45).run()
    published = events(fake_redis)
    assert [(type(e).__name__, e.interval) for e in published] == [
        ("IntervalTick", 1), ("WindowClosed", 1), ("IntervalTick", 2), ("WindowClosed", 2),
        ("IntervalTick", 3), ("WindowClosed", 3)]
    ticks = [e for e in published if isinstance(e, m.IntervalTick)]
    assert [t.window_start for t in ticks] == [T0, T0 + 300, T0 + 600]
    assert all(t.window_start % 300 == 0 and t.entry_deadline == t.window_start + 45 for t in ticks)
    assert all(e.ts_event == (e.window_start if isinstance(e, m.IntervalTick) else e.window_end) * 10**9
               for e in published)


def test_restarted_clock_resumes_where_it_was_without_reissuing_or_skipping(fake_redis):
    clock = ManualClock(T0)
    ticker(fake_redis, clock, StopAfter(fake_redis, 3), intervals=5).run()  # dies after tick 2
    plan = msgspec.json.decode(fake_redis.get(streams.RUN_KEY), type=RunPlan)
    assert (plan.ticked, plan.closed) == (2, 1)
    ticker(fake_redis, clock, StopAfter(fake_redis, 10), intervals=5).run()  # 3 + 7 more events
    published = events(fake_redis)
    ticks = [e for e in published if isinstance(e, m.IntervalTick)]
    # interval 2's tick is published again with the same id, and the bus keeps it out
    assert [t.interval for t in ticks] == [1, 2, 3, 4, 5]
    closes = [e.interval for e in published if isinstance(e, m.WindowClosed)]
    assert closes == [1, 2, 3, 4, 5]


def test_clock_rebuilds_its_plan_from_the_ledger_when_redis_lost_it(fake_redis):
    state = m.LedgerState(**m.header(key=("s",), ts_event=0, ts_init=0), run_id=f"run-{T0}", starting_capital=100,
                          current_capital=100, peak_capital=100, win_streak=0, total_trades=0, is_active=True,
                          halted=False, halt_reason="", intervals_total=18, current_interval=7, decided_through=7,
                          settled_through=6, open_position=None, run_complete=False, version=1)
    fake_redis.set(streams.LEDGER_STATE_KEY, m.encode(state))
    plan = ticker(fake_redis, ManualClock(T0 + 9999), lambda: True).load_plan()
    assert (plan.run_id, plan.closed, plan.ticked, plan.intervals) == (f"run-{T0}", 6, 7, 18)


class FakeSimClock:
    """Records the simulated times the lockstep clock asks for."""

    def __init__(self, start: float):
        self.t = start
        self.moves: list[int] = []

    def now(self) -> float:
        return self.t

    def now_ns(self) -> int:
        return int(self.t * 10**9)

    def advance_to(self, unix_ms: int) -> None:
        self.moves.append(unix_ms // 1000)
        self.t = unix_ms / 1000


@pytest.mark.integration
def test_lockstep_moves_simulated_time_only_when_the_ledger_is_ready(real_redis, monkeypatch):
    import services.clock.ticker as ticker_module

    monkeypatch.setattr(ticker_module, "SimClock", FakeSimClock)
    clock = FakeSimClock(T0)
    bus = Bus(real_redis)

    def ledger():  # a stand-in ledger: decides and settles each interval after its events
        seen = 0
        for version in range(1, 7):
            while real_redis.xlen(streams.CLOCK) <= seen:
                threading.Event().wait(0.005)
            seen += 1
            k = (seen + 1) // 2
            state = m.LedgerState(**m.header(key=("s", version), ts_event=0, ts_init=0), run_id=f"run-{T0}",
                                  starting_capital=100, current_capital=100, peak_capital=100, win_streak=0,
                                  total_trades=0, is_active=True, halted=False, halt_reason="", intervals_total=3,
                                  current_interval=k, decided_through=k, settled_through=k if seen % 2 == 0 else k - 1,
                                  open_position=None, run_complete=seen == 6, version=version)
            real_redis.set(streams.LEDGER_STATE_KEY, m.encode(state))
            bus.publish(streams.LEDGER_EVENTS, state)

    thread = threading.Thread(target=ledger, daemon=True)
    thread.start()
    done = T0 + 900 + 60
    t = Ticker(ClockConfig(clock="sim", sim_control_url="http://unused", lockstep=True, intervals=3,
                           resolution_grace_s=60), bus, clock, should_stop=lambda: done in clock.moves)
    t.run()
    # each window's end, once (a window's start is the last one's end: no second move)
    assert clock.moves[:3] == [T0 + 300, T0 + 600, T0 + 900]
    assert clock.moves[-1] == T0 + 900 + 60  # the grace that lets the venue publish resolutions
