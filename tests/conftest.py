from __future__ import annotations

import os
import sys
from pathlib import Path

import fakeredis
import pytest
import redis

from tests.redis_server import test_redis_url

REPO = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    candidates = [os.environ.get("POLYBOT_DATA_DIR"), REPO.parent / "shared" / "data" / "btcusdt-1m"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir() and any(Path(candidate).glob("*.csv")):
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    found = shared_data_dir()
    if found is None:
        pytest.skip("real BTCUSDT data not found: set POLYBOT_DATA_DIR or place ../shared/data/btcusdt-1m beside the repo")
    return found


@pytest.fixture
def fake_redis():
    return fakeredis.FakeRedis()


@pytest.fixture(scope="session")
def redis_url():
    url, server = test_redis_url()
    yield url
    if server is not None:
        server.stop()


@pytest.fixture
def real_redis(redis_url):
    """A real Redis, flushed before and after each test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def python() -> str:
    return sys.executable
