"""What every risk rule sees (RiskContext) and what it answers (Verdict).

A rule is a small plugin (freqtrade's protections, nautilus' ``_check_*``): one
``check(ctx) -> Verdict | None`` method, no I/O, time passed in as ``now_ns``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from services.risk.allocator import Allocation, allocate
from services.risk.config import RiskConfig
from shared.clock import NS
from shared.messages import LedgerState, Outcome, OutcomeBook, PredictionSignal

OUTCOME_OF_SIGNAL: dict[str, Outcome] = {"UP": "Up", "DOWN": "Down"}


class Kind(enum.Enum):
    INFO = "info"    # explains an approval (the stake's formula, the volatility reading)
    DENY = "deny"    # skip this interval
    HALT = "halt"    # skip it and ask the ledger to persist a trading halt


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    reason: str

    @classmethod
    def info(cls, reason: str) -> Verdict:
        return cls(Kind.INFO, reason)

    @classmethod
    def deny(cls, reason: str) -> Verdict:
        return cls(Kind.DENY, reason)

    @classmethod
    def halt(cls, reason: str) -> Verdict:
        return cls(Kind.HALT, reason)

    @property
    def denies(self) -> bool:
        return self.kind is not Kind.INFO


@dataclass(frozen=True)
class RiskContext:
    """One signal and the ledger state after the previous window was settled."""

    signal: PredictionSignal
    state: LedgerState
    now_ns: int
    config: RiskConfig

    @property
    def now(self) -> float:
        return self.now_ns / NS

    @property
    def outcome(self) -> Outcome | None:
        return OUTCOME_OF_SIGNAL.get(self.signal.signal)

    @property
    def book(self) -> OutcomeBook | None:
        """The chosen outcome's book, or None (SKIP or no quote)."""
        quote = self.signal.quote
        return quote.book(self.outcome) if quote is not None and self.outcome is not None else None

    @cached_property
    def allocation(self) -> Allocation:
        """Computed once and shared by the sizing rules and the decision."""
        book, quote = self.book, self.signal.quote
        ask = book.best_ask if book is not None else None
        return allocate(self.config, self.state.current_capital, self.state.win_streak,
                        ask=ask, fee=quote.fee if quote is not None else None)


class Rule(Protocol):
    def check(self, ctx: RiskContext) -> Verdict | None: ...
