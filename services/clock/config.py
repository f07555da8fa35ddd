from __future__ import annotations

from shared.config import require
from shared.runtime import RuntimeConfig


class ClockConfig(RuntimeConfig, frozen=True, kw_only=True):
    lockstep: bool = False  # sim --speed max: advance sim time as fast as the pipeline finishes
    intervals: int = 18
    entry_deadline_s: int = 60
    run_id: str = ""
    ledger_wait_s: float = 120.0
    # At start without a plan in Redis: how long to wait for the ledger's state before
    # planning a new run (0 = not at all).  polybot run/up set it, because they start
    # every process at once; compose starts the clock once the ledger is healthy.
    ledger_start_wait_s: float = 0.0
    resolution_grace_s: int = 60
    # Lockstep, a traded window whose prices are incomplete (venue_wait.py): the sim time
    # granted to the venue to resolve it (the simulator publishes 10 s after the end),
    # and the wall time to wait for each step before the next one.
    venue_resolution_s: int = 15
    settle_patience_s: float = 30.0

    def check(self) -> None:
        super().check()
        require(1 <= self.intervals <= 100_000, "intervals", self.intervals, "an integer from 1 to 100000")
        require(1 <= self.entry_deadline_s < 300, "entry_deadline_s", self.entry_deadline_s,
                "seconds after the window start, from 1 to 299")
        require(0 <= self.ledger_start_wait_s <= 600, "ledger_start_wait_s", self.ledger_start_wait_s,
                "seconds from 0 to 600")
        require(1 <= self.venue_resolution_s <= self.resolution_grace_s, "venue_resolution_s",
                self.venue_resolution_s, "seconds from 1 to RESOLUTION_GRACE_S")
        require(self.settle_patience_s > 0, "settle_patience_s", self.settle_patience_s, "seconds > 0")
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
