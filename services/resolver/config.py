from __future__ import annotations

from shared.config import require
from shared.runtime import RuntimeConfig


class ResolverConfig(RuntimeConfig, frozen=True, kw_only=True):
    gamma_url: str = "https://gamma-api.polymarket.com"
    http_timeout_s: float = 5.0
    max_polls: int = 40

    def check(self) -> None:
        super().check()
        plain_ok = self.clock == "sim" or self.gamma_url.startswith(("http://127.", "http://localhost"))
        require(self.gamma_url.startswith("https://") or (plain_ok and self.gamma_url.startswith("http://")),
                "gamma_url", self.gamma_url, "an https:// URL (plain http only for the simulator, CLOCK=sim)")
        require(0 < self.http_timeout_s <= 60, "http_timeout_s", self.http_timeout_s, "seconds in (0, 60]")
        require(1 <= self.max_polls <= 1000, "max_polls", self.max_polls, "an integer from 1 to 1000")
