"""Strict field readers shared by the parsers: every failure is one ``InvalidPayload``.

Upstream JSON is untrusted.  Each reader checks the type first, so a wrong shape never
escapes as KeyError/TypeError/InvalidOperation from deep inside a parser.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any


# No price or size we read is anywhere near 1e30 or 1e-30.
MAX_MAGNITUDE = 30


class InvalidPayload(ValueError):
    """An upstream payload that failed validation.  ``reason`` says what was wrong."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


def mapping(source: str, value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidPayload(source, f"{what} is {type(value).__name__}, expected object")
    return value


def array(source: str, value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise InvalidPayload(source, f"{what} is {type(value).__name__}, expected array")
    return value


def field(source: str, obj: dict, key: str) -> Any:
    if key not in obj:
        raise InvalidPayload(source, f"missing field {key!r}")
    return obj[key]


def integer(source: str, value: Any, what: str) -> int:
    """A JSON integer (or an all-digit string, as CLOB timestamps are sent)."""
    if isinstance(value, bool):
        raise InvalidPayload(source, f"{what} is a boolean, expected integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        return int(value)
    raise InvalidPayload(source, f"{what} is not an integer: {_show(value)}")


def boolean(source: str, value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidPayload(source, f"{what} is not a boolean: {_show(value)}")
    return value


def text(source: str, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidPayload(source, f"{what} is not a non-empty string: {_show(value)}")
    return value


def decimal(source: str, value: Any, what: str, *, numbers: bool = False) -> Decimal:
    """A finite Decimal from a decimal string (Binance, CLOB) or, if allowed, a JSON number."""
    if isinstance(value, bool):
        raise InvalidPayload(source, f"{what} is a boolean, expected a number")
    if isinstance(value, (int, float)) and numbers:
        value = repr(value)  # shortest round-trip text of the float, not its binary expansion
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidPayload(source, f"{what} is not a decimal string: {_show(value)}")
    try:
        result = Decimal(value.strip())
    except InvalidOperation:
        raise InvalidPayload(source, f"{what} is not a number: {_show(value)}") from None
    if not result.is_finite():
        raise InvalidPayload(source, f"{what} is not finite: {_show(value)}")
    if result and not -MAX_MAGNITUDE <= result.adjusted() <= MAX_MAGNITUDE:
        # Sums of such values would overflow the Decimal context later on.
        raise InvalidPayload(source, f"{what} is out of range: {_show(value)}")
    return result


def positive(source: str, value: Decimal, what: str) -> Decimal:
    if value <= 0:
        raise InvalidPayload(source, f"{what} must be > 0, got {value}")
    return value


def non_negative(source: str, value: Decimal, what: str) -> Decimal:
    if value < 0:
        raise InvalidPayload(source, f"{what} must be >= 0, got {value}")
    return value


def json_list(source: str, value: Any, what: str) -> list:
    """Gamma sends some arrays as JSON inside a string: '["Up", "Down"]'."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidPayload(source, f"{what} is not valid JSON: {_show(value)}") from None
    return array(source, value, what)


def iso_seconds(source: str, value: Any, what: str) -> int:
    """Unix seconds from an ISO-8601 UTC timestamp such as '2026-03-12T09:20:00Z'."""
    raw = text(source, value, what)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        seconds = int(parsed.timestamp())
    except (ValueError, OverflowError):
        raise InvalidPayload(source, f"{what} is not an ISO timestamp: {_show(raw)}") from None
    if parsed.tzinfo is None:
        raise InvalidPayload(source, f"{what} has no time zone: {_show(raw)}")
    return seconds


def _show(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
