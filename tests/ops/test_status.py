"""polybot status: health from heartbeats, the human form, exit codes; up's pre-flight."""

from __future__ import annotations

import pytest

from polybot.cli import main
from polybot.stack.health import service_health
from polybot.stack.status import exit_code, render

NOW = 1_700_000_000.0
BEATS = {"executor:executor-1": {"pid": 42, "ts": NOW - 2.5, "processed": 7, "errors": 0},
         "risk:risk-1": {"pid": 43, "ts": NOW - 0.5, "processed": 1}}


def test_health_is_a_live_heartbeat_from_that_pid():
    health = service_health(BEATS, "executor", pid=42, now=NOW)
    assert health.healthy and health.heartbeat_age_s == 2.5 and health.consumer == "executor-1"
    assert health.counters == {"processed": 7, "errors": 0}
    assert not service_health(BEATS, "executor", pid=99, now=NOW).healthy  # the old process's key
    assert service_health(BEATS, "executor", now=NOW).healthy  # no pid known (compose)
    assert not service_health(BEATS, "ledger", now=NOW).healthy


def doc(**overrides) -> dict:
    base = {"running": True, "state_dir": "/s", "supervisord_pid": 1, "redis_error": None, "healthy": True,
            "processes": [{"name": "executor", "state": "RUNNING", "pid": 42, "healthy": True,
                           "heartbeat_age_s": 2.5, "note": ""}],
            "bot": {"run_id": "run-1", "current_capital": "69.5", "starting_capital": "100",
                    "peak_capital": "100", "win_streak": 0, "total_trades": 6, "current_interval": 7,
                    "intervals_total": 18, "settled_through": 6, "halted": True,
                    "halt_reason": "drawdown: capital 69.50 <= floor 70.00",
                    "open_position": {"interval": 7, "outcome": "Up", "stake": "5", "avg_price": "0.52",
                                      "shares": "9.61", "fee": "0.07", "order_id": "0xabc"}},
            "bot_source": "redis"}
    return {**base, **overrides}


def test_human_status_shows_processes_state_halt_and_position():
    text = render(doc())
    assert "executor   RUNNING        42  healthy     2.5s ago\n" in text
    assert "capital $69.50 (start $100.00, peak $100.00)" in text
    assert "halted: drawdown: capital 69.50 <= floor 70.00 (polybot reset-halt clears it)" in text
    assert "open position: interval 7 Up stake $5.00 @ 0.52 (9.61 shares, fee 0.07), order 0xabc" in text


def test_exit_codes():
    assert exit_code(doc()) == 0
    assert exit_code(doc(healthy=False)) == 1
    assert exit_code(doc(running=False, processes=[{"healthy": False}])) == 3
    assert exit_code(doc(running=False, processes=[{"healthy": True}, {"healthy": False}])) == 1


def test_up_checks_every_config_before_starting_anything(tmp_path, monkeypatch, capsys):
    pytest.importorskip("supervisor")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIVE_CONFIRM", raising=False)
    assert main(["up", "--market", "polymarket", "--mode", "live", "--state-dir", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: executor: invalid configuration: LIVE_CONFIRM=") and err.count("\n") == 1
    assert not (tmp_path / "s").exists()
