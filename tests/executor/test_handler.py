"""The handler's idempotency, retry, deadline and reconciliation rules (fakeredis)."""

from __future__ import annotations

import pytest

from shared import messages as m, streams
from shared.bus import Bus, fields
from shared.clock import ManualClock
from shared.errors import MessageError, TransientError
from shared.runtime import RuntimeConfig, ServiceLoop
from services.executor.brokers import PaperBroker, PreparedOrder, VenueUnavailable
from services.executor.handler import DEADLINE_PASSED
from services.executor.records import OrderRecord, OrderRecords
from tests import stubs
from tests.executor.helpers import (
    NS, T0, ScriptedBroker, fill, killed, make_handler, server_error, submit_order, timeout,
)


def only_event(outputs):
    (stream, event), = outputs
    assert stream == streams.ORDER_EVENTS
    return event


def record_of(redis_client, cmd) -> OrderRecord:
    return OrderRecords(redis_client).get(cmd.order_key)


# -- the happy path and the event ------------------------------------------------------

def test_fill_emits_one_order_filled_with_a_deterministic_header(fake_redis):
    # Arrange
    broker, cmd = ScriptedBroker(), submit_order()
    handler = make_handler(fake_redis, broker, clock=ManualClock(T0 + 3))
    # Act
    event = only_event(handler.handle(streams.ORDER_CMDS, cmd))
    # Assert
    assert isinstance(event, m.OrderFilled)
    assert event.id == m.message_id("order_result", cmd.order_key)
    assert event.correlation_id == cmd.id and event.ts_event == (T0 + 3) * NS
    assert (event.order_id, event.shares, event.attempts) == ("0xorder0", fill().shares, 1)
    assert event.latency_ms == 1000.0  # decided at T0+2, answered at T0+3 (injected clock)
    assert record_of(fake_redis, cmd).state == "filled"  # stored before the event is returned


def test_redelivered_command_never_places_a_second_order_and_re_emits_the_same_event(fake_redis):
    broker, cmd = ScriptedBroker(), submit_order()
    clock = ManualClock(T0 + 3)
    handler = make_handler(fake_redis, broker, clock=clock)
    first = only_event(handler.handle(streams.ORDER_CMDS, cmd))
    clock.advance(7)
    again = only_event(handler.handle(streams.ORDER_CMDS, cmd))
    assert again == first  # identical, timestamps included
    assert (len(broker.prepared), len(broker.sent)) == (1, 1)


def test_the_write_that_creates_the_record_already_marks_the_first_send(fake_redis):
    """The record says "maybe sent" (attempts=1) before the order leaves, without a second
    write on the order's path; a crash at the send then makes a redelivery look the
    order up before sending it again."""
    seen_at_send = []

    class Watching(ScriptedBroker):
        def send(self, cmd, order):
            seen_at_send.append(record_of(fake_redis, cmd).attempts)
            return super().send(cmd, order)

    class CountingRecords(OrderRecords):
        saves = 0

        def save(self, record):
            CountingRecords.saves += 1
            super().save(record)

    cmd = submit_order()
    handler = make_handler(fake_redis, Watching())
    handler.records = CountingRecords(fake_redis)
    event = only_event(handler.handle(streams.ORDER_CMDS, cmd))
    assert isinstance(event, m.OrderFilled) and event.attempts == 1
    assert seen_at_send == [1]
    assert CountingRecords.saves == 1  # only the final result


def test_an_order_created_as_maybe_sent_is_looked_up_before_it_is_sent_again(fake_redis):
    class Killed(Exception):
        """The process dies inside the send: the handler never sees an answer."""

    cmd = submit_order()
    crashed = ScriptedBroker(sends=[Killed()])
    with pytest.raises(Killed):
        make_handler(fake_redis, crashed).handle(streams.ORDER_CMDS, cmd)
    assert record_of(fake_redis, cmd).attempts == 1
    restarted = ScriptedBroker(lookups=[None])
    event = only_event(make_handler(fake_redis, restarted).handle(streams.ORDER_CMDS, cmd))
    assert restarted.looked_up == ["0xorder0"] and restarted.sent == ["0xorder0"]  # the same order
    assert isinstance(event, m.OrderFilled) and event.attempts == 2


