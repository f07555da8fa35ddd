"""The predictor reads MarketData with its candles left encoded: the same decisions and
signals as decoding every bar into Decimals, for less CPU on the tick's path."""

from __future__ import annotations

import csv
from decimal import Decimal

import msgspec
import numpy as np
import pytest

from services.predictor.config import PredictorConfig
from services.predictor.core import predict_window
from services.predictor.handler import RECENT_BARS, PredictorHandler, decide
from services.predictor.inputs import MarketDataView, candle_arrays, last_bars
from shared import messages as m, streams
from shared.bus import Bus, Consumer
from shared.clock import ManualClock
from tests import stubs
from tests.predictor.helpers import random_walk
from tests.risk.stubs import quote

NS = 1_000_000_000
CFG = PredictorConfig()


def market_data(closes, *, start: int = stubs.T0, complete: bool = True) -> m.MarketData:
    first = start * 1000 - 60_000 * len(closes)
    bars = tuple(stubs.bar(first + 60_000 * i, close=f"{c:.2f}") for i, c in enumerate(closes))
    return m.MarketData(
        **m.header(key=("md", stubs.RUN, 1), ts_event=start * NS, ts_init=start * NS),
        run_id=stubs.RUN, interval=1, window_start=start, window_end=start + 300, entry_deadline=start + 60,
        btc_price=bars[-1].close, btc_price_source="binance_ws", candles=bars, book=None,
        order_book_imbalance=Decimal("0.1"), quote=quote(start), polymarket_odds_up=Decimal("0.51"),
        polymarket_odds_down=Decimal("0.50"), start_price=None, start_price_source=None,
        complete=complete, reasons=() if complete else ("depth: timeout",))


def as_view(md: m.MarketData) -> MarketDataView:
    return msgspec.msgpack.decode(m.encode(md), type=MarketDataView)


def test_the_view_has_every_field_of_market_data_and_only_the_candles_differ():
    full = {f.name: f for f in msgspec.structs.fields(m.MarketData)}
    view = {f.name: f for f in msgspec.structs.fields(MarketDataView)}
    assert list(view) == list(full)
    for name, field in full.items():
        if name != "candles":
            assert (view[name].type, view[name].default) == (field.type, field.default), name
    assert view["candles"].type is msgspec.Raw
    assert MarketDataView.__struct_config__.tag == m.MarketData.__struct_config__.tag


@pytest.mark.parametrize("seed", range(8))
def test_signal_from_the_view_equals_the_signal_from_the_full_decode(seed):
    md = market_data(random_walk(seed, 500))
    view = as_view(md)
    closes = np.array([float(b.close) for b in md.candles])
    times = np.array([b.open_time_ms for b in md.candles], dtype=np.int64)
    expected = predict_window(times, closes, window_start_s=md.window_start, btc_price=md.btc_price,
                              imbalance=md.order_book_imbalance, up_ask=md.quote.up.best_ask,
                              down_ask=md.quote.down.best_ask, cfg=CFG)
    assert decide(view, CFG) == expected
    [(stream, signal)] = PredictorHandler(CFG, ManualClock(stubs.T0)).handle(streams.MARKET_DATA, view)
    assert stream == streams.SIGNALS
    assert signal.recent_bars == md.candles[-RECENT_BARS:]
    assert (signal.signal, signal.rule, signal.rsi) == (expected.signal, expected.rule, expected.rsi)
    assert signal.correlation_id == md.id and signal.quote == md.quote


def test_incomplete_data_skips_and_still_carries_the_recent_bars():
    md = market_data(random_walk(1, 500), complete=False)
    [(_, signal)] = PredictorHandler(CFG, ManualClock(stubs.T0)).handle(streams.MARKET_DATA, as_view(md))
    assert (signal.signal, signal.rule) == ("SKIP", "skip_incomplete_data")
    assert signal.recent_bars == md.candles[-RECENT_BARS:]


def test_candles_that_are_not_numbers_skip_with_the_reason_instead_of_failing():
    md = market_data(random_walk(2, 500))
    payload = msgspec.msgpack.decode(m.encode(md))
    payload["candles"][-1][4] = "not a price"
    view = msgspec.msgpack.decode(msgspec.msgpack.encode(payload), type=MarketDataView)
    [(_, signal)] = PredictorHandler(CFG, ManualClock(stubs.T0)).handle(streams.MARKET_DATA, view)
    assert (signal.signal, signal.rule) == ("SKIP", "skip_invalid_input")
    assert "unusable candles" in signal.reasoning and signal.recent_bars == ()


def test_a_consumer_reads_a_stream_as_its_view_and_others_as_published(fake_redis):
    bus = Bus(fake_redis)
    md = market_data(random_walk(3, 60))
    bus.publish(streams.MARKET_DATA, md)
    viewer = Consumer(bus, "predictor", "predictor-1", [streams.MARKET_DATA],
                      decode_as={streams.MARKET_DATA: MarketDataView})
    plain = Consumer(bus, "observer", "observer-1", [streams.MARKET_DATA])
    for consumer in (viewer, plain):
        consumer.ensure_groups()
    [seen] = viewer.read(block_ms=10)
    [full] = plain.read(block_ms=10)
    assert isinstance(seen.msg, MarketDataView) and full.msg == md
    assert last_bars(seen.msg.candles, 60) == md.candles


def test_closes_equal_float_of_the_decimal_on_every_price_of_the_real_data(data_dir):
    """msgspec's text-to-float against float(Decimal): the same double for every open, high,
    low, close and volume text of the 13 files (about 2.8 million numbers)."""
    texts: list[str] = []
    for path in sorted(data_dir.glob("BTCUSDT-1m-*.csv")):
        with path.open() as fh:
            texts.extend(v for row in csv.reader(fh) if row and row[0].isdigit() for v in row[1:6])
    bars = [[60_000 * i, "0", "0", "0", text, "0"] for i, text in enumerate(texts)]
    _, closes = candle_arrays(msgspec.Raw(msgspec.msgpack.encode(bars)))
    expected = np.array([float(Decimal(t)) for t in texts])
    assert len(texts) > 2_000_000
    assert np.array_equal(closes, expected)
