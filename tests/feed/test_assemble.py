"""FeedAssembler end to end against local fake upstreams."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from services.feed.config import FeedConfig
from services.feed.wiring import build_feed
from tests.feed.fakes import (
    DOWN_TOKEN, MINUTE_MS, UP_TOKEN, WS0, FakeUpstreams, bar_at, shifted_clock, tick,
    window_closed,
)
from tests.feed.servers import Reply

D = Decimal


def config(url: str, **overrides) -> FeedConfig:
    values = dict(binance_rest_url=url, coingecko_url=url, gamma_url=url, clob_url=url,
                  use_websocket=False, history_bars=300, depth_levels=5, obi_levels=2,
                  backoff_base_s=0.01, http_timeout_s=1.0, tick_budget_s=2.0,
                  window_prices_budget_s=1.0)
    values.update(overrides)
    return FeedConfig(**values)


@pytest.fixture
def feed_at(http_server):
    feeds = []

    def make(at: float, **overrides):
        now = shifted_clock(at)
        upstreams = FakeUpstreams(http_server, now)
        feed = build_feed(config(http_server.url, **overrides), now=now)
        feeds.append(feed)
        return feed, upstreams

    yield make
    for feed in feeds:
        feed.stop()


def test_market_data_when_all_sources_ok_is_complete(feed_at):
    feed, _ = feed_at(WS0 + 0.3)
    started = time.monotonic()
    md = feed.assembler.market_data(tick())
    assert time.monotonic() - started < 1.0
    assert md.complete and not md.degraded and md.reasons == ()
    assert len(md.candles) == 300 and md.candles[-1].open_time_ms == WS0 * 1000 - MINUTE_MS
    assert md.btc_price == bar_at(WS0 * 1000 - MINUTE_MS).close
    assert md.btc_price_source == "binance_candle"
    assert md.book.bids[0].price == D("100000.0") and md.book.source == "binance_rest"
    assert md.order_book_imbalance == D(2) / D(6)  # top 2: bids 3+1, asks 1+1
    assert md.quote.up.token_id == UP_TOKEN and md.quote.down.token_id == DOWN_TOKEN
    assert (md.polymarket_odds_up, md.polymarket_odds_down) == (D("0.14"), D("0.91"))
    assert md.quote.fee.rate == D("0.07") and md.quote.tick_size == D("0.01")
    assert md.start_price == bar_at(WS0 * 1000).open and md.start_price_source == "binance_1m"


def test_market_data_ids_are_deterministic_for_a_redelivered_tick(feed_at):
    feed, _ = feed_at(WS0 + 0.3)
    first, again = feed.assembler.market_data(tick()), feed.assembler.market_data(tick())
    assert first.id == again.id and first.correlation_id == tick().id
    assert first.ts_event == WS0 * 10**9 and first.quote.id == again.quote.id


def test_market_data_prefetches_next_window_market(feed_at, http_server):
    feed, upstreams = feed_at(WS0 + 0.3)
    http_server.routes[f"/markets/slug/btc-updown-5m-{WS0 + 300}"] = Reply(
        200, upstreams.gamma_market(WS0 + 300))
    feed.assembler.market_data(tick())
    slug_path = f"/markets/slug/btc-updown-5m-{WS0 + 300}"
    deadline = time.monotonic() + 2
    while http_server.count(slug_path) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert http_server.count(slug_path) == 1


def test_market_data_when_binance_down_uses_coingecko_and_is_incomplete(feed_at, http_server):
    feed, _ = feed_at(WS0 + 0.3)
    http_server.routes["/api/v3/klines"] = Reply(500, {"msg": "down"})
    md = feed.assembler.market_data(tick())
    assert not md.complete and md.degraded
    assert md.btc_price == D("100050.25") and md.btc_price_source == "coingecko"
    assert any("candles" in r and "HTTP 500 x3" in r for r in md.reasons)
    assert feed.counters.get("fallback.coingecko") == 1


def test_market_data_when_every_price_source_fails_says_why(feed_at, http_server):
    feed, _ = feed_at(WS0 + 0.3)
    http_server.routes["/api/v3/klines"] = Reply(500, {"msg": "down"})
    http_server.routes["/api/v3/simple/price"] = Reply(429, {}, headers={"Retry-After": "60"})
    md = feed.assembler.market_data(tick())
    assert not md.complete and md.btc_price is None
    reason = next(r for r in md.reasons if r.startswith("price feed unavailable"))
    assert "HTTP 500 x3" in reason and "coingecko" in reason and "HTTP 429" in reason


def test_market_data_when_coingecko_stale_rejects_it(feed_at, http_server):
    feed, _ = feed_at(WS0 + 0.3)
    http_server.routes["/api/v3/klines"] = Reply(500, {})
    http_server.routes["/api/v3/simple/price"] = Reply(200, {
        "bitcoin": {"usd": 1.0, "last_updated_at": WS0 - 3600}})
    md = feed.assembler.market_data(tick())
    assert md.btc_price is None and any("stale" in r for r in md.reasons)
    assert feed.counters.get("invalid.coingecko") == 1


def test_market_data_when_market_not_listed_yet_is_incomplete(feed_at, http_server):
    feed, _ = feed_at(WS0 + 0.3)
    del http_server.routes[f"/markets/slug/btc-updown-5m-{WS0}"]
    http_server.routes["/events"] = Reply(200, [])
    md = feed.assembler.market_data(tick())
    assert not md.complete and md.quote is None
    assert any("not listed yet" in r for r in md.reasons)


def test_market_data_when_books_fail_falls_back_to_fresh_gamma_odds(feed_at, http_server):
    feed, _ = feed_at(WS0 + 0.3)
    http_server.routes["/books"] = Reply(500, {"error": "books unavailable"})
    md = feed.assembler.market_data(tick())
    assert md.quote is None and not md.complete
    assert (md.polymarket_odds_up, md.polymarket_odds_down) == (D("0.58"), D("0.42"))
    assert any("gamma outcomePrices" in r for r in md.reasons)


def test_market_data_when_book_is_stale_is_incomplete(feed_at, http_server):
    feed, upstreams = feed_at(WS0 + 0.3)

    def stale_book(query):
        # Rewrite the books' timestamps themselves: replacing "now" in the text missed
        # whenever the clock had moved on a millisecond in between.
        books = json.loads(upstreams.books(query).text)
        for book in books:
            book["timestamp"] = str((WS0 - 600) * 1000)
        return Reply(200, books)

    http_server.routes["/books"] = stale_book
    md = feed.assembler.market_data(tick())
    assert not md.complete and any("stale" in r for r in md.reasons)


def test_market_data_when_invalid_depth_drops_it_with_reason(feed_at, http_server):
    feed, _ = feed_at(WS0 + 0.3)
    http_server.routes["/api/v3/depth"] = Reply(200, {"lastUpdateId": 1, "bids": [["2", "1"]],
                                                      "asks": [["1", "1"]]})
    md = feed.assembler.market_data(tick())
    assert md.book is None and md.order_book_imbalance is None and not md.complete
    assert any("crossed" in r for r in md.reasons)
    assert feed.counters.get("invalid.binance REST depth") == 1


def test_market_data_is_published_incomplete_at_the_deadline(feed_at, http_server):
    feed, upstreams = feed_at(WS0 + 0.3, tick_budget_s=0.5, http_timeout_s=3.0)
    slow = upstreams.books

    def slow_book(query):
        reply = slow(query)
        reply.delay_s = 2.0
        return reply

    http_server.routes["/books"] = slow_book
    started = time.monotonic()
    md = feed.assembler.market_data(tick())
    assert time.monotonic() - started < 1.0
    assert not md.complete and md.quote is None
    assert any(r.startswith("polymarket") for r in md.reasons)


def test_market_data_when_tick_is_past_entry_deadline_fetches_nothing(feed_at, http_server):
    feed, _ = feed_at(WS0 + 61)
    md = feed.assembler.market_data(tick(entry_deadline=WS0 + 60))
    assert not md.complete and md.reasons == ("entry deadline passed before the tick was handled",)
    assert http_server.requests == []


def test_window_prices_from_binance_candles(feed_at):
    feed, _ = feed_at(WS0 + 300.5)
    prices = feed.assembler.window_prices(window_closed())
    assert prices.complete and prices.source == "binance_1m"
    assert prices.start_price == bar_at(WS0 * 1000).open
    assert prices.end_price == bar_at((WS0 + 240) * 1000).close
    assert prices.id == feed.assembler.window_prices(window_closed()).id


def test_window_prices_when_end_candle_not_closed_is_incomplete(feed_at):
    feed, _ = feed_at(WS0 + 290)
    prices = feed.assembler.window_prices(window_closed())
    assert not prices.complete and prices.end_price is None and "end" in prices.reason


def test_a_tick_publishes_the_quote_first_for_the_executor_then_the_market_data(feed_at, http_server):
    from services.feed.handler import FeedHandler
    from shared import streams

    feed, _ = feed_at(WS0 + 0.3)
    (quote_stream, quote), (md_stream, md) = FeedHandler(feed.assembler).handle(streams.CLOCK, tick())
    assert (quote_stream, md_stream) == (streams.MARKET_QUOTES, streams.MARKET_DATA)
    assert quote == md.quote and md.complete

    del http_server.routes[f"/markets/slug/btc-updown-5m-{WS0}"]  # no market: no quote to publish
    http_server.routes["/events"] = Reply(200, [])
    (only_stream, _md), = FeedHandler(feed.assembler).handle(streams.CLOCK, tick(WS0 + 300, interval=8))
    assert only_stream == streams.MARKET_DATA
