"""Faults on demand: grammar, seeded repeatability, and each kind of fault."""

from __future__ import annotations

import json
import time

import pytest
import requests
from py_clob_client_v2 import ClobClient, MarketOrderArgs
from py_clob_client_v2.exceptions import PolyApiException
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from services.sim.fault_spec import FaultSpecError, parse_spec
from tests.sim.conftest import PRIVATE_KEY, START_MS, START_S

BRIEF_EXAMPLE = ("clob:/order=500@0.3;gamma:*=429@0.1,retry_after=1;"
                 "binance:/api/v3/klines=timeout@0.05;ws=drop@every:7;feed=stale;"
                 "gamma:missing=window:3;resolution=delay:120;resolution=conflict:window:5;"
                 "clob:/order=fok_kill@window:2")


def test_the_documented_grammar_parses():
    rules = parse_spec(BRIEF_EXAMPLE)
    assert [(r.service, r.kind) for r in rules] == [
        ("clob", "500"), ("gamma", "429"), ("binance", "timeout"), ("ws", "drop"),
        ("feed", "stale"), ("gamma", "missing"), ("resolution", "delay"),
        ("resolution", "conflict"), ("clob", "fok_kill")]
    assert rules[1].options == {"retry_after": "1"} and rules[6].arg == 120
    assert (rules[7].selector.kind, rules[7].selector.first_window) == ("windows", 5)
    for bad in ("clob:/order", "clob:/x=teapot", "ws=explode", "clob:/x=500@2", "feed=stale@soon"):
        with pytest.raises(FaultSpecError):
            parse_spec(bad)


def test_faults_can_be_replaced_and_read_back(sim):
    assert sim.set_faults("clob:/x=500@sometimes").status_code == 400
    assert sim.set_faults(BRIEF_EXAMPLE).status_code == 200
    assert sim.get_json("control", "/faults")["spec"] == BRIEF_EXAMPLE
    assert len(sim.get_json("control", "/faults")["rules"]) == 9


def statuses(sim, count: int) -> list[int]:
    return [sim.get("clob", "/time").status_code for _ in range(count)]


def test_probabilistic_faults_are_seeded_and_repeat(make_sim):
    first = make_sim(faults="clob:/time=500@0.3")
    second = make_sim(faults="clob:/time=500@0.3")
    seen = statuses(first, 300)
    assert seen == statuses(second, 300)
    assert 0.2 < seen.count(500) / len(seen) < 0.4
    assert first.get("clob", "/ok").status_code == 200  # other paths untouched


def test_every_nth_and_429_with_retry_after(sim):
    sim.set_faults("gamma:*=429@every:2,retry_after=3")
    answers = [sim.get("gamma", "/markets", slug=f"btc-updown-5m-{START_S}") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 429, 200, 429]
    assert answers[1].headers["Retry-After"] == "3"


def test_timeout_holds_the_response_beyond_the_client_timeout(sim):
    sim.set_faults("binance:/api/v3/klines=timeout,hold=0.6")
    with pytest.raises(requests.Timeout):
        sim.http.get(sim.urls["binance_rest"] + "/api/v3/klines",
                     params={"symbol": "BTCUSDT", "interval": "1m"}, timeout=0.2)
    began = time.monotonic()
    assert sim.get("binance_rest", "/api/v3/depth", symbol="BTCUSDT").status_code == 200
    assert time.monotonic() - began < 0.5


def test_fok_kill_and_500_on_order_are_logged(sim):
    client = ClobClient(sim.urls["clob"], chain_id=137, key=PRIVATE_KEY)
    client.set_api_creds(client.create_or_derive_api_key())
    up = sim.tokens(START_S)["Up"]
    sim.set_faults("clob:/order=fok_kill@window:0")
    with pytest.raises(PolyApiException) as killed:
        client.create_and_post_market_order(MarketOrderArgs(token_id=up, amount=5, side="BUY"))
    assert "FOK orders are fully filled or killed" in killed.value.error_msg["error"]
    sim.set_faults("clob:/order=500")
    with pytest.raises(PolyApiException) as failed:
        client.create_and_post_market_order(MarketOrderArgs(token_id=up, amount=5, side="BUY"))
    assert failed.value.status_code == 500
    log = sim.get_json("control", "/orders")["orders"]
    assert [(e["result"], e["http_status"]) for e in log] == [("rejected", 400), ("fault", 500)]
    assert {e["slug"] for e in log} == {f"btc-updown-5m-{START_S}"}


def test_ws_drop_every_third_message(sim):
    sim.set_faults("ws=drop@every:3")
    received = 0
    with connect(sim.urls["binance_ws"] + "/btcusdt@depth5@100ms", open_timeout=5) as ws:
        with pytest.raises(ConnectionClosed):
            for step in range(1, 10):
                ws.recv(timeout=5)
                received += 1
                sim.advance_to(START_MS + step * 1000)
    assert received == 3


def test_stale_feed_freezes_binance_and_coingecko_but_not_the_venue(sim):
    sim.set_faults("feed=stale")
    frozen = sim.get("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m").content
    price = sim.get("coingecko", "/api/v3/simple/price", ids="bitcoin", vs_currencies="usd").content
    sim.advance_to(START_MS + 240_000)
    klines = sim.get("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m")
    assert klines.content == frozen
    spot = sim.get("coingecko", "/api/v3/simple/price", ids="bitcoin", vs_currencies="usd")
    assert spot.content == price
    book = sim.get_json("clob", "/book", token_id=sim.tokens(START_S)["Up"])
    assert book["timestamp"] == str(START_MS + 240_000)
    sim.set_faults("")
    rows = sim.get_json("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m")
    assert rows[-1][0] == START_MS + 240_000


def test_stale_feed_silences_the_websocket(sim):
    with connect(sim.urls["binance_ws"] + "/btcusdt@kline_1m", open_timeout=5) as ws:
        ws.recv(timeout=5)
        sim.set_faults("feed=stale")
        sim.advance_to(START_MS + 180_000)
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.8)
        sim.set_faults("")
        sim.advance_to(START_MS + 181_000)
        closings = [json.loads(ws.recv(timeout=5)) for _ in range(4)]
    closed = [m["k"]["t"] for m in closings if m["k"]["x"]]
    assert closed == [START_MS + i * 60_000 for i in range(3)]
