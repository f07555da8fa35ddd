"""The ledger: facts in, bot state out, files rewritten after every change.

Memory stays bounded however long the run: once an interval is closed (``is_closed``:
it has every fact it can ever get, so no correction can reach it) and every interval
before it is too, its facts and its settled step are dropped.  What is kept of them is
the running totals after the last closed interval; a correction replaces only the lines
of the intervals still open at the end of trades.log and equity_curve.csv.

A start reads the journal the same way, fact by fact in the order they came, and writes
each interval's lines to the new files as it closes: a restart late in a long run needs
no more memory than the run did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from services.ledger.book import (
    EquityPoint, Facts, Step, Totals, TradeRecord, fold_interval, is_closed, is_decided, pending_position,
)
from services.ledger.facts import Fact, HaltReset, fact_key
from services.ledger.files import StateFiles
from services.ledger.journal import Journal

log = logging.getLogger("polybot.ledger")


@dataclass
class Change:
    """What one new fact changed (for the messages the ledger publishes)."""

    settled: list[Step] = field(default_factory=list)
    halted_now: bool = False
    corrected: bool = False


class Ledger:
    def __init__(self, *, starting_capital: Decimal, floor: Decimal, intervals: int,
                 files: StateFiles, journal: Journal):
        self.start = starting_capital
        self.floor = floor
        self.intervals = intervals
        self.files = files
        self.journal = journal
        self.facts = Facts()
        self.steps: list[Step] = []  # the settled intervals after ``closed_through``, in order
        self.closed_through = 0  # intervals up to here are closed and forgotten
        self._closed_totals = Totals(capital=starting_capital, peak=starting_capital)
        self._decided = 0  # decided_through so far: facts are only added, so it never goes back
        self._on_close: Callable[[list[TradeRecord], list[EquityPoint]], None] | None = None
        with files.rewriting() as write:
            self._on_close = write  # closed intervals' lines go straight to the new files
            for fact in journal.load():
                if self._add(fact):
                    self._fold(fact)
            write(*_lines(self.steps))
        self._on_close = None

    # -- state --------------------------------------------------------------------
    @property
    def totals(self) -> Totals:
        return self.steps[-1].totals if self.steps else self._closed_totals

    @property
    def settled_through(self) -> int:
        return self.totals.next_interval - 1

    @property
    def decided_through(self) -> int:
        while is_decided(self.facts, self._decided + 1):
            self._decided += 1
        return self._decided

    @property
    def run_complete(self) -> bool:
        return self.totals.halted or self.settled_through >= self.intervals

    def open_position(self):
        return pending_position(self.facts, self.settled_through + 1)

    def has(self, fact: Fact) -> bool:
        return self._about_closed(fact) or fact_key(fact) in self.facts.by_key

    def step(self, interval: int) -> Step:
        """The settled step of an interval that is not closed yet."""
        if interval <= self.closed_through:
            raise KeyError(f"interval {interval} is closed (through {self.closed_through})")
        return self.steps[interval - self.closed_through - 1]

    # -- applying facts -------------------------------------------------------------
    def apply(self, fact: Fact) -> Change | None:
        """Record a new fact (None if it was already known) and fold what it settles."""
        if not self._add(fact):
            return None
        self.journal.append(fact)
        was_halted = self.totals.halted
        change = self._fold(fact, live=True)
        change.halted_now = self.totals.halted and not was_halted
        return change

    def _add(self, fact: Fact) -> bool:
        return not self._about_closed(fact) and self.facts.add(fact)

    def _about_closed(self, fact: Fact) -> bool:
        # A closed interval had every fact it can get: one about it is a redelivery.
        interval = getattr(fact, "interval", None)
        return interval is not None and interval <= self.closed_through

    def _fold(self, fact: Fact, live: bool = False) -> Change:
        """Fold what a new fact settles or corrects; ``live`` also writes the files (a
        start writes them as it closes intervals) and reports corrections."""
        interval = getattr(fact, "interval", None)
        if isinstance(fact, HaltReset) or interval is None or interval > self.settled_through:
            change = Change(settled=self._fold_forward())
            if live:
                self.files.append(*_lines(change.settled))
        else:
            change = self._revisit(interval, live)
        self._close_final_intervals()
        return change

    def _fold_forward(self) -> list[Step]:
        new = []
        while (step := fold_interval(self.facts, self.totals, self.floor)) is not None:
            self.steps.append(step)
            new.append(step)
        return new

    def _revisit(self, interval: int, live: bool) -> Change:
        """A fact about an already settled interval (a venue confirmation, late prices)."""
        before = self.step(interval - 1).totals if interval - 1 > self.closed_through else self._closed_totals
        again = fold_interval(self.facts, before, self.floor)
        if again is not None and again == self.step(interval):
            return Change()  # the venue agreed: nothing changes
        old = self.step(interval).record
        if live and (again is None or (again.record.outcome, again.record.pnl) != (old.outcome, old.pnl)):
            log.critical("settlement corrected: the venue disagrees with the provisional settlement",
                         extra={"data": {"interval": interval, "was": old.outcome,
                                         "now": again.record.outcome if again else None}})
        was = _lines(self.steps)
        self._refold(from_interval=interval)
        if live:
            self.files.replace_tail(was, _lines(self.steps))
        return Change(settled=self.steps[interval - self.closed_through - 1:], corrected=True)

    def _refold(self, from_interval: int) -> None:
        del self.steps[from_interval - self.closed_through - 1:]
        self._fold_forward()

    def _close_final_intervals(self) -> None:
        """Forget the oldest settled intervals while they are closed."""
        closing = 0
        while closing < len(self.steps) and is_closed(self.facts, self.closed_through + closing + 1):
            closing += 1
        if not closing:
            return
        if self._on_close is not None:
            self._on_close(*_lines(self.steps[:closing]))
        for _ in range(closing):
            self.closed_through += 1
            self.facts.drop(self.closed_through)
        self._closed_totals = self.steps[closing - 1].totals
        self._decided = max(self._decided, self.closed_through)  # their facts are gone
        del self.steps[:closing]


def _lines(steps: list[Step]) -> tuple[list[TradeRecord], list[EquityPoint]]:
    """What the steps write: their trades.log records and equity_curve.csv points."""
    return [s.record for s in steps], [s.point for s in steps]
