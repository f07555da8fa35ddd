"""Parsers against fixtures built from the documented payloads, including the traps."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from services.feed.parsers import (
    Depth, Ignored, InvalidPayload, ServerShutdown, WsKline, order_book_imbalance,
    parse_clob_book, parse_clob_books, parse_depth, parse_fee_rate, parse_gamma_events, parse_gamma_market,
    parse_rest_klines, parse_rtds_message, parse_simple_price, parse_tick_size, parse_ws_message,
)
from shared.messages.market import BookLevel
from tests.feed.servers import fixture

D = Decimal
NOW_MS = 1755131600000  # 00:33:20 UTC: the 00:33 candle is still open


# -- Binance REST klines ---------------------------------------------------------------
def test_rest_klines_drops_still_open_last_candle():
    page = parse_rest_klines(fixture("binance_rest_klines_with_open.json"), NOW_MS)
    assert [b.open_time_ms for b in page.closed] == [1755131400000, 1755131460000, 1755131520000]
    assert page.open_bar is not None and page.open_bar.open == D("124447.73")
    assert page.closed[-1].close == D("124447.73") and page.closed[-1].volume == D("88.37989")


def test_rest_klines_when_all_closed_keeps_all():
    page = parse_rest_klines(fixture("binance_rest_klines_with_open.json"), NOW_MS + 60_000)
    assert len(page.closed) == 4 and page.open_bar is None


def test_rest_klines_verbatim_doc_row_is_not_a_1m_kline():
    with pytest.raises(InvalidPayload, match="59999"):
        parse_rest_klines(fixture("binance_rest_klines_verbatim.json"), NOW_MS)


@pytest.mark.parametrize("index, value, reason", [
    (2, "124000.0", "high/low"),        # high below the close
    (3, "124500.0", "high/low"),        # low above the open
    (1, "-1", "> 0"),
    (5, "-0.5", ">= 0"),
    (1, 124326.16, "decimal string"),   # a number where Binance sends a string
    (6, 1755131580000, "59999"),
])
def test_rest_klines_rejects_out_of_range_values(index, value, reason):
    rows = fixture("binance_rest_klines_with_open.json")
    rows[2][index] = value
    with pytest.raises(InvalidPayload, match=reason):
        parse_rest_klines(rows, NOW_MS)


def test_rest_klines_rejects_unordered_rows():
    rows = fixture("binance_rest_klines_with_open.json")
    rows[0], rows[1] = rows[1], rows[0]
    with pytest.raises(InvalidPayload, match="increasing"):
        parse_rest_klines(rows, NOW_MS)


# -- Binance WS ------------------------------------------------------------------------
def test_ws_closed_kline_in_combined_wrapper():
    event = parse_ws_message(fixture("binance_ws_kline_closed.json"), "BTCUSDT")
    assert isinstance(event, WsKline) and event.closed
    assert event.bar.open_time_ms == 1755131520000 and event.bar.close == D("124447.73")


def test_ws_verbatim_doc_example_fails_range_check():
    # The docs' example has low 0.0015 above open 0.0010: impossible for a real candle.
    with pytest.raises(InvalidPayload, match="high/low"):
        parse_ws_message(fixture("binance_ws_kline_open_verbatim.json"), "BNBBTC")


def test_ws_open_kline_is_flagged_not_closed():
    payload = fixture("binance_ws_kline_open_verbatim.json")
    payload["k"]["l"] = "0.0010"
    event = parse_ws_message(payload, "BNBBTC")
    assert isinstance(event, WsKline) and event.closed is False
    assert event.bar.high == D("0.0025")


def test_ws_kline_for_another_symbol_is_invalid():
    with pytest.raises(InvalidPayload, match="symbol"):
        parse_ws_message(fixture("binance_ws_kline_open_verbatim.json"), "BTCUSDT")


def test_ws_depth_snapshot_without_symbol_parses_best_first():
    event = parse_ws_message(fixture("binance_ws_depth_combined.json"), "BTCUSDT")
    assert isinstance(event, Depth) and event.last_update_id == 160
    assert event.bids[0] == BookLevel(D("0.0024"), D("10"))
    assert event.asks[0] == BookLevel(D("0.0026"), D("100"))


def test_ws_server_shutdown_and_subscription_reply():
    assert isinstance(parse_ws_message(fixture("binance_server_shutdown.json"), "BTCUSDT"),
                      ServerShutdown)
    assert isinstance(parse_ws_message({"result": None, "id": 1}, "BTCUSDT"), Ignored)


# -- Depth and imbalance ---------------------------------------------------------------
def test_rest_depth_verbatim():
    depth = parse_depth(fixture("binance_rest_depth_verbatim.json"))
    assert depth.bids == (BookLevel(D("4.00000000"), D("431.00000000")),)
    assert depth.asks[0].price == D("4.00000200") and depth.last_update_id == 1027024


@pytest.mark.parametrize("change, reason", [
    ({"bids": [["4.0", "1"], ["4.1", "1"]]}, "best-first"),
    ({"asks": [["3.9", "1"]]}, "crossed"),
    ({"bids": [["4.0", "-1"]]}, ">= 0"),
    ({"bids": [["4.0"]]}, "price, qty"),
])
def test_depth_rejects_bad_books(change, reason):
    payload = {**fixture("binance_rest_depth_verbatim.json"), **change}
    with pytest.raises(InvalidPayload, match=reason):
        parse_depth(payload)


def test_order_book_imbalance_over_top_n():
    bids = (BookLevel(D(100), D(3)), BookLevel(D(99), D(1)), BookLevel(D(98), D(100)))
    asks = (BookLevel(D(101), D(1)), BookLevel(D(102), D(1)))
    assert order_book_imbalance(bids, asks, 2) == D(2) / D(6)
    assert order_book_imbalance(bids, asks, 1) == D("0.5")
    assert order_book_imbalance((), (), 5) == 0
    assert order_book_imbalance((BookLevel(D(1), D(0)),), (), 5) == 0


# -- CoinGecko -------------------------------------------------------------------------
def test_coingecko_number_price_and_staleness():
    payload = fixture("coingecko_simple_price.json")
    spot = parse_simple_price(payload, now=1711356330, max_age_s=120)
    assert spot.price == D("67187.3358936566") and spot.updated_at == 1711356300
    with pytest.raises(InvalidPayload, match="stale"):
        parse_simple_price(payload, now=1711356300 + 600, max_age_s=120)
    with pytest.raises(InvalidPayload, match="no entry"):
        parse_simple_price({})
    with pytest.raises(InvalidPayload):
        parse_simple_price({"bitcoin": {"usd": True}})


# -- Gamma -----------------------------------------------------------------------------
def test_gamma_market_decodes_json_string_fields_and_window():
    market = parse_gamma_market(fixture("gamma_market.json"))
    assert market.slug == "btc-updown-5m-1773307200"
    assert (market.window_start, market.window_end) == (1773307200, 1773307500)
    assert market.up_token.startswith("104239898") and market.down_token.startswith("711839608")
    assert (market.up_price, market.down_price) == (D("0.505"), D("0.495"))
    assert market.tick_size == D("0.01") and market.min_order_size == D("5")
    assert market.accepting_orders and not market.closed and market.resolution is None
    # Legacy fee fields (Mar 2026 "crypto_fees" regime).
    assert (market.fee.rate, market.fee.exponent) == (D("0.25"), 2)


def test_gamma_market_maps_outcomes_by_label_not_position():
    market = parse_gamma_market(fixture("gamma_market_down_up.json"))
    assert (market.up_token, market.down_token) == ("111", "222")
    assert (market.up_price, market.down_price) == (D("0.58"), D("0.42"))
    assert (market.fee.rate, market.fee.exponent, market.fee.taker_only) == (D("0.07"), 1, True)


def test_gamma_market_resolved():
    market = parse_gamma_market(fixture("gamma_market_resolved.json"))
    assert market.closed and not market.accepting_orders and market.resolution == "Up"
    assert market.fee is None  # no fee fields at all: the caller asks /fee-rate


def test_gamma_market_window_from_slug_when_dates_absent():
    payload = fixture("gamma_market_down_up.json")
    del payload["eventStartTime"], payload["endDate"]
    market = parse_gamma_market(payload)
    assert (market.window_start, market.window_end) == (1773307500, 1773307800)


@pytest.mark.parametrize("change, reason", [
    ({"outcomes": '["Yes", "No"]'}, "Up and Down"),
    ({"clobTokenIds": '["1"]'}, "token ids"),
    ({"clobTokenIds": "[not json"}, "not valid JSON"),
    ({"outcomePrices": '["1.5", "0"]'}, "outside"),
    ({"eventStartTime": "2026-03-12T09:30:00Z"}, "disagrees with slug"),
    ({"orderPriceMinTickSize": 0}, "outside"),
    ({"acceptingOrders": "yes"}, "boolean"),
])
def test_gamma_market_rejects_bad_fields(change, reason):
    payload = {**fixture("gamma_market_down_up.json"), **change}
    with pytest.raises(InvalidPayload, match=reason):
        parse_gamma_market(payload)


def test_gamma_events_finds_the_market_or_says_not_yet():
    market = parse_gamma_events(fixture("gamma_events.json"), "btc-updown-5m-1773307500")
    assert (market.window_start, market.window_end) == (1773307500, 1773307800)
    assert market.up_token == "111" and market.tick_size == D("0.01")
    assert parse_gamma_events([], "btc-updown-5m-1773307500") is None
    with pytest.raises(InvalidPayload, match="no event"):
        parse_gamma_events(fixture("gamma_events.json"), "btc-updown-5m-1773307800")


# -- CLOB ------------------------------------------------------------------------------
def test_clob_book_normalises_wire_order_to_best_first():
    book = parse_clob_book(fixture("clob_book.json"), "Up", "111")
    assert book.best_bid == D("0.1") and book.best_ask == D("0.14")
    assert [level.price for level in book.bids] == [D("0.1"), D("0.05"), D("0.01")]
    assert [level.price for level in book.asks] == [D("0.14"), D("0.5"), D("0.98")]
    assert book.tick_size == D("0.01") and book.min_order_size == D("5")
    assert book.book_ts_ms == 1728799418260 and book.book_hash.startswith("2fc4")


def test_clob_book_already_best_first_reads_the_same():
    payload = fixture("clob_book.json")
    flipped = {**payload, "bids": payload["bids"][::-1], "asks": payload["asks"][::-1]}
    assert parse_clob_book(flipped, "Up", "111") == parse_clob_book(payload, "Up", "111")


@pytest.mark.parametrize("change, reason", [
    ({"asset_id": "999"}, "not the one asked"),
    ({"asks": [{"price": "1", "size": "5"}]}, "outside"),
    ({"bids": [{"price": "0", "size": "5"}]}, "outside"),
    ({"asks": [{"price": "0.05", "size": "5"}]}, "crossed"),
    ({"tick_size": "0"}, "tick size"),
    ({"bids": [{"price": "0.1", "size": "1"}, {"price": "0.1", "size": "2"}]}, "twice"),
])
def test_clob_book_rejects_bad_books(change, reason):
    payload = {**fixture("clob_book.json"), **change}
    with pytest.raises(InvalidPayload, match=reason):
        parse_clob_book(payload, "Up", "111")


def test_clob_books_are_matched_to_outcomes_by_asset_id_whatever_the_order():
    up = {**fixture("clob_book.json"), "asset_id": "111"}
    down = {**fixture("clob_book.json"), "asset_id": "222"}
    books = parse_clob_books([down, up], {"Up": "111", "Down": "222"})
    assert books["Up"] == parse_clob_book(up, "Up", "111")
    assert books["Down"] == parse_clob_book(down, "Down", "222")


@pytest.mark.parametrize("answer, reason", [
    ({"asset_id": "111"}, "expected array"),
    ([{**fixture("clob_book.json"), "asset_id": "111"}], "no book for the Down token"),
    ([{**fixture("clob_book.json"), "asset_id": "111"}, {**fixture("clob_book.json"), "asset_id": "333"}],
     "not asked for"),
])
def test_clob_books_rejects_a_missing_or_unasked_book(answer, reason):
    with pytest.raises(InvalidPayload, match=reason):
        parse_clob_books(answer, {"Up": "111", "Down": "222"})


def test_clob_tick_size_and_fee_rate():
    assert parse_tick_size({"minimum_tick_size": 0.01}) == D("0.01")
    assert parse_tick_size({"minimum_tick_size": "0.001"}) == D("0.001")
    assert parse_fee_rate({"base_fee": 1000}) == 1000
    with pytest.raises(InvalidPayload):
        parse_fee_rate({"fee_rate_bps": 10})


def test_rtds_chainlink_update():
    msg = {"topic": "crypto_prices_chainlink", "type": "update", "timestamp": 1,
           "payload": {"symbol": "btc/usd", "timestamp": 1776038400000, "value": 100000.0}}
    report = parse_rtds_message(msg, "btc/usd")
    assert report.ts_ms == 1776038400000 and report.value == D("100000.0")
    other = copy.deepcopy(msg)
    other["payload"]["symbol"] = "eth/usd"
    assert parse_rtds_message(other, "btc/usd") is None
    assert parse_rtds_message({**msg, "topic": "crypto_prices"}, "btc/usd") is None
