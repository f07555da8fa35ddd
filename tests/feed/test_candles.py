"""CandleStore: ordering, duplicates, REST gap fill, bounds, thread safety; BinanceRest paging."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from services.feed.candles import REST, WS, CandlePoller, CandleStore
from services.feed.counters import FeedCounters
from services.feed.sources.binance_rest import BinanceRest
from shared.http import HttpClient, TransientHttpError
from shared.messages.market import Bar
from tests.feed.fakes import MINUTE_MS, WS0, FakeUpstreams, bar_at
from tests.feed.servers import Reply

WS0_MS = WS0 * 1000


class RecordingRest:
    def __init__(self, fail: bool = False):
        self.calls: list[tuple[int, int]] = []
        self.fail = fail

    def klines(self, first_open_ms, last_open_ms, *, deadline=None):
        self.calls.append((first_open_ms, last_open_ms))
        if self.fail:
            raise TransientHttpError("binance REST GET /api/v3/klines: HTTP 500", 500, attempts=3)
        return [bar_at(t) for t in range(first_open_ms, last_open_ms + 1, MINUTE_MS)]


def test_bars_before_warm_up_fetches_full_history_in_one_call():
    rest = RecordingRest()
    store = CandleStore(rest=rest)
    bars = store.bars_before(WS0, 500)
    assert len(bars) == 500 and rest.calls == [(WS0_MS - 500 * MINUTE_MS, WS0_MS - MINUTE_MS)]
    assert bars[-1].open_time_ms + MINUTE_MS == WS0_MS  # strictly before the window
    assert all(b.open_time_ms < a.open_time_ms for b, a in zip(bars, bars[1:]))


def test_bars_before_fills_only_the_gaps():
    rest = RecordingRest()
    store = CandleStore(rest=rest)
    store.add_many([bar_at(WS0_MS - k * MINUTE_MS) for k in range(1, 301) if k not in (5, 6, 200)], WS)
    bars = store.bars_before(WS0, 300)
    assert len(bars) == 300
    assert rest.calls == [(WS0_MS - 200 * MINUTE_MS, WS0_MS - 200 * MINUTE_MS),
                          (WS0_MS - 6 * MINUTE_MS, WS0_MS - 5 * MINUTE_MS)]


def test_bars_before_when_rest_fails_raises_and_keeps_partial_data():
    store = CandleStore(rest=RecordingRest(fail=True))
    store.add(bar_at(WS0_MS - MINUTE_MS), WS)
    with pytest.raises(TransientHttpError):
        store.bars_before(WS0, 300)
    assert len(store.bars_before(WS0, 300, fill=False)) == 1


def test_add_identical_duplicate_is_a_no_op():
    store = CandleStore()
    assert store.add(bar_at(WS0_MS), WS) and not store.add(bar_at(WS0_MS), REST)
    assert len(store) == 1


def test_add_conflicting_duplicate_rest_wins_and_is_counted(caplog):
    counters = FeedCounters()
    store = CandleStore(counters=counters)
    rest_bar = bar_at(WS0_MS)
    ws_bar = Bar(open_time_ms=WS0_MS, open=rest_bar.open, high=rest_bar.high, low=rest_bar.low,
                 close=rest_bar.close, volume=Decimal("9"))
    store.add(ws_bar, WS)
    store.add(rest_bar, REST)   # REST replaces the WS version
    store.add(ws_bar, WS)       # and a later WS push does not override REST
    assert store.get(WS0_MS) == rest_bar
    assert counters.get("candles.conflict") == 2
    assert "disagrees with REST" in caplog.text


def test_store_is_bounded_and_evicts_oldest():
    store = CandleStore(capacity=10)
    store.add_many([bar_at(WS0_MS + k * MINUTE_MS) for k in range(15)], WS)
    assert len(store) == 10 and store.get(WS0_MS) is None
    assert store.latest().open_time_ms == WS0_MS + 14 * MINUTE_MS


def test_store_concurrent_adds_keep_order():
    store = CandleStore(capacity=5000)
    times = [WS0_MS + k * MINUTE_MS for k in range(2000)]
    threads = [threading.Thread(target=lambda part=times[i::4]: store.add_many(map(bar_at, part), WS))
               for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bars = store.bars_before(WS0 + 2000 * 60, 2000, fill=False)
    assert [b.open_time_ms for b in bars] == times


def test_on_new_bar_sees_each_new_bar_once():
    seen = []
    store = CandleStore(on_new_bar=lambda bar, source: seen.append((bar.open_time_ms, source)))
    store.add(bar_at(WS0_MS), WS)
    store.add(bar_at(WS0_MS), REST)
    assert seen == [(WS0_MS, WS)]


# -- BinanceRest against the local fake ---------------------------------------------------
def rest_client(http_server, now) -> BinanceRest:
    http = HttpClient(http_server.url, name="binance REST", now=now, backoff_base_s=0.01)
    return BinanceRest(http, symbol="BTCUSDT", now=now)


def test_rest_klines_pages_by_1000_and_drops_open_candle(http_server):
    now = lambda: WS0 + 30.0  # noqa: E731 - the WS0 candle is open
    FakeUpstreams(http_server, now)
    rest = rest_client(http_server, now)
    bars = rest.klines(WS0_MS - 2500 * MINUTE_MS, WS0_MS)
    assert len(bars) == 2500 and bars[-1].open_time_ms == WS0_MS - MINUTE_MS
    assert http_server.count("/api/v3/klines") == 3
    limits = {q["limit"][0] for p, q in http_server.requests if p == "/api/v3/klines"}
    assert limits == {"1000"}


def test_rest_kline_at_returns_open_candle_only_when_asked(http_server):
    now = lambda: WS0 + 30.0  # noqa: E731
    FakeUpstreams(http_server, now)
    rest = rest_client(http_server, now)
    assert rest.kline_at(WS0_MS) is None
    assert rest.kline_at(WS0_MS, closed_only=False) == bar_at(WS0_MS)
    assert rest.kline_at(WS0_MS - MINUTE_MS) == bar_at(WS0_MS - MINUTE_MS)


def test_poller_fetches_from_rest_only_while_ws_is_down(http_server):
    now = lambda: WS0 + 30.0  # noqa: E731
    FakeUpstreams(http_server, now)
    store = CandleStore()
    live = {"value": True}
    poller = CandlePoller(store, rest_client(http_server, now), ws_is_live=lambda: live["value"])
    assert poller.poll_once() == 0 and http_server.count("/api/v3/klines") == 0
    live["value"] = False
    assert poller.poll_once() == 5
    assert store.latest().open_time_ms == WS0_MS - MINUTE_MS


def test_rest_depth_parses_best_first(http_server):
    now = lambda: WS0 + 30.0  # noqa: E731
    FakeUpstreams(http_server, now)
    http_server.routes["/api/v3/depth"] = Reply(200, {"lastUpdateId": 1, "bids": [["1", "1"]],
                                                      "asks": [["2", "1"]]})
    depth = rest_client(http_server, now).depth(5)
    assert depth.bids[0].price == Decimal("1") and depth.asks[0].price == Decimal("2")
    assert http_server.requests[-1][1]["limit"] == ["5"]
