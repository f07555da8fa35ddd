"""``polybot bench`` end to end with tiny sizes: every phase runs and the JSON has its keys.

The real figures (minutes of runs on a quiet machine) are in docs/performance.md; this
only proves the command works.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, shared_data_dir

pytestmark = pytest.mark.integration


def test_bench_json_has_every_phase_and_target(tmp_path):
    data = shared_data_dir()
    small = sorted(data.glob("*.csv"), key=lambda p: p.stat().st_size)[0] if data else None
    args = [sys.executable, "-m", "polybot", "bench", "--json", "--hop-samples", "100",
            "--latency-intervals", "6", "--replay-intervals", "6", "--risk-runs", "20", "--startup-runs", "1"]
    if small is not None:
        args += ["--risk-data", str(small), "--latency-data", str(small), "--replay-data", str(small)]
    done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**_env(), "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(done.stdout)

    assert {"machine", "config", "floor", "latency", "replay", "risk_analysis", "memory", "startup",
            "targets"} <= doc.keys()
    assert doc["floor"]["samples"] == 100 and doc["floor"]["p50_ms"] > 0
    for run in ("latency", "replay"):
        assert doc[run]["intervals"] == 6
        assert {"p50_ms", "p99_ms", "n"} <= doc[run]["tick_to_order"].keys()
        assert {"wall_s", "intervals_per_s", "stages", "timeline", "cpu_ms_per_interval"} <= doc[run].keys()
    assert doc["replay"]["intervals_per_s"] > 0
    assert "runs_per_s" in doc["risk_analysis"] or "todo" in doc["risk_analysis"]
    assert {"peak_rss_mb", "services_total_mb", "services_total_pss_mb"} <= doc["memory"].keys()
    assert set(doc["memory"]["peak_rss_mb"]) == {"clock", "feed", "predictor", "risk", "executor", "ledger",
                                                 "resolver"}
    assert doc["startup"]["status_healthy"] is True and doc["startup"]["healthy_s"] > 0
    assert {"tick_to_order_p50_ms", "tick_to_order_p99_ms", "p50_over_hops_x_floor", "replay_intervals_per_s",
            "risk_analysis_runs_per_s", "services_peak_rss_mb", "up_to_healthy_s"} <= doc["targets"].keys()


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_PASSWORD")}
