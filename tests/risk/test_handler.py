"""The risk handler end to end on fakeredis: ledger state + signals in, decisions and
orders out, deterministic ids, waiting for the ledger and its time bounds."""

from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal

import pytest

from services.risk.handler import RiskHandler
from services.risk.state import LedgerStateWaiter
from shared import messages as m, streams
from shared.bus import Bus
from shared.clock import NS, ManualClock
from shared.errors import MessageError, TransientError
from shared.runtime import RuntimeConfig, ServiceLoop, StopFlag
from tests.risk.stubs import RUN, config, signal, state, window_start

D = Decimal


def publish_state(client, st: m.LedgerState) -> None:
    """What the ledger does: rewrite the key, then announce the new state."""
    client.set(streams.LEDGER_STATE_KEY, m.encode(st))
    Bus(client).publish(streams.LEDGER_EVENTS, st)


def make_handler(client, clock, *, wait_s=2.0, wall=time.monotonic, stopping=lambda: False, **cfg):
    waiter = LedgerStateWaiter(client, clock, max_wait_s=wait_s, block_ms=20, wall=wall, stopping=stopping)
    return RiskHandler(config(**cfg), waiter, clock)


def run_loop(client, handler) -> int:
    return ServiceLoop(handler, Bus(client), RuntimeConfig(block_ms=20)).run(until_idle=True)


def published(client, stream: str) -> list:
    return [m.decode(stream, fields[b"data"]) for _, fields in client.xrange(stream)]


def clock_in_window(interval: int, offset: float = 5) -> ManualClock:
    return ManualClock(window_start(interval) + offset)


def test_handler_approves_and_publishes_decision_and_order_with_deterministic_ids(fake_redis):
    # Arrange
    publish_state(fake_redis, state(streak=2, settled_through=2))
    sig = signal(3)
    Bus(fake_redis).publish(streams.SIGNALS, sig)
    clock = clock_in_window(3)
    # Act
    handled = run_loop(fake_redis, make_handler(fake_redis, clock))
    # Assert
    (decision,), (order,) = published(fake_redis, streams.DECISIONS), published(fake_redis, streams.ORDER_CMDS)
    assert handled == 1
    assert decision.id == m.message_id("decision", RUN, 3) and decision.correlation_id == sig.id
    assert (decision.ts_event, decision.ts_init) == (sig.ts_event, clock.now_ns())
    assert decision.approved and decision.stake == D("11.25") and decision.prediction == sig
    assert (decision.capital, decision.win_streak, decision.halt) == (D("100"), 2, False)
    assert "stake 11.25 = 5 × 1.5^2" in decision.reasons
    assert order.id == m.message_id("submit", RUN, 3) and order.correlation_id == sig.id
    assert (order.order_key, order.amount, order.outcome, order.token_id) == (f"{RUN}:3", D("11.25"), "Up", "111")
    assert order.book == sig.quote.up and order.fee == sig.quote.fee
    assert (order.slug, order.condition_id) == (sig.quote.slug, sig.quote.condition_id)
    assert (order.window_start, order.window_end, order.entry_deadline) == (
        sig.window_start, sig.window_end, sig.entry_deadline)
    assert order.decided_at_ns == clock.now_ns()
    assert fake_redis.xpending(streams.SIGNALS, streams.GROUP_RISK)["pending"] == 0


def test_handler_down_signal_orders_the_down_token(fake_redis):
    publish_state(fake_redis, state())
    out = make_handler(fake_redis, clock_in_window(1)).handle(streams.SIGNALS, signal(1, "DOWN"))
    order = out[1][1]
    assert (order.outcome, order.token_id, order.book.outcome) == ("Down", "222", "Down")


def test_handler_denial_publishes_only_the_decision(fake_redis):
    # Arrange
    publish_state(fake_redis, state())
    Bus(fake_redis).publish(streams.SIGNALS, signal(1, "SKIP", reasoning="no crossover"))
    # Act
    run_loop(fake_redis, make_handler(fake_redis, clock_in_window(1)))
    # Assert
    (decision,) = published(fake_redis, streams.DECISIONS)
    assert not decision.approved and decision.stake == 0
    assert decision.reasons[0] == "predictor chose SKIP: no crossover"
    assert published(fake_redis, streams.ORDER_CMDS) == []


def test_handler_redelivered_signal_yields_identical_outputs(fake_redis):
    # Arrange
    publish_state(fake_redis, state())
    handler = make_handler(fake_redis, clock_in_window(1))
    # Act
    first = handler.handle(streams.SIGNALS, signal(1))
    again = handler.handle(streams.SIGNALS, signal(1))
    # Assert
    assert first == again and [msg.id for _, msg in first] == [msg.id for _, msg in again]


def test_handler_drawdown_breach_asks_for_a_halt_and_logs_critical_once(fake_redis, caplog):
    # Arrange
    publish_state(fake_redis, state(capital="70", settled_through=4))
    handler = make_handler(fake_redis, clock_in_window(5))
    # Act
    with caplog.at_level(logging.INFO, logger="polybot.risk"):
        out = handler.handle(streams.SIGNALS, signal(5))
        handler.handle(streams.SIGNALS, signal(5))
    # Assert
    (_, decision), = out
    assert decision.halt and not decision.approved
    assert [r.levelname for r in caplog.records].count("CRITICAL") == 1


