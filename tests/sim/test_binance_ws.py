"""Binance WebSocket streams (synthetic data) and the REST depth snapshot."""

from __future__ import annotations

import json
from decimal import Decimal

from websockets.sync.client import connect

from tests.sim.conftest import START_MS


def recv_json(ws) -> dict:
    return json.loads(ws.recv(timeout=5))


def check_depth(book: dict, levels: int) -> None:
    bids = [Decimal(p) for p, _ in book["bids"]]
    asks = [Decimal(p) for p, _ in book["asks"]]
    assert len(bids) == len(asks) == levels
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
    assert isinstance(book["lastUpdateId"], int)


def test_combined_stream_wraps_kline_and_depth(sim):
    url = sim.urls["binance_ws"] + "/stream?streams=btcusdt@kline_1m/btcusdt@depth20@100ms"
    with connect(url, open_timeout=5) as ws:
        first, second = recv_json(ws), recv_json(ws)
        assert {first["stream"], second["stream"]} == {"btcusdt@kline_1m", "btcusdt@depth20@100ms"}
        depth = first if first["stream"].startswith("btcusdt@depth") else second
        check_depth(depth["data"], 20)
        sim.advance_to(START_MS + 60_000)
        streams = [recv_json(ws) for _ in range(3)]
        closing = [m["data"] for m in streams
                   if m["stream"] == "btcusdt@kline_1m" and m["data"]["k"]["x"]]
        assert closing and closing[0]["k"]["t"] == START_MS and closing[0]["E"] == START_MS + 60_000
        pong = ws.ping()
        assert pong.wait(5)


def test_raw_socket_subscribe_and_list(sim):
    with connect(sim.urls["binance_ws"], open_timeout=5) as ws:
        ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 1}))
        assert recv_json(ws) == {"result": None, "id": 1}
        kline = recv_json(ws)
        assert kline["e"] == "kline" and kline["k"]["i"] == "1m" and kline["s"] == "BTCUSDT"
        ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": "x"}))
        assert recv_json(ws) == {"result": ["btcusdt@kline_1m"], "id": "x"}


def test_ws_prefixed_combined_path_works_too(sim):
    with connect(sim.urls["binance_ws"] + "/stream?streams=btcusdt@depth5", open_timeout=5) as ws:
        message = recv_json(ws)
        assert message["stream"] == "btcusdt@depth5"
        check_depth(message["data"], 5)


def test_rest_depth(sim):
    check_depth(sim.get_json("binance_rest", "/api/v3/depth", symbol="BTCUSDT", limit=10), 10)
    assert len(sim.get_json("binance_rest", "/api/v3/depth", symbol="BTCUSDT")["bids"]) == 100
    assert sim.get("binance_rest", "/api/v3/depth", symbol="ETHUSDT").json()["code"] == -1121


def test_in_max_mode_an_advance_returns_once_the_pushes_for_the_new_time_are_sent(sim, monkeypatch):
    """The lockstep clock ticks right after its advance returns; the pushes of the new
    time must already be on the wire then, or the feed sees a stale price and falls back
    to REST and CoinGecko.  A push loop slowed down by 100 ms shows the difference."""
    import time

    from services.sim import ws_streams

    url = sim.urls["binance_ws"] + "/ws/btcusdt@kline_1m"
    with connect(url, open_timeout=5) as ws:
        recv_json(ws)  # the open candle's first push
        collect = ws_streams.StreamSession.collect

        def slow_collect(self, view_ms):
            time.sleep(0.1)
            return collect(self, view_ms)

        monkeypatch.setattr(ws_streams.StreamSession, "collect", slow_collect)
        sim.advance_to(START_MS + 5 * 60_000)
        first = json.loads(ws.recv(timeout=0.05))  # already sent: no wait for the slow loop
        closing = [m for m in [first, *(recv_json(ws) for _ in range(5))] if m["k"]["x"]]
        assert [m["k"]["t"] for m in closing] == [START_MS + i * 60_000 for i in range(5)]


def test_in_max_mode_an_advance_returns_once_the_client_has_handled_the_pushes(sim):
    """Sent is not enough: a client reading slowly (like the feed on a busy core) would
    let the lockstep tick overtake pushes that are already on its socket.  The advance
    waits for the pong to a ping sent after them, which websocket-client answers in its
    reading thread after handling every message before it."""
    import threading
    import time

    import websocket

    handled, opened = [], threading.Event()

    def on_message(_app, text):
        time.sleep(0.005)  # a slow handler (the 6 pushes take 30 ms of the 250 ms bound)
        handled.append(json.loads(text))

    app = websocket.WebSocketApp(sim.urls["binance_ws"] + "/ws/btcusdt@kline_1m",
                                 on_open=lambda _app: opened.set(), on_message=on_message)
    thread = threading.Thread(target=app.run_forever, daemon=True)
    thread.start()
    try:
        assert opened.wait(5)
        deadline = time.monotonic() + 5
        while not handled and time.monotonic() < deadline:  # the open candle's first push
            time.sleep(0.01)
        sim.advance_to(START_MS + 5 * 60_000)
        closing = [m["k"]["t"] for m in list(handled) if m["k"]["x"]]
        assert closing == [START_MS + i * 60_000 for i in range(5)]
        assert handled[-1]["E"] == START_MS + 5 * 60_000 and not handled[-1]["k"]["x"]
    finally:
        app.close()
        thread.join(5)


def test_in_max_mode_a_clock_standing_still_still_pushes_the_present(sim, monkeypatch):
    """After a lockstep run the clock stops moving; Binance would keep pushing the open
    candle and the depth, and the feed reconnects a socket silent for 30 s.  The
    simulator pushes the present again (the same data) after IDLE_REPEAT_S."""
    from services.sim import ws

    monkeypatch.setattr(ws, "IDLE_REPEAT_S", 0.2, raising=False)
    url = sim.urls["binance_ws"] + "/stream?streams=btcusdt@kline_1m/btcusdt@depth5"
    with connect(url, open_timeout=5) as ws_client:
        first = {m["stream"]: m for m in (recv_json(ws_client), recv_json(ws_client))}
        again = {m["stream"]: m for m in (recv_json(ws_client), recv_json(ws_client))}
        assert again == first  # nothing moved: the same candle and book, pushed again
        assert not again["btcusdt@kline_1m"]["data"]["k"]["x"]
