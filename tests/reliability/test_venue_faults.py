"""Venue faults through the simulator's fault switches: each leads to the documented
behaviour (docs/reliability.md) and nothing is lost.

Intervals 1-3 of the baseline trade (DOWN, all won) and 4 skips.  Window N of a fault
selector is interval N + 1.  Every run must complete (all intervals recorded, every
settlement confirmed by the venue) and keep ``capital = 100 + ΣPnL``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from polybot.chaos import Stack, compare_files, venue_check
from shared import messages as m, streams
from tests.reliability.conftest import RUN_TIMEOUT_S, complete_run, log_lines, outcome, stack_options

pytestmark = pytest.mark.integration

INTERVALS = 4
SLUG_2 = "btc-updown-5m-1722837900"  # interval 2 = window 1


@pytest.fixture(scope="module")
def baseline(real_csv, tmp_path_factory) -> dict:
    return complete_run(tmp_path_factory.mktemp("baseline"), stack_options(real_csv, INTERVALS))


def run_with(real_csv, tmp_path, faults: str, intervals: int = INTERVALS, **env: str) -> dict:
    result = complete_run(tmp_path, stack_options(real_csv, intervals, faults=faults, service_env=env))
    assert_nothing_lost(result, intervals)
    return result


def assert_nothing_lost(result: dict, intervals: int) -> None:
    records = result["records"]
    assert [r["interval_number"] for r in records] == list(range(1, intervals + 1))
    bot = result["bot"]
    assert Decimal(bot["current_capital"]) == 100 + sum(Decimal(r["pnl"]) for r in records)
    assert bot["unconfirmed_settlements"] == 0 and bot["run_complete"]
    assert venue_check(result["orders"]).at_most_one_per_window
    assert not result["crashes"], result["crashes"]


def record(result: dict, interval: int) -> dict:
    return result["records"][interval - 1]


def attempts_for(result: dict, slug: str) -> list[dict]:
    return [o for o in result["orders"] if o["slug"] == slug]


def same_files(baseline: dict, result: dict) -> bool:
    return all(compare_files(baseline["files"], result["files"]).values())


# -- orders: 500, 429, timeouts, FOK -----------------------------------------------------
def test_http_500_on_every_attempt_skips_the_interval_after_three_attempts(real_csv, tmp_path):
    result = run_with(real_csv, tmp_path, "clob:/order=500@window:1")
    skipped = record(result, 2)
    assert skipped["outcome"] == "SKIP"
    assert skipped["skip_reason"].startswith("order rejected: venue unavailable after 3 attempts: HTTP 500")
    assert [o["http_status"] for o in attempts_for(result, SLUG_2)] == [500, 500, 500]


def test_transient_500s_are_retried_and_change_nothing(real_csv, tmp_path, baseline):
    result = run_with(real_csv, tmp_path, "clob:/order=500@every:2")
    assert same_files(baseline, result)
    assert venue_check(result["orders"]).faults >= 1


def test_429_with_retry_after_is_waited_out_and_retried(real_csv, tmp_path, baseline):
    result = run_with(real_csv, tmp_path, "clob:/order=429@every:2,retry_after=1")
    assert same_files(baseline, result)
    assert [o["http_status"] for o in attempts_for(result, SLUG_2)] == [429, 200]


def test_429_asking_for_longer_than_we_may_wait_skips_after_one_attempt(real_csv, tmp_path):
    result = run_with(real_csv, tmp_path, "clob:/order=429@window:1,retry_after=30")
    assert record(result, 2)["skip_reason"].startswith(
        "order rejected: venue unavailable after 1 attempts: HTTP 429")
    assert len(attempts_for(result, SLUG_2)) == 1  # no hammering of a rate limit


def test_timeout_of_an_executed_order_is_resolved_by_looking_it_up(real_csv, tmp_path, baseline):
    result = run_with(real_csv, tmp_path, "clob:/order=timeout@window:1,hold=3,exec=1", HTTP_TIMEOUT_S="1")
    assert same_files(baseline, result)
    assert [o["result"] for o in attempts_for(result, SLUG_2)] == ["matched"]  # never sent twice


def test_timeouts_of_orders_never_executed_skip_after_three_attempts(real_csv, tmp_path):
    result = run_with(real_csv, tmp_path, "clob:/order=timeout@window:1,hold=2,exec=0", HTTP_TIMEOUT_S="1")
    assert record(result, 2)["skip_reason"].startswith("order rejected: venue unavailable after 3 attempts")
    assert "timeout" in record(result, 2)["skip_reason"]
    assert len(attempts_for(result, SLUG_2)) == 3


def test_fok_kill_skips_the_interval_with_the_venues_reason(real_csv, tmp_path):
    result = run_with(real_csv, tmp_path, "clob:/order=fok_kill@window:1")
    assert record(result, 2)["skip_reason"] == (
        "order rejected: order couldn't be fully filled. FOK orders are fully filled or killed.")


# -- market data: missing market, rate-limited Gamma, WebSocket drops, stale feed ---------
def test_missing_market_skips_with_the_data_reason(real_csv, tmp_path):
    result = run_with(real_csv, tmp_path, "gamma:missing=window:1")
    reason = record(result, 2)["skip_reason"]
    assert "market data incomplete" in reason and f"market {SLUG_2} not listed yet" in reason
    assert attempts_for(result, SLUG_2) == []


def test_rate_limited_gamma_is_retried_three_times_then_the_interval_skips(real_csv, tmp_path):
    result = run_with(real_csv, tmp_path, "gamma:*=429@1,retry_after=1", intervals=2)
    for r in result["records"]:
        assert r["outcome"] == "SKIP" and "HTTP 429 x3" in r["skip_reason"], r["skip_reason"]


def test_websocket_drops_change_nothing(real_csv, tmp_path, baseline):
    result = run_with(real_csv, tmp_path, "ws=drop@every:7")
    assert same_files(baseline, result)
    assert any("connection" in line and "WARNING" in line for line in log_lines(result["logs"], "feed"))


def test_stale_feed_skips_with_a_reason_and_the_venue_settles_the_unpriced_window(real_csv, tmp_path):
    # Binance and CoinGecko freeze at the start for 400 s of sim time: interval 1's end
    # price never comes, interval 2's candles are stale, interval 3 is fresh again.
    result = run_with(real_csv, tmp_path, "feed=stale,for=400", WINDOW_PRICES_BUDGET_S="3")
    first, second = record(result, 1), record(result, 2)
    assert first["outcome"] in ("WIN", "LOSS") and first["end_price"] is None
    assert first["winning_outcome"] == "Down"  # the venue's resolution
    assert second["outcome"] == "SKIP" and "market data incomplete" in second["skip_reason"]
    assert record(result, 3)["outcome"] in ("WIN", "LOSS")


# -- resolution: delayed, conflicting ---------------------------------------------------------
def test_delayed_resolution_settles_provisionally_then_is_confirmed(real_csv, tmp_path, baseline):
    opts = stack_options(real_csv, INTERVALS, faults="resolution=delay:200@window:1")
    with Stack(tmp_path, opts) as stack:
        assert stack.wait_complete(RUN_TIMEOUT_S)
        result = outcome(stack)
        settled = [m.decode(streams.LEDGER_EVENTS, f[b"data"]) for _, f in stack.client.xrange(streams.LEDGER_EVENTS)]
    assert_nothing_lost(result, INTERVALS)
    assert same_files(baseline, result)
    second = [e for e in settled if isinstance(e, m.PositionSettled) and e.interval == 2]
    assert [e.provisional for e in second] == [True]  # the venue agreed later: nothing to correct


def test_conflicting_resolution_is_corrected_logged_critical_and_recomputed(real_csv, tmp_path, baseline):
    result = run_with(real_csv, tmp_path, "resolution=conflict:window:1")
    before, after = record(baseline, 2), record(result, 2)
    assert (before["outcome"], after["outcome"]) == ("WIN", "LOSS")
    assert after["winning_outcome"] == "Up"  # the venue's word, against the prices
    assert Decimal(after["pnl"]) == -Decimal(after["position_size"]) - Decimal(after["fee"])
    critical = [line for line in log_lines(result["logs"], "ledger") if '"CRITICAL"' in line]
    assert any("settlement corrected" in line and '"interval":2' in line for line in critical), critical
    capital = Decimal(100)
    for r in result["records"]:  # every later record recomputed on the corrected capital
        capital += Decimal(r["pnl"])
        assert Decimal(r["capital_after"]) == capital
    equity_last = result["files"]["equity_curve.csv"].decode().splitlines()[-1].split(",")
    assert Decimal(equity_last[2]) == capital == Decimal(result["bot"]["current_capital"])
