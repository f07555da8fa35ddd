"""``polybot report``'s outputs: the PNG, and the same summary and table as markdown and
as one self-contained HTML file (the PNG embedded as a data URI)."""

from __future__ import annotations

import base64
import html
from decimal import Decimal
from pathlib import Path

from polybot.analysis import plots
from polybot.analysis.run_summary import RunSummary
from polybot.analysis.state_files import LedgerFiles

PNG_NAME, MD_NAME, HTML_NAME = "equity.png", "report.md", "report.html"
TABLE_HEADER = ("#", "window start (UTC)", "prediction", "rule", "stake", "fill", "outcome", "PnL",
                "capital", "drawdown", "note")


def write_report(files: LedgerFiles, summary: RunSummary, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    png = _plot(summary, out / PNG_NAME)
    md = out / MD_NAME
    md.write_text(markdown(files, summary, PNG_NAME), encoding="utf-8")
    page = out / HTML_NAME
    page.write_text(html_page(files, summary, png), encoding="utf-8")
    return [md, page, png]


def _plot(s: RunSummary, path: Path) -> Path:
    capital = [s.starting_capital] + [row.capital for row in s.rows]
    drawdown = [Decimal(0)] + [row.drawdown_pct for row in s.rows]
    return plots.equity_and_drawdown(path, list(range(len(capital))), [float(c) for c in capital],
                                     [float(d) for d in drawdown], start=float(s.starting_capital),
                                     floor=float(s.floor) if s.floor is not None else None)


def money(value: Decimal, signed: bool = False) -> str:
    return f"{value:+,.2f}" if signed else f"${value:,.2f}"


def summary_pairs(s: RunSummary) -> list[tuple[str, str]]:
    win_rate = f"{s.win_rate:.1%} ({s.wins} of {s.trades})" if s.win_rate is not None else "- (no trades)"
    fee_share = f" ({s.fees / s.staked:.2%} of ${s.staked:,.2f} staked)" if s.staked else ""
    skips = ", ".join(f"{kind} × {n}" for kind, n in s.skips.most_common()) or "none"
    return [
        ("intervals", str(s.intervals)),
        ("trades", f"{s.trades} ({s.wins} won, {s.losses} lost, {s.voids} void)"),
        ("win rate", win_rate),
        ("PnL", f"{money(s.pnl, signed=True)} (capital {money(s.starting_capital)} → {money(s.final_capital)})"),
        ("max drawdown", f"{money(s.max_drawdown)} ({s.max_drawdown_pct:.2f}% from the peak)"),
        ("peak / lowest capital", f"{money(s.peak_capital)} / {money(s.lowest_capital)}"),
        ("fees paid", money(s.fees) + fee_share),
        ("skips", f"{sum(s.skips.values())}: {skips}"),
        ("halted", s.halt_reason if s.halted else "no"),
    ]


def table_cells(s: RunSummary) -> list[tuple[str, ...]]:
    return [(str(r.interval), r.timestamp, r.prediction, r.rule, money(r.stake) if r.stake else "-",
             r.fill or "-", r.outcome, money(r.pnl, signed=True), money(r.capital), f"{r.drawdown_pct:.2f}%",
             r.note) for r in s.rows]


def markdown(files: LedgerFiles, s: RunSummary, png_name: str) -> str:
    lines = [f"# Run report: {files.state.get('run_id') or files.directory}", "",
             f"State directory: `{files.directory}`", "", "## Summary", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {_md(value)} |" for key, value in summary_pairs(s)]
    lines += ["", f"![equity curve and drawdown]({png_name})", "", "## Intervals", "",
              "| " + " | ".join(TABLE_HEADER) + " |", "|" + "---|" * len(TABLE_HEADER)]
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in table_cells(s)]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def html_page(files: LedgerFiles, s: RunSummary, png: Path) -> str:
    image = base64.b64encode(png.read_bytes()).decode("ascii")
    title = html.escape(f"Run report: {files.state.get('run_id') or files.directory}")
    summary = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary_pairs(s))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in TABLE_HEADER)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table_cells(s))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{_CSS}</style>"
            f"</head><body><h1>{title}</h1><p>State directory: <code>{html.escape(str(files.directory))}</code></p>"
            f"<h2>Summary</h2><table>{summary}</table>"
            f"<img alt='equity curve and drawdown' src='data:image/png;base64,{image}'>"
            f"<h2>Intervals</h2><table><tr>{head}</tr>{body}</table></body></html>\n")


_CSS = ("body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}"
        "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px;vertical-align:top}"
        "img{max-width:100%}")
