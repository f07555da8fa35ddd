"""Risk settings: one frozen struct, read from env (``MAX_DRAWDOWN=0.25``), checked at load.

Money and ratios are ``Decimal`` (env strings convert exactly; a float would turn 0.30
into 0.2999…).  Defaults are the seed design's FR-008/FR-010/FR-011 numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from shared.config import require
from shared.runtime import RuntimeConfig


class RiskConfig(RuntimeConfig, frozen=True, kw_only=True):
    starting_capital: Decimal = Decimal("100")
    max_drawdown: Decimal = Decimal("0.30")       # floor = starting_capital × (1 − max_drawdown)
    base_stake: Decimal = Decimal("5")
    streak_multiplier: Decimal = Decimal("1.5")
    max_stake: Decimal = Decimal("25")
    volatility_window: int = 5                    # 1-minute bars in the circuit breaker's range
    volatility_threshold: Decimal = Decimal("0.03")
    min_notional: Decimal = Decimal("1")          # venue minimum for a marketable BUY, in dollars
    state_wait_s: float = 30.0                    # wall-clock wait for the ledger before a retry
    state_block_ms: int = 500                     # one XREAD BLOCK slice while waiting
    clock: Literal["live", "sim"] = "live"
    sim_control_url: str = ""

    @property
    def floor(self) -> Decimal:
        """Capital at or below which trading halts (exact: no rounding needed)."""
        return self.starting_capital * (1 - self.max_drawdown)

    def check(self) -> None:
        super().check()
        self._check_money()
        self._check_volatility()
        self._check_waiting()
        if self.clock == "sim":
            require(self.sim_control_url.startswith(("http://", "https://")), "sim_control_url",
                    self.sim_control_url, "the simulator's http(s):// control URL when CLOCK=sim")

    def _check_money(self) -> None:
        for name in ("starting_capital", "max_drawdown", "base_stake", "streak_multiplier",
                     "max_stake", "volatility_threshold", "min_notional"):
            value = getattr(self, name)
            require(value.is_finite(), name, value, "a finite decimal number")
        require(self.starting_capital > 0, "starting_capital", self.starting_capital, "> 0")
        require(0 < self.max_drawdown < 1, "max_drawdown", self.max_drawdown, "a fraction in (0, 1), e.g. 0.30")
        require(self.min_notional > 0, "min_notional", self.min_notional, "> 0 (Polymarket: 1)")
        require(self.base_stake >= self.min_notional, "base_stake", self.base_stake,
                f">= MIN_NOTIONAL ({self.min_notional}), or no order could ever be placed")
        require(self.base_stake <= self.max_stake, "base_stake", self.base_stake,
                f"<= MAX_STAKE ({self.max_stake})")
        require(self.streak_multiplier >= 1, "streak_multiplier", self.streak_multiplier,
                ">= 1 (win-streak scaling never shrinks the stake)")

    def _check_volatility(self) -> None:
        require(1 <= self.volatility_window <= 60, "volatility_window", self.volatility_window,
                "1..60 one-minute bars")
        require(0 < self.volatility_threshold < 1, "volatility_threshold", self.volatility_threshold,
                "a fraction in (0, 1), e.g. 0.03")

    def _check_waiting(self) -> None:
        require(0 < self.state_wait_s <= 300, "state_wait_s", self.state_wait_s, "0 < seconds <= 300")
        require(10 <= self.state_block_ms <= 5000, "state_block_ms", self.state_block_ms, "10..5000 ms")
        # A signal stays pending while we wait for the ledger; if the wait outlived
        # CLAIM_IDLE_MS another replica would XAUTOCLAIM it and decide it twice.
        require(self.state_wait_s * 1000 * 2 <= self.claim_idle_ms, "state_wait_s", self.state_wait_s,
                f"at most half of CLAIM_IDLE_MS ({self.claim_idle_ms} ms)")
