"""polybot report: files exist, and the summary's numbers are the ones computed here."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from polybot.analysis.run_summary import summarize
from polybot.analysis.state_files import load_state_dir
from polybot.cli import main
from tests.analysis.ledger_dir import Interval, make_state_dir, trade_numbers

D = Decimal
RUN = [
    Interval("Up", "5", "0.5", won=True),
    Interval("Down", "7.5", "0.5", won=True),
    Interval(None, skip_reason="predictor chose SKIP: SKIP (skip_disagree): RSI 75 is not in (50, 70)"),
    Interval("Up", "11.25", "0.51", won=False),
    Interval("Down", "5", "0.5", won=False),
    Interval(None, skip_reason="volatility 3.5% over the last 5 1-minute bars exceeds 3%: circuit breaker",
             wanted="UP"),
    Interval("Up", "5", "0.51", won=True),
]


def expected_numbers() -> dict:
    """Win rate, PnL, fees and max drawdown, computed here from the run's definition."""
    capital, peak, worst, pnls, fees = D(100), D(100), D(0), [], D(0)
    for i in RUN:
        if i.side is None:
            continue
        shares, fee = trade_numbers(i)
        pnl = (shares - D(i.stake) - fee) if i.won else (-D(i.stake) - fee)
        capital += pnl
        peak = max(peak, capital)
        worst = max(worst, (peak - capital) / peak)
        pnls.append(pnl)
        fees += fee
    wins = sum(1 for i in RUN if i.side and i.won)
    return {"pnl": sum(pnls), "final": capital, "fees": fees, "win_rate": wins / len(pnls),
            "max_drawdown_pct": worst * 100, "trades": len(pnls)}


@pytest.fixture
def state_dir(tmp_path):
    return make_state_dir(tmp_path / "state", RUN)


def test_summary_numbers_match_an_independent_computation(state_dir):
    want = expected_numbers()
    s = summarize(load_state_dir(state_dir))
    assert s.trades == want["trades"] and s.intervals == len(RUN)
    assert s.win_rate == pytest.approx(want["win_rate"])
    assert s.pnl == want["pnl"] and s.final_capital == want["final"]
    assert s.fees == want["fees"]
    assert s.max_drawdown_pct == want["max_drawdown_pct"]
    assert dict(s.skips) == {"predictor skip_disagree": 1, "volatility breaker": 1}


def test_report_writes_markdown_html_and_png(state_dir, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", "--state-dir", str(state_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out / "report.md"), str(out / "report.html"), str(out / "equity.png")]
    assert (out / "equity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    want = expected_numbers()
    md = (out / "report.md").read_text()
    assert f"{want['pnl']:+,.2f}" in md and f"{want['max_drawdown_pct']:.2f}%" in md
    assert f"{want['win_rate']:.1%}" in md and f"${want['fees']:,.2f}" in md
    assert md.count("\n| ") >= len(RUN) + 9  # summary rows + one table row per interval
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "src='http" not in page  # self-contained
    assert "circuit breaker" in page


def test_default_output_is_inside_the_state_dir(state_dir, capsys):
    assert main(["report", "--state-dir", str(state_dir)]) == 0
    assert (state_dir / "report" / "report.html").exists()


@pytest.mark.parametrize("damage", ["missing_state", "bad_json", "bad_trade", "bad_equity_header", "no_dir"])
def test_bad_state_dir_is_one_error_line(state_dir, tmp_path, capsys, damage):
    target = state_dir
    if damage == "missing_state":
        (state_dir / "bot_state.json").unlink()
    elif damage == "bad_json":
        (state_dir / "bot_state.json").write_text("{not json")
    elif damage == "bad_trade":
        with open(state_dir / "trades.log", "a") as f:
            f.write(json.dumps({"interval_number": "x"}) + "\n")
    elif damage == "bad_equity_header":
        text = (state_dir / "equity_curve.csv").read_text().split("\n", 1)[1]
        (state_dir / "equity_curve.csv").write_text("a,b\n" + text)
    else:
        target = tmp_path / "nowhere"
    assert main(["report", "--state-dir", str(target), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("polybot report: error: ") and err.count("\n") == 1
