"""The risk service: every PredictionSignal becomes a RiskDecision (approved or denied,
with every reason) and, when approved, a SubmitOrder.

``evaluate`` is the pure decision (context in, verdicts out); ``RiskHandler`` adds the
one impure step, waiting for the ledger state that has interval k−1 settled.

Ids are deterministic — ``("decision"|"submit", run_id, interval)`` — so a redelivered
signal yields outputs with the same ids, and the ledger (one decision fact per
interval) and the executor (one order per ``order_key``) drop the duplicates.

An interval the ledger has already decided (``decided_through >= k``) is answered with
a denial under the same id and no SubmitOrder.  Re-running the rules would be wrong:
the state now includes interval k itself (its stake, maybe its settlement and a new
streak), so the "same" decision would come out with other numbers; and an order for an
interval the ledger has closed would be a position it never tracks.  The original
outputs were committed atomically with the ack of the signal, so nothing is lost, and
the ledger ignores the re-emitted denial because it already holds a decision for k.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.risk.config import RiskConfig
from services.risk.context import Kind, RiskContext, Rule, Verdict
from services.risk.rules import DEFAULT_RULES
from services.risk.state import LedgerStateWaiter, describe
from shared import streams
from shared.bus import Out
from shared.clock import Clock
from shared.errors import MessageError
from shared.messages import LedgerState, Msg, PredictionSignal, RiskDecision, SubmitOrder, header

ZERO = Decimal(0)
log = logging.getLogger("polybot.risk")


@dataclass(frozen=True)
class Evaluation:
    approved: bool
    stake: Decimal
    reasons: tuple[str, ...]
    halt: bool


# Reasons read best with the "why not" first: halts, then denials, then explanations.
_REASON_ORDER = {Kind.HALT: 0, Kind.DENY: 1, Kind.INFO: 2}


def evaluate(ctx: RiskContext, rules: Sequence[Rule] = DEFAULT_RULES) -> Evaluation:
    """Run every rule (no short-circuit) and combine their verdicts."""
    verdicts = [v for v in (rule.check(ctx) for rule in rules) if v is not None]
    if not any(v.denies for v in verdicts) and ctx.allocation.stake <= 0:
        verdicts.append(Verdict.deny("no stake could be sized"))  # defensive: a rule set without sizing
    verdicts.sort(key=lambda v: _REASON_ORDER[v.kind])  # stable: rule order within a kind
    approved = not any(v.denies for v in verdicts)
    return Evaluation(approved=approved, stake=ctx.allocation.stake if approved else ZERO,
                      reasons=tuple(v.reason for v in verdicts),
                      halt=any(v.kind is Kind.HALT for v in verdicts))


def decision_message(signal: PredictionSignal, state: LedgerState | None, ev: Evaluation,
                     now_ns: int) -> RiskDecision:
    same_run = state is not None and state.run_id == signal.run_id
    return RiskDecision(
        **header(key=("decision", signal.run_id, signal.interval), ts_event=signal.ts_event,
                 ts_init=now_ns, cause=signal),
        run_id=signal.run_id, interval=signal.interval, approved=ev.approved, stake=ev.stake,
        reasons=ev.reasons, prediction=signal, halt=ev.halt,
        capital=state.current_capital if same_run else ZERO,
        win_streak=state.win_streak if same_run else 0)


def order_message(ctx: RiskContext, stake: Decimal) -> SubmitOrder:
    signal, quote, book = ctx.signal, ctx.signal.quote, ctx.book
    return SubmitOrder(
        **header(key=("submit", signal.run_id, signal.interval), ts_event=signal.ts_event,
                 ts_init=ctx.now_ns, cause=signal),
        run_id=signal.run_id, interval=signal.interval, order_key=f"{signal.run_id}:{signal.interval}",
        window_start=signal.window_start, window_end=signal.window_end,
        entry_deadline=signal.entry_deadline, slug=quote.slug, condition_id=quote.condition_id,
        token_id=book.token_id, outcome=book.outcome, amount=stake, book=book, fee=quote.fee,
        decided_at_ns=ctx.now_ns)


def decide(ctx: RiskContext, rules: Sequence[Rule] = DEFAULT_RULES) -> list[Out]:
    """The outputs for a signal whose ledger state is fresh."""
    ev = evaluate(ctx, rules)
    outputs: list[Out] = [(streams.DECISIONS, decision_message(ctx.signal, ctx.state, ev, ctx.now_ns))]
    if ev.approved:
        outputs.append((streams.ORDER_CMDS, order_message(ctx, ev.stake)))
    return outputs


def stale_denial(signal: PredictionSignal, state: LedgerState | None, now_ns: int) -> RiskDecision:
    reason = (f"ledger had not settled interval {signal.interval - 1} by the entry deadline "
              f"({describe(state, signal)})")
    return decision_message(signal, state, Evaluation(False, ZERO, (reason,), False), now_ns)


def duplicate_denial(signal: PredictionSignal, state: LedgerState, now_ns: int) -> RiskDecision:
    reason = (f"interval {signal.interval} was already decided (ledger decided_through="
              f"{state.decided_through}): duplicate signal, no new order")
    return decision_message(signal, state, Evaluation(False, ZERO, (reason,), False), now_ns)


class RiskHandler:
    name = streams.GROUP_RISK
    streams = (streams.SIGNALS,)

    def __init__(self, cfg: RiskConfig, waiter: LedgerStateWaiter, clock: Clock,
                 rules: Sequence[Rule] = DEFAULT_RULES):
        self.cfg = cfg
        self.waiter = waiter
        self.clock = clock
        self.rules = tuple(rules)
        self._halts_logged: set[str] = set()  # run ids whose drawdown breach was logged CRITICAL

    def handle(self, stream: str, msg: Msg) -> list[Out]:
        if not isinstance(msg, PredictionSignal):
            raise MessageError(f"risk consumes PredictionSignal, got {type(msg).__name__}")
        waited = self.waiter.wait_for(msg)   # may raise TransientError: retried later
        now_ns = self.clock.now_ns()
        if not waited.fresh:
            outputs: list[Out] = [(streams.DECISIONS, stale_denial(msg, waited.state, now_ns))]
        elif waited.state.decided_through >= msg.interval:
            outputs = [(streams.DECISIONS, duplicate_denial(msg, waited.state, now_ns))]
        else:
            outputs = decide(RiskContext(msg, waited.state, now_ns, self.cfg), self.rules)
        self._log(outputs[0][1], waited.state)
        return outputs

    def _log(self, decision: RiskDecision, state: LedgerState | None) -> None:
        data = {"run_id": decision.run_id, "interval": decision.interval, "approved": decision.approved,
                "stake": str(decision.stake), "reasons": list(decision.reasons)}
        log.info("approved" if decision.approved else "denied", extra={"data": data})
        already_halted = state is not None and state.halted
        if decision.halt and not already_halted and decision.run_id not in self._halts_logged:
            self._halts_logged.add(decision.run_id)
            log.critical("max drawdown breached: trading halted", extra={"data": data})
