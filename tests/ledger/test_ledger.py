"""The ledger: exact PnL, streaks, halts, one record per interval, crash-safe files."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from services.ledger.config import LedgerConfig
from services.ledger.files import StateFiles
from services.ledger.handler import LedgerHandler
from services.ledger.journal import Journal
from services.ledger.ledger import Ledger
from shared import messages as m, streams
from shared.bus import Bus, KeyValue
from shared.clock import ManualClock
from tests import stubs

D = Decimal


def signal(k: int, side: str = "UP") -> m.PredictionSignal:
    t = stubs.tick(k)
    quote = m.MarketQuote(**m.header(key=("q", k), ts_event=0, ts_init=0), slug=f"btc-updown-5m-{t.window_start}",
                          condition_id="0xc", window_start=t.window_start, window_end=t.window_end,
                          up=stubs.book("Up", "111"), down=stubs.book("Down", "222"), tick_size=D("0.01"),
                          min_order_size=D(5), fee=m.FeeSchedule(rate=D("0.07")), accepting_orders=True)
    return m.PredictionSignal(**m.header(key=("sig", k), ts_event=0, ts_init=0), run_id=stubs.RUN, interval=k,
                              window_start=t.window_start, window_end=t.window_end, entry_deadline=t.entry_deadline,
                              signal=side, confidence=D("0.6"), rsi=D(40), macd_line=D(1), macd_signal=D(0),
                              order_book_imbalance=None, btc_price=D(60000),
                              timestamp=datetime.fromtimestamp(t.window_start, timezone.utc),
                              reasoning="test", rule="secondary_up", quote=quote)


def decision(k: int, approved: bool = True, stake: str = "5", halt: bool = False, side: str = "UP"):
    return m.RiskDecision(**m.header(key=("decision", stubs.RUN, k), ts_event=0, ts_init=0), run_id=stubs.RUN,
                          interval=k, approved=approved, stake=D(stake) if approved else D(0),
                          reasons=("ok",) if approved else ("volatility 3.2% > 3%",),
                          prediction=signal(k, side), capital=D(100), win_streak=0, halt=halt)


def fill(k: int, stake: str = "5", price: str = "0.5", outcome: str = "Up"):
    shares = (D(stake) / D(price)).quantize(D("0.0001"))
    fee = (shares * D("0.07") * D(price) * (1 - D(price))).quantize(D("0.00001"))
    return m.OrderFilled(**m.header(key=("fill", k), ts_event=0, ts_init=0), run_id=stubs.RUN, interval=k,
                         order_key=f"{stubs.RUN}:{k}", order_id=f"0x{k:064x}", slug="s", token_id="111",
                         outcome=outcome, stake=D(stake), shares=shares, avg_price=D(price), fee=fee, attempts=1)


def prices(k: int, up: bool = True, source: str = "binance"):
    t = stubs.tick(k)
    return m.WindowPrices(**m.header(key=("wp", k), ts_event=0, ts_init=0), run_id=stubs.RUN, interval=k,
                          window_start=t.window_start, window_end=t.window_end, start_price=D(60000),
                          end_price=D(60000) if up else D("59999.99"), source=source, complete=True)


def resolved(k: int, winner: str):
    return m.MarketResolved(**m.header(key=("res", k), ts_event=0, ts_init=0), run_id=stubs.RUN, interval=k,
                            slug="s", condition_id="0xc", winning_outcome=winner, source="venue")


class Harness:
    def __init__(self, directory: Path, intervals: int = 18, fake_redis=None):
        self.dir = directory
        self.cfg = LedgerConfig(state_dir=str(directory), intervals=intervals, fsync=False)
        self.redis = fake_redis
        self.build()

    def build(self):
        ledger = Ledger(starting_capital=D(100), floor=self.cfg.floor, intervals=self.cfg.intervals,
                        files=StateFiles(self.dir, fsync=False), journal=Journal(self.dir / "ledger.journal", False))
        self.enqueued = []
        self.handler = LedgerHandler(ledger, self.cfg, ManualClock(0),
                                     lambda *a: self.enqueued.append(a))
        return self

    def feed(self, *msgs):
        """Handle each message and commit its outputs as the service loop would; the
        messages published (keys set are in Redis)."""
        out = []
        for msg in msgs:
            outputs = self.handler.handle("x", msg)
            if self.redis is not None:
                Bus(self.redis).commit(outputs)
            out += [o for o in outputs if not isinstance(o, KeyValue)]
        return out

    @property
    def ledger(self):
        return self.handler.ledger

    def files(self):
        return {name: (self.dir / name).read_bytes() for name in ("bot_state.json", "trades.log", "equity_curve.csv")}


def trade(h, k, win=True, stake="5", price="0.5"):
    h.feed(decision(k, stake=stake), fill(k, stake, price), prices(k, up=win))


def test_win_pnl_is_shares_minus_stake_minus_fee_exactly(harness):
    trade(harness, 1, win=True, stake="5", price="0.5")
    # 10 shares, fee 10 × 0.07 × 0.25 = 0.175 → pnl = 10 − 5 − 0.175
    assert harness.ledger.totals.capital == D("104.825")
    assert harness.ledger.totals.streak == 1


def test_loss_pnl_is_minus_stake_minus_fee_and_resets_streak(harness):
    trade(harness, 1, win=True)
    trade(harness, 2, win=True)
    assert harness.ledger.totals.streak == 2
    trade(harness, 3, win=False, stake="11.25")
    fee3 = (D("11.25") / D("0.5") * D("0.07") * D("0.25")).quantize(D("0.00001"))
    assert harness.ledger.totals.capital == D(100) + 2 * D("4.825") - D("11.25") - fee3
    assert harness.ledger.totals.streak == 0


def test_skip_leaves_the_streak_unchanged_and_is_recorded_with_its_reason(harness):
    trade(harness, 1, win=True)
    harness.feed(decision(2, approved=False))
    assert harness.ledger.settled_through == 1  # a skipped window is final with its prices
    harness.feed(prices(2))
    assert harness.ledger.totals.streak == 1
    last = harness.ledger.steps[-1].record
    assert last.outcome == "SKIP" and "volatility" in last.skip_reason


def test_full_run_writes_exactly_one_record_and_point_per_interval(harness):
    for k in range(1, 19):
        if k % 3 == 0:
            harness.feed(decision(k, approved=False), prices(k))
        else:
            trade(harness, k, win=k % 2 == 0)
    lines = (harness.dir / "trades.log").read_text().splitlines()
    assert [int(__import__("json").loads(x)["interval_number"]) for x in lines] == list(range(1, 19))
    assert len((harness.dir / "equity_curve.csv").read_text().splitlines()) == 19
    assert harness.ledger.run_complete
    capital = D(100) + sum(D(__import__("json").loads(x)["pnl"]) for x in lines)
    assert capital == harness.ledger.totals.capital


def test_redelivered_messages_are_never_counted_twice(harness):
    trade(harness, 1, win=True)
    before = harness.files()
    assert harness.feed(decision(1), fill(1), prices(1)) == []
    assert harness.files() == before


def test_settlement_waits_for_prices_and_publishes_state_and_settlement(harness):
    out = harness.feed(decision(1), fill(1))
    assert harness.ledger.open_position() is not None and harness.ledger.settled_through == 0
    out = harness.feed(prices(1))
    kinds = [type(msg).__name__ for _, msg in out]
    assert kinds == ["LedgerState", "PositionSettled"]
    state = m.STATE_DECODER.decode(harness.redis.get(streams.LEDGER_STATE_KEY))
    assert state.settled_through == 1 and state.win_streak == 1 and state.open_position is None


def test_a_filled_window_schedules_one_venue_resolution_job_once_it_has_ended(harness):
    harness.feed(decision(1), fill(1), fill(1))
    assert harness.enqueued == []  # the venue cannot resolve a window before its end
    harness.feed(prices(1))
    assert len(harness.enqueued) == 1 and harness.enqueued[0][1] == 1


def test_a_fill_that_arrives_after_its_windows_prices_schedules_the_resolution_job(harness):
    harness.feed(decision(1), prices(1))
    assert harness.enqueued == []  # nothing to confirm without a position
    harness.feed(fill(1))
    assert [a[1] for a in harness.enqueued] == [1]


def test_an_ended_window_whose_prices_never_came_is_polled_when_the_ledger_is_idle(harness):
    harness.feed(decision(1), fill(1))
    assert harness.handler.schedule_ended_windows() == []  # the window is still open
    harness.handler.clock.set(stubs.tick(1).window_end)
    assert harness.handler.schedule_ended_windows() == [1]
    assert harness.handler.schedule_ended_windows() == [] and len(harness.enqueued) == 1


def test_a_redelivered_price_schedules_the_poll_a_failed_enqueue_missed(harness):
    harness.feed(decision(1), fill(1))
    def redis_gone(*_args):
        raise ConnectionError("redis")

    harness.handler.enqueue_resolution = redis_gone
    with pytest.raises(ConnectionError):  # journalled, then scheduling failed: not acked
        harness.feed(prices(1))
    assert harness.enqueued == []
    harness.handler.enqueue_resolution = lambda *a: harness.enqueued.append(a)
    assert harness.feed(prices(1)) == []  # the redelivery: already counted ...
    assert [a[1] for a in harness.enqueued] == [1]  # ... but its poll is scheduled now


def test_capital_at_or_below_floor_halts_and_nothing_after(harness):
    harness.feed(decision(1, stake="30"), fill(1, "30", "0.5"), prices(1, up=False))  # 100 - 30 - 1.05
    assert harness.ledger.totals.halted
    assert "max drawdown" in harness.ledger.totals.halt_reason
    assert harness.ledger.run_complete
    state = __import__("json").loads((harness.dir / "bot_state.json").read_text())
    assert state["halted"] and not state["is_active"]


def test_venue_disagreement_is_corrected_and_streak_and_capital_recomputed(harness):
    trade(harness, 1, win=True)
    trade(harness, 2, win=True)
    assert harness.ledger.totals.streak == 2
    harness.feed(resolved(1, "Down"))  # the venue says interval 1 lost
    first = __import__("json").loads((harness.dir / "trades.log").read_text().splitlines()[0])
    assert first["interval_number"] == 1 and first["outcome"] == "LOSS"
    assert harness.ledger.totals.streak == 1
    assert harness.ledger.totals.capital == D(100) - D("5.175") + D("4.825")


def test_agreeing_confirmation_changes_no_file(harness):
    trade(harness, 1, win=True)
    before = harness.files()
    harness.feed(resolved(1, "Up"))
    after = harness.files()
    assert after["trades.log"] == before["trades.log"] and after["equity_curve.csv"] == before["equity_curve.csv"]


def test_restart_rebuilds_identical_files_from_the_journal(tmp_path, fake_redis):
    h = Harness(tmp_path, fake_redis=fake_redis)
    for k in range(1, 6):
        trade(h, k, win=k != 3)
    h.feed(decision(6), fill(6))  # an open position at the crash
    before = h.files()
    h.handler.ledger.journal.close()
    again = Harness(tmp_path, fake_redis=fake_redis)
    again.handler.publish_state(None)
    assert again.files() == before
    assert again.ledger.open_position() is not None


def test_order_of_arrival_does_not_change_the_result(tmp_path, fake_redis):
    a = Harness(tmp_path / "a", fake_redis=fake_redis)
    b = Harness(tmp_path / "b", fake_redis=fake_redis)
    msgs = [decision(1), fill(1), prices(1), decision(2, approved=False), prices(2), decision(3), fill(3),
            prices(3, up=False)]
    a.feed(*msgs)
    b.feed(*reversed(msgs))
    assert a.files()["trades.log"] == b.files()["trades.log"]


def test_message_from_another_run_is_dead_lettered(harness):
    from shared.errors import MessageError

    trade(harness, 1)
    other = m.OrderRejected(**m.header(key=("x",), ts_event=0, ts_init=0), run_id="run-other", interval=2,
                            order_key="k", reason="r", attempts=1)
    with pytest.raises(MessageError, match="this ledger holds run"):
        harness.feed(other)
