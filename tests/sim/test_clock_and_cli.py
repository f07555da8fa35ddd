"""The clock contract and the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.sim.conftest import START_MS

REPO = Path(__file__).resolve().parents[2]


def test_clock_moves_only_forward_in_max_mode(sim):
    clock = sim.get_json("control", "/clock")
    assert clock == {"now_ms": START_MS, "speed": "max", "start_ms": START_MS}
    time.sleep(0.05)
    assert sim.now_ms() == START_MS
    assert sim.advance_to(START_MS + 1234)["now_ms"] == START_MS + 1234
    backward = sim.http.post(sim.urls["control"] + "/clock", json={"now_ms": START_MS}, timeout=5)
    assert backward.status_code == 409 and "backward" in backward.json()["error"]
    assert sim.http.post(sim.urls["control"] + "/clock", json={}, timeout=5).status_code == 400
    assert sim.get_json("clob", "/time") == (START_MS + 1234) // 1000


def test_speed_mode_runs_with_wall_time_and_can_be_jumped(make_sim):
    sim = make_sim(speed=60.0)
    first = sim.now_ms()
    time.sleep(0.2)
    assert 6_000 <= sim.now_ms() - first <= 60_000
    assert sim.get_json("control", "/clock")["speed"] == 60.0
    jumped = sim.advance_to(first + 3_600_000)["now_ms"]
    assert sim.now_ms() >= jumped


def test_coingecko_price_and_last_update(sim):
    sim.advance_to(START_MS + 95_000)
    body = sim.get_json("coingecko", "/api/v3/simple/price", ids="bitcoin", vs_currencies="usd",
                        include_last_updated_at="true")
    assert set(body["bitcoin"]) == {"usd", "last_updated_at"}
    assert body["bitcoin"]["last_updated_at"] == (START_MS + 60_000) // 1000
    assert isinstance(body["bitcoin"]["usd"], float)
    other = sim.get_json("coingecko", "/api/v3/simple/price", ids="ethereum", vs_currencies="usd")
    assert other == {}


def test_cli_prints_one_json_line_and_exits_cleanly_on_sigterm():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "services.sim", "--speed", "max", "--seed", "3"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        urls = json.loads(process.stdout.readline())
        assert set(urls) == {"clob", "gamma", "binance_rest", "binance_ws", "coingecko", "control"}
        assert requests.get(urls["clob"] + "/ok", timeout=5).json() == "OK"
        assert requests.get(urls["control"] + "/clock", timeout=5).json()["speed"] == "max"
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert out == ""  # nothing after the one JSON line


def test_cli_refuses_a_bad_fault_spec():
    from services.sim.main import main

    assert main(["--faults", "clob:/order=explode"]) == 2
