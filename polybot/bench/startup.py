"""Time from ``polybot up`` to every service healthy.

``polybot up`` (paper, simulator at real speed, synthetic data, a private Redis) is
started in a temporary state directory.  While it runs, its own progress lines are
time-stamped (redis ready, sim ready, each service healthy) and the heartbeat keys are
polled in its private Redis; the stack is healthy when every service has a live
heartbeat.  ``polybot status --json`` then confirms it and ``polybot down`` stops it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SERVICES = ("ledger", "resolver", "executor", "risk", "predictor", "feed", "clock")


def repeat(runs: int) -> dict:
    """``runs`` measurements; the figures are their medians, every run is kept."""
    from statistics import median

    results = [measure() for _ in range(runs)]
    healthy = [r["healthy_s"] for r in results if r["healthy_s"] is not None]
    return {"runs": runs, "healthy_s": round(median(healthy), 3) if healthy else None,
            "up_returned_s": round(median(r["up_returned_s"] for r in results), 3),
            "status_healthy": all(r["status_healthy"] for r in results),
            "healthy_s_all": [r["healthy_s"] for r in results], "each": results}


def measure(timeout_s: float = 60.0) -> dict:
    state = Path(tempfile.mkdtemp(prefix="polybot-bench-up-"))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_PASSWORD")}
    cli = [sys.executable, "-m", "polybot"]
    started = time.monotonic()
    up = subprocess.Popen([*cli, "up", "--state-dir", str(state), "--wait", str(timeout_s)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(target=_read_lines, args=(up, started, lines), daemon=True)
    reader.start()
    try:
        first_beat: dict[str, float] = {}
        healthy_s = _poll_heartbeats(state, started, up, timeout_s, first_beat)
        code = up.wait(timeout_s)
        up_s = time.monotonic() - started
        reader.join(5)
        status = subprocess.run([*cli, "status", "--state-dir", str(state), "--json"], env=env,
                                capture_output=True, text=True, timeout=60)
        doc = json.loads(status.stdout) if status.stdout.strip().startswith("{") else {}
    finally:
        subprocess.run([*cli, "down", "--state-dir", str(state)], env=env, capture_output=True, timeout=120)
        shutil.rmtree(state, ignore_errors=True)
    if code != 0:
        raise RuntimeError("polybot up failed: " + " | ".join(line for _, line in lines[-3:]))
    return {"healthy_s": None if healthy_s is None else round(healthy_s, 3), "up_returned_s": round(up_s, 3),
            "status_healthy": bool(doc.get("healthy")),
            "first_heartbeat_s": {name: round(t, 3) for name, t in sorted(first_beat.items(), key=lambda i: i[1])},
            "steps": {line.split()[0]: round(t, 3) for t, line in lines
                      if line.split() and line.split()[0] in ("redis", "sim", *SERVICES)
                      and ("healthy" in line or "ready" in line)}}


def _read_lines(proc: subprocess.Popen, started: float, out: list) -> None:
    for line in proc.stdout:
        out.append((time.monotonic() - started, line.strip()))


def _poll_heartbeats(state: Path, started: float, up: subprocess.Popen, timeout_s: float,
                     first_beat: dict[str, float]) -> float | None:
    import redis

    from shared.health import read_heartbeats

    stack_file = state / "run" / "stack.json"
    client = None
    while time.monotonic() - started < timeout_s and up.poll() in (None, 0):
        if client is None and stack_file.exists():
            try:
                url = json.loads(stack_file.read_text()).get("redis_url")
            except ValueError:
                url = None
            client = redis.Redis.from_url(url, socket_connect_timeout=1) if url else None
        if client is not None:
            try:
                beating = {key.split(":", 1)[0] for key in read_heartbeats(client)}
            except redis.RedisError:
                beating = set()
            for name in beating - set(first_beat):
                first_beat[name] = time.monotonic() - started
            if all(name in beating for name in SERVICES):
                return time.monotonic() - started
        if up.poll() == 0 and client is None:
            return None
        time.sleep(0.02)
    return None
