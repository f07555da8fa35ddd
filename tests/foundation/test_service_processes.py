"""Every service module starts, logs its validated config (secrets redacted), beats its
heartbeat, and stops cleanly on SIGTERM; a bad config value exits 2 with one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from services.sim.config import SimConfig
from services.sim.server import SimServer
from shared import streams

pytestmark = pytest.mark.integration

SERVICES = ("clock", "feed", "predictor", "risk", "executor", "ledger", "resolver")
CANARY = "0x" + "c4" * 32  # a "private key" that paper mode must ignore and never print


@pytest.fixture(scope="module")
def sim():
    server = SimServer(SimConfig(speed=None))
    urls = server.start()
    yield urls
    server.stop()


def service_env(sim_urls: dict, redis_url: str, state_dir) -> dict:
    env = dict(os.environ)
    env.update({"REDIS_URL": redis_url, "CLOCK": "sim", "SIM_CONTROL_URL": sim_urls["control"],
                "VENUE": "sim", "TRADING_MODE": "paper", "CLOB_URL": sim_urls["clob"],
                "GAMMA_URL": sim_urls["gamma"], "BINANCE_REST_URL": sim_urls["binance_rest"],
                "BINANCE_WS_URL": sim_urls["binance_ws"], "COINGECKO_URL": sim_urls["coingecko"],
                "STATE_DIR": str(state_dir), "PRIVATE_KEY": CANARY, "PYTHONUNBUFFERED": "1"})
    return env


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("service", SERVICES)
def test_service_starts_logs_redacted_config_beats_and_stops_on_sigterm(service, sim, real_redis, redis_url, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", f"services.{service}"], env=service_env(sim, redis_url, tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        beating = wait_for(lambda: any(real_redis.scan_iter(match=streams.health_key(service, "*"))), 20)
        assert beating, f"{service} never wrote its heartbeat"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output[-2000:]
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    starting = next(line for line in lines if line["message"] == "starting")
    assert starting["component"] == service and "redis_url" in starting["data"]["config"]
    assert CANARY not in output


@pytest.mark.parametrize("service,variable,value", [
    ("clock", "INTERVALS", "0"), ("feed", "DEPTH_LEVELS", "7"), ("predictor", "RSI_PERIOD", "x"),
    ("risk", "MAX_DRAWDOWN", "2"), ("executor", "TRADING_MODE", "yolo"), ("ledger", "STARTING_CAPITAL", "-5"),
    ("resolver", "LOG_LEVEL", "LOUD"),
])
def test_bad_config_value_exits_2_with_one_line_naming_the_variable(service, variable, value, sim, redis_url, tmp_path):
    env = service_env(sim, redis_url, tmp_path)
    env[variable] = value
    proc = subprocess.run([sys.executable, "-m", f"services.{service}"], env=env, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and variable in errors[0], proc.stderr
