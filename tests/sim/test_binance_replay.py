"""Replaying a real Binance CSV: REST paging and the WebSocket serve exactly its candles."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import pytest
from websockets.sync.client import connect

SMALL_FILE = "BTCUSDT-1m-2021-04-25_2021-04-29.csv"  # 6,675 rows: quick to load


def read_rows(path) -> list[tuple]:
    with open(path) as handle:
        reader = csv.reader(handle)
        next(reader)
        return [(int(r[0]), *(Decimal(x) for x in r[1:6])) for r in reader]


def served(row: list) -> tuple:
    return (row[0], *(Decimal(x) for x in row[1:6]))


@pytest.fixture
def replay(btc_data_dir, make_sim):
    path = btc_data_dir / SMALL_FILE
    if not path.exists():
        pytest.skip(f"{SMALL_FILE} not in {btc_data_dir}")
    return make_sim(data=str(path)), read_rows(path)


def test_default_start_is_first_boundary_after_400_candles(replay):
    sim, rows = replay
    start = sim.get_json("control", "/clock")["start_ms"]
    assert start % 300_000 == 0
    assert rows[0][0] + 400 * 60_000 <= start < rows[0][0] + 405 * 60_000


def test_rest_paging_serves_exactly_the_csv(replay):
    sim, rows = replay
    sim.advance_to(rows[-1][0] + 60_000)  # every candle has closed
    got, start = [], rows[0][0]
    while True:
        page = sim.get_json("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m",
                            startTime=start, limit=1000)
        got.extend(served(r) for r in page)
        if len(page) < 1000:
            break
        start = page[-1][0] + 60_000
    assert got == rows
    newest = sim.get_json("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m")
    assert len(newest) == 500 and [served(r) for r in newest] == rows[-500:]
    assert all(len(r) == 12 and r[6] == r[0] + 59_999 and isinstance(r[1], str) for r in newest)


def test_end_time_paging_walks_backwards(replay):
    sim, rows = replay
    now = sim.now_ms()
    page = sim.get_json("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m",
                        endTime=now - 1, limit=3)
    closed = [r for r in rows if r[0] + 60_000 <= now]
    assert [served(r) for r in page] == closed[-3:]


def test_websocket_pushes_every_closed_candle_in_order_after_a_jump(replay):
    sim, rows = replay
    now = sim.now_ms()
    url = sim.urls["binance_ws"] + "/stream?streams=btcusdt@kline_1m"
    with connect(url, open_timeout=5) as ws:
        first = json.loads(ws.recv(timeout=5))
        assert first["stream"] == "btcusdt@kline_1m" and first["data"]["k"]["x"] is False
        sim.advance_to(now + 10 * 60_000)
        closings = []
        while len(closings) < 10:
            data = json.loads(ws.recv(timeout=5))["data"]
            if data["k"]["x"]:
                closings.append(data["k"])
    expected = [r for r in rows if now <= r[0] < now + 10 * 60_000]
    assert [(k["t"], Decimal(k["o"]), Decimal(k["h"]), Decimal(k["l"]), Decimal(k["c"]),
             Decimal(k["v"])) for k in closings] == expected
