"""Order records: JSON in Redis, first writer wins, events survive a round trip exactly."""

from __future__ import annotations

from shared import messages as m, streams
from services.executor.brokers import PreparedOrder
from services.executor.records import OrderRecord, OrderRecords
from tests.executor.helpers import submit_order


def new_record(cmd, order_id="0xa"):
    return OrderRecord(order_key=cmd.order_key, state="in_flight", broker="clob", command=cmd,
                       order=PreparedOrder(order_id=order_id, body={"salt": 7, "side": 0}))


def test_create_is_first_writer_wins(fake_redis):
    records, cmd = OrderRecords(fake_redis), submit_order()
    assert records.create(new_record(cmd, "0xa")).order.order_id == "0xa"
    assert records.create(new_record(cmd, "0xb")).order.order_id == "0xa"


def test_record_is_readable_json_with_a_ttl(fake_redis):
    records, cmd = OrderRecords(fake_redis, ttl_s=86_400), submit_order()
    records.create(new_record(cmd))
    key = streams.executor_order_key(cmd.order_key)
    assert b'"state":"in_flight"' in fake_redis.get(key)
    assert 0 < fake_redis.ttl(key) <= 86_400


def test_finished_event_round_trips_identically(fake_redis):
    records, cmd = OrderRecords(fake_redis), submit_order()
    record = records.create(new_record(cmd))
    event = m.OrderRejected(**m.header(key=("order_result", cmd.order_key), ts_event=1, ts_init=2, cause=cmd),
                            run_id=cmd.run_id, interval=1, order_key=cmd.order_key, reason="x",
                            attempts=1, latency_ms=123.456789)
    records.finish(record, event, now_ns=3)
    stored = records.get(cmd.order_key)
    assert stored.final and stored.event == event and stored.command == cmd


def test_in_flight_lists_only_unfinished_records(fake_redis):
    records = OrderRecords(fake_redis)
    for interval in (1, 2, 3):
        records.create(new_record(submit_order(interval)))
    done = records.get(submit_order(2).order_key)
    records.finish(done, m.OrderRejected(**m.header(key=("r",), ts_event=1, ts_init=1), run_id="r", interval=2,
                                         order_key=done.order_key, reason="x", attempts=0), now_ns=1)
    assert [r.command.interval for r in records.in_flight()] == [1, 3]


def test_a_final_record_is_never_overwritten(fake_redis):
    import pytest

    from services.executor.records import AlreadyFinal

    records, cmd = OrderRecords(fake_redis), submit_order()
    record = records.create(new_record(cmd))
    event = m.OrderRejected(**m.header(key=("r",), ts_event=1, ts_init=1), run_id="r", interval=1,
                            order_key=cmd.order_key, reason="first", attempts=1)
    records.finish(record, event, now_ns=1)
    record.attempts = 2  # a stale in-memory copy, e.g. another replica's
    with pytest.raises(AlreadyFinal) as err:
        records.save(record)
    assert err.value.record.event == event and records.get(cmd.order_key).event.reason == "first"