def test_a_second_handler_on_the_same_redis_reuses_the_record(fake_redis):
    cmd = submit_order()
    make_handler(fake_redis, ScriptedBroker()).handle(streams.ORDER_CMDS, cmd)
    other_broker = ScriptedBroker()
    make_handler(fake_redis, other_broker).handle(streams.ORDER_CMDS, cmd)
    assert other_broker.calls == 0


def test_same_command_published_twice_through_the_runtime_gives_one_venue_order(fake_redis):
    bus, broker, cmd = Bus(fake_redis), ScriptedBroker(), submit_order()
    bus.publish(streams.ORDER_CMDS, cmd)
    # The bus keeps a republished copy out; a second entry of the same command can still
    # come from outside it (its marker expired, a hand-made XADD): the order record guards it.
    fake_redis.xadd(streams.ORDER_CMDS, fields(cmd))
    loop = ServiceLoop(make_handler(fake_redis, broker), bus, RuntimeConfig(block_ms=50))
    assert loop.run(until_idle=True) == 2
    assert len(broker.sent) == 1
    events = {m.decode(streams.ORDER_EVENTS, f[b"data"]) for _, f in fake_redis.xrange(streams.ORDER_EVENTS)}
    assert len(events) == 1  # the re-emitted event is the identical message (same id)


def test_wrong_message_type_is_a_message_error(fake_redis):
    with pytest.raises(MessageError):
        make_handler(fake_redis, ScriptedBroker()).handle(streams.ORDER_CMDS, stubs.tick())


# -- permanent answers, transient errors, ambiguity --------------------------------------

def test_fok_kill_is_rejected_at_once_with_the_venue_reason(fake_redis):
    broker = ScriptedBroker(sends=[killed()])
    event = only_event(make_handler(fake_redis, broker).handle(streams.ORDER_CMDS, submit_order()))
    assert isinstance(event, m.OrderRejected) and "FOK orders are fully filled or killed" in event.reason
    assert (len(broker.sent), event.attempts) == (1, 1)


def test_timeout_then_lookup_that_finds_the_order_never_sends_again(fake_redis):
    broker = ScriptedBroker(sends=[timeout()], lookups=[fill("0xorder0")])
    event = only_event(make_handler(fake_redis, broker).handle(streams.ORDER_CMDS, submit_order()))
    assert isinstance(event, m.OrderFilled) and event.order_id == "0xorder0"
    assert (broker.sent, broker.looked_up) == (["0xorder0"], ["0xorder0"])


def test_timeout_then_not_found_resends_the_same_signed_order(fake_redis):
    broker = ScriptedBroker(sends=[timeout(), fill("0xorder0")], lookups=[None])
    only_event(make_handler(fake_redis, broker).handle(streams.ORDER_CMDS, submit_order()))
    assert broker.prepared == ["0xorder0"] and broker.sent == ["0xorder0", "0xorder0"]


def test_at_most_three_attempts_on_500s_with_exponential_backoff(fake_redis):
    sleeps: list[float] = []
    broker = ScriptedBroker(sends=[server_error()] * 5, lookups=[None] * 5)
    event = only_event(make_handler(fake_redis, broker, sleeps=sleeps).handle(streams.ORDER_CMDS, submit_order()))
    assert isinstance(event, m.OrderRejected)
    assert event.reason.startswith("venue unavailable after 3 attempts") and event.attempts == 3
    assert len(broker.sent) == 3 and sleeps == [0.2, 0.4, 0.8]


def test_retry_after_is_honoured_and_a_too_long_one_stops_sending(fake_redis):
    sleeps: list[float] = []
    broker = ScriptedBroker(sends=[VenueUnavailable("429", retry_after_s=1.5, maybe_sent=False),
                                   VenueUnavailable("429", retry_after_s=60, maybe_sent=False)])
    event = only_event(make_handler(fake_redis, broker, sleeps=sleeps).handle(streams.ORDER_CMDS, submit_order()))
    assert isinstance(event, m.OrderRejected) and len(broker.sent) == 2 and sleeps == [1.5]


