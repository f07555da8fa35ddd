"""Bus and runtime behaviour, on fakeredis (fast) and on a real Redis server."""

from __future__ import annotations

import subprocess
import sys
import time

import msgspec
import pytest

from shared import messages as m, streams
from shared.bus import Bus, Consumer, Entry, KeyValue
from shared.runtime import RuntimeConfig, ServiceLoop
from tests import stubs
from tests.bus.echo_service import OUT, Echo


def make_loop(client, handler=None, replica="1", **cfg):
    config = RuntimeConfig(replica=replica, block_ms=50, **cfg)
    return ServiceLoop(handler or Echo(), Bus(client), config)


def out_entries(client):
    return client.xrange(OUT)


# -- fakeredis: fast unit tests --------------------------------------------------------

def test_publish_writes_readable_type_field_and_msgpack_data(fake_redis):
    # Arrange
    bus = Bus(fake_redis)
    # Act
    bus.publish(streams.CLOCK, stubs.tick(3))
    # Assert
    (_, fields), = fake_redis.xrange(streams.CLOCK)
    assert fields[b"type"] == b"IntervalTick"
    assert m.decode(streams.CLOCK, fields[b"data"]) == stubs.tick(3)


def test_loop_handles_publishes_and_acks_each_message(fake_redis):
    bus = Bus(fake_redis)
    for i in (1, 2, 3):
        bus.publish(streams.CLOCK, stubs.tick(i))
    loop = make_loop(fake_redis)
    assert loop.run(until_idle=True) == 3
    assert [m.decode(streams.CLOCK, f[b"data"]).interval for _, f in out_entries(fake_redis)] == [1, 2, 3]
    assert fake_redis.xpending(streams.CLOCK, "echo")["pending"] == 0


def test_undecodable_entry_goes_to_dead_letter_and_next_entry_is_processed(fake_redis):
    fake_redis.xadd(streams.CLOCK, {"type": "IntervalTick", "data": b"\xc1garbage"})
    Bus(fake_redis).publish(streams.CLOCK, stubs.tick(2))
    assert make_loop(fake_redis).run(until_idle=True) == 1
    (_, dead), = fake_redis.xrange(streams.dlq(streams.CLOCK))
    assert b"undecodable" in dead[b"error"]
    assert len(out_entries(fake_redis)) == 1
    assert fake_redis.xpending(streams.CLOCK, "echo")["pending"] == 0


def test_wrongly_typed_entry_is_dead_lettered_with_the_field_named(fake_redis):
    bad = msgspec.msgpack.encode({"type": "IntervalTick", "id": "not-a-uuid"})
    fake_redis.xadd(streams.CLOCK, {"type": "IntervalTick", "data": bad})
    make_loop(fake_redis).run(until_idle=True)
    (_, dead), = fake_redis.xrange(streams.dlq(streams.CLOCK))
    assert b"$." in dead[b"error"] or b"Object missing required field" in dead[b"error"]


def test_failing_message_is_retried_then_dead_lettered_while_good_ones_flow(fake_redis):
    bus = Bus(fake_redis)
    bus.publish(streams.CLOCK, stubs.tick(666))
    bus.publish(streams.CLOCK, stubs.tick(2))
    loop = make_loop(fake_redis, max_deliveries=3)
    loop.run(until_idle=True)
    dead = fake_redis.xrange(streams.dlq(streams.CLOCK))
    assert len(dead) == 1 and b"delivered 4 times" in dead[0][1][b"error"]
    assert [m.decode(streams.CLOCK, f[b"data"]).interval for _, f in out_entries(fake_redis)] == [2]
    assert fake_redis.xpending(streams.CLOCK, "echo")["pending"] == 0


def test_schema_evolution_old_reader_ignores_new_fields_and_new_reader_fills_defaults():
    class TickV2(m.IntervalTick, frozen=True, kw_only=True, tag="IntervalTick"):
        venue: str = "sim"  # a new field, last, with a default

    new = TickV2(**msgspec.structs.asdict(stubs.tick(1)), venue="polymarket")
    old_view = m.decode(streams.CLOCK, msgspec.msgpack.encode(new))
    assert old_view == stubs.tick(1)
    upgraded = msgspec.msgpack.decode(m.encode(stubs.tick(1)), type=TickV2)
    assert upgraded.venue == "sim"


def test_deterministic_ids_make_redelivered_outputs_identical():
    assert stubs.tick(5).id == stubs.tick(5).id != stubs.tick(6).id


# -- real Redis: integration ---------------------------------------------------------

pytestmark_integration = pytest.mark.integration


