"""SimClock's own HTTP/1.1 exchange with the simulator's /sim/clock: one kept-alive
connection per thread, a connection the server closed is reopened once, and failures
raise the same ``requests`` exceptions as a requests.Session would."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from polybot.processes import free_port
from shared.clock import SimClock


class FakeSim:
    def __init__(self, close_each: bool = False, advance_status: int = 200, get_status: int = 200):
        self.now_ms, self.connections, self.posts = 1_722_470_400_000, 0, []
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0" if close_each else "HTTP/1.1"

            def setup(self):
                super().setup()
                sim.connections += 1

            def do_GET(self):
                self._answer(get_status, {"now_ms": sim.now_ms, "speed": "max"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                sim.posts.append(body)
                if advance_status == 200:
                    sim.now_ms = body["now_ms"]
                self._answer(advance_status, {"now_ms": sim.now_ms})

            def _answer(self, status, doc):
                raw = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sim"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def make_sim():
    sims = []

    def make(**kwargs) -> FakeSim:
        sims.append(FakeSim(**kwargs))
        return sims[-1]

    yield make
    for sim in sims:
        sim.close()


def test_reads_and_advances_over_one_kept_alive_connection(make_sim):
    sim = make_sim()
    clock = SimClock(sim.url)
    assert clock.now_ms() == sim.now_ms
    clock.advance_to(sim.now_ms + 300_000)
    assert clock.now() == (1_722_470_400_000 + 300_000) / 1000
    assert sim.posts == [{"now_ms": 1_722_470_700_000}]
    assert sim.connections == 1


def test_a_server_that_closes_every_connection_still_answers(make_sim):
    sim = make_sim(close_each=True)
    clock = SimClock(sim.url)
    assert [clock.now_ms() for _ in range(3)] == [sim.now_ms] * 3
    assert sim.connections == 3


def test_advancing_to_a_past_time_is_accepted_and_errors_raise_requests_exceptions(make_sim):
    clock = SimClock(make_sim(advance_status=409).url)
    clock.advance_to(0)  # 409: already past it, e.g. after a restart
    with pytest.raises(requests.HTTPError):
        SimClock(make_sim(advance_status=500).url).advance_to(1)
    with pytest.raises(requests.HTTPError):
        SimClock(make_sim(get_status=503).url).now_ms()


def test_nothing_listening_raises_a_requests_connection_error():
    with pytest.raises(requests.ConnectionError):
        SimClock(f"http://127.0.0.1:{free_port()}/sim", timeout=1).now_ms()


def test_each_thread_keeps_its_own_connection(make_sim):
    sim = make_sim()
    clock = SimClock(sim.url)
    results = []
    threads = [threading.Thread(target=lambda: results.append(clock.now_ms())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [sim.now_ms] * 3 and sim.connections == 3