def test_unknown_outcome_keeps_the_command_pending_and_a_redelivery_looks_it_up(fake_redis):
    # Arrange: every send times out and the venue cannot even be asked
    down = VenueUnavailable("GET /data/order: timeout")
    broker = ScriptedBroker(sends=[timeout()] * 3, lookups=[down] * 4)
    handler, cmd = make_handler(fake_redis, broker), submit_order()
    # Act / Assert: no guess, the record stays in flight
    with pytest.raises(TransientError):
        handler.handle(streams.ORDER_CMDS, cmd)
    assert record_of(fake_redis, cmd).state == "in_flight" and record_of(fake_redis, cmd).attempts == 3
    # Act: the venue is back and knows the order
    broker.lookups = [fill("0xorder0")]
    event = only_event(handler.handle(streams.ORDER_CMDS, cmd))
    # Assert
    assert isinstance(event, m.OrderFilled) and len(broker.sent) == 3 and broker.prepared == ["0xorder0"]


def test_prepare_failures_are_retried_and_then_rejected_without_any_send(fake_redis):
    class FlakyPrepare(ScriptedBroker):
        def prepare(self, cmd):
            self.prepared.append("x")
            raise VenueUnavailable("GET /clob-markets: HTTP 503", maybe_sent=False)

    broker = FlakyPrepare()
    event = only_event(make_handler(fake_redis, broker).handle(streams.ORDER_CMDS, submit_order()))
    assert event.reason.startswith("venue unavailable") and len(broker.prepared) == 3 and broker.sent == []


# -- the entry deadline -------------------------------------------------------------------

def test_deadline_passed_is_rejected_without_any_venue_call(fake_redis):
    broker, cmd = ScriptedBroker(), submit_order()
    clock = ManualClock(cmd.entry_deadline)
    event = only_event(make_handler(fake_redis, broker, clock=clock).handle(streams.ORDER_CMDS, cmd))
    assert isinstance(event, m.OrderRejected) and event.reason == DEADLINE_PASSED
    assert broker.calls == 0 and event.attempts == 0
    assert record_of(fake_redis, cmd).state == "rejected"


def test_no_resend_once_the_deadline_passes_between_attempts(fake_redis):
    cmd, clock = submit_order(), ManualClock(T0 + 59)
    broker = ScriptedBroker(sends=[server_error()], lookups=[None, None])
    handler = make_handler(fake_redis, broker, clock=clock)
    handler.sleep = lambda s: clock.advance(5)  # the backoff crosses the deadline
    event = only_event(handler.handle(streams.ORDER_CMDS, cmd))
    assert event.reason == DEADLINE_PASSED and len(broker.sent) == 1


# -- restart: reconcile before taking commands ----------------------------------------------

def crashed_after_send(redis_client, cmd) -> None:
    """The state a crash between the venue's answer and the ack leaves behind."""
    OrderRecords(redis_client).create(OrderRecord(
        order_key=cmd.order_key, state="in_flight", broker="scripted", command=cmd,
        order=PreparedOrder(order_id="0xorder0", body={"salt": 1}), attempts=1))


def test_reconcile_settles_an_in_flight_order_the_venue_filled(fake_redis):
    cmd = submit_order()
    crashed_after_send(fake_redis, cmd)
    broker = ScriptedBroker(lookups=[fill("0xorder0")])
    handler = make_handler(fake_redis, broker)
    (settled,) = handler.reconcile()
    assert isinstance(settled, m.OrderFilled) and record_of(fake_redis, cmd).state == "filled"
    event = only_event(handler.handle(streams.ORDER_CMDS, cmd))  # the pending command comes back
    assert event == settled and broker.sent == [] and broker.prepared == []


def test_reconcile_rejects_an_unknown_order_once_its_deadline_passed(fake_redis):
    cmd = submit_order()
    crashed_after_send(fake_redis, cmd)
    handler = make_handler(fake_redis, ScriptedBroker(lookups=[None]), clock=ManualClock(T0 + 600))
    (settled,) = handler.reconcile()
    assert settled.reason == DEADLINE_PASSED and record_of(fake_redis, cmd).event == settled