@pytest.mark.integration
def test_killed_consumer_entry_is_reprocessed_exactly_once_by_its_restarted_replica(real_redis, redis_url):
    # Arrange: a consumer that hangs inside the handler, before the ack
    Bus(real_redis).publish(streams.CLOCK, stubs.tick(1))
    proc = subprocess.Popen([sys.executable, "-m", "tests.bus.echo_service", redis_url, "1", "--hang"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "HANDLING"
    # Act: kill it mid-message, then start the same replica again
    proc.kill()
    proc.wait()
    assert real_redis.xpending(streams.CLOCK, "echo")["pending"] == 1
    handled = make_loop(real_redis, replica="1").run(until_idle=True)
    # Assert
    assert handled == 1
    assert len(out_entries(real_redis)) == 1
    assert real_redis.xpending(streams.CLOCK, "echo")["pending"] == 0


@pytest.mark.integration
def test_another_replica_reclaims_a_dead_replicas_entry_with_xautoclaim(real_redis, redis_url):
    bus = Bus(real_redis)
    for i in range(1, 151):
        bus.publish(streams.CLOCK, stubs.tick(i))
    dead = Consumer(bus, "echo", "echo-dead", (streams.CLOCK,), count=150)
    dead.ensure_groups()
    assert len(dead.read()) == 150  # read, never acked: the replica "died"
    time.sleep(0.05)
    survivor = make_loop(real_redis, replica="2", claim_idle_ms=1000)
    survivor.consumer.claim_idle_ms = 10  # the dead replica's entries are already idle
    assert survivor.consumer.sweep() == 150  # followed the cursor across pages
    assert survivor.run(until_idle=True) == 150
    assert len(out_entries(real_redis)) == 150
    assert real_redis.xpending(streams.CLOCK, "echo")["pending"] == 0


@pytest.mark.integration
def test_poison_entry_ends_in_dead_letter_stream_and_next_good_entry_is_processed(real_redis):
    bus = Bus(real_redis)
    real_redis.xadd(streams.CLOCK, {"type": "IntervalTick", "data": b"not msgpack at all"})
    bus.publish(streams.CLOCK, stubs.tick(666))
    bus.publish(streams.CLOCK, stubs.tick(7))
    make_loop(real_redis, max_deliveries=2).run(until_idle=True)
    errors = [f[b"error"] for _, f in real_redis.xrange(streams.dlq(streams.CLOCK))]
    assert len(errors) == 2 and b"undecodable" in errors[0] and b"delivered" in errors[1]
    assert [m.decode(streams.CLOCK, f[b"data"]).interval for _, f in out_entries(real_redis)] == [7]


@pytest.mark.integration
def test_consumer_recreates_its_group_after_redis_lost_the_stream(real_redis):
    bus = Bus(real_redis)
    loop = make_loop(real_redis)
    loop.consumer.ensure_groups()
    real_redis.delete(streams.CLOCK)  # as after a Redis restart without persistence
    assert loop.consumer.read(block_ms=10) == []
    bus.publish(streams.CLOCK, stubs.tick(1))
    assert loop.run(until_idle=True) == 1


def test_a_republished_copy_with_the_same_id_never_enters_the_stream(fake_redis):
    bus, handler = Bus(fake_redis), Echo()
    first = bus.publish(streams.CLOCK, stubs.tick(1))
    again = bus.publish(streams.CLOCK, stubs.tick(1))  # e.g. the clock restarted and re-published
    assert first and again is None and len(fake_redis.xrange(streams.CLOCK)) == 1
    assert make_loop(fake_redis, handler).run(until_idle=True) == 1
    assert handler.calls == 1 and len(out_entries(fake_redis)) == 1


def test_a_handler_output_already_published_is_not_added_again_but_its_input_is_acked(fake_redis):
    bus = Bus(fake_redis)
    bus.publish(streams.CLOCK, stubs.tick(1))
    (stream, output), = Echo().handle(streams.CLOCK, stubs.tick(1))
    bus.publish(stream, output)  # the same output, published by an earlier incarnation
    assert make_loop(fake_redis).run(until_idle=True) == 1
    assert len(out_entries(fake_redis)) == 1
    assert fake_redis.xpending(streams.CLOCK, "echo")["pending"] == 0


def tick_read_by_group(client) -> Entry:
    """A tick on the clock stream, read (and so pending) in group ``g``."""
    Bus(client).publish(streams.CLOCK, stubs.tick(1))
    consumer = Consumer(Bus(client), "g", "g-1", [streams.CLOCK], block_ms=10)
    consumer.ensure_groups()
    entry, = consumer.read()
    return entry


def test_commit_is_one_step_outputs_and_acks_together_on_a_real_redis(real_redis):
    bus, entry = Bus(real_redis), tick_read_by_group(real_redis)
    ids = bus.commit([(OUT, stubs.tick(2)), (OUT, stubs.tick(2)), (OUT, stubs.tick(3))],
                     [(entry.stream, "g", entry.entry_id)])
    assert ids[0] and ids[1] is None and ids[2]
    assert [m.decode(streams.CLOCK, f[b"data"]).interval for _, f in real_redis.xrange(OUT)] == [2, 3]
    assert real_redis.xpending(streams.CLOCK, "g")["pending"] == 0


def test_commit_sets_keys_with_its_messages_and_ack_on_a_real_redis(real_redis):
    bus, entry = Bus(real_redis), tick_read_by_group(real_redis)
    ids = bus.commit([KeyValue("latest", b"v1"), (OUT, stubs.tick(2)), KeyValue("other", b"x")],
                     [(entry.stream, "g", entry.entry_id)])
    assert len(ids) == 1 and ids[0]  # one id per message: keys have none
    assert real_redis.mget("latest", "other") == [b"v1", b"x"]
    assert real_redis.xpending(streams.CLOCK, "g")["pending"] == 0
    # A key holds the latest value: set again even when its message was a copy.
    assert bus.commit([(OUT, stubs.tick(2)), KeyValue("latest", b"v2")]) == [None]
    assert real_redis.get("latest") == b"v2" and real_redis.xlen(OUT) == 1
