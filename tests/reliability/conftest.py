"""Fixtures for the reliability suite: real processes on a real (shared) BTCUSDT file.

Every stack a test starts is stopped in a ``finally`` (the ``Stack`` context manager),
and every wait has a timeout, so a failure never leaves processes behind nor hangs CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from polybot.chaos import Stack, StackOptions

CSV_NAME = "BTCUSDT-1m-2024-07-27_2024-08-24.csv"
START = "2024-08-05T06:00:00Z"  # intervals 1-3 trade (DOWN), 4-8 mostly skip
RUN_TIMEOUT_S = 120.0


@pytest.fixture(scope="session")
def real_csv(data_dir) -> str:
    path = Path(data_dir) / CSV_NAME
    if not path.exists():
        pytest.skip(f"{CSV_NAME} not in {data_dir}")
    return str(path)


def stack_options(csv: str, intervals: int, **overrides) -> StackOptions:
    return StackOptions(data=csv, start=START, intervals=intervals, **overrides)


def complete_run(run_dir: Path, opts: StackOptions, timeout_s: float = RUN_TIMEOUT_S) -> dict:
    """Run a stack to completion; its files, records and venue order log."""
    with Stack(run_dir, opts) as stack:
        assert stack.wait_complete(timeout_s), f"run did not complete; logs in {stack.processes.log_dir}"
        return outcome(stack)


def outcome(stack: Stack) -> dict:
    return {"files": stack.result_bytes(), "records": stack.trade_records(), "bot": stack.bot_state(),
            "orders": stack.venue_orders(), "logs": stack.processes.log_dir, "crashes": dict(stack.crashes)}


def log_lines(log_dir: Path, service: str) -> list[str]:
    return (log_dir / f"{service}.log").read_text().splitlines()
