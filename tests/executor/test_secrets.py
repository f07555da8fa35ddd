"""Live mode end to end on a fake venue: no secret in Redis, streams, logs or errors."""

from __future__ import annotations

import logging

import pytest

from shared import streams
from shared.config import load
from services.executor.config import LIVE_CONFIRMATION, ExecutorConfig
from services.executor.handler import ExecutorHandler
from services.executor.main import make_broker
from services.executor.records import OrderRecords
from shared.clock import ManualClock
from tests.executor import fake_clob
from tests.executor.fake_clob import FakeClob
from tests.executor.helpers import T0, submit_order

PRIVATE_KEY = "0x" + "4c" * 32
API_SECRET = "c2VjcmV0LWNhbmFyeS1zZWNyZXQtY2FuYXJ5LQ=="
PASSPHRASE = "passphrase-canary-0042"
SECRETS = (PRIVATE_KEY, PRIVATE_KEY[2:], API_SECRET, PASSPHRASE)


def live_handler(fake: FakeClob, redis_client) -> ExecutorHandler:
    cfg = load(ExecutorConfig, {
        "VENUE": "polymarket", "TRADING_MODE": "live", "LIVE_CONFIRM": LIVE_CONFIRMATION,
        "CLOB_URL": "https://clob.invalid", "PRIVATE_KEY": PRIVATE_KEY, "SIGNATURE_TYPE": "2",
        "FUNDER": "0x" + "ab" * 20, "CLOB_API_KEY": fake_clob.API_KEY, "CLOB_API_SECRET": API_SECRET,
        "CLOB_API_PASSPHRASE": PASSPHRASE})
    broker = make_broker(cfg, pool=fake.pool())
    return ExecutorHandler(broker, OrderRecords(redis_client), ManualClock(T0 + 5), sleep=lambda s: None)


def everything_in(redis_client) -> bytes:
    dump = b""
    for key in redis_client.keys("*"):
        kind = redis_client.type(key)
        if kind == b"string":
            dump += key + redis_client.get(key)
        elif kind == b"stream":
            dump += key + repr(redis_client.xrange(key)).encode()
    return dump


@pytest.mark.parametrize("venue_answers", [
    [],                                                       # filled
    [(500, {"error": "order timed out"})] * 3,                # retried, looked up, filled
    [(401, {"error": "Unauthorized/Invalid api key"})] * 3,   # auth trouble
])
def test_no_secret_reaches_redis_logs_or_errors(fake_redis, caplog, venue_answers):
    # Arrange
    fake = FakeClob()
    fake.post_answers = list(venue_answers)
    handler = live_handler(fake, fake_redis)
    # Act
    with caplog.at_level(logging.DEBUG):
        outputs = handler.handle(streams.ORDER_CMDS, submit_order(condition_id=fake_clob.CONDITION))
    # Assert
    assert fake.posted and fake.posted[0]["order"]["maker"] == "0x" + "ab" * 20  # live signing used the funder
    shown = everything_in(fake_redis) + repr(outputs).encode()
    shown += "".join(f"{r.getMessage()} {getattr(r, 'data', '')} {r.exc_text or ''}" for r in caplog.records).encode()
    assert not [s for s in SECRETS if s.encode() in shown]
