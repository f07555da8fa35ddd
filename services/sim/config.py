"""Simulator configuration: one frozen value built by the CLI or by tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

SYNTHETIC = "synthetic"
# 2026-01-01T00:00:00Z: where a synthetic run starts unless --start says otherwise.
SYNTHETIC_DEFAULT_START_MS = 1_767_225_600_000


@dataclass(frozen=True)
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port
    ws_port: int = 0  # the Binance WebSocket listens on its own port
    data: str = SYNTHETIC  # "synthetic" or a Binance-format 1m CSV path
    start_ms: int | None = None  # None = the documented default for the data source
    seed: int = 1
    speed: float | None = 1.0  # None = "max": time moves only through POST /sim/clock
    faults: str = ""
    resolution_delay_s: float = 10.0
    market_lead_s: int = 86_400  # a window's market exists this long before it starts
    book_levels: int = 5  # price levels per side of each outcome book
    paper_balance: Decimal = Decimal("1000000")  # pUSD every trading address starts with
    verify_order_signatures: bool = False  # ecrecover costs ~5 ms in pure Python
    chain_id: int = 137
    clock_file: str | None = None  # also publish sim time here (shared.sim_time)

    @property
    def speed_label(self) -> str | float:
        return "max" if self.speed is None else self.speed


def parse_iso_ms(text: str) -> int:
    """'2026-01-01T00:00:00Z' (or any ISO-8601, UTC if no zone) → epoch milliseconds."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)


def parse_speed(text: str) -> float | None:
    if text.strip().lower() == "max":
        return None
    speed = float(text)
    if not speed > 0:
        raise ValueError(f"speed must be > 0 or 'max', got {text!r}")
    return speed
