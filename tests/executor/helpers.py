"""Stubs for the executor tests: commands, a scripted broker, a handler on fakeredis."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from shared import messages as m
from shared.clock import ManualClock
from services.executor.brokers import Answer, Fill, PreparedOrder, Rejection, VenueUnavailable
from services.executor.handler import ExecutorHandler, RetryPolicy
from services.executor.records import OrderRecords
from tests import stubs

T0 = stubs.T0
NS = 1_000_000_000
CRYPTO_FEES = m.FeeSchedule(rate=Decimal("0.07"), exponent=1)


def submit_order(interval: int = 1, amount: str = "10", book: m.OutcomeBook | None = None,
                 fee: m.FeeSchedule = CRYPTO_FEES, run_id: str = stubs.RUN,
                 token: str = "111", condition_id: str = "0xc0ffee") -> m.SubmitOrder:
    start = T0 + 300 * (interval - 1)
    order_key = f"{run_id}:{interval}"
    return m.SubmitOrder(
        **m.header(key=("submit", order_key), ts_event=start * NS, ts_init=start * NS),
        run_id=run_id, interval=interval, order_key=order_key, window_start=start,
        window_end=start + 300, entry_deadline=start + 60, slug=f"btc-updown-5m-{start}",
        condition_id=condition_id, token_id=token, outcome="Up", amount=Decimal(amount),
        book=book or stubs.book(token=token), fee=fee, decided_at_ns=start * NS + 2 * NS)


def fill(order_id: str = "0xfeed") -> Fill:
    return Fill(order_id=order_id, stake=Decimal("10"), shares=Decimal("19.6078"),
                avg_price=Decimal("0.51"), fee=Decimal("0.34300"))


class ScriptedBroker:
    """A Broker whose answers are queued by the test; every call is recorded."""

    name = "scripted"

    def __init__(self, sends: Iterable[Answer | Exception] = (), lookups: Iterable[Answer | None | Exception] = ()):
        self.sends = list(sends)
        self.lookups = list(lookups)
        self.prepared: list[str] = []
        self.sent: list[str] = []
        self.looked_up: list[str] = []
        self.warmed: list[str] = []

    @property
    def calls(self) -> int:
        return len(self.prepared) + len(self.sent) + len(self.looked_up)

    def warm(self, quote: m.MarketQuote) -> None:
        self.warmed.append(quote.condition_id)

    def prepare(self, cmd: m.SubmitOrder) -> PreparedOrder:
        order_id = f"0xorder{len(self.prepared)}"
        self.prepared.append(order_id)
        return PreparedOrder(order_id=order_id, body={"salt": len(self.prepared)})

    def send(self, cmd: m.SubmitOrder, order: PreparedOrder) -> Answer:
        self.sent.append(order.order_id)
        return self._next(self.sends, default=fill(order.order_id))

    def lookup(self, cmd: m.SubmitOrder, order: PreparedOrder) -> Answer | None:
        self.looked_up.append(order.order_id)
        return self._next(self.lookups, default=None)

    @staticmethod
    def _next(queue: list, default):
        item = queue.pop(0) if queue else default
        if isinstance(item, Exception):
            raise item
        return item


def timeout(maybe_sent: bool = True) -> VenueUnavailable:
    return VenueUnavailable("POST /order: timeout (ReadTimeout)", maybe_sent=maybe_sent)


def server_error() -> VenueUnavailable:
    return VenueUnavailable("HTTP 500: order timed out")


def killed() -> Rejection:
    return Rejection(order_id="0xorder0",
                     reason="order couldn't be fully filled. FOK orders are fully filled or killed.")


def make_handler(redis_client, broker, clock: ManualClock | None = None, sleeps: list | None = None,
                 **policy) -> ExecutorHandler:
    clock = clock or ManualClock(T0 + 5)
    pauses = sleeps if sleeps is not None else []
    return ExecutorHandler(broker, OrderRecords(redis_client), clock, RetryPolicy(**policy),
                           sleep=pauses.append)
