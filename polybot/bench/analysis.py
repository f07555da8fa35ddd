"""The in-process risk analysis (``polybot risk-analysis``): runs of N intervals per second.

Calls the Monte Carlo API of ``polybot.analysis`` directly (no outputs written): the
data files are loaded and the world built first (``setup_s``, not counted in
``runs_per_s``), then the planned runs are simulated twice -- cold (each window's
prediction, rules and fills are computed the first time a run reaches it, as
``polybot risk-analysis`` does) and warm (everything cached: the fold alone).

The world build does some per-window work ahead, vectorised over whole files (TA-Lib
series, the volatility breaker's comparison), so ``runs_per_s_with_setup`` also counts
the setup: a figure no amount of work moved into ``World.build`` can flatter.
"""

from __future__ import annotations

import time
from pathlib import Path


def measure(runs: int, data: list[Path], intervals: int = 18, seed: int = 1) -> dict:
    try:
        from polybot.analysis.data_files import load_candle_file
        from polybot.analysis.montecarlo import World, run_all
        from services.predictor.config import PredictorConfig
        from services.risk.config import RiskConfig
    except ImportError as exc:  # the analysis package is not there (yet)
        return {"todo": f"polybot.analysis is not importable ({exc}); measure `polybot risk-analysis`"}
    began = time.perf_counter()
    files = [load_candle_file(path) for path in data]
    world = World.build(files, intervals=intervals, predictor=PredictorConfig(), risk=RiskConfig(), seed=seed)
    plan = world.plan(runs, seed)
    ready = time.perf_counter()
    run_all(world, plan)
    cold = time.perf_counter()
    run_all(world, plan)
    warm = time.perf_counter()
    return {"runs": runs, "intervals": intervals, "files": [p.name for p in data],
            "setup_s": round(ready - began, 3), "cold_s": round(cold - ready, 3),
            "runs_per_s": round(runs / (cold - ready), 1), "runs_per_s_cached": round(runs / (warm - cold), 1),
            "runs_per_s_with_setup": round(runs / (cold - began), 1)}
