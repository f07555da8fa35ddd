"""Gamma/CLOB/CoinGecko sources against the local server; config; message round trip."""

from __future__ import annotations

import time
from decimal import Decimal

import msgspec
import pytest

from services.feed.config import FeedConfig
from services.feed.parsers import InvalidPayload
from services.feed.sources.coingecko import CoinGecko
from services.feed.sources.polymarket import Clob, Gamma
from shared import streams
from shared.http import HttpClient, PermanentHttpError
from shared.messages import decode, encode
from tests.feed.fakes import WS0, FakeUpstreams, shifted_clock, tick
from tests.feed.servers import Reply, fixture


def http(server, name="t") -> HttpClient:
    return HttpClient(server.url, name=name, now=time.time, backoff_base_s=0.01)


def test_gamma_market_by_slug_is_cached(http_server):
    FakeUpstreams(http_server, time.time)
    gamma = Gamma(http(http_server), now=time.time)
    first = gamma.market(WS0)
    assert first.market.slug == f"btc-updown-5m-{WS0}" and first.market.up_token == "111"
    assert gamma.market(WS0) is first
    assert http_server.count(f"/markets/slug/btc-updown-5m-{WS0}") == 1


def test_gamma_falls_back_to_events_then_says_not_yet(http_server):
    http_server.routes["/events"] = lambda q: Reply(
        200, fixture("gamma_events.json") if q["slug"] == [f"btc-updown-5m-{WS0}"] else [])
    gamma = Gamma(http(http_server), now=time.time)
    assert gamma.market(WS0).market.window_end == WS0 + 300
    assert gamma.market(WS0 + 300) is None  # not listed yet: a normal answer
    assert http_server.count("/events") == 2


def test_gamma_prefetch_logs_failures_and_never_raises(http_server, caplog):
    http_server.routes[f"/markets/slug/btc-updown-5m-{WS0}"] = Reply(200, {"slug": 5})
    Gamma(http(http_server), now=time.time).prefetch(WS0)
    assert "prefetch" in caplog.text


def test_gamma_rejects_a_market_for_another_window(http_server):
    upstreams = FakeUpstreams(http_server, time.time)
    http_server.routes[f"/markets/slug/btc-updown-5m-{WS0}"] = Reply(
        200, upstreams.gamma_market(WS0 + 300))
    with pytest.raises(InvalidPayload, match="asked for"):
        Gamma(http(http_server), now=time.time).market(WS0)


def test_clob_book_tick_and_fee(http_server):
    FakeUpstreams(http_server, time.time)
    http_server.routes["/tick-size"] = Reply(200, {"minimum_tick_size": 0.001})
    clob = Clob(http(http_server))
    assert clob.book("222", "Down").best_ask == Decimal("0.91")
    assert clob.tick_size("222") == Decimal("0.001") and clob.fee_rate("222") == 1000
    http_server.routes["/book"] = Reply(404, {"error": "No orderbook exists for the requested token id"})
    with pytest.raises(PermanentHttpError) as info:
        clob.book("222", "Down")
    assert info.value.status == 404 and "No orderbook" in info.value.excerpt


def test_coingecko_spot(http_server):
    FakeUpstreams(http_server, time.time)
    spot = CoinGecko(http(http_server), now=time.time, max_age_s=120).spot()
    assert spot.price == Decimal("100050.25")
    query = http_server.requests[-1][1]
    assert query["ids"] == ["bitcoin"] and query["include_last_updated_at"] == ["true"]


def test_config_defaults_are_valid_and_bad_fields_are_named():
    assert FeedConfig().validate().binance_rest_url == "https://api.binance.com"
    for field, value in (("depth_levels", 7), ("history_bars", 100), ("max_attempts", 4),
                         ("binance_ws_url", "https://x"), ("obi_levels", 50),
                         ("http_timeout_s", 0), ("rtds_url", "http://x")):
        with pytest.raises(ValueError, match=field):
            FeedConfig(**{field: value}).validate()
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"binance_rest_urll": "x"}, FeedConfig)
    with pytest.raises(ValueError, match="candle_capacity must be 0 .automatic. or >= history_bars"):
        FeedConfig(history_bars=500, candle_capacity=559).validate()
    converted = msgspec.convert({"depth_levels": "20", "use_websocket": "false"}, FeedConfig,
                                strict=False)
    assert converted.depth_levels == 20 and converted.use_websocket is False


def test_the_feed_keeps_the_history_and_a_margin_unless_told_otherwise():
    from services.feed.config import CANDLE_MARGIN

    assert FeedConfig(history_bars=500).kept_bars == 500 + CANDLE_MARGIN
    assert FeedConfig(history_bars=1000).validate().kept_bars == 1000 + CANDLE_MARGIN
    assert FeedConfig(history_bars=500, candle_capacity=2000).validate().kept_bars == 2000


def test_market_data_round_trips_on_its_stream(http_server):
    from services.feed.wiring import build_feed

    now = shifted_clock(WS0 + 0.3)
    FakeUpstreams(http_server, now)
    url = http_server.url
    feed = build_feed(FeedConfig(binance_rest_url=url, coingecko_url=url, gamma_url=url,
                                 clob_url=url, use_websocket=False, history_bars=300,
                                 depth_levels=5, obi_levels=5), now=now)
    try:
        md = feed.assembler.market_data(tick())
    finally:
        feed.stop()
    assert md.complete
    assert decode(streams.MARKET_DATA, encode(md)) == md
