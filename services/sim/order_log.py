"""Every POST /order the venue saw (accepted, rejected, or hit by a fault), for tests.

``GET /sim/orders`` serves this list; chaos tests use it to check, for example, that
the bot sent at most one order per window.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Callable

from services.sim.exchange import Submission
from services.sim.formats import decimal_text
from services.sim.orders import OrderRejected, ParsedOrder, parse_order
from services.sim.windows import Window

PRICE_QUANTUM = Decimal("0.000001")


class OrderLog:
    def __init__(self, chain_id: int, window_of_token: Callable[[str], Window | None]):
        self._chain_id = chain_id
        self._window_of_token = window_of_token
        self._entries: list[dict] = []
        self._lock = threading.Lock()

    def record_submission(self, now_ms: int, submission: Submission, body: object,
                          received_ns: int | None = None) -> None:
        """``received_ns``: wall-clock time (ns) the order reached the endpoint, for
        latency benchmarks; served only by ``GET /sim/orders?wall=1``."""
        order = submission.order or self._best_effort(body)
        window = submission.window or (self._window_of_token(order.token_id) if order else None)
        ok = submission.status == 200
        entry = self._base(now_ms, submission.status, order, window, body)
        entry["received_ns"] = received_ns if received_ns is not None else time.time_ns()
        entry["result"] = submission.body.get("status", "rejected") if ok else "rejected"
        entry["error"] = None if ok else submission.body.get("error")
        result = submission.result
        if result is not None and ok:
            entry.update(filled_shares=decimal_text(result.shares),
                         notional=decimal_text(result.notional), fees=decimal_text(result.fees))
        self._append(entry)

    def record_fault(self, now_ms: int, status: int, body: object, what: str,
                     result: str = "fault") -> None:
        """An attempt that never reached matching: an injected fault, or refused auth/JSON."""
        order = self._best_effort(body)
        window = self._window_of_token(order.token_id) if order else None
        entry = self._base(now_ms, status, order, window, body)
        entry.update(result=result, error=what)
        self._append(entry)

    def entries(self, slug: str | None = None, wall: bool = False) -> list[dict]:
        """The log; the wall-clock ``received_ns`` only with ``wall`` (everything else is
        a function of sim time and the seed, and stays byte-identical across runs)."""
        with self._lock:
            return [_view(e, wall) for e in self._entries if slug is None or e["slug"] == slug]

    def _append(self, entry: dict) -> None:
        with self._lock:
            entry["seq"] = len(self._entries) + 1
            self._entries.append(entry)

    def _best_effort(self, body: object) -> ParsedOrder | None:
        try:
            return parse_order(body, self._chain_id)
        except OrderRejected:
            return None

    @staticmethod
    def _base(now_ms: int, status: int, order: ParsedOrder | None, window: Window | None,
              body: object) -> dict:
        entry = {"seq": 0, "sim_ms": now_ms, "http_status": status, "result": "", "error": None,
                 "order_id": None, "slug": None, "window_start": None, "token_id": None,
                 "outcome": None, "side": None, "order_type": None, "maker_amount": None,
                 "taker_amount": None, "price": None, "size": None, "owner": None,
                 "filled_shares": "0", "notional": "0", "fees": "0"}
        if order is not None:
            entry.update(order_id=order.order_id, token_id=order.token_id, side=order.side,
                         order_type=order.order_type, maker_amount=str(order.maker_amount),
                         taker_amount=str(order.taker_amount), owner=order.owner,
                         price=decimal_text(order.limit_price.quantize(PRICE_QUANTUM)),
                         size=decimal_text(order.shares))
        if window is not None:
            entry.update(slug=window.slug, window_start=window.start_s)
            if order is not None and order.token_id in window.tokens:
                entry["outcome"] = window.outcome_for(order.token_id)
        return entry


def _view(entry: dict, wall: bool) -> dict:
    out = dict(entry)
    if not wall:
        out.pop("received_ns", None)
    return out
