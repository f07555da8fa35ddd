"""``polybot risk-analysis``: load the data, run the Monte Carlo, write the outputs.

Outputs in ``--out``: ``summary.json`` (``config`` and ``results`` depend only on the
options and the data; ``performance`` holds the timings), ``risk-analysis.md`` and
``risk-analysis.png``.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal, InvalidOperation
from dataclasses import dataclass, field
from pathlib import Path

from polybot.analysis import mc_report, mc_stats
from polybot.analysis.data_files import load_candle_file
from polybot.analysis.montecarlo import World, run_all, simulate_run
from polybot.analysis.progress_bar import ProgressBar
from services.predictor.config import PredictorConfig
from services.risk.config import RiskConfig

FOLD_SAMPLE = 2000  # runs re-timed with every window cached: the fold-only rate


@dataclass(frozen=True)
class Options:
    data: list[Path]
    runs: int = 2000
    seed: int = 1
    intervals: int = 18
    profile: str = "default"
    out: Path = Path("risk-analysis")
    data_given: bool = False          # --data was on the command line (for the report)
    risk: RiskConfig = field(default_factory=RiskConfig)

    def command(self) -> str:
        parts = ["polybot risk-analysis", f"--runs {self.runs}", f"--seed {self.seed}",
                 f"--intervals {self.intervals}", f"--profile {self.profile}"]
        if self.risk.streak_multiplier != RiskConfig().streak_multiplier:
            parts.append(f"--streak-multiplier {self.risk.streak_multiplier}")
        if self.data_given:
            parts.append("--data " + " ".join(str(p) for p in self.data))
        return " ".join(parts)


def risk_config(streak_multiplier: str | None = None) -> RiskConfig:
    """The risk service's defaults (environment not read: results must not depend on it)."""
    if streak_multiplier is None:
        return RiskConfig()
    try:
        cfg = RiskConfig(streak_multiplier=Decimal(streak_multiplier))
    except InvalidOperation:
        raise ValueError(f"--streak-multiplier {streak_multiplier!r} is not a number") from None
    cfg.check()  # raises ConfigError (a ValueError) with one line
    return cfg


def analyse(opts: Options, progress=None) -> tuple[dict, list[Path]]:
    """Run everything; returns the summary and the written paths."""
    began = _Clocks()
    files = [load_candle_file(path) for path in opts.data]
    world = World.build(files, intervals=opts.intervals, predictor=PredictorConfig(profile=opts.profile),
                        risk=opts.risk, seed=opts.seed)
    plan = world.plan(opts.runs, opts.seed)
    ready = _Clocks()
    results = run_all(world, plan, progress or ProgressBar(len(plan), "risk-analysis"))
    done = _Clocks()
    summary = {"config": _config(opts, world), "results": mc_stats.summarize(results, world),
               "performance": _performance(world, plan, ready - began, done - ready)}
    return summary, write_outputs(summary, results, world, opts)


class _Clocks:
    """Wall and CPU time together: on a shared machine the CPU time is the steadier figure."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __sub__(self, other: "_Clocks") -> tuple[float, float]:
        return self.wall - other.wall, self.cpu - other.cpu


def _config(opts: Options, world: World) -> dict:
    return {"command": opts.command(), "runs": opts.runs, "seed": opts.seed, "intervals": opts.intervals,
            "profile": opts.profile, "streak_multiplier": str(opts.risk.streak_multiplier),
            "files": [f.name for f in world.files],
            "eligible_starts": world.eligible, "starting_capital": str(opts.risk.starting_capital),
            "floor": str(opts.risk.floor), "order_book_imbalance": "None (neutral): no order book in replay",
            "decision_time": "window start (lockstep replay): fair 0.5, Up ask 0.51, Down ask 0.50"}


def _performance(world: World, plan, setup: tuple[float, float], simulate: tuple[float, float]) -> dict:
    sample = plan[:FOLD_SAMPLE]
    began = _Clocks()
    for file, first in sample:  # every window is cached by now: this times the fold alone
        simulate_run(world, file, first)
    fold = _Clocks() - began
    computed = [facts for windows in world.windows for facts in windows.cached()]
    return {"setup_s": round(setup[0], 3), "simulate_s": round(simulate[0], 3),
            "simulate_cpu_s": round(simulate[1], 3), "runs_per_s": _rate(len(plan), simulate[0]),
            "runs_per_cpu_s": _rate(len(plan), simulate[1]), "fold_runs_per_s": _rate(len(sample), fold[0]),
            "fold_runs_per_cpu_s": _rate(len(sample), fold[1]), "windows_computed": len(computed),
            "predictor_core_fallbacks": sum(f.call.via_core for f in computed),
            "state_rule_evaluations": world.state_rules.misses, "fills_matched": len(world.fills)}


def _rate(count: int, seconds: float) -> float | None:
    return round(count / seconds, 1) if seconds > 0 else None


def write_outputs(summary: dict, results, world: World, opts: Options) -> list[Path]:
    opts.out.mkdir(parents=True, exist_ok=True)
    data = opts.out / "summary.json"
    data.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    png = mc_report.plot(results, summary, world, opts.out / "risk-analysis.png")
    md = opts.out / "risk-analysis.md"
    md.write_text(mc_report.markdown(summary, png.name), encoding="utf-8")
    return [md, png, data]
