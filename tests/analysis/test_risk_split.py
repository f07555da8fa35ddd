"""Window half + memoised state half of the risk rules = the service's evaluate()."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import numpy as np

from polybot.analysis.data_files import run_starts
from polybot.analysis.risk_split import STATE_RULES, WINDOW_RULES, ledger_state, run_rules
from services.risk.context import RiskContext
from services.risk.handler import evaluate
from services.risk.rules import DEFAULT_RULES

CAPITALS = ("100", "150.5", "72.64", "71.2", "70.9", "70.00001", "70")


def test_the_cached_window_half_is_the_full_window_evaluation(crash_world, crash_data):
    windows, cfg = crash_world.windows[0], crash_world.risk
    for first in run_starts(crash_data, 1, 500)[::211]:
        facts, signal = windows.facts(int(first)), windows.signal(int(first))
        full = run_rules(WINDOW_RULES, signal, ledger_state(cfg, cfg.starting_capital, 0), cfg)
        assert (facts.tradeable, facts.verdicts.denials) == (full.evaluation.approved, full.denials)
        if facts.tradeable:
            assert facts.book == signal.quote.book(facts.sizing_key[0])


def test_the_split_covers_every_service_rule_once():
    assert Counter(map(id, WINDOW_RULES + STATE_RULES)) == Counter(map(id, DEFAULT_RULES))


def test_combined_halves_equal_the_full_evaluation_on_real_windows(crash_world, crash_data):
    windows = crash_world.windows[0]
    cfg = crash_world.risk
    firsts = run_starts(crash_data, 1, 500)
    for first in np.random.default_rng(3).choice(firsts, size=60, replace=False):
        facts, signal = windows.facts(int(first)), windows.signal(int(first))
        for capital in map(Decimal, CAPITALS):
            for streak in (0, 1, 3, 7):
                state = ledger_state(cfg, capital, streak)
                full = evaluate(RiskContext(signal, state, signal.window_start * 10**9, cfg))
                # The memo evaluates a representative signal with the same sizing key:
                # this window's own full evaluation must agree with it.
                half = crash_world.state_rules(facts.sizing_key, capital, streak)
                window = run_rules(WINDOW_RULES, signal, state, cfg)
                approved = window.evaluation.approved and half.evaluation.approved
                assert approved == full.approved
                assert (half.evaluation.stake if approved else 0) == full.stake
                assert (window.evaluation.halt or half.evaluation.halt) == full.halt
                split = Counter(window.evaluation.reasons + half.evaluation.reasons)
                # The only difference: evaluate()'s own note when a half alone sizes nothing.
                assert split - Counter(full.reasons) <= Counter({"no stake could be sized": 1})
                assert Counter(full.reasons) - split == Counter()
