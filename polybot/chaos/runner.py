"""One chaos experiment: an uninterrupted run, then the same run under a kill plan,
then the comparison.  Used by ``polybot chaos`` and by tests/reliability."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from polybot.chaos.checks import VenueCheck, compare_files, first_difference, missing_intervals, venue_check
from polybot.chaos.monkey import ChaosMonkey, KillRecord, plan_kills
from polybot.chaos.stack import Stack, StackOptions


class ChaosError(RuntimeError):
    pass


@dataclass(frozen=True)
class ChaosOptions:
    work_dir: Path
    kills: int = 20
    data: str = "synthetic"
    start: str | None = None
    intervals: int = 16
    seed: int = 1          # the kill plan's seed
    sim_seed: int = 7      # the market's seed (same for both runs)
    timeout_s: float = 600.0
    service_env: dict[str, str] = field(default_factory=dict)  # e.g. MAX_DRAWDOWN for a long run

    def stack(self) -> StackOptions:
        return StackOptions(data=self.data, start=self.start, intervals=self.intervals, seed=self.sim_seed,
                            service_env=dict(self.service_env))


@dataclass
class RunOutcome:
    files: dict[str, bytes]
    records: list[dict]
    venue: VenueCheck
    seconds: float
    halted: bool


@dataclass
class ChaosReport:
    options: ChaosOptions
    baseline: RunOutcome
    chaos: RunOutcome
    kills: list[KillRecord]
    phases: Counter
    kills_per_service: Counter
    restarts: Counter
    crashes: Counter
    matches: dict[str, bool] = field(default_factory=dict)
    differences: dict[str, str] = field(default_factory=dict)
    missing: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(self.matches.values()) and not self.missing and self.chaos.venue.at_most_one_per_window


def run_experiment(opts: ChaosOptions, on_kill: Callable[[KillRecord], None] = lambda record: None) -> ChaosReport:
    baseline = uninterrupted_run(opts, Path(opts.work_dir) / "baseline")
    started = time.monotonic()
    with Stack(Path(opts.work_dir) / "chaos", opts.stack()) as stack:
        monkey = ChaosMonkey(stack, plan_kills(opts.kills, opts.seed, opts.intervals), on_kill=on_kill)
        monkey.run(timeout_s=opts.timeout_s)
        if not stack.wait_complete(max(10.0, opts.timeout_s - (time.monotonic() - started))):
            raise ChaosError(f"the disturbed run did not complete within {opts.timeout_s:.0f} s; "
                             f"logs in {stack.processes.log_dir}")
        chaos = _outcome(stack, time.monotonic() - started)
        report = ChaosReport(opts, baseline, chaos, monkey.records, monkey.phases(), stack.kills.copy(),
                             stack.restarts.copy(), stack.crashes.copy())
    report.matches = compare_files(baseline.files, chaos.files)
    report.differences = {name: first_difference(baseline.files[name], chaos.files[name])
                          for name, same in report.matches.items() if not same}
    report.missing = missing_intervals(chaos.records, opts.intervals, chaos.halted)
    return report


def uninterrupted_run(opts: ChaosOptions, run_dir: Path) -> RunOutcome:
    started = time.monotonic()
    with Stack(run_dir, opts.stack()) as stack:
        if not stack.wait_complete(opts.timeout_s):
            raise ChaosError(f"the uninterrupted run did not complete within {opts.timeout_s:.0f} s; "
                             f"logs in {stack.processes.log_dir}")
        return _outcome(stack, time.monotonic() - started)


def _outcome(stack: Stack, seconds: float) -> RunOutcome:
    bot = stack.bot_state() or {}
    return RunOutcome(files=stack.result_bytes(), records=stack.trade_records(),
                      venue=venue_check(stack.venue_orders()), seconds=round(seconds, 1),
                      halted=bool(bot.get("halted")))


def summary_lines(report: ChaosReport) -> list[str]:
    chaos, venue = report.chaos, report.chaos.venue
    per_service = ", ".join(f"{name} {n}" for name, n in sorted(report.kills_per_service.items()))
    aimed = ", ".join(f"{moment}: {phase} ×{n}" for (moment, phase), n in sorted(report.phases.items()))
    lines = [
        f"kills              {sum(report.kills_per_service.values())} of {report.options.kills} planned "
        f"({per_service})",
        f"aimed kills        {aimed or 'none'}",
        f"restarts           {sum(report.restarts.values())} after kills, "
        f"{sum(report.crashes.values())} after crashes {dict(report.crashes) or ''}".rstrip(),
        f"intervals          {len(chaos.records)} / {report.options.intervals}"
        f"{'' if not report.missing else f' (missing or doubled: {report.missing})'}",
        f"venue orders       {venue.accepted} accepted in {len(venue.accepted_per_window)} windows, "
        f"{venue.duplicates} refused as Duplicated, {venue.other_refusals} other refusals, {venue.faults} faults; "
        f"at most one per window: {'yes' if venue.at_most_one_per_window else 'NO'}",
        f"run time           uninterrupted {report.baseline.seconds} s, disturbed {chaos.seconds} s",
    ]
    for name, same in report.matches.items():
        lines.append(f"{name:<18} {'identical' if same else 'DIFFERENT'} to the uninterrupted run")
    for name, diff in report.differences.items():
        lines.append(f"  {name}: {diff}")
    lines.append(f"result             {'PASS' if report.ok else 'FAIL'}")
    return lines
