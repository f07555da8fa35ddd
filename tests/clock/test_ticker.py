"""The interval clock: aligned windows, resume after restart, simulated and lockstep time."""

from __future__ import annotations

import threading

import msgspec
import pytest

from services.clock.config import ClockConfig
from services.clock.schedule import RunPlan
from services.clock.ticker import Ticker
from shared import messages as m, streams
from shared.bus import Bus, KeyValue
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


def test_a_clock_restarted_after_a_halt_opens_no_new_window_but_closes_an_open_one(fake_redis):
    clock = ManualClock(T0)
    ticker(fake_redis, clock, StopAfter(fake_redis, 3), intervals=5).run()  # dies after tick 2
    fake_redis.set(streams.LEDGER_STATE_KEY, m.encode(ledger_state(1, decided=2, settled=1, halted=True,
                                                                   intervals=5)))
    ticker(fake_redis, clock, StopAfter(fake_redis, 10, max_checks=3000), intervals=5).run()
    assert [f"{type(e).__name__}:{e.interval}" for e in events(fake_redis)] == [
        "IntervalTick:1", "WindowClosed:1", "IntervalTick:2", "WindowClosed:2"]
    plan = msgspec.json.decode(fake_redis.get(streams.RUN_KEY), type=RunPlan)
    ticker(fake_redis, clock, StopAfter(fake_redis, 10, max_checks=3000), intervals=5).run()  # and again
    assert len(events(fake_redis)) == 4 and plan.closed == 2


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
            publish_state(bus, state)

    thread = threading.Thread(target=ledger, daemon=True)
    thread.start()
    done = T0 + 900 + 60
    t = Ticker(ClockConfig(clock="sim", sim_control_url="http://unused", lockstep=True, intervals=3,
                           resolution_grace_s=60), bus, clock, should_stop=lambda: done in clock.moves)
    t.run()
    # each window's end, once (a window's start is the last one's end: no second move)
    assert clock.moves[:3] == [T0 + 300, T0 + 600, T0 + 900]
    assert clock.moves[-1] == T0 + 900 + 60  # the grace that lets the venue publish resolutions


def publish_state(bus: Bus, state: m.LedgerState) -> None:
    """What the ledger does with a new state: the key and its event, in one commit."""
    bus.commit([KeyValue(streams.LEDGER_STATE_KEY, m.encode(state)), (streams.LEDGER_EVENTS, state)])


def ledger_state(version: int, decided: int, settled: int, *, halted: bool = False, done: bool = False,
                 intervals: int = 3) -> m.LedgerState:
    return m.LedgerState(**m.header(key=("s", version), ts_event=0, ts_init=0), run_id=f"run-{T0}",
                         starting_capital=100, current_capital=100, peak_capital=100, win_streak=0,
                         total_trades=0, is_active=not halted, halted=halted,
                         halt_reason="max drawdown" if halted else "", intervals_total=intervals,
                         current_interval=decided, decided_through=decided, settled_through=settled,
                         open_position=None, run_complete=done, version=version)


def run_lockstep_against(real_redis, monkeypatch, answer) -> list[str]:
    """Run a 3-interval lockstep clock against a stand-in ledger: ``answer(event, seen)``
    gives the states it publishes for each clock event (seen: the events before it)."""
    import services.clock.ticker as ticker_module

    monkeypatch.setattr(ticker_module, "SimClock", FakeSimClock)
    clock, bus, version = FakeSimClock(T0), Bus(real_redis), iter(range(1, 100))

    finished = threading.Event()  # or this stand-in would answer the next test's clock

    def ledger():
        seen: list[m.Msg] = []
        while not finished.is_set():
            while real_redis.xlen(streams.CLOCK) <= len(seen):
                if finished.wait(0.002):
                    return
            event = events(real_redis)[len(seen)]
            for state in answer(event, seen, next):
                state = msgspec.structs.replace(state, version=next(version))
                publish_state(bus, state)
            seen.append(event)

    threading.Thread(target=ledger, daemon=True).start()
    done = T0 + 900 + 60
    stop = StopAfter(real_redis, 99, max_checks=30)  # a hang fails the test within seconds
    t = Ticker(ClockConfig(clock="sim", sim_control_url="http://unused", lockstep=True, intervals=3,
                           resolution_grace_s=60, settle_patience_s=0.2), bus, clock,
               should_stop=lambda: done in clock.moves or stop())
    try:
        t.run()
    finally:
        finished.set()
    return [f"{type(e).__name__}:{e.interval}" for e in events(real_redis)]


