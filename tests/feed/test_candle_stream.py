"""The candles stream: every new closed bar published once, off the caller's thread."""

from __future__ import annotations

import threading
import time

from services.feed.candle_stream import CandleStream
from shared import messages as m, streams
from shared.bus import Bus
from shared.clock import ManualClock
from tests import stubs

T0_MS = 1_722_470_400_000


def published(client) -> list[m.Candle]:
    return [m.decode(streams.CANDLES, f[b"data"]) for _, f in client.xrange(streams.CANDLES)]


def test_each_new_bar_is_published_once_in_order_with_its_source(fake_redis):
    candles = CandleStream(Bus(fake_redis), ManualClock(T0_MS / 1000), "BTCUSDT")
    candles.start()
    bars = [stubs.bar(T0_MS + i * 60_000, close=str(60_000 + i)) for i in range(5)]
    for bar in bars:
        candles(bar, "ws")
    candles(bars[0], "rest")  # the same bar again, from the REST poller
    candles.stop()
    out = published(fake_redis)
    assert [c.bar for c in out] == bars
    assert {c.source for c in out} == {"ws"} and {c.symbol for c in out} == {"BTCUSDT"}
    assert out[0].ts_event == (T0_MS + 60_000) * 1_000_000  # the bar's close


class SlowBus(Bus):
    """A Redis that answers only when the test lets it."""

    def __init__(self, client):
        super().__init__(client)
        self.release = threading.Event()

    def commit(self, outputs, acks=()):
        self.release.wait(5)
        return super().commit(outputs, acks)


def test_a_slow_redis_never_holds_up_the_thread_that_found_the_bar(fake_redis):
    bus = SlowBus(fake_redis)
    candles = CandleStream(bus, ManualClock(T0_MS / 1000), "BTCUSDT")
    candles.start()
    started = time.monotonic()
    for i in range(3):
        candles(stubs.bar(T0_MS + i * 60_000), "ws")
    assert time.monotonic() - started < 0.5
    bus.release.set()
    candles.stop()
    assert len(published(fake_redis)) == 3


class _Stops:
    """A handler that records its close(); the stop flag is set before the loop starts."""

    name = "closing"
    streams = (streams.CANDLES,)

    def __init__(self):
        self.closed = 0

    def handle(self, stream, msg):
        return []

    def close(self):
        self.closed += 1


def test_after_a_warm_stop_the_runtime_closes_the_handler(fake_redis):
    from shared.runtime import RuntimeConfig, StopFlag, run_target

    handler, stop = _Stops(), StopFlag()
    stop.set()
    assert run_target(handler, Bus(fake_redis), RuntimeConfig(block_ms=10), stop) == 0
    assert handler.closed == 1


def test_closing_the_feed_handler_publishes_the_candles_still_queued(fake_redis):
    from services.feed.handler import FeedHandler

    bus = SlowBus(fake_redis)
    candles = CandleStream(bus, ManualClock(T0_MS / 1000), "BTCUSDT")
    candles.start()
    for i in range(4):
        candles(stubs.bar(T0_MS + i * 60_000), "ws")
    bus.release.set()
    FeedHandler(assembler=None, on_close=candles.stop).close()
    assert len(published(fake_redis)) == 4
