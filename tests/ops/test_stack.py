"""polybot up -> status --json -> restart executor -> down, for real, under supervisor.

Paper on the simulator at --speed max (lockstep), a private Redis, a short warm-stop
grace (the ServiceLoop services ignore SIGTERM until shared/runtime.py is fixed).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("supervisor", reason="supervisor runs the stack (pip install supervisor)")
pytestmark = [pytest.mark.integration, pytest.mark.slow]

ALL = {"redis", "sim", "ledger", "resolver", "executor", "risk", "predictor", "feed", "clock"}


def polybot(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # the stack's own Redis
    return subprocess.run([sys.executable, "-m", "polybot", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line or environment names ``text`` (our state dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in blob and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def status(state: Path, cwd: Path) -> dict:
    done = polybot("status", "--json", "--state-dir", str(state), cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def test_up_status_restart_down_leaves_nothing_behind(tmp_path):
    state = tmp_path / "state"
    started, pids = time.monotonic(), set()
    try:
        up = polybot("up", "--state-dir", str(state), "--speed", "max", "--intervals", "2", "--wait", "60",
                     "--stop-wait", "3", cwd=tmp_path)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "polybot is up" in up.stdout

        doc = status(state, tmp_path)
        assert doc["running"] and doc["healthy"], json.dumps(doc, indent=1)
        procs = {p["name"]: p for p in doc["processes"]}
        assert set(procs) == ALL
        for name in ALL - {"redis", "sim"}:
            assert procs[name]["state"] in ("STARTING", "RUNNING") and procs[name]["pid"]  # STARTING: within supervisor's startsecs, already beating
            assert procs[name]["heartbeat_age_s"] is not None and procs[name]["heartbeat_age_s"] < 15
        assert doc["bot"] is not None and doc["bot"]["halted"] is False
        pids |= {p["pid"] for p in doc["processes"]} | {doc["supervisord_pid"]}

        again = polybot("up", "--state-dir", str(state), cwd=tmp_path)
        assert again.returncode == 1 and again.stderr.startswith("error: ") and "already up" in again.stderr

        restart = polybot("restart", "executor", "--state-dir", str(state), "--wait", "30", cwd=tmp_path)
        assert restart.returncode == 0, restart.stdout + restart.stderr
        after = {p["name"]: p for p in status(state, tmp_path)["processes"]}
        assert after["executor"]["pid"] != procs["executor"]["pid"] and after["executor"]["healthy"]
        assert after["ledger"]["pid"] == procs["ledger"]["pid"]  # nothing else was touched
        pids.add(after["executor"]["pid"])
    finally:
        down = polybot("down", "--state-dir", str(state), cwd=tmp_path)
        _kill_leftovers(state)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not [pid for pid in pids if alive(pid)]
    assert processes_mentioning(str(state)) == []
    assert polybot("status", "--state-dir", str(state), cwd=tmp_path).returncode == 3
    assert polybot("down", "--state-dir", str(state), cwd=tmp_path).returncode == 0  # idempotent
    assert time.monotonic() - started < 90


def _kill_leftovers(state: Path) -> None:
    """Only if down failed: end the processes this test started (by pid, never by name)."""
    for pid in processes_mentioning(str(state)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_restart_and_status_without_a_stack_fail_clearly(tmp_path):
    restart = polybot("restart", "executor", "--state-dir", str(tmp_path / "none"), cwd=tmp_path)
    assert restart.returncode == 1
    assert restart.stderr.strip().count("\n") == 0 and restart.stderr.startswith("error: no stack running")
    logs = polybot("logs", "ledger", "--state-dir", str(tmp_path / "none"), cwd=tmp_path)
    assert logs.returncode == 1 and logs.stderr.startswith("error: no log at")
