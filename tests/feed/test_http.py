"""shared/http.py against a local http.server on 127.0.0.1."""

from __future__ import annotations

import random
import time

import pytest

from shared.http import (
    HttpClient, HttpTimeout, PermanentHttpError, TransientHttpError, parse_retry_after,
)
from tests.feed.servers import Reply


def client(server, clock=None, **options) -> HttpClient:
    now = clock.now if clock else time.time
    sleep = clock.sleep if clock else time.sleep
    return HttpClient(server.url, name="test", now=now, sleep=sleep, rng=random.Random(1),
                      connect_timeout_s=1.0, read_timeout_s=1.0, **options)


def test_get_json_when_ok_returns_decoded_body(http_server):
    http_server.routes["/x"] = Reply(200, {"a": 1})
    assert client(http_server).get_json("/x", {"q": "1"}) == {"a": 1}
    assert http_server.requests == [("/x", {"q": ["1"]})]


def test_get_json_when_5xx_retries_at_most_three_times_with_backoff(http_server, clock):
    http_server.routes["/x"] = Reply(500, {"msg": "boom"})
    with pytest.raises(TransientHttpError) as info:
        client(http_server, clock).get_json("/x")
    assert http_server.count("/x") == 3
    assert info.value.status == 500 and info.value.attempts == 3
    assert len(clock.sleeps) == 2 and clock.sleeps[0] < clock.sleeps[1]
    assert "HTTP 500 x3" in str(info.value) and "boom" in str(info.value)


def test_get_json_when_5xx_then_ok_recovers(http_server, clock):
    http_server.routes["/x"] = [Reply(503), Reply(502), Reply(200, [1, 2])]
    assert client(http_server, clock).get_json("/x") == [1, 2]
    assert http_server.count("/x") == 3


def test_get_json_when_4xx_does_not_retry_and_keeps_secrets_out(http_server, clock):
    http_server.routes["/x"] = Reply(400, {"code": -1121, "msg": "Invalid symbol."})
    http = client(http_server, clock, headers={"X-API-KEY": "secret-key"})
    with pytest.raises(PermanentHttpError) as info:
        http.get_json("/x", {"api_key": "secret-query"})
    assert http_server.count("/x") == 1
    assert info.value.status == 400 and "Invalid symbol" in info.value.excerpt
    assert "secret" not in str(info.value)


def test_get_json_when_429_honours_retry_after(http_server, clock):
    http_server.routes["/x"] = [Reply(429, {}, headers={"Retry-After": "2"}), Reply(200, {"ok": True})]
    assert client(http_server, clock).get_json("/x") == {"ok": True}
    assert clock.sleeps == [2.0]


def test_get_json_when_retry_after_exceeds_deadline_gives_up_and_blocks(http_server, clock):
    http_server.routes["/x"] = Reply(418, {}, headers={"Retry-After": "120"})
    http = client(http_server, clock)
    with pytest.raises(TransientHttpError) as info:
        http.get_json("/x", deadline=clock.now() + 3)
    assert info.value.retry_after == 120 and clock.sleeps == []
    # Until the ban is over, no request reaches the server.
    with pytest.raises(TransientHttpError, match="Retry-After"):
        http.get_json("/x")
    assert http_server.count("/x") == 1
    clock.t += 121
    with pytest.raises(TransientHttpError):
        http.get_json("/x", deadline=clock.now() + 1)
    assert http_server.count("/x") == 2


def test_get_json_when_server_slow_times_out_and_respects_deadline(http_server):
    http_server.routes["/slow"] = Reply(200, {}, delay_s=1.5)
    http = client(http_server)
    started = time.monotonic()
    with pytest.raises(HttpTimeout):
        http.get_json("/slow", deadline=time.time() + 0.3)
    assert time.monotonic() - started < 1.0


def test_get_json_when_deadline_already_passed_makes_no_call(http_server, clock):
    http_server.routes["/x"] = Reply(200, {})
    with pytest.raises(HttpTimeout):
        client(http_server, clock).get_json("/x", deadline=clock.now() - 1)
    assert http_server.count("/x") == 0


def test_get_json_when_backoff_would_pass_deadline_stops_early(http_server, clock):
    http_server.routes["/x"] = Reply(500)
    with pytest.raises(TransientHttpError):
        client(http_server, clock, backoff_base_s=1.0).get_json("/x", deadline=clock.now() + 0.5)
    assert http_server.count("/x") == 1


def test_get_json_when_connection_refused_is_transient_not_a_timeout(clock):
    http = HttpClient("http://127.0.0.1:9", name="t", now=clock.now, sleep=clock.sleep,
                      connect_timeout_s=0.5, read_timeout_s=0.5)
    with pytest.raises(TransientHttpError) as info:
        http.get_json("/x")
    assert not isinstance(info.value, HttpTimeout) and "NewConnectionError" in str(info.value)
    assert len(clock.sleeps) == 2


def test_post_json_sends_the_body_as_json_and_params_drop_none(http_server, clock):
    http_server.routes["/books"] = lambda query: Reply(200, {"got": query["body"][0]})
    http_server.routes["/x"] = Reply(200, [])
    http = client(http_server, clock)
    assert http.post_json("/books", [{"token_id": "1"}]) == {"got": [{"token_id": "1"}]}
    http.get_json("/x", {"symbol": "BTCUSDT", "startTime": None})
    assert http_server.requests[-1] == ("/x", {"symbol": ["BTCUSDT"]})


def test_a_redirect_is_a_permanent_error_and_not_followed(http_server, clock):
    http_server.routes["/old"] = Reply(302, {}, headers={"Location": "/new"})
    http_server.routes["/new"] = Reply(200, {"moved": True})
    with pytest.raises(PermanentHttpError, match="HTTP 302"):
        client(http_server, clock).get_json("/old")
    assert http_server.count("/new") == 0


def test_proxy_from_the_environment_carries_real_hosts_but_never_loopback(http_server, monkeypatch):
    http_server.routes["/api/v3/ping"] = Reply(200, {"via": "proxy"})
    monkeypatch.setenv("HTTP_PROXY", http_server.url)  # our test server plays the proxy
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    remote = HttpClient("http://api.binance.example", name="b", now=time.time, max_attempts=1)
    assert remote.get_json("/api/v3/ping") == {"via": "proxy"}
    assert http_server.targets == ["http://api.binance.example/api/v3/ping"]  # absolute form
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # a dead proxy: loopback ignores it
    http_server.routes["/x"] = Reply(200, {"direct": True})
    assert client(http_server).get_json("/x") == {"direct": True}


def test_get_json_when_body_not_json_is_permanent(http_server, clock):
    http_server.routes["/x"] = Reply(200, raw="<html>gateway</html>")
    with pytest.raises(PermanentHttpError, match="not JSON"):
        client(http_server, clock).get_json("/x")


def test_client_refuses_verify_false_for_real_hosts():
    with pytest.raises(ValueError, match="loopback"):
        HttpClient("https://api.binance.com", name="b", now=time.time, verify=False)
    HttpClient("https://127.0.0.1:8443", name="sim", now=time.time, verify=False)
    HttpClient("https://localhost:8443", name="sim", now=time.time, verify=False)


def test_client_refuses_more_than_three_attempts():
    with pytest.raises(ValueError):
        HttpClient("http://127.0.0.1:1", name="b", now=time.time, max_attempts=4)


def test_parse_retry_after_reads_seconds_and_dates():
    assert parse_retry_after("3", 0) == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470) == 10.0
    assert parse_retry_after("soon", 0) is None and parse_retry_after(None, 0) is None
