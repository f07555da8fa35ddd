"""Live progress and the final summary of ``polybot run``, read from the ledger's files."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path


class Progress:
    def __init__(self, state_dir: Path, intervals: int, out, confirm_wait_s: float = 30.0):
        self.trades = state_dir / "trades.log"
        self.state = state_dir / "bot_state.json"
        self.intervals = intervals
        self.out = out
        self.seen = 0
        self.confirm_wait_s = confirm_wait_s
        self._complete_since: float | None = None

    def poll(self) -> None:
        if not self.trades.exists():
            return
        lines = self.trades.read_text().splitlines()
        if len(lines) < self.seen:  # rewritten after a correction: show it again
            self.seen = 0
        for line in lines[self.seen:]:
            self._print(json.loads(line))
        self.seen = len(lines)

    def _print(self, r: dict) -> None:
        stake = f"${Decimal(r['position_size']):>6.2f}" if r["outcome"] != "SKIP" else "      -"
        pnl = Decimal(r["pnl"])
        detail = f"{r['side']} @ {r['avg_price']}" if r["outcome"] != "SKIP" else (r["skip_reason"] or "")[:60]
        print(f"[{r['interval_number']:>2}/{self.intervals}] {r['timestamp']}  {r['prediction']:<4} "
              f"stake {stake}  {r['outcome']:<4} {pnl:+8.2f}  capital ${Decimal(r['capital_after']):8.2f}  "
              f"{detail}", file=self.out, flush=True)

    def confirmed(self) -> bool:
        """All settlements confirmed by the venue (or we stop waiting after a while)."""
        if not self.state.exists():
            return False
        state = json.loads(self.state.read_text())
        if state.get("unconfirmed_settlements", 0) == 0:
            return True
        self._complete_since = self._complete_since or time.monotonic()
        if time.monotonic() - self._complete_since > self.confirm_wait_s:
            print(f"note: {state['unconfirmed_settlements']} settlement(s) not yet confirmed by the venue; "
                  "they stay provisional", file=self.out)
            return True
        return False

    def summary(self) -> None:
        state = json.loads(self.state.read_text())
        records = [json.loads(line) for line in self.trades.read_text().splitlines()]
        trades = [r for r in records if r["outcome"] in ("WIN", "LOSS", "VOID")]
        wins = sum(r["outcome"] == "WIN" for r in trades)
        rows = [
            ("intervals recorded", f"{len(records)} / {self.intervals}"),
            ("trades", f"{len(trades)} ({wins} won, {len(trades) - wins} lost)"),
            ("skipped", str(len(records) - len(trades))),
            ("win rate", f"{wins / len(trades):.0%}" if trades else "-"),
            ("fees paid", f"${Decimal(state['fees_paid']):.2f}"),
            ("final capital", f"${Decimal(state['current_capital']):.2f} (start ${Decimal(state['starting_capital']):.2f})"),
            ("PnL", f"{Decimal(state['pnl']):+.2f}"),
            ("peak capital", f"${Decimal(state['peak_capital']):.2f}"),
            ("halted", state["halt_reason"] if state["halted"] else "no"),
        ]
        width = max(len(k) for k, _ in rows)
        print("\n" + "summary".center(width + 30, "-"), file=self.out)
        for key, value in rows:
            print(f"{key:<{width}}  {value}", file=self.out)
        print(f"files: {self.state.parent}/bot_state.json, trades.log, equity_curve.csv", file=self.out)
