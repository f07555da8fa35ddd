"""Exact number and time formatting shared by every endpoint."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal


def cents_text(cents: int) -> str:
    """Binance price string with 8 decimals: 8700012 → '87000.12000000' (prices are > 0)."""
    return f"{cents // 100}.{cents % 100:02d}000000"


def e8_text(units: int) -> str:
    """A 1e-8 quantity with 8 decimals: 123400000 → '1.23400000'."""
    return f"{units // 100_000_000}.{units % 100_000_000:08d}"


def decimal_text(value: Decimal) -> str:
    """Shortest plain decimal: Decimal('5.000000') → '5', Decimal('0.510') → '0.51'."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def mils_text(mils: int) -> str:
    """A Polymarket price held in thousandths: 510 → '0.51', 975 → '0.975'."""
    return decimal_text(Decimal(mils) / 1000)


def iso_z(ms: int, micros: bool = False) -> str:
    """'2026-03-12T09:20:00Z' (or with microseconds, like Gamma's startDate)."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    if micros:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def gamma_closed_time(ms: int) -> str:
    """Gamma's odd closedTime format: '2026-07-07 21:25:17+00'."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S+00")


def compact_json(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
