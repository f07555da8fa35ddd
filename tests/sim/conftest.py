"""Fixtures for the simulator tests: an in-process simulator in ``max`` speed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests

from services.sim import SimConfig, SimServer

START_MS = 1_767_225_600_000  # the synthetic default start, 2026-01-01T00:00:00Z
START_S = START_MS // 1000
PRIVATE_KEY = "0x" + "11" * 32

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def btc_data_dir() -> Path:
    """The real BTCUSDT 1m CSVs: $POLYBOT_DATA_DIR or <repo>/../shared/data/btcusdt-1m."""
    candidates = (os.environ.get("POLYBOT_DATA_DIR"),
                  REPO.parent / "shared" / "data" / "btcusdt-1m")
    for candidate in candidates:
        if candidate and Path(candidate).is_dir() and any(Path(candidate).glob("*.csv")):
            return Path(candidate)
    pytest.skip("real BTCUSDT data not found: set POLYBOT_DATA_DIR or put the shared data at "
                "<repo>/../shared/data/btcusdt-1m")


class SimHandle:
    """A running simulator plus small helpers to drive it over HTTP."""

    def __init__(self, server: SimServer):
        self.server = server
        self.urls = server.urls
        self.http = requests.Session()

    @property
    def venue(self):
        return self.server.venue

    def get(self, service: str, path: str, **params) -> requests.Response:
        return self.http.get(self.urls[service] + path, params=params or None, timeout=10)

    def get_json(self, service: str, path: str, **params):
        response = self.get(service, path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def now_ms(self) -> int:
        return self.get_json("control", "/clock")["now_ms"]

    def advance_to(self, now_ms: int) -> dict:
        response = self.http.post(self.urls["control"] + "/clock", json={"now_ms": now_ms},
                                  timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def set_faults(self, spec: str) -> requests.Response:
        return self.http.post(self.urls["control"] + "/faults", json={"spec": spec}, timeout=10)

    def market(self, start_s: int) -> dict:
        return self.get_json("gamma", f"/markets/slug/btc-updown-5m-{start_s}")

    def tokens(self, start_s: int) -> dict[str, str]:
        market = self.market(start_s)
        return dict(zip(json.loads(market["outcomes"]), json.loads(market["clobTokenIds"])))


def start_sim(**overrides) -> SimHandle:
    config = SimConfig(**{"speed": None, "seed": 7, **overrides})
    server = SimServer(config)
    server.start()
    return SimHandle(server)


@pytest.fixture
def sim():
    handle = start_sim()
    yield handle
    handle.server.stop()


@pytest.fixture
def make_sim():
    """Start simulators with custom settings; all are stopped after the test."""
    started: list[SimHandle] = []

    def factory(**overrides) -> SimHandle:
        handle = start_sim(**overrides)
        started.append(handle)
        return handle

    yield factory
    for handle in started:
        handle.server.stop()
