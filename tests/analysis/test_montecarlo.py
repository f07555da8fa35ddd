"""The Monte Carlo folds every run as the pipeline would, exactly and reproducibly."""

from __future__ import annotations

import json
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

import numpy as np
import pytest

from polybot.analysis.montecarlo import FLOOR_LABELS, World, simulate_run
from polybot.analysis.risk_analysis import Options, analyse, risk_config
from polybot.analysis.venue import SimMarket
from polybot.cli import main
from services.ledger.facts import Decision, Fill as FillFact, Prices
from services.ledger.files import StateFiles
from services.ledger.journal import Journal
from services.ledger.ledger import Ledger
from services.predictor.config import PredictorConfig

D = Decimal
CENT, FEE_QUANTUM = D("0.01"), D("0.00001")
RUNS = 120


@pytest.fixture(scope="module")
def traced(crash_world):
    return [simulate_run(crash_world, f, first, trace=True) for f, first in crash_world.plan(RUNS, seed=11)]


def expected_stake(capital: Decimal, streak: int, ask: Decimal) -> Decimal | None:
    """The sizing rule from scratch: $5 × 1.5^streak capped at $25, cut so that a total loss
    (stake + worst fee 0.07·(1−ask) per dollar, rounded up) stays above $70; None when
    that leaves less than the venue's minimum (max($1, 5 shares))."""
    desired = min(D(5) * D("1.5") ** streak, D(25)).quantize(CENT, ROUND_DOWN)
    per_dollar = D("0.07") * (1 - ask)
    stake = desired
    while stake > 0 and stake + (stake * per_dollar).quantize(FEE_QUANTUM, ROUND_CEILING) > capital - 70:
        stake -= CENT
    minimum = max(D(1), (5 * ask).quantize(CENT, ROUND_CEILING))
    return stake if stake >= minimum else None


def test_capital_is_100_plus_the_exact_sum_of_pnl(traced):
    for run in traced:
        assert run.final_capital == D(100) + sum((s.pnl for s in run.steps), D(0))
        for before, after in zip(run.steps, run.steps[1:]):
            assert after.capital_before == before.capital_before + before.pnl


def test_capital_never_goes_below_the_floor(traced):
    assert any(run.halted for run in traced), "the crash month should halt some runs"
    for run in traced:
        assert all(s.capital_before + s.pnl >= 70 for s in run.steps)
        assert run.min_capital >= 70


def test_stakes_follow_the_streak_and_floor_rule(traced, crash_world):
    for run in traced:
        for step, nxt in zip(run.steps, run.steps[1:] + [None]):
            facts = crash_world.windows[0].facts(run.first + 5 * (step.interval - 1))
            if step.outcome != "SKIP":
                want = expected_stake(step.capital_before, step.streak_before, facts.sizing_key[1])
                assert step.stake == want, step
            elif step.skip in FLOOR_LABELS - {"max drawdown halt"}:
                assert expected_stake(step.capital_before, step.streak_before, facts.sizing_key[1]) is None
            if nxt is not None:  # FR-009: +1 on a win, reset on a loss, unchanged on a skip
                streak = {"WIN": step.streak_before + 1, "LOSS": 0}.get(step.outcome, step.streak_before)
                assert nxt.streak_before == streak


def test_the_real_ledger_folds_a_run_to_the_same_capital_and_halt(traced, crash_world, tmp_path):
    for n, run in enumerate([r for r in traced if r.halted][:2] + traced[:2]):
        ledger = Ledger(starting_capital=D(100), floor=D(70), intervals=18,
                        files=StateFiles(tmp_path / str(n), fsync=False),
                        journal=Journal(tmp_path / str(n) / "journal", False))
        for step in run.steps:
            for fact in _facts(crash_world, run, step):
                ledger.apply(fact)
        assert ledger.totals.capital == run.final_capital
        assert ledger.totals.halted == run.halted


