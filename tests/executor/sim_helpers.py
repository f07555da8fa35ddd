"""Helpers for running the executor against the exchange simulator (services.sim)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import requests

from shared import messages as m
from shared.clock import SimClock, window_start_of
from shared.config import load
from services.executor.config import ExecutorConfig

_runs = itertools.count(1)


class Sim:
    """One simulator (speed max: its time moves only when a test moves it)."""

    def __init__(self, urls: dict):
        self.urls = urls
        self.clob, self.control = urls["clob"], urls["control"]
        self.clock = SimClock(self.control)

    def set_faults(self, spec: str = "") -> None:
        requests.post(f"{self.control}/faults", json={"spec": spec}, timeout=5).raise_for_status()

    def orders(self) -> list[dict]:
        return requests.get(f"{self.control}/orders", timeout=5).json()["orders"]

    def orders_for(self, order_id: str) -> list[dict]:
        return [o for o in self.orders() if o["order_id"] == order_id]

    def env(self, **extra) -> dict:
        return {"VENUE": "sim", "CLOB_URL": self.clob, "SIM_CONTROL_URL": self.control, "CLOCK": "sim",
                **{k.upper(): str(v) for k, v in extra.items()}}

    def config(self, **extra) -> ExecutorConfig:
        return load(ExecutorConfig, self.env(**extra))

    def window(self) -> dict:
        slug = f"btc-updown-5m-{window_start_of(self.clock.now())}"
        return requests.get(f"{self.control}/windows/{slug}", timeout=5).json()

    def book(self, token: str, outcome: str = "Up") -> m.OutcomeBook:
        raw = requests.get(f"{self.clob}/book", params={"token_id": token}, timeout=5).json()
        best_first = lambda rows: tuple(  # noqa: E731 - the venue lists both sides best LAST
            m.BookLevel(Decimal(r["price"]), Decimal(r["size"])) for r in reversed(rows))
        return m.OutcomeBook(outcome=outcome, token_id=token, bids=best_first(raw["bids"]),
                             asks=best_first(raw["asks"]), tick_size=Decimal(raw["tick_size"]),
                             min_order_size=Decimal(raw["min_order_size"]), book_hash=raw["hash"])

    def submit_order(self, amount: str = "10") -> m.SubmitOrder:
        """A command for the current window's Up token, as risk would send it."""
        window, run_id = self.window(), f"sim-run-{next(_runs)}"
        order_key = f"{run_id}:1"
        now_ns = self.clock.now_ns()
        return m.SubmitOrder(
            **m.header(key=("submit", order_key), ts_event=now_ns, ts_init=now_ns),
            run_id=run_id, interval=1, order_key=order_key, window_start=window["window_start"],
            window_end=window["window_end"], entry_deadline=window["window_start"] + 60,
            slug=window["slug"], condition_id=window["condition_id"], token_id=window["up_token"],
            outcome="Up", amount=Decimal(amount), book=self.book(window["up_token"]),
            fee=m.FeeSchedule(rate=Decimal("0.07")), decided_at_ns=now_ns)