def test_handler_waits_for_the_ledger_to_settle_the_previous_interval(fake_redis):
    # Arrange: the ledger has only decided interval 1 when signal 2 arrives
    publish_state(fake_redis, state(settled_through=0, decided_through=1, capital="95", version=1))
    settled = state(settled_through=1, capital="104.50", streak=1, version=2)
    later = threading.Timer(0.15, publish_state, args=(fake_redis, settled))
    handler = make_handler(fake_redis, clock_in_window(2))
    # Act
    later.start()
    out = handler.handle(streams.SIGNALS, signal(2))
    later.join()
    # Assert
    decision = out[0][1]
    assert decision.approved and (decision.capital, decision.win_streak) == (D("104.50"), 1)


def test_handler_denies_when_the_entry_deadline_passes_before_settlement(fake_redis):
    # Arrange: interval 2 was never settled and it is now past interval 3's deadline
    publish_state(fake_redis, state(settled_through=1))
    Bus(fake_redis).publish(streams.SIGNALS, signal(3))
    # Act
    run_loop(fake_redis, make_handler(fake_redis, clock_in_window(3, offset=61)))
    # Assert
    (decision,) = published(fake_redis, streams.DECISIONS)
    assert not decision.approved and decision.id == m.message_id("decision", RUN, 3)
    assert decision.reasons == (
        "ledger had not settled interval 2 by the entry deadline (ledger settled_through=1)",)
    assert published(fake_redis, streams.ORDER_CMDS) == []


def test_handler_without_any_ledger_state_denies_at_the_deadline(fake_redis):
    out = make_handler(fake_redis, clock_in_window(1, offset=60)).handle(streams.SIGNALS, signal(1))
    decision = out[0][1]
    assert not decision.approved and decision.capital == 0 and "no ledger state yet" in decision.reasons[0]


def test_handler_ignores_a_state_from_another_run(fake_redis):
    publish_state(fake_redis, state(run_id="old-run", settled_through=9))
    out = make_handler(fake_redis, clock_in_window(1, offset=70)).handle(streams.SIGNALS, signal(1))
    assert "ledger state is for run 'old-run'" in out[0][1].reasons[0]


def test_handler_raises_transient_error_when_the_wall_wait_expires_before_the_deadline(fake_redis):
    # Arrange: a wall clock that jumps 1 s per reading, a 3 s budget, the deadline 55 s away
    publish_state(fake_redis, state(settled_through=0))
    ticks = iter(range(1000))
    handler = make_handler(fake_redis, clock_in_window(2), wait_s=3, wall=lambda: float(next(ticks)))
    # Act / Assert
    with pytest.raises(TransientError, match="waited 3s for settlement of interval 1"):
        handler.handle(streams.SIGNALS, signal(2))


def test_handler_stops_waiting_when_the_service_is_stopping(fake_redis):
    handler = make_handler(fake_redis, clock_in_window(2), stopping=lambda: True)
    with pytest.raises(TransientError):
        handler.handle(streams.SIGNALS, signal(2))


def test_transient_error_leaves_the_signal_pending_for_a_retry(fake_redis):
    # Arrange: no ledger state at all, a 50 ms wall budget, the deadline far ahead
    Bus(fake_redis).publish(streams.SIGNALS, signal(2))
    handler = make_handler(fake_redis, clock_in_window(2), wait_s=0.05)
    stop = StopFlag()
    loop = ServiceLoop(handler, Bus(fake_redis), RuntimeConfig(block_ms=20, max_deliveries=100), stop=stop)
    loop.stop = stop  # ServiceLoop swaps an unset StopFlag for a new one (`stop or StopFlag()`)
    # Act
    threading.Timer(0.5, stop.set).start()
    handled = loop.run()
    # Assert
    assert handled == 0 and loop.heartbeat.counters["errors"] >= 2
    assert fake_redis.xpending(streams.SIGNALS, streams.GROUP_RISK)["pending"] == 1
    assert published(fake_redis, streams.DECISIONS) == []


def test_handler_when_interval_already_decided_re_emits_a_denial_with_the_same_id_and_no_order(fake_redis):
    # Arrange: the ledger has decided (and settled) interval 3 already
    publish_state(fake_redis, state(settled_through=3, streak=3))
    # Act
    out = make_handler(fake_redis, clock_in_window(3)).handle(streams.SIGNALS, signal(3))
    # Assert
    (stream, decision), = out
    assert stream == streams.DECISIONS and decision.id == m.message_id("decision", RUN, 3)
    assert not decision.approved and "already decided" in decision.reasons[0]


def test_handler_rejects_other_message_types_as_undeliverable(fake_redis):
    with pytest.raises(MessageError):
        make_handler(fake_redis, clock_in_window(1)).handle(streams.SIGNALS, state())


def test_wait_slices_are_capped_by_the_time_left_to_the_deadline(fake_redis):
    # Arrange: 0.3 s to the deadline on a live-like clock; slices of 20 ms
    clock = ManualClock(window_start(2) + 60 - 0.3)
    waiter = LedgerStateWaiter(fake_redis, clock, max_wait_s=10, block_ms=20)
    advance = threading.Timer(0.1, clock.advance, args=(1,))
    # Act
    advance.start()
    started = time.monotonic()
    waited = waiter.wait_for(signal(2))
    # Assert
    assert not waited.fresh and time.monotonic() - started < 1
    assert clock.now_ns() > (window_start(2) + 60) * NS
