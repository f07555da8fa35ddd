from __future__ import annotations

from decimal import Decimal

from shared.config import require
from shared.runtime import RuntimeConfig


class LedgerConfig(RuntimeConfig, frozen=True, kw_only=True):
    state_dir: str = "./state"
    starting_capital: Decimal = Decimal("100")
    max_drawdown: Decimal = Decimal("0.30")
    intervals: int = 18
    run_id: str = ""
    fsync: bool = True
    resolution_jobs: bool = True

    def check(self) -> None:
        super().check()
        require(self.starting_capital > 0, "starting_capital", self.starting_capital, "a positive amount of dollars")
        require(0 < self.max_drawdown < 1, "max_drawdown", self.max_drawdown, "a fraction between 0 and 1, e.g. 0.30")
        require(1 <= self.intervals <= 100_000, "intervals", self.intervals, "an integer from 1 to 100000")
        require(bool(self.state_dir), "state_dir", self.state_dir, "a directory path")

    @property
    def floor(self) -> Decimal:
        return self.starting_capital * (1 - self.max_drawdown)
