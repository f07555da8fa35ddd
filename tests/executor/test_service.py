"""``python -m services.executor`` as a process, against a real Redis (integration)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import msgspec
import pytest

from shared import messages as m, streams
from shared.bus import Bus
from tests.executor.helpers import submit_order

pytestmark = pytest.mark.integration
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CANARY_KEY = "0x" + "5e" * 32


def start_executor(redis_url: str, tmp_path, **env) -> subprocess.Popen:
    environ = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME", "LANG")}
    environ.update(PYTHONPATH=REPO, REDIS_URL=redis_url, VENUE="polymarket", TRADING_MODE="paper",
                   BLOCK_MS="100", PRIVATE_KEY=CANARY_KEY, **env)
    return subprocess.Popen([sys.executable, "-m", "services.executor"], cwd=tmp_path, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_until(proc: subprocess.Popen, message: str, timeout_s: float = 20) -> list[dict]:
    lines, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        entry = json.loads(line)
        lines.append(entry)
        if entry["message"] == message:
            return lines
    raise AssertionError(f"no {message!r} log line; got {lines}")


def test_service_starts_logs_redacted_config_fills_a_paper_order_and_stops_on_sigterm(redis_url, real_redis, tmp_path):
    # Arrange
    proc = start_executor(redis_url, tmp_path)
    try:
        lines = read_until(proc, "executor ready")
        # Act: a paper order whose entry deadline is still ahead on the live clock
        cmd = msgspec.structs.replace(submit_order(), entry_deadline=int(time.time()) + 60,
                                      decided_at_ns=time.time_ns())
        Bus(real_redis).publish(streams.ORDER_CMDS, cmd)
        deadline = time.monotonic() + 10
        while not real_redis.xlen(streams.ORDER_EVENTS) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=15)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    # Assert
    (_, fields), = real_redis.xrange(streams.ORDER_EVENTS)
    event = m.decode(streams.ORDER_EVENTS, fields[b"data"])
    assert isinstance(event, m.OrderFilled) and event.shares == Decimal("19.6078")
    config = next(line for line in lines if line["message"] == "starting")["data"]["config"]
    assert config["private_key"] == "***" and config["venue"] == "polymarket"
    output = json.dumps(lines) + rest
    assert CANARY_KEY not in output and "never loads keys" in output
    assert proc.returncode == 0 and '"message":"stopped"' in rest
