from __future__ import annotations

import pytest

from tests.feed.servers import HttpServer


@pytest.fixture
def http_server():
    server = HttpServer()
    yield server
    server.close()


class FakeClock:
    """Injected time: ``sleep`` advances ``now`` instead of waiting."""

    def __init__(self, start: float = 1_773_307_200.0):
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


@pytest.fixture
def clock():
    return FakeClock()
