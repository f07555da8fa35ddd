"""Nothing the simulator serves depends on candles that have not opened yet."""

from __future__ import annotations

import json

import numpy as np
import pytest

from services.sim.synthetic import SyntheticSeries

FIRST_OPEN_MS = 1_700_000_000_000 - 1_700_000_000_000 % 300_000
SPLIT = 1200  # rows from here on differ between the two files


def csv_lines(arrays, rows: range) -> list[str]:
    lines = []
    for i in rows:
        o, h, l, c = (int(x[i]) for x in (arrays.open, arrays.high, arrays.low, arrays.close))
        lines.append(f"{int(arrays.open_ms[i])},{o / 100:.2f},{h / 100:.2f},{l / 100:.2f},"
                     f"{c / 100:.2f},{int(arrays.volume[i]) / 1e8:.8f},,,,,")
    return lines


HEADER = ("open_time_ms,open,high,low,close,volume,close_time_ms,quote_volume,trades,"
          "taker_buy_base,taker_buy_quote")


@pytest.fixture
def twin_files(tmp_path):
    """Two CSVs identical up to row SPLIT, with different futures after it."""
    same = SyntheticSeries(5, FIRST_OPEN_MS).next_chunk()
    other = SyntheticSeries(6, FIRST_OPEN_MS).next_chunk()
    scale = int(same.close[SPLIT - 1]) / int(other.open[SPLIT])  # continue from the same close
    for name in ("open", "high", "low", "close"):
        getattr(other, name)[:] = np.rint(getattr(other, name) * scale).astype(np.int64)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("\n".join([HEADER] + csv_lines(same, range(1440))) + "\n")
    b.write_text("\n".join([HEADER] + csv_lines(same, range(SPLIT))
                           + csv_lines(other, range(SPLIT, 1440))) + "\n")
    return a, b


def snapshot(sim) -> list[bytes]:
    tokens = sim.tokens(sim.now_ms() // 300_000 * 300)
    calls = [("binance_rest", "/api/v3/klines",
              {"symbol": "BTCUSDT", "interval": "1m", "limit": 1000}),
             ("binance_rest", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m",
                                                 "endTime": 2 * 10**12, "limit": 5}),
             ("binance_rest", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 20}),
             ("coingecko", "/api/v3/simple/price", {"ids": "bitcoin", "vs_currencies": "usd"}),
             ("gamma", f"/markets/slug/btc-updown-5m-{sim.now_ms() // 300_000 * 300}", {}),
             ("clob", "/book", {"token_id": tokens["Up"]}),
             ("clob", "/book", {"token_id": tokens["Down"]})]
    return [sim.get(service, path, **params).content for service, path, params in calls]


def test_responses_do_not_depend_on_future_candles(twin_files, make_sim):
    a, b = twin_files
    t0 = FIRST_OPEN_MS + (SPLIT - 7) * 60_000 + 37_500
    sim_a = make_sim(data=str(a), start_ms=t0)
    sim_b = make_sim(data=str(b), start_ms=t0)
    assert snapshot(sim_a) == snapshot(sim_b)
    last_moment = FIRST_OPEN_MS + SPLIT * 60_000 - 1
    for sim in (sim_a, sim_b):
        sim.advance_to(last_moment)
    assert snapshot(sim_a) == snapshot(sim_b)
    for sim in (sim_a, sim_b):
        sim.advance_to(last_moment + 30_001)  # row SPLIT is half done: now they differ
    assert snapshot(sim_a)[0] != snapshot(sim_b)[0]


def test_klines_stop_at_sim_time_and_the_open_candle_is_partial(sim):
    now = sim.now_ms() + 90_500  # 30.5 s into a minute
    sim.advance_to(now)
    rows = sim.get_json("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m",
                        startTime=now - 5 * 60_000, endTime=now + 3_600_000)
    assert max(r[0] for r in rows) == now - 30_500
    partial = rows[-1]
    assert float(partial[5]) > 0
    future = sim.get_json("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m",
                          startTime=now + 60_000)
    assert future == []
    sim.advance_to(partial[0] + 60_000)
    final = sim.get_json("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m",
                         startTime=partial[0], limit=1)[0]
    assert final[1] == partial[1]
    assert float(final[2]) >= float(partial[2]) and float(final[3]) <= float(partial[3])
    assert float(final[5]) >= float(partial[5])


def test_websocket_never_pushes_an_unclosed_candle_as_closed(sim):
    from websockets.sync.client import connect

    with connect(sim.urls["binance_ws"] + "/btcusdt@kline_1m", open_timeout=5) as ws:
        sim.advance_to(sim.now_ms() + 150_000)  # 2.5 minutes
        messages = []
        while True:
            try:
                messages.append(json.loads(ws.recv(timeout=0.5)))
            except TimeoutError:
                break
    now = sim.now_ms()
    for message in messages:
        k = message["k"]
        assert k["t"] <= now and (not k["x"] or k["t"] + 60_000 <= now)
    assert [m["k"]["x"] for m in messages].count(True) == 2
