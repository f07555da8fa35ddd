"""The ledger: facts in, bot state out, files rewritten after every change."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from services.ledger.book import Facts, Step, Totals, fold_interval, is_decided, pending_position
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
        self.steps: list[Step] = []
        self._decided = 0  # decided_through so far: facts are only added, so it never goes back
        for fact in journal.load():
            self.facts.add(fact)
        self._refold(from_interval=1)
        self.files.rewrite([s.record for s in self.steps], [s.point for s in self.steps])

    # -- state --------------------------------------------------------------------
    @property
    def totals(self) -> Totals:
        return self.steps[-1].totals if self.steps else Totals(capital=self.start, peak=self.start)

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
        return fact_key(fact) in self.facts.by_key

    # -- applying facts -------------------------------------------------------------
    def apply(self, fact: Fact) -> Change | None:
        """Record a new fact (None if it was already known) and fold what it settles."""
        if not self.facts.add(fact):
            return None
        self.journal.append(fact)
        was_halted = self.totals.halted
        interval = getattr(fact, "interval", None)
        if isinstance(fact, HaltReset) or interval is None or interval > self.settled_through:
            change = Change(settled=self._fold_forward())
            self.files.append([s.record for s in change.settled], [s.point for s in change.settled])
        else:
            change = self._revisit(interval)
        change.halted_now = self.totals.halted and not was_halted
        return change

    def _fold_forward(self) -> list[Step]:
        new = []
        while (step := fold_interval(self.facts, self.totals, self.floor)) is not None:
            self.steps.append(step)
            new.append(step)
        return new

    def _revisit(self, interval: int) -> Change:
        """A fact about an already settled interval (a venue confirmation, late prices)."""
        before = self.steps[interval - 2].totals if interval >= 2 else Totals(capital=self.start, peak=self.start)
        again = fold_interval(self.facts, before, self.floor)
        if again is not None and again == self.steps[interval - 1]:
            return Change()  # the venue agreed: nothing changes
        old = self.steps[interval - 1].record
        if again is None or (again.record.outcome, again.record.pnl) != (old.outcome, old.pnl):
            log.critical("settlement corrected: the venue disagrees with the provisional settlement",
                         extra={"data": {"interval": interval, "was": old.outcome,
                                         "now": again.record.outcome if again else None}})
        self._refold(from_interval=interval)
        self.files.rewrite([s.record for s in self.steps], [s.point for s in self.steps])
        return Change(settled=self.steps[interval - 1:], corrected=True)

    def _refold(self, from_interval: int) -> None:
        del self.steps[from_interval - 1:]
        self._fold_forward()
