"""BinanceStream and ChainlinkRtds against local ``websockets`` servers."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import pytest

from services.feed.candles import WS, CandleStore
from services.feed.config import FeedConfig
from services.feed.prices import WindowPricer
from services.feed.sources.binance_ws import BinanceStream
from services.feed.sources.rtds import ChainlinkRtds
from services.feed.wiring import build_feed
from tests.feed.fakes import MINUTE_MS, WS0, FakeUpstreams, bar_at, shifted_clock, tick, ws_kline_message
from tests.feed.servers import WsServer, fixture, wait_until

WS0_MS = WS0 * 1000
DEPTH = json.dumps({"stream": "btcusdt@depth5@100ms", "data": FakeUpstreams.depth_body()})


@pytest.fixture
def servers():
    started = []

    def make(handler):
        server = WsServer(handler)
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()


@pytest.fixture
def streams():
    started = []

    def make(url, store=None, **options):
        store = store if store is not None else CandleStore()
        options.setdefault("backoff_base_s", 0.05)
        stream = BinanceStream(url, symbol="BTCUSDT", depth_levels=5, now=time.time,
                               on_closed_bar=lambda bar: store.add(bar, WS),
                               watchdog_every_s=0.05, **options)
        stream.start()
        started.append(stream)
        return stream, store

    yield make
    for stream in started:
        stream.stop()


async def forever(ws) -> None:
    await ws.wait_closed()


def test_stream_keeps_closed_klines_only_and_reconnects_after_drop(servers, streams):
    async def handler(ws, n):
        await ws.send(ws_kline_message(bar_at(WS0_MS - MINUTE_MS), closed=True))
        await ws.send(ws_kline_message(bar_at(WS0_MS), closed=False))
        await ws.send(DEPTH)
        if n == 1:
            await ws.close()  # the server drops the first connection
        else:
            await forever(ws)

    server = servers(handler)
    stream, store = streams(server.url)
    # live, and the second connection's three messages all handled
    assert wait_until(lambda: server.connections >= 2 and stream.is_live()
                      and stream.latest_price(5) == bar_at(WS0_MS).close
                      and stream.latest_depth(5) is not None)
    assert server.paths[0] == "/stream?streams=btcusdt@kline_1m/btcusdt@depth5@100ms"
    assert len(store) == 1 and store.get(WS0_MS - MINUTE_MS) == bar_at(WS0_MS - MINUTE_MS)
    assert store.get(WS0_MS) is None  # x:false never reaches the store
    assert stream.open_bar(WS0_MS) == bar_at(WS0_MS)
    assert stream.latest_price(5) == bar_at(WS0_MS).close
    assert stream.latest_depth(5).bids[0].price == Decimal("100000.0")


def test_stream_reconnects_at_once_on_server_shutdown(servers, streams):
    shutdown = json.dumps(fixture("binance_server_shutdown.json"))

    async def handler(ws, n):
        await ws.send(ws_kline_message(bar_at(WS0_MS), closed=False))
        if n == 1:
            await ws.send(shutdown)
        await forever(ws)

    server = servers(handler)
    # A normal reconnect would back off >= 2.5 s; the shutdown notice skips the backoff.
    stream, _ = streams(server.url, backoff_base_s=5.0)
    started = time.monotonic()
    assert wait_until(lambda: server.connections >= 2, timeout_s=2.0)
    assert time.monotonic() - started < 2.0


def test_stream_reconnects_before_the_connection_age_limit(servers, streams):
    async def handler(ws, n):
        await ws.send(ws_kline_message(bar_at(WS0_MS), closed=False))
        await forever(ws)

    server = servers(handler)
    streams(server.url, max_age_s=0.3, backoff_base_s=5.0)
    assert wait_until(lambda: server.connections >= 3, timeout_s=3.0)


def test_stream_reconnects_when_silent(servers, streams):
    async def handler(ws, n):
        await ws.send(ws_kline_message(bar_at(WS0_MS), closed=False))
        await forever(ws)  # then nothing

    server = servers(handler)
    stream, _ = streams(server.url, silence_s=0.3)
    assert wait_until(lambda: server.connections >= 2, timeout_s=3.0)


def test_data_clock_jumps_do_not_make_a_talking_connection_silent_or_old(servers):
    """In a lockstep replay the data clock jumps 5 minutes per window while the socket
    keeps talking in wall time: age and silence are measured in wall time."""
    async def handler(ws, n):
        while True:
            await ws.send(ws_kline_message(bar_at(WS0_MS), closed=False))
            await asyncio.sleep(0.02)

    data_clock = [float(WS0)]

    def jumping_now() -> float:
        data_clock[0] += 300.0  # every read: a window later
        return data_clock[0]

    server = servers(handler)
    stream = BinanceStream(server.url, symbol="BTCUSDT", depth_levels=5, now=jumping_now,
                           on_closed_bar=lambda bar: None, watchdog_every_s=0.02,
                           silence_s=0.3, max_age_s=2.0)
    stream.start()
    try:
        assert wait_until(stream.is_live)
        time.sleep(1.0)  # 50 watchdog rounds, each seeing a data clock hours further on
        assert server.connections == 1 and stream.is_live()
    finally:
        stream.stop()


def test_stream_answers_server_pings(servers, streams):
    pongs = []

    async def handler(ws, n):
        waiter = await ws.ping(b"hello")
        pongs.append(await asyncio.wait_for(waiter, 2))
        await forever(ws)

    server = servers(handler)
    streams(server.url)
    assert wait_until(lambda: pongs, timeout_s=3.0)


def test_stream_drops_invalid_messages_and_keeps_going(servers, streams):
    async def handler(ws, n):
        await ws.send("not json")
        await ws.send(json.dumps({"stream": "btcusdt@kline_1m", "data": {"e": "kline", "k": {}}}))
        await ws.send(ws_kline_message(bar_at(WS0_MS), closed=True))
        await forever(ws)

    server = servers(handler)
    stream, store = streams(server.url)
    assert wait_until(lambda: len(store) == 1)
    assert server.connections == 1


def test_feed_falls_back_to_rest_while_websocket_is_down(http_server):
    # The WS URL points at a port nobody listens on: the stream never becomes live.
    now = shifted_clock(WS0 + 0.3)
    FakeUpstreams(http_server, now)
    cfg = FeedConfig(binance_rest_url=http_server.url, coingecko_url=http_server.url,
                     gamma_url=http_server.url, clob_url=http_server.url,
                     binance_ws_url="ws://127.0.0.1:9", history_bars=300, depth_levels=5,
                     obi_levels=5, backoff_base_s=0.01, tick_budget_s=2.0)
    feed = build_feed(cfg, now=now)
    feed.start()
    try:
        assert not feed.sources.stream.is_live()
        assert feed.poller.poll_once() == 5
        md = feed.assembler.market_data(tick())
    finally:
        feed.stop()
    assert md.complete and md.btc_price_source == "binance_candle"
    assert md.book.source == "binance_rest"
    assert feed.counters.get("stale.binance_ws_depth") == 1


def test_feed_uses_live_websocket_price_depth_and_open_candle(servers, http_server):
    async def handler(ws, n):
        await ws.send(ws_kline_message(bar_at(WS0_MS - MINUTE_MS), closed=True))
        while True:
            await ws.send(ws_kline_message(bar_at(WS0_MS), closed=False))
            await ws.send(DEPTH)
            await asyncio.sleep(0.1)

    server = servers(handler)
    now = shifted_clock(WS0 + 0.3)
    FakeUpstreams(http_server, now)
    cfg = FeedConfig(binance_rest_url=http_server.url, coingecko_url=http_server.url,
                     gamma_url=http_server.url, clob_url=http_server.url,
                     binance_ws_url=server.url, history_bars=300, depth_levels=5, obi_levels=5)
    feed = build_feed(cfg, now=now)
    feed.start()
    try:
        assert wait_until(feed.sources.stream.is_live)
        md = feed.assembler.market_data(tick())
    finally:
        feed.stop()
    assert md.complete and md.btc_price_source == "binance_ws"
    assert md.btc_price == bar_at(WS0_MS).close and md.book.source == "binance_ws"
    assert md.start_price == bar_at(WS0_MS).open and md.start_price_source == "binance_1m"
    assert http_server.count("/api/v3/depth") == 0


def test_rtds_gives_chainlink_window_prices(servers, http_server):
    subscriptions = []

    def report(ts_ms, value):
        return json.dumps({"topic": "crypto_prices_chainlink", "type": "update", "timestamp": ts_ms,
                           "payload": {"symbol": "btc/usd", "timestamp": ts_ms, "value": value}})

    async def handler(ws, n):
        subscriptions.append(json.loads(await ws.recv()))
        for ts_s, value in ((WS0 - 1, 99.5), (WS0, 100.25), (WS0 + 299, 101.0), (WS0 + 300, 101.5),
                            (WS0 + 301, 102.0)):
            await ws.send(report(ts_s * 1000, value))
        async for message in ws:
            if message == "PING":
                await ws.send("PONG")

    server = servers(handler)
    now = shifted_clock(WS0 + 302)
    oracle = ChainlinkRtds(server.url, symbol="btc/usd", now=now, keepalive_s=0.1)
    oracle.start()
    try:
        assert wait_until(lambda: oracle.price_at(WS0 + 300) is not None)
        pricer = WindowPricer(store=CandleStore(), rest=None, now=now, oracle=oracle)
        pair = pricer.window_prices(WS0, WS0 + 300, deadline=now() + 1)
        start = pricer.start_price(WS0, deadline=now() + 1)
    finally:
        oracle.stop()
    assert subscriptions[0]["subscriptions"][0]["topic"] == "crypto_prices_chainlink"
    assert (pair.start, pair.end, pair.source) == (Decimal("100.25"), Decimal("101.5"), "chainlink_rtds")
    assert start.value == Decimal("100.25") and start.source == "chainlink_rtds"
    assert oracle.price_at(WS0 - 1) is None  # no earlier report: cannot know it is the first
