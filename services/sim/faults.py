"""Faults on demand: the active plan, and the seeded decisions it makes.

Probabilistic faults never use a shared RNG: the n-th event a rule sees is faulted iff
SHA-256(seed, rule position, rule text, n) < p, so a rule's decisions depend only on how
many events it has seen, not on other endpoints' traffic or on wall time.
"""

from __future__ import annotations

import fnmatch
import hashlib
import threading
from typing import Callable

from services.sim.fault_spec import MAX_HOLD_S, FaultRule, parse_spec
from services.sim.http_types import Response, json_response

_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout", 425: "Too Early"}


class FaultPlan:
    def __init__(self, seed: int, spec: str, installed_ms: int,
                 window_index_at: Callable[[int], int]):
        self.seed = seed
        self.spec = spec or ""
        self.rules = parse_spec(self.spec)
        self.installed_ms = installed_ms
        self._window_index_at = window_index_at
        self._counts = [0] * len(self.rules)
        self._lock = threading.Lock()

    def _fires(self, position: int, rule: FaultRule, salt: str = "") -> bool:
        """Count one event for ``rule`` and decide (seeded) whether it is faulted."""
        with self._lock:
            self._counts[position] += 1
            n = self._counts[position]
        selector = rule.selector
        if selector.kind == "every":
            return n % selector.every == 0
        if selector.kind == "probability":
            digest = hashlib.sha256(f"{self.seed}|{position}|{rule.text}|{salt}|{n}".encode())
            return int.from_bytes(digest.digest()[:8], "big") / 2**64 < selector.probability
        return True

    def _matching(self, service: str, kind: str | None = None):
        for position, rule in enumerate(self.rules):
            if rule.service == service and (kind is None or rule.kind == kind):
                yield position, rule

    def http_fault(self, service: str, path: str, window_index: int | None) -> FaultRule | None:
        """The HTTP fault (status or timeout) to apply to this request, if any."""
        for position, rule in self._matching(service):
            if rule.kind in ("fok_kill", "missing") or not fnmatch.fnmatchcase(path, rule.path):
                continue
            if rule.selector.covers_window(window_index) and self._fires(position, rule):
                return rule
        return None

    def fok_killed(self, window_index: int) -> bool:
        return any(rule.selector.covers_window(window_index) and self._fires(position, rule)
                   for position, rule in self._matching("clob", "fok_kill"))

    def gamma_missing(self, window_index: int) -> bool:
        return any(rule.selector.covers_window(window_index)
                   for _, rule in self._matching("gamma", "missing"))

    def resolution_delay_s(self, window_index: int, default_s: float) -> float:
        for _, rule in self._matching("resolution", "delay"):
            if rule.selector.covers_window(window_index):
                return float(rule.arg)
        return default_s

    def resolution_conflict(self, window_index: int) -> bool:
        return any(rule.selector.covers_window(window_index)
                   for _, rule in self._matching("resolution", "conflict"))

    def feed_time(self, now_ms: int) -> int:
        """The time the BTC feeds show: ``now_ms``, or earlier while a stale fault holds."""
        for _, rule in self._matching("feed", "stale"):
            if rule.selector.kind == "windows":
                start_ms = now_ms - now_ms % 300_000
                if rule.selector.covers_window(self._window_index_at(now_ms)):
                    return min(now_ms, start_ms)
                continue
            lasts_ms = rule.option("for", float("inf")) * 1000
            if self.installed_ms <= now_ms < self.installed_ms + lasts_ms:
                return self.installed_ms
        return now_ms

    def ws_drop(self, connection_id: int, message_number: int) -> bool:
        """Drop a WebSocket after its ``message_number``-th message (counted per connection)."""
        for position, rule in self._matching("ws", "drop"):
            selector = rule.selector
            if selector.kind == "every" and message_number % selector.every == 0:
                return True
            if selector.kind == "probability":
                digest = hashlib.sha256(
                    f"{self.seed}|{position}|{rule.text}|{connection_id}|{message_number}".encode())
                if int.from_bytes(digest.digest()[:8], "big") / 2**64 < selector.probability:
                    return True
        return False

    def describe(self) -> dict:
        return {"spec": self.spec, "installed_ms": self.installed_ms, "rules": [
            {"text": r.text, "service": r.service, "path": r.path, "kind": r.kind,
             "selector": r.selector.__dict__, "arg": r.arg, "options": r.options}
            for r in self.rules]}


def fault_response(service: str, rule: FaultRule) -> Response:
    """The answer a faulted request gets (the status faults; ``timeout`` is handled apart)."""
    status = rule.status or 504
    reason = _REASONS.get(status, f"HTTP {status}")
    headers = {}
    if status == 429:
        headers["Retry-After"] = str(int(rule.option("retry_after", 1)))
    if service == "binance":
        body = {"code": -1003 if status == 429 else -1000, "msg": reason}
    elif service == "coingecko":
        body = {"status": {"error_code": status, "error_message": reason}}
    else:
        body = {"error": reason}
    return json_response(body, status, headers)


def hold_seconds(rule: FaultRule) -> float:
    return min(max(rule.option("hold", 6.0), 0.0), MAX_HOLD_S)
