"""``python -m services.risk`` as a process: config errors, start-up log, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from shared import streams
from tests.conftest import REPO


def start(env: dict[str, str], cwd) -> subprocess.Popen:
    full_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), **env}
    return subprocess.Popen([sys.executable, "-m", "services.risk"], cwd=cwd, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_service_with_bad_config_exits_2_with_one_line(tmp_path):
    proc = start({"MAX_DRAWDOWN": "1.5"}, tmp_path)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert err.strip().startswith("invalid configuration: MAX_DRAWDOWN=")


@pytest.mark.integration
def test_service_logs_its_config_and_stops_cleanly_on_sigterm(real_redis, redis_url, tmp_path):
    # Arrange
    proc = start({"REDIS_URL": redis_url, "BLOCK_MS": "100", "LOG_LEVEL": "INFO"}, tmp_path)
    try:
        first = json.loads(proc.stdout.readline())
        wait_for_heartbeat(real_redis)  # the loop runs (and the signal handlers are installed)
        # Act
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    finally:
        proc.kill()
    # Assert
    assert first["message"] == "starting"
    assert first["data"]["config"]["max_drawdown"] == "0.30" and first["data"]["config"]["clock"] == "live"
    assert proc.returncode == 0
    assert json.loads(out.strip().splitlines()[-1])["message"] == "stopped"


def wait_for_heartbeat(client, timeout_s: float = 15) -> None:
    key = streams.health_key("risk", "risk-1")
    give_up = time.monotonic() + timeout_s
    while not client.exists(key):
        assert time.monotonic() < give_up, "the risk service never sent a heartbeat"
        time.sleep(0.05)
