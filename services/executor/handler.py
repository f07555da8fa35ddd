"""SubmitOrder -> exactly one OrderFilled / OrderRejected per order_key.

The order of things is what makes it safe (see records.py):

    final record?          -> re-emit the stored event, touch nothing else
    no record              -> deadline? prepare (sign) -> record in_flight (SET NX) -> send
    in_flight record       -> look the order up first; if the venue never saw it,
                              re-send the SAME stored order (never a new one)
    answer                 -> store the final event in the record -> return it (the
                              runtime publishes it and acks the command atomically)

A timeout is UNKNOWN, never REJECTED: after any ambiguous failure the order is looked
up before anything else, and when its fate stays unknown the command stays pending
(TransientError) instead of guessing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from shared import streams
from shared.bus import Out
from shared.clock import Clock
from shared.errors import MessageError, TransientError
from shared.messages import MarketQuote, Msg, OrderFilled, OrderRejected, SubmitOrder, header
from services.executor.brokers import (
    Answer, Broker, Fill, OrderRefused, PreparedOrder, Rejection, VenueUnavailable,
)
from services.executor.records import AlreadyFinal, OrderRecord, OrderRecords

log = logging.getLogger("polybot.executor")

DEADLINE_PASSED = "entry deadline passed"
NS = 1_000_000_000


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff_base_s: float = 0.2
    max_retry_after_s: float = 5.0
    latency_budget_ms: float = 3000.0

    def pause_s(self, attempt: int, exc: VenueUnavailable) -> float | None:
        """Seconds to wait before the next try; None = the venue asked for longer than
        we may wait (hammering a rate limit earns a ban), so stop sending."""
        if exc.retry_after_s is not None:
            return exc.retry_after_s if exc.retry_after_s <= self.max_retry_after_s else None
        return self.backoff_base_s * 2 ** (attempt - 1)


@dataclass(frozen=True)
class VenueView:
    """What the venue says about an order: an answer, never seen, or unknown."""

    answer: Answer | None = None
    seen: bool | None = None  # None = could not ask
    error: str = ""


class ExecutorHandler:
    name = streams.GROUP_EXECUTOR
    streams = (streams.ORDER_CMDS, streams.MARKET_QUOTES)

    def __init__(self, broker: Broker, records: OrderRecords, clock: Clock,
                 policy: RetryPolicy = RetryPolicy(), *, sleep: Callable[[float], None] = time.sleep,
                 wall: Callable[[], float] = time.perf_counter):
        self.broker = broker
        self.records = records
        self.clock = clock
        self.policy = policy
        self.sleep = sleep
        self.wall = wall

    # -- the runtime's entry point -------------------------------------------------
    def handle(self, stream: str, msg: Msg) -> list[Out]:
        if isinstance(msg, MarketQuote):
            # A window just opened: load its market's venue details now, while the
            # predictor and risk decide, so an order does not wait for them.  A quote
            # read late (after a restart) is for a finished window: nothing to do.
            if msg.window_end > self.clock.now():
                self.broker.warm(msg)
            return []
        if not isinstance(msg, SubmitOrder):
            raise MessageError(f"executor expects SubmitOrder or MarketQuote, got {type(msg).__name__}")
        record = self.records.get(msg.order_key)
        if record is not None and record.final:
            log.info("redelivered command, re-emitting the stored result",
                     extra={"data": {"order_key": msg.order_key, "state": record.state}})
            return [(streams.ORDER_EVENTS, record.event)]
        started = self.wall()
        try:
            answer, record = self._execute(msg, record)
            if answer is None:
                raise TransientError(f"order {msg.order_key}: venue state unknown ({record.last_error}); "
                                     "will look it up again")
            event = self._finish(record, answer, venue_ms=(self.wall() - started) * 1000)
        except AlreadyFinal as settled:  # a reconciliation got there first: its event is THE event
            event = settled.record.event
        return [(streams.ORDER_EVENTS, event)]

    def reconcile(self) -> list[OrderFilled | OrderRejected]:
        """Settle in_flight records with the venue (at start, before new commands, and
        then periodically).  Returns the events of the records it finished: their
        commands may be gone (dead-lettered), so the caller publishes them; a command
        that is still pending re-emits the identical event later, which consumers drop
        by id.  Records the venue never saw stay in flight until their deadline, so
        their pending command can still re-send the same order."""
        events = []
        for record in self.records.in_flight():
            view = self._ask_venue(record) if record.order else VenueView(seen=False)
            if view.answer is None and view.seen is False and self._deadline_passed(record.command):
                view = VenueView(answer=Rejection(reason=DEADLINE_PASSED), seen=False)
            if view.answer is None:
                log.log(logging.WARNING if view.error else logging.DEBUG, "in-flight order still unresolved",
                        extra={"data": {"order_key": record.order_key, "error": view.error}})
                continue
            try:
                events.append(self._finish(record, view.answer, venue_ms=0.0))
            except AlreadyFinal:
                continue  # finished meanwhile; whoever did it emitted its event
        return events

    # -- placing ---------------------------------------------------------------------
    def _execute(self, cmd: SubmitOrder, record: OrderRecord | None) -> tuple[Answer | None, OrderRecord]:
        if record is None:
            now = self.clock.now_ns()
            if now >= cmd.entry_deadline * NS:
                return Rejection(reason=DEADLINE_PASSED), self._record(cmd, None, now)
            prepared, tries = self._prepare(cmd)
            if isinstance(prepared, Rejection):
                return prepared, self._record(cmd, None, now)
            # Unless preparing was slow, the deadline check above still holds (a simulator
            # clock read may be an HTTP call) and the order goes out at once: it is stored
            # as "maybe sent" (attempts=1) by the write that creates it.  A crash before the
            # send then costs one venue look-up on redelivery; the order's path saves a
            # separate write (three round trips).
            send_now = tries == 1
            mine = self._record(cmd, prepared, now, attempts=1 if send_now else 0)
            record = self.records.create(mine)  # NX: the first order wins
            return self._send_until_answered(record, deadline_checked=send_now,
                                             first_send_recorded=send_now and record is mine), record
        if record.command.id != cmd.id:
            log.warning("a second command for an order_key that already has an order; following the "
                        "first one", extra={"data": {"order_key": cmd.order_key}})
        if record.attempts > 0:
            view = self._ask_venue(record)
            if view.answer is not None:
                return view.answer, record
        return self._send_until_answered(record), record

    def _prepare(self, cmd: SubmitOrder) -> tuple[PreparedOrder | Rejection, int]:
        """Build (sign) the order; also says how many tries it took.  Nothing reaches
        the venue, so failing here is safe."""
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                return self.broker.prepare(cmd), attempt
            except OrderRefused as exc:
                return Rejection(reason=str(exc)), attempt
            except VenueUnavailable as exc:
                pause = self.policy.pause_s(attempt, exc)
                if attempt == self.policy.max_attempts or pause is None:
                    return Rejection(reason=f"venue unavailable: {exc.reason}"), attempt
                self.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_until_answered(self, record: OrderRecord, deadline_checked: bool = False,
                             first_send_recorded: bool = False) -> Answer | None:
        cmd, order = record.command, record.order
        while record.attempts < self.policy.max_attempts or first_send_recorded:
            if not deadline_checked and self._deadline_passed(cmd):
                return self._answer_after_deadline(record)
            deadline_checked = False
            if not first_send_recorded:
                record.attempts += 1
                self.records.save(record)  # before the send: a crash now means "maybe sent"
            first_send_recorded = False
            try:
                return self.broker.send(cmd, order)
            except VenueUnavailable as exc:
                record.last_error = exc.reason
                self.records.save(record)
                log.warning("order attempt failed", extra={"data": {
                    "order_key": record.order_key, "attempt": record.attempts, "error": exc.reason}})
                pause = self.policy.pause_s(record.attempts, exc)
                if pause is None:
                    break
                self.sleep(pause)
                if exc.maybe_sent:
                    view = self._ask_venue(record)
                    if view.answer is not None:
                        return view.answer
        return self._answer_after_giving_up(record)

    def _answer_after_deadline(self, record: OrderRecord) -> Answer | None:
        if record.attempts == 0:
            return Rejection(reason=DEADLINE_PASSED)
        view = self._ask_venue(record)
        if view.answer is not None:
            return view.answer
        return Rejection(reason=DEADLINE_PASSED) if view.seen is False else None

    def _answer_after_giving_up(self, record: OrderRecord) -> Answer | None:
        view = self._ask_venue(record)
        if view.answer is not None:
            return view.answer
        if view.seen is False:  # the venue never got it: safe to call it rejected
            return Rejection(reason=f"venue unavailable after {record.attempts} attempts: {record.last_error}")
        return None

    def _ask_venue(self, record: OrderRecord) -> VenueView:
        try:
            answer = self.broker.lookup(record.command, record.order)
        except VenueUnavailable as exc:
            record.last_error = exc.reason
            return VenueView(error=exc.reason)
        return VenueView(answer=answer, seen=answer is not None)

    # -- results -----------------------------------------------------------------------
    def _finish(self, record: OrderRecord, answer: Answer, venue_ms: float) -> OrderFilled | OrderRejected:
        event = self._event(record, answer)
        record = self.records.finish(record, event, event.ts_event)
        level = logging.WARNING if event.latency_ms > self.policy.latency_budget_ms else logging.INFO
        data = {"order_key": record.order_key, "order_id": answer.order_id, "attempts": record.attempts,
                "latency_ms": round(event.latency_ms, 1), "venue_ms": round(venue_ms, 1),
                "broker": self.broker.name}
        if isinstance(event, OrderFilled):
            data.update(stake=event.stake, shares=event.shares, avg_price=event.avg_price, fee=event.fee)
        else:
            data["reason"] = event.reason
        log.log(level, "order filled" if isinstance(event, OrderFilled) else "order rejected",
                extra={"data": data})
        return event

    def _event(self, record: OrderRecord, answer: Answer) -> OrderFilled | OrderRejected:
        cmd, now = record.command, self.clock.now_ns()
        head = header(key=("order_result", cmd.order_key), ts_event=now, ts_init=now, cause=cmd)
        latency_ms = (now - cmd.decided_at_ns) / 1e6  # decision -> venue answer, injected clock
        common = dict(run_id=cmd.run_id, interval=cmd.interval, order_key=cmd.order_key,
                      attempts=record.attempts, latency_ms=latency_ms)
        if isinstance(answer, Fill):
            return OrderFilled(**head, **common, order_id=answer.order_id, slug=cmd.slug,
                               token_id=cmd.token_id, outcome=cmd.outcome, stake=answer.stake,
                               shares=answer.shares, avg_price=answer.avg_price, fee=answer.fee)
        return OrderRejected(**head, **common, reason=answer.reason)

    def _record(self, cmd: SubmitOrder, order: PreparedOrder | None, now_ns: int,
                attempts: int = 0) -> OrderRecord:
        return OrderRecord(order_key=cmd.order_key, state="in_flight", broker=self.broker.name,
                           command=cmd, order=order, attempts=attempts, updated_ns=now_ns)

    def _deadline_passed(self, cmd: SubmitOrder) -> bool:
        return self.clock.now_ns() >= cmd.entry_deadline * NS