def test_reconcile_leaves_an_unseen_order_before_its_deadline_for_a_same_order_resend(fake_redis):
    cmd = submit_order()
    crashed_after_send(fake_redis, cmd)
    broker = ScriptedBroker(lookups=[None, None])
    handler = make_handler(fake_redis, broker)
    assert handler.reconcile() == []
    assert record_of(fake_redis, cmd).state == "in_flight"
    only_event(handler.handle(streams.ORDER_CMDS, cmd))
    assert broker.prepared == [] and broker.sent == ["0xorder0"]  # the stored order, re-sent


def test_paper_broker_through_the_handler_fills_deterministically(fake_redis):
    cmd = submit_order(amount="60", book=stubs.book(asks=(("0.51", "100"), ("0.52", "200"))))
    event = only_event(make_handler(fake_redis, PaperBroker()).handle(streams.ORDER_CMDS, cmd))
    assert isinstance(event, m.OrderFilled) and str(event.shares) == "117.3076"


def test_when_a_reconciliation_finishes_the_order_mid_flight_its_event_is_the_one(fake_redis):
    cmd = submit_order()

    class ReconciledMeanwhile(ScriptedBroker):
        def send(self, cmd_, order):
            self.sent.append(order.order_id)
            other = make_handler(fake_redis, ScriptedBroker(lookups=[fill("0xorder0")]), clock=ManualClock(T0 + 9))
            self.settled = other.reconcile()  # e.g. the idle sweep of another replica
            raise timeout()

    broker = ReconciledMeanwhile()
    event = only_event(make_handler(fake_redis, broker).handle(streams.ORDER_CMDS, cmd))
    assert [event] == broker.settled and len(broker.sent) == 1


def test_startup_reconciliation_publishes_what_it_settled(fake_redis):
    from services.executor.main import reconcile

    cmd = submit_order()
    crashed_after_send(fake_redis, cmd)
    handler = make_handler(fake_redis, ScriptedBroker(lookups=[fill("0xorder0")]))
    assert reconcile(handler, Bus(fake_redis)) == 1
    (_, fields), = fake_redis.xrange(streams.ORDER_EVENTS)
    assert m.decode(streams.ORDER_EVENTS, fields[b"data"]) == record_of(fake_redis, cmd).event


def test_a_slow_prepare_rechecks_the_deadline_before_the_first_send(fake_redis):
    cmd, clock = submit_order(), ManualClock(T0 + 59)

    class SlowPrepare(ScriptedBroker):
        def prepare(self, cmd_):
            if not self.prepared:
                self.prepared.append("failed")
                raise VenueUnavailable("GET /clob-markets: timeout", maybe_sent=False)
            return super().prepare(cmd_)

    broker = SlowPrepare()
    handler = make_handler(fake_redis, broker, clock=clock)
    handler.sleep = lambda s: clock.advance(2)  # the retry pause crosses the deadline
    event = only_event(handler.handle(streams.ORDER_CMDS, cmd))
    assert event.reason == DEADLINE_PASSED and broker.sent == []


# -- market quotes -----------------------------------------------------------------------

def quote(window_start: int = T0) -> m.MarketQuote:
    return m.MarketQuote(**m.header(key=("quote", window_start), ts_event=1, ts_init=1),
                         slug=f"btc-updown-5m-{window_start}", condition_id=f"0xc{window_start}",
                         window_start=window_start, window_end=window_start + 300,
                         up=stubs.book(), down=stubs.book("Down", token="222"), tick_size=stubs.Decimal("0.01"),
                         min_order_size=stubs.Decimal("5"), fee=m.FeeSchedule(rate=stubs.Decimal("0.07")),
                         accepting_orders=True)


def test_a_quote_warms_the_broker_for_an_open_window_and_emits_nothing(fake_redis):
    broker = ScriptedBroker()
    handler = make_handler(fake_redis, broker, clock=ManualClock(T0 + 1))
    assert handler.handle(streams.MARKET_QUOTES, quote()) == []
    assert broker.warmed == [f"0xc{T0}"] and broker.calls == 0


def test_a_quote_read_after_its_window_ended_is_dropped(fake_redis):
    broker = ScriptedBroker()
    handler = make_handler(fake_redis, broker, clock=ManualClock(T0 + 300))
    assert handler.handle(streams.MARKET_QUOTES, quote()) == []
    assert broker.warmed == []
