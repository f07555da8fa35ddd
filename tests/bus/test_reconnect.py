"""A service outlives a Redis restart: it waits, reconnects, recreates its group and
goes on; past ``REDIS_RECONNECT_S`` it gives up with the connection error."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import pytest
import redis

from polybot.processes import Processes, free_port, start_private_redis
from shared import streams
from shared.bus import Bus
from shared.redis_conn import connect
from shared.runtime import RuntimeConfig, ServiceLoop, StopFlag
from tests import stubs
from tests.bus.echo_service import OUT, Echo

pytestmark = pytest.mark.integration


@pytest.fixture
def private_redis():
    processes = Processes(Path(tempfile.mkdtemp(prefix="polybot-test-reconnect-")))
    port = free_port()
    url = start_private_redis(processes, port=port)
    yield processes, port, url
    processes.stop_all()


def wait_until(condition, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_loop_survives_a_redis_restart_and_handles_what_comes_after(private_redis):
    processes, port, url = private_redis
    client = connect(url)
    stop = StopFlag()
    loop = ServiceLoop(Echo(), Bus(client), RuntimeConfig(redis_url=url, block_ms=50, redis_reconnect_s=20),
                       stop=stop)
    errors: list[BaseException] = []
    thread = threading.Thread(target=lambda: _run(loop, errors), daemon=True)
    thread.start()
    Bus(client).publish(streams.CLOCK, stubs.tick(1))
    assert wait_until(lambda: len(client.xrange(OUT)) == 1)

    # Redis dies and comes back empty on the same port while the loop is blocked reading
    processes.kill("redis")
    time.sleep(0.5)
    start_private_redis(processes, port=port)
    Bus(client).publish(streams.CLOCK, stubs.tick(2))

    assert wait_until(lambda: len(client.xrange(OUT)) == 1 and client.xpending(streams.CLOCK, "echo")["pending"] == 0)
    stop.set()
    thread.join(5)
    assert not errors and not thread.is_alive()
    assert client.xinfo_groups(streams.CLOCK)[0]["name"] in (b"echo", "echo")  # group recreated


def test_loop_gives_up_after_the_reconnect_window(private_redis):
    processes, _port, url = private_redis
    loop = ServiceLoop(Echo(), Bus(connect(url)), RuntimeConfig(redis_url=url, block_ms=50, redis_reconnect_s=1))
    errors: list[BaseException] = []
    thread = threading.Thread(target=lambda: _run(loop, errors), daemon=True)
    thread.start()
    time.sleep(0.3)
    processes.kill("redis")
    thread.join(10)
    assert not thread.is_alive()
    assert errors and isinstance(errors[0], redis.ConnectionError)


def _run(loop: ServiceLoop, errors: list) -> None:
    try:
        loop.run()
    except BaseException as exc:  # noqa: BLE001 - handed to the test thread
        errors.append(exc)
