"""Bad configuration: every service entry point, given one bad value, exits 2 with one
stderr line naming the variable, before it talks to anything."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# One value each service validates itself, and one every service shares.
OWN_BAD_VALUE = {
    "clock": ("INTERVALS", "0"),
    "feed": ("DEPTH_LEVELS", "7"),
    "predictor": ("RSI_PERIOD", "-3"),
    "risk": ("MAX_STAKE", "lots"),
    "executor": ("TRADING_MODE", "yolo"),
    "ledger": ("MAX_DRAWDOWN", "1.5"),
    "resolver": ("MAX_POLLS", "0"),
}
SHARED_BAD_VALUE = ("REDIS_URL", "http://127.0.0.1:1/0")
CASES = [(s, *OWN_BAD_VALUE[s]) for s in OWN_BAD_VALUE] + [(s, *SHARED_BAD_VALUE) for s in OWN_BAD_VALUE]


def clean_env(tmp_path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({"REDIS_URL": "redis://127.0.0.1:1/0", "CLOCK": "sim", "SIM_CONTROL_URL": "http://127.0.0.1:1/sim",
                "CLOB_URL": "http://127.0.0.1:1/clob", "STATE_DIR": str(tmp_path / "state")})
    return env


@pytest.mark.parametrize(("service", "variable", "value"), CASES,
                         ids=[f"{s}-{v}" for s, v, _ in CASES])
def test_one_bad_value_exits_2_with_one_line_naming_the_variable(service, variable, value, tmp_path):
    # Arrange (port 1: nothing listens, so a service that tried to connect would fail differently)
    env = clean_env(tmp_path) | {variable: value}

    # Act
    proc = subprocess.run([sys.executable, "-m", f"services.{service}"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)

    # Assert
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and variable in lines[0], proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_env_file_readable_by_others_is_warned_about_by_a_service_entry_point(tmp_path):
    # Arrange: a .env beside the working directory, world-readable, with a bad value so the
    # service stops right after reading its configuration
    env_file = tmp_path / ".env"
    env_file.write_text("INTERVALS=0\n")
    env_file.chmod(0o644)

    # Act
    proc = subprocess.run([sys.executable, "-m", "services.clock"], env=clean_env(tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)

    # Assert
    assert proc.returncode == 2
    assert "readable by other users" in proc.stderr and "chmod 600" in proc.stderr, proc.stderr
    assert "INTERVALS" in proc.stderr  # the value did come from the file


def test_private_env_file_gives_no_warning(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("INTERVALS=0\n")
    env_file.chmod(0o600)
    proc = subprocess.run([sys.executable, "-m", "services.clock"], env=clean_env(tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "readable" not in proc.stderr
