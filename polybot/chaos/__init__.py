"""Reliability harness: a real stack in separate processes, killed and restarted on
purpose, compared against an uninterrupted run (docs/reliability.md)."""

from polybot.chaos.checks import VenueCheck, compare_files, missing_intervals, venue_check
from polybot.chaos.monkey import CHAOS_SERVICES, ChaosMonkey, Kill, KillRecord, plan_kills
from polybot.chaos.runner import ChaosError, ChaosOptions, ChaosReport, run_experiment, summary_lines
from polybot.chaos.stack import RESULT_FILES, Stack, StackOptions

__all__ = [
    "CHAOS_SERVICES", "ChaosError", "ChaosMonkey", "ChaosOptions", "ChaosReport", "Kill", "KillRecord",
    "RESULT_FILES", "Stack", "StackOptions", "VenueCheck", "compare_files", "missing_intervals",
    "plan_kills", "run_experiment", "summary_lines", "venue_check",
]
