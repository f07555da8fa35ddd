"""End to end: `polybot run` through real Redis and separate processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def polybot_run(tmp_path: Path, *args: str, timeout: float = 240) -> tuple[subprocess.CompletedProcess, Path]:
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # exercise the private Redis
    proc = subprocess.run([sys.executable, "-m", "polybot", "run", "--state-dir", str(state),
                           "--timeout", str(timeout - 20), *args],
                          env=env, capture_output=True, text=True, timeout=timeout)
    return proc, state


def records(state: Path) -> list[dict]:
    return [json.loads(line) for line in (state / "trades.log").read_text().splitlines()]


def check_invariants(state: Path, intervals: int) -> None:
    recs = records(state)
    bot = json.loads((state / "bot_state.json").read_text())
    assert [r["interval_number"] for r in recs] == list(range(1, len(recs) + 1))
    assert len(recs) == intervals or bot["halted"]
    assert Decimal(bot["current_capital"]) == Decimal(bot["starting_capital"]) + sum(Decimal(r["pnl"]) for r in recs)
    assert Decimal(bot["current_capital"]) > Decimal(bot["floor"]) - Decimal("25") * 0  # never below the floor
    assert len({r["order_id"] for r in recs if r["order_id"]}) == sum(1 for r in recs if r["order_id"])
    equity = (state / "equity_curve.csv").read_text().splitlines()
    assert len(equity) == len(recs) + 1


def test_polybot_run_with_defaults_completes_a_paper_run_on_the_simulator(tmp_path):
    proc, state = polybot_run(tmp_path, "--intervals", "6")
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    assert "summary" in proc.stdout
    check_invariants(state, 6)


def test_polybot_run_replays_a_real_file_deterministically(tmp_path, data_dir):
    csv = str(data_dir / "BTCUSDT-1m-2024-07-27_2024-08-24.csv")
    args = ("--data", csv, "--start", "2024-08-05T06:00:00Z", "--intervals", "8")
    first, state_a = polybot_run(tmp_path / "a", *args)
    second, state_b = polybot_run(tmp_path / "b", *args)
    assert first.returncode == 0, first.stderr[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    check_invariants(state_a, 8)
    for name in ("trades.log", "bot_state.json", "equity_curve.csv"):
        assert (state_a / name).read_bytes() == (state_b / name).read_bytes(), name
