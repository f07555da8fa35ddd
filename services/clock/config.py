from __future__ import annotations

from shared.config import require
from shared.runtime import RuntimeConfig


class ClockConfig(RuntimeConfig, frozen=True, kw_only=True):
    lockstep: bool = False  # sim --speed max: advance sim time as fast as the pipeline finishes
    intervals: int = 18
    entry_deadline_s: int = 60
    run_id: str = ""
    ledger_wait_s: float = 120.0
    resolution_grace_s: int = 60

    def check(self) -> None:
        super().check()
        require(1 <= self.intervals <= 100_000, "intervals", self.intervals, "an integer from 1 to 100000")
        require(1 <= self.entry_deadline_s < 300, "entry_deadline_s", self.entry_deadline_s,
                "seconds after the window start, from 1 to 299")
        require(not self.lockstep or self.clock == "sim", "lockstep", self.lockstep,
                "false unless CLOCK=sim (only simulated time can wait for the pipeline)")
        require(not self.run_id or _parse_run_id(self.run_id) is not None, "run_id", self.run_id,
                "run-<first window start, unix seconds, a multiple of 300>")


def _parse_run_id(run_id: str) -> int | None:
    try:
        start = int(run_id.removeprefix("run-"))
    except ValueError:
        return None
    return start if run_id.startswith("run-") and start % 300 == 0 else None
