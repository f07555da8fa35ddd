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


def stake_rule(streak: int, capital: Decimal, floor: Decimal = Decimal(70)) -> Decimal:
    """The sizing rule, written again here: 5 × 1.5^streak capped at 25, within capital − floor."""
    wanted = min(Decimal(5) * Decimal("1.5") ** streak, Decimal(25)).quantize(Decimal("0.01"), "ROUND_DOWN")
    return min(wanted, (capital - floor).quantize(Decimal("0.01"), "ROUND_DOWN"))


@pytest.mark.parametrize("name,start", [
    ("BTCUSDT-1m-2021-11-12_2021-12-10.csv", "2021-12-04T04:00:00Z"),  # the 4 Dec 2021 crash
    ("BTCUSDT-1m-2023-08-27_2023-09-28.csv", "2023-09-11T18:00:00Z"),  # a calm month
    ("BTCUSDT-1m-2025-03-02_2025-03-31.csv", "2025-03-02T16:00:00Z"),  # the reserve-news spike
])
def test_replayed_runs_keep_the_money_invariants(tmp_path, data_dir, name, start):
    proc, state = polybot_run(tmp_path, "--data", str(data_dir / name), "--start", start)
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_invariants(state, 18)
    bot = json.loads((state / "bot_state.json").read_text())
    capital, streak = Decimal(bot["starting_capital"]), 0
    for r in records(state):
        if r["outcome"] in ("WIN", "LOSS"):
            stake = Decimal(r["position_size"])
            assert stake <= stake_rule(streak, capital), r  # never more than the rule allows
            assert stake >= stake_rule(streak, capital) - Decimal("1"), r  # only the fee guard trims it
        capital += Decimal(r["pnl"])
        assert capital == Decimal(r["capital_after"]) and capital > Decimal(bot["floor"])
        streak = r["win_streak_after"]


def test_a_run_halts_at_its_drawdown_floor_and_trades_nothing_after(tmp_path, monkeypatch):
    monkeypatch.setenv("MAX_DRAWDOWN", "0.05")  # floor 95: the first loss uses up the room
    proc, state = polybot_run(tmp_path, "--intervals", "18")
    assert proc.returncode == 0, proc.stderr[-3000:]
    bot = json.loads((state / "bot_state.json").read_text())
    assert bot["halted"] and "max drawdown" in bot["halt_reason"] and not bot["is_active"]
    recs = records(state)
    halt_at = next(i for i, r in enumerate(recs) if r["skip_reason"] and "max drawdown" in r["skip_reason"])
    assert recs[halt_at + 1:] == [] and len(recs) < 18
    assert Decimal(bot["current_capital"]) >= Decimal("95")
