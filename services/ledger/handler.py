"""The ledger service's handler: the only writer of the bot state."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from services.ledger.config import LedgerConfig
from services.ledger.facts import Decision, Fill, Prices, from_message
from services.ledger.ledger import Change, Ledger
from shared import messages as m, streams
from shared.bus import KeyValue, Out
from shared.clock import WINDOW_SECONDS, Clock
from shared.errors import MessageError

log = logging.getLogger("polybot.ledger")

EnqueueResolution = Callable[[str, int, str, int], None]


class LedgerHandler:
    name = streams.GROUP_LEDGER
    # The clock's stream tells the ledger which run it is keeping before anything is traded.
    streams = (streams.CLOCK, streams.DECISIONS, streams.ORDER_EVENTS, streams.WINDOW_PRICES,
               streams.RESOLUTIONS, streams.LEDGER_CMDS)

    def __init__(self, ledger: Ledger, cfg: LedgerConfig, clock: Clock,
                 enqueue_resolution: EnqueueResolution | None = None):
        self.ledger = ledger
        self.cfg = cfg
        self.clock = clock
        self.enqueue_resolution = enqueue_resolution
        self.run_file = Path(cfg.state_dir) / "run.json"
        self.run_id = cfg.run_id or self._load_run_id()
        self._polling: set[int] = set()  # intervals whose resolution polling was started

    # -- the handler ---------------------------------------------------------------
    def handle(self, stream: str, msg: m.Msg) -> list[Out]:
        adopting = not self.run_id
        self._check_run(msg)
        if isinstance(msg, (m.IntervalTick, m.WindowClosed)):
            return self.publish_state(msg) if adopting else []
        self._record_metrics(msg)
        fact = from_message(msg, self.ledger.settled_through)
        if fact is None:
            return []
        change = self.ledger.apply(fact)
        if isinstance(fact, (Fill, Prices)):
            # Also on a redelivery: scheduling may have failed after the journal had the fact.
            self._poll_if_ended(fact.interval)
        if change is None:
            return []  # a redelivery: already counted
        self._polling = {k for k in self._polling if k > self.ledger.closed_through}  # resolved long ago
        return self.publish_state(msg, change)

    def publish_state(self, cause: m.Msg | None, change: Change | None = None) -> list[Out]:
        state = self.state_message(cause)
        self.ledger.files.write_state(self.state_document())
        # The key readers GET and the event that wakes them, in one commit.
        outputs: list[Out] = [KeyValue(streams.LEDGER_STATE_KEY, m.encode(state)),
                              (streams.LEDGER_EVENTS, state)]
        for step in (change.settled if change else []):
            if step.record.outcome in ("WIN", "LOSS", "VOID"):
                outputs.append((streams.LEDGER_EVENTS, self._settled(step, cause)))
        if change and change.halted_now:
            log.critical("trading halted", extra={"data": {"reason": self.ledger.totals.halt_reason}})
            outputs.append((streams.LEDGER_EVENTS, self._halted(cause)))
        return outputs

    # -- views ---------------------------------------------------------------------
    def state_message(self, cause: m.Msg | None) -> m.LedgerState:
        t, led = self.ledger.totals, self.ledger
        version = led.facts.count
        now = self.clock.now_ns()
        return m.LedgerState(
            **m.header(key=("ledger_state", self.run_id, version), ts_event=now, ts_init=now, cause=cause),
            run_id=self.run_id or "", starting_capital=led.start, current_capital=t.capital,
            peak_capital=t.peak, win_streak=t.streak, total_trades=t.trades,
            is_active=not (t.halted or led.run_complete), halted=t.halted, halt_reason=t.halt_reason,
            intervals_total=led.intervals, current_interval=self._current_interval(),
            decided_through=led.decided_through, settled_through=led.settled_through,
            open_position=self._open_position(), run_complete=led.run_complete, version=version)

    def state_document(self) -> dict:
        """bot_state.json: the seed's BotState first, then the rest."""
        t, led = self.ledger.totals, self.ledger
        position = self._open_position()
        return {
            "current_capital": t.capital, "starting_capital": led.start, "win_streak": t.streak,
            "total_trades": t.trades, "is_active": not (t.halted or led.run_complete),
            "run_id": self.run_id, "peak_capital": t.peak, "floor": led.floor,
            "halted": t.halted, "halt_reason": t.halt_reason, "intervals_total": led.intervals,
            "current_interval": self._current_interval(), "decided_through": led.decided_through,
            "settled_through": led.settled_through, "wins": t.wins, "losses": t.losses,
            "fees_paid": t.fees, "pnl": t.capital - led.start,
            "open_position": position,
            "unconfirmed_settlements": self._unconfirmed(), "run_complete": led.run_complete,
        }

    def _current_interval(self) -> int:
        return self.ledger.facts.last_decision

    def _open_position(self) -> m.Position | None:
        fill = self.ledger.open_position()
        if fill is None:
            return None
        decision = self.ledger.facts.get(Decision, fill.interval)
        slug = decision.slug or "" if decision else ""
        return m.Position(interval=fill.interval, slug=slug, outcome=fill.outcome, token_id=fill.token_id,
                          stake=fill.stake, shares=fill.shares, avg_price=fill.avg_price, fee=fill.fee,
                          order_id=fill.order_id)

    def _unconfirmed(self) -> int:
        return len(self.ledger.facts.unconfirmed)

    def _settled(self, step, cause) -> m.PositionSettled:
        r, now = step.record, self.clock.now_ns()
        provisional = step.provisional
        return m.PositionSettled(
            **m.header(key=("settled", self.run_id, r.interval_number, r.outcome, provisional),
                       ts_event=now, ts_init=now, cause=cause),
            run_id=self.run_id, interval=r.interval_number, result="WIN" if r.outcome == "WIN" else "LOSS",
            pnl=r.pnl, capital_after=r.capital_after, winning_outcome=r.winning_outcome or "Up",
            provisional=provisional, source=r.price_source or "")

    def _halted(self, cause) -> m.TradingHalted:
        t, now = self.ledger.totals, self.clock.now_ns()
        return m.TradingHalted(**m.header(key=("halted", self.run_id, self.ledger.settled_through),
                                          ts_event=now, ts_init=now, cause=cause),
                               run_id=self.run_id, interval=self.ledger.settled_through,
                               reason=t.halt_reason, capital=t.capital, floor=self.ledger.floor)

    # -- side duties -----------------------------------------------------------------
    def _check_run(self, msg: m.Msg) -> None:
        run_id = getattr(msg, "run_id", None)
        if run_id is None:
            return
        if not self.run_id:
            self.run_id = run_id
            self.run_file.write_text(json.dumps({"run_id": run_id}) + "\n")
        elif run_id != self.run_id:
            raise MessageError(f"message of run {run_id!r}, but this ledger holds run {self.run_id!r}")

    def _load_run_id(self) -> str:
        return json.loads(self.run_file.read_text())["run_id"] if self.run_file.exists() else ""

    def schedule_unconfirmed(self) -> list[int]:
        """Schedule the venue-resolution polling of every fill not confirmed yet."""
        unconfirmed = sorted(self.ledger.facts.unconfirmed)
        for interval in unconfirmed:
            self._schedule_resolution(interval)
        return unconfirmed

    def schedule_ended_windows(self) -> list[int]:
        """When idle: start the polling of every unconfirmed fill whose window has ended
        by the clock but whose prices never came (the feed failed to price it): the
        venue's resolution is then its only way to settle."""
        return [k for k in sorted(self.ledger.facts.unconfirmed) if self._poll_if_ended(k)]

    def _poll_if_ended(self, interval: int) -> bool:
        """Start the polling of a filled window once it has ended (once per window)."""
        if interval in self._polling or not self._window_over_with_a_fill(interval):
            return False
        self._schedule_resolution(interval)
        return True

    def _window_over_with_a_fill(self, interval: int) -> bool:
        # The venue resolves a window only after it ends: polling from the fill spent
        # five minutes of polls (about 20 by the schedule) on a market that could not
        # be resolved yet.  The window's prices mark its end, or the clock does.
        facts = self.ledger.facts
        decision = facts.get(Decision, interval)
        if facts.get(Fill, interval) is None or decision is None:
            return False
        return (facts.get(Prices, interval) is not None
                or self.clock.now() >= decision.window_start + WINDOW_SECONDS)

    def _schedule_resolution(self, interval: int) -> None:
        decision = self.ledger.facts.get(Decision, interval)
        if self.enqueue_resolution is not None and decision is not None and decision.slug:
            self.enqueue_resolution(self.run_id, interval, decision.slug, decision.window_start + WINDOW_SECONDS)
            self._polling.add(interval)

    def _record_metrics(self, msg: m.Msg) -> None:
        if isinstance(msg, (m.OrderFilled, m.OrderRejected)):
            self.ledger.files.append_metric({"interval": msg.interval, "kind": type(msg).__name__,
                                             "decision_to_order_ms": round(msg.latency_ms, 3),
                                             "attempts": msg.attempts})