@pytest.mark.integration
def test_lockstep_opens_the_next_window_while_the_last_one_settles(real_redis, monkeypatch):
    # The stand-in ledger settles window k only once the clock has opened k+1 (as the
    # real one may, and risk waits for it before deciding k+1): a clock that waited for
    # the settlement before the next tick would hang here.  The last window is waited for.
    def answer(event, seen, _):
        k = event.interval
        if isinstance(event, m.IntervalTick):
            return [ledger_state(0, decided=k - 1, settled=k - 1), ledger_state(0, decided=k, settled=k - 1)]
        return [ledger_state(0, decided=3, settled=3, done=True)] if k == 3 else []

    assert run_lockstep_against(real_redis, monkeypatch, answer) == [
        "IntervalTick:1", "WindowClosed:1", "IntervalTick:2", "WindowClosed:2", "IntervalTick:3", "WindowClosed:3"]


@pytest.mark.integration
def test_lockstep_opens_no_window_after_a_halting_decision(real_redis, monkeypatch):
    # Interval 2's decision halts: its window is closed, priced and settled, and the run
    # ends there.
    def answer(event, seen, _):
        k = event.interval
        if isinstance(event, m.IntervalTick):
            return [ledger_state(0, decided=k, settled=k - 1, halted=k == 2)]
        Bus(real_redis).publish(streams.WINDOW_PRICES, m.WindowPrices(  # the feed's part
            **m.header(key=("wp", k), ts_event=0, ts_init=0), run_id=f"run-{T0}", interval=k,
            window_start=event.window_start, window_end=event.window_end, start_price=None,
            end_price=None, source="test", complete=False))
        return [ledger_state(0, decided=k, settled=k, halted=k == 2)]

    assert run_lockstep_against(real_redis, monkeypatch, answer) == [
        "IntervalTick:1", "WindowClosed:1", "IntervalTick:2", "WindowClosed:2"]


@pytest.mark.integration
def test_lockstep_lets_the_entry_deadline_pass_when_the_venue_never_settles(real_redis, monkeypatch):
    # Window 1 traded and the feed could not price it; the venue never resolves it.  Risk
    # skips window 2 once window 2's entry deadline has passed, here 120 s after its
    # start, later than the 60 s of grace the clock gives the venue: the clock must move
    # time on to that deadline, or risk and the clock wait for each other for ever.
    import services.clock.ticker as ticker_module

    monkeypatch.setattr(ticker_module, "SimClock", FakeSimClock)
    clock, bus, finished = FakeSimClock(T0), Bus(real_redis), threading.Event()
    deadline_2 = T0 + 300 + 120
    position = m.Position(interval=1, slug="s", outcome="Up", token_id="t", stake=5, shares=10,
                          avg_price="0.5", fee=0, order_id="o")

    def publish(version, decided, settled, **kw):
        publish_state(bus, msgspec.structs.replace(
            ledger_state(version, decided=decided, settled=settled, intervals=2), **kw))

    def ledger():  # decides window 1, never settles it, and skips window 2 at its deadline
        publish(1, 1, 0, open_position=position)
        while real_redis.xlen(streams.CLOCK) < 2 and not finished.wait(0.002):
            pass
        bus.publish(streams.WINDOW_PRICES, m.WindowPrices(
            **m.header(key=("wp", 1), ts_event=0, ts_init=0), run_id=f"run-{T0}", interval=1,
            window_start=T0, window_end=T0 + 300, start_price=None, end_price=None, source="test",
            complete=False))
        while clock.now() < deadline_2 and not finished.wait(0.002):
            pass
        publish(2, 2, 0, open_position=position)
        while real_redis.xlen(streams.CLOCK) < 4 and not finished.wait(0.002):
            pass
        publish(3, 2, 2, run_complete=True)

    threading.Thread(target=ledger, daemon=True).start()
    stop = StopAfter(real_redis, 99, max_checks=300)  # a hang fails the test within seconds
    t = Ticker(ClockConfig(clock="sim", sim_control_url="http://unused", lockstep=True, intervals=2,
                           entry_deadline_s=120, resolution_grace_s=60, venue_resolution_s=15,
                           settle_patience_s=0.6), bus, clock,
               should_stop=lambda: T0 + 600 + 60 in clock.moves or stop())
    try:
        t.run()
    finally:
        finished.set()
    # the venue's time, its grace, then the deadline; window 2 closed; the run's grace
    assert clock.moves == [T0 + 300, T0 + 300 + 15, T0 + 300 + 60, deadline_2, T0 + 600, T0 + 660]
    assert [type(e).__name__ for e in events(real_redis)] == [
        "IntervalTick", "WindowClosed", "IntervalTick", "WindowClosed"]
