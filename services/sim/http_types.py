"""Request/response values passed between the HTTP server and the endpoint modules."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from services.sim.formats import compact_json


@dataclass(frozen=True)
class Request:
    method: str
    service: str  # "clob", "gamma", "binance", "coingecko", "sim"
    path: str  # without the service prefix and without the query: "/book"
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """A repeatable parameter; also splits comma lists (``slug=a,b``)."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(part for part in value.split(",") if part)
        return out

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    hold_s: float = 0.0  # a "timeout" fault: wait this long (wall time) before answering


def json_response(value: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(status, compact_json(value), headers=dict(headers or {}))


def error(status: int, message: str) -> Response:
    """Polymarket's error body: ``{"error": "..."}``."""
    return json_response({"error": message}, status)


def binance_error(status: int, code: int, message: str) -> Response:
    return json_response({"code": code, "msg": message}, status)


Handler = Callable[[Request], Response]