def _facts(world, run, step) -> list:
    """What the pipeline would have told the ledger about one interval of the run."""
    facts = world.windows[0].facts(run.first + 5 * (step.interval - 1))
    traded = step.outcome != "SKIP"
    outcome = facts.sizing_key[0] if facts.sizing_key else None
    halt = step.skip == "max drawdown halt"
    a = world.files[0].arrays
    first = run.first + 5 * (step.interval - 1)
    out = [Decision(interval=step.interval, window_start=step.window_start, approved=traded, stake=step.stake,
                    reasons=(step.skip or "ok",), halt=halt, signal=step.signal, confidence=D(0), reasoning="",
                    rule="", odds=None, slug=None, outcome=outcome),
           Prices(interval=step.interval, start_price=D(int(a.open[first])) / 100,
                  end_price=D(int(a.close[first + 4])) / 100, source="binance_1m")]
    if traded:
        fill = SimMarket.fill(facts.book, step.stake)  # uncached: checks the fill cache too
        out.append(FillFact(interval=step.interval, order_id="x", outcome=outcome, token_id="t", stake=fill.stake,
                            shares=fill.shares, avg_price=fill.avg_price, fee=fill.fee))
    return out


def test_reproduces_a_real_paper_run_of_the_whole_stack(crash_world, crash_data):
    """`polybot run --data <crash file> --start 2024-08-05T06:00:00Z` (simulator, seed 7) wrote
    these PnLs.  Interval 17 differs by design: there the simulator's order book leaned
    against an UP signal (imbalance -0.30), which replay treats as neutral."""
    stack_pnls = ["4.825", "7.2375", "10.85625", "0", "0", "0", "-17.46045", "0", "0", "0", "-5.1715",
                  "4.632421", "6.948632", "10.422953", "-17.44864", "0"]
    first = int(np.searchsorted(crash_data.open_ms, 1_722_837_600_000))
    run = simulate_run(crash_world, 0, first, trace=True)
    assert [s.pnl for s in run.steps[:16]] == [D(p) for p in stack_pnls]
    assert sum(s.pnl for s in run.steps[:16]) + 100 == D("104.842166")  # the stack's capital


def test_same_seed_same_summary(crash_file, tmp_path):
    outputs = []
    for name in ("a", "b"):
        opts = Options(data=[crash_file], runs=40, seed=5, out=tmp_path / name)
        summary, paths = analyse(opts, progress=lambda done: None)
        saved = json.loads((tmp_path / name / "summary.json").read_text())
        assert saved["results"] == summary["results"]
        outputs.append({k: saved[k] for k in ("config", "results")})
    assert outputs[0] == outputs[1]
    other, _ = analyse(Options(data=[crash_file], runs=40, seed=6, out=tmp_path / "c"), progress=lambda done: None)
    assert other["results"] != outputs[0]["results"]  # the seed does drive the draw


def test_command_writes_the_report_with_a_progress_bar(crash_file, tmp_path, capsys):
    out = tmp_path / "ra"
    assert main(["risk-analysis", "--data", str(crash_file), "--runs", "25", "--seed", "2", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "25/25 runs" in captured.err and "runs/s" in captured.out
    assert {p.name for p in out.iterdir()} == {"risk-analysis.md", "risk-analysis.png", "summary.json"}
    assert "Command: `polybot risk-analysis --runs 25 --seed 2" in (out / "risk-analysis.md").read_text()


def test_bad_data_is_one_error_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("open_time_ms,open\nnot,a,number\n")
    assert main(["risk-analysis", "--data", str(bad), "--runs", "5", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("polybot risk-analysis: error: ") and err.count("\n") == 1


def test_streak_multiplier_one_means_flat_stakes(crash_data):
    world = World.build([crash_data], intervals=18, predictor=PredictorConfig(), risk=risk_config("1"), seed=7)
    runs = [simulate_run(world, f, first, trace=True) for f, first in world.plan(30, seed=4)]
    stakes = {s.stake for run in runs for s in run.steps if s.outcome != "SKIP"}
    assert max(stakes) == D(5)


@pytest.mark.parametrize("value", ["0.5", "x"])
def test_bad_streak_multiplier_is_one_error_line(crash_file, tmp_path, capsys, value):
    argv = ["risk-analysis", "--data", str(crash_file), "--streak-multiplier", value, "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("polybot risk-analysis: error: ") and err.count("\n") == 1
