"""Secrets: canary values given to a whole paper run never show up anywhere we write.

The run uses a password-protected private Redis (REDIS_PASSWORD) and canary
PRIVATE_KEY / CLOB_API_* values, which paper mode must ignore.  Then every log line,
every stream entry (dead letters included), every Redis key and value, every state
file, the report, and the command lines of the running processes are searched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from polybot.chaos import Stack
from shared.http import HttpClient
from tests.redis_server import PrivateRedis
from tests.reliability.conftest import RUN_TIMEOUT_S, stack_options

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CANARIES = {
    "REDIS_PASSWORD": "canary-redis-7f3a9c1e5b",
    "PRIVATE_KEY": "0x" + "c1a2" * 16,
    "CLOB_API_KEY": "canary-key-0a1b2c3d",
    "CLOB_API_SECRET": "canary-secret-9e8d7c6b5a",
    "CLOB_API_PASSPHRASE": "canary-pass-5a6b7c8d9e",
}


def needles() -> list[bytes]:
    values = list(CANARIES.values()) + [CANARIES["PRIVATE_KEY"][2:]]  # the key without 0x too
    return [v.encode() for v in values]


def redis_dump(client) -> bytes:
    """Every key and value, whatever its type (streams include their dead letters)."""
    out = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        read = {"string": client.get, "hash": client.hgetall, "list": lambda k: client.lrange(k, 0, -1),
                "set": client.smembers, "zset": lambda k: client.zrange(k, 0, -1, withscores=True),
                "stream": lambda k: client.xrange(k)}.get(kind, lambda k: b"")
        out.append(repr((key, read(key))).encode())
    return b"\n".join(out)


def command_lines(stack: Stack) -> bytes:
    lines = []
    for child in stack.processes.children:
        try:
            lines.append(Path(f"/proc/{child.proc.pid}/cmdline").read_bytes())
        except OSError:
            pass
    return b"\n".join(lines)


def files_under(*directories: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for d in directories for p in d.rglob("*") if p.is_file()}


def leaks(haystacks: dict[str, bytes]) -> list[str]:
    return [f"{needle.decode()[:16]}… in {where}" for where, data in haystacks.items()
            for needle in needles() if needle in data]


def test_canary_secrets_appear_in_no_log_stream_key_file_report_or_command_line(real_csv, tmp_path):
    # Arrange
    env = {k: v for k, v in CANARIES.items() if k != "REDIS_PASSWORD"} | {"TRADING_MODE": "paper"}
    opts = stack_options(real_csv, 3, redis_password=CANARIES["REDIS_PASSWORD"], service_env=env)

    # Act
    with Stack(tmp_path / "run", opts) as stack:
        assert stack.wait_complete(RUN_TIMEOUT_S), f"logs in {stack.processes.log_dir}"
        found = {"redis": redis_dump(stack.client), "command lines": command_lines(stack)}
        ignored = [line for line in (stack.processes.log_dir / "executor.log").read_text().splitlines()
                   if "never loads keys" in line]
    report = subprocess.run([sys.executable, "-m", "polybot", "report", "--state-dir", str(tmp_path / "run/state")],
                            capture_output=True, timeout=120)
    found |= {"report output": report.stdout + report.stderr}
    found |= files_under(tmp_path / "run")  # logs, state files, the written report

    # Assert
    assert report.returncode == 0, report.stderr[-2000:]
    assert len(found) > 10 and found["redis"].count(b"polybot:") > 10  # we did look at something
    assert ignored, "the executor should say it ignores the configured credentials"
    assert leaks(found) == []


def test_live_mode_refuses_to_start_without_the_explicit_confirmation(tmp_path):
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    base |= {"VENUE": "polymarket", "TRADING_MODE": "live", "PRIVATE_KEY": CANARIES["PRIVATE_KEY"],
             "REDIS_URL": "redis://127.0.0.1:1/0", "CLOCK": "live"}
    for confirmation in (None, "yes", "i_understand_real_money"):
        env = base | ({"LIVE_CONFIRM": confirmation} if confirmation else {})
        proc = subprocess.run([sys.executable, "-m", "services.executor"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert "LIVE_CONFIRM" in proc.stderr and "I_UNDERSTAND_REAL_MONEY" in proc.stderr
        assert CANARIES["PRIVATE_KEY"][2:] not in proc.stdout + proc.stderr


def test_tls_verification_cannot_be_turned_off_for_real_hosts(monkeypatch):
    with pytest.raises(ValueError, match="only allowed for loopback"):
        HttpClient("https://api.binance.com", name="binance", now=lambda: 0.0, verify=False)
    HttpClient("http://127.0.0.1:8080", name="sim", now=lambda: 0.0, verify=False)  # the simulator
    monkeypatch.setenv("CURL_CA_BUNDLE", "")  # the old way to switch requests' checks off
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    assert HttpClient("https://api.binance.com", name="binance", now=lambda: 0.0)._verify is True
    # ... and no code path asks for it anywhere else
    offenders = [str(p) for p in (REPO / "services").rglob("*.py")
                 if re.search(r"verify\s*=\s*False", p.read_text())]
    offenders += [str(p) for p in (REPO / "shared").rglob("*.py")
                  if p.name != "http.py" and re.search(r"verify\s*=\s*False", p.read_text())]
    assert offenders == []


@pytest.mark.parametrize("use_redis_url", [True, False], ids=["REDIS_URL", "private-redis"])
def test_polybot_run_works_end_to_end_with_a_redis_password(use_redis_url, tmp_path):
    password = CANARIES["REDIS_PASSWORD"]
    server = PrivateRedis(password=password) if use_redis_url else None
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_PASSWORD")}
        env["REDIS_PASSWORD"] = password
        if server is not None:
            env["REDIS_URL"] = server.url
        proc = subprocess.run([sys.executable, "-m", "polybot", "run", "--intervals", "2", "--state-dir",
                               str(tmp_path / "state"), "--timeout", "90"],
                              env=env, cwd=tmp_path, capture_output=True, timeout=150)
        if server is not None:
            assert server.client().exists("polybot:ledger:state")  # it really used that Redis
    finally:
        if server is not None:
            server.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert leaks({"output": proc.stdout + proc.stderr} | files_under(tmp_path / "state")) == []


def test_polybot_run_without_the_password_of_a_protected_redis_is_one_clear_error(tmp_path):
    server = PrivateRedis(password=CANARIES["REDIS_PASSWORD"])
    try:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_PASSWORD"} | {"REDIS_URL": server.url}
        proc = subprocess.run([sys.executable, "-m", "polybot", "run", "--intervals", "2", "--state-dir",
                               str(tmp_path / "state")], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)
    finally:
        server.stop()
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: REDIS_URL refused the credentials")
    assert "Traceback" not in proc.stderr
