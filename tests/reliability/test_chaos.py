"""Chaos: SIGKILL every service at seeded moments of a real-data run (some kills aimed at
an order in flight and at the ledger's settlement), restart it with the same
environment, and get byte for byte the files of an uninterrupted run.

The CI version: 24 kills over a 24-interval run (~30 s).  The long version is
``polybot chaos --kills 200`` (docs/reliability.md).
"""

from __future__ import annotations

from collections import Counter

import pytest

from polybot.chaos import CHAOS_SERVICES, ChaosOptions, plan_kills, run_experiment, summary_lines
from polybot.chaos.moments import AIMED

pytestmark = pytest.mark.integration


def test_kill_plan_is_seeded_covers_every_service_twice_and_aims_at_the_dangerous_moments():
    # Arrange / Act
    plan = plan_kills(24, seed=5, intervals=24)

    # Assert
    assert plan == plan_kills(24, seed=5, intervals=24)
    assert plan != plan_kills(24, seed=6, intervals=24)
    assert len(plan) == 24
    per_service = Counter(kill.service for kill in plan)
    assert all(per_service[service] >= 2 for service in CHAOS_SERVICES), per_service
    assert {kill.moment for kill in plan} >= set(AIMED)
    assert [k.at_step for k in plan] == sorted(k.at_step for k in plan)
    assert max(k.at_step for k in plan) < 2 * 24 * 0.6  # kills land in the first 60 % of the run


def test_chaos_kills_leave_the_files_byte_identical_to_an_uninterrupted_run(real_csv, tmp_path):
    # Arrange
    opts = ChaosOptions(work_dir=tmp_path, kills=24, data=real_csv, start="2024-08-05T06:00:00Z",
                        intervals=24, seed=11, timeout_s=240)

    # Act
    report = run_experiment(opts)
    summary = "\n".join(summary_lines(report))

    # Assert
    assert report.matches == {"trades.log": True, "bot_state.json": True, "equity_curve.csv": True}, summary
    assert not report.missing, summary
    assert report.chaos.venue.at_most_one_per_window, summary
    assert report.chaos.venue.accepted == report.baseline.venue.accepted, summary
    assert sum(report.kills_per_service.values()) >= 20, summary
    assert all(report.kills_per_service[s] >= 2 for s in CHAOS_SERVICES), summary
    assert sum(report.restarts.values()) == sum(report.kills_per_service.values()), summary
    assert not report.crashes, f"a service died on its own:\n{summary}"
    aimed = [r for r in report.kills if r.moment in AIMED and not r.phase.startswith("no trigger")]
    assert len(aimed) >= 3, summary
