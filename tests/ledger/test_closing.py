"""Closed intervals: the ledger forgets what no correction can reach, and nothing else changes.

An interval is closed once it has its prices and, if it traded, the venue's resolution.
The reference for the files is the whole journal folded at once, with nothing dropped.
"""

from __future__ import annotations

import json

import msgspec

from services.ledger.book import Facts, Totals, fold_interval
from services.ledger.facts import Prices
from services.ledger.files import EQUITY_HEADER, equity_line, trade_line
from services.ledger.journal import Journal
from shared import messages as m
from tests.ledger.test_ledger import Harness, decision, fill, prices, resolved, trade

STATE_FILES = ("trades.log", "equity_curve.csv")


def confirmed_trade(h: Harness, k: int, win: bool = True):
    trade(h, k, win=win)
    return h.feed(resolved(k, "Up" if win else "Down"))


def restarted(h: Harness) -> dict[str, bytes]:
    return Harness(h.dir, intervals=h.cfg.intervals, fake_redis=h.redis).files()


def folded_at_once(h: Harness) -> dict[str, bytes]:
    facts = Facts()
    for fact in Journal(h.dir / "ledger.journal", fsync=False).load():
        facts.add(fact)
    totals, steps = Totals(capital=h.ledger.start, peak=h.ledger.start), []
    while (step := fold_interval(facts, totals, h.ledger.floor)) is not None:
        steps.append(step)
        totals = step.totals
    return {"trades.log": b"".join(trade_line(s.record) for s in steps),
            "equity_curve.csv": EQUITY_HEADER.encode() + b"".join(equity_line(s.point) for s in steps)}


def state_files(files: dict[str, bytes]) -> dict[str, bytes]:
    return {name: files[name] for name in STATE_FILES}


def settled_events(out) -> list[m.PositionSettled]:
    return [msg for _stream, msg in out if isinstance(msg, m.PositionSettled)]


def test_memory_stays_bounded_over_a_long_run(tmp_path, fake_redis):
    h = Harness(tmp_path, intervals=400, fake_redis=fake_redis)
    for k in range(1, 401):
        if k % 3:
            confirmed_trade(h, k, win=k % 2 == 0)
        else:
            h.feed(decision(k, approved=False), prices(k))
        assert len(h.ledger.steps) <= 1 and len(h.ledger.facts.by_key) <= 4
    assert h.ledger.closed_through == 400 and h.ledger.run_complete
    lines = (tmp_path / "trades.log").read_text().splitlines()
    assert [json.loads(x)["interval_number"] for x in lines] == list(range(1, 401))
    assert state_files(h.files()) == folded_at_once(h) == state_files(restarted(h))


def test_only_a_closed_prefix_is_forgotten(harness):
    confirmed_trade(harness, 1)
    trade(harness, 2)  # no resolution yet: 2 stays, and so does 3 behind it
    harness.feed(decision(3, approved=False), prices(3))
    assert harness.ledger.closed_through == 1
    assert [s.record.interval_number for s in harness.ledger.steps] == [2, 3]
    harness.feed(resolved(2, "Up"))
    assert harness.ledger.closed_through == 3 and harness.ledger.steps == []


def test_a_correction_after_closed_intervals_rewrites_only_the_lines_after_them(harness):
    for k in range(1, 6):
        confirmed_trade(harness, k)
    closed_part = (harness.dir / "trades.log").read_bytes()
    trade(harness, 6, win=True)
    trade(harness, 7, win=True)
    assert harness.ledger.closed_through == 5 and harness.ledger.totals.streak == 7

    out = harness.feed(resolved(6, "Down"))  # the venue says 6 lost

    assert harness.ledger.totals.streak == 1
    assert [(e.interval, e.result) for e in settled_events(out)] == [(6, "LOSS"), (7, "WIN")]
    files = harness.files()
    assert files["trades.log"].startswith(closed_part)
    assert [json.loads(x)["outcome"] for x in files["trades.log"].decode().splitlines()[5:]] == ["LOSS", "WIN"]
    assert state_files(files) == folded_at_once(harness) == state_files(restarted(harness))


def test_a_fact_about_a_closed_interval_is_a_redelivery(harness):
    confirmed_trade(harness, 1)
    trade(harness, 2)
    journal = (harness.dir / "ledger.journal").read_bytes()
    before = harness.files()
    version = harness.handler.state_message(None).version

    assert harness.feed(decision(1), fill(1), prices(1, up=False), resolved(1, "Down")) == []
    assert harness.ledger.has(Prices(interval=1, start_price=None, end_price=None, source="any"))
    assert (harness.dir / "ledger.journal").read_bytes() == journal
    assert harness.files() == before
    assert harness.handler.state_message(None).version == version


def test_the_state_version_keeps_counting_after_facts_are_dropped(harness):
    versions = []
    for k in range(1, 5):
        confirmed_trade(harness, k)
        versions.append(harness.handler.state_message(None).version)
    assert harness.ledger.facts.by_key == {}
    assert versions == [4, 8, 12, 16]


def test_a_window_settled_by_the_venue_alone_is_published_as_confirmed(harness):
    window = prices(1)
    incomplete = msgspec.structs.replace(window, end_price=None, complete=False)
    harness.feed(decision(1), fill(1), incomplete)
    out = harness.feed(resolved(1, "Up"))
    assert harness.ledger.closed_through == 1  # closed by the same fact that settled it
    assert [(e.interval, e.result, e.provisional) for e in settled_events(out)] == [(1, "WIN", False)]


def test_a_provisional_settlement_is_published_as_provisional(harness):
    out = harness.feed(decision(1), fill(1), prices(1))
    assert [(e.interval, e.provisional) for e in settled_events(out)] == [(1, True)]


def test_a_restarted_ledger_starts_after_its_closed_intervals(harness):
    for k in range(1, 4):
        confirmed_trade(harness, k)
    trade(harness, 4)
    again = Harness(harness.dir, fake_redis=harness.redis).ledger
    assert (again.closed_through, again.settled_through, again.decided_through) == (3, 4, 4)
    assert again.totals == harness.ledger.totals


def test_a_restart_reads_the_journal_fact_by_fact_and_closes_as_it_goes(tmp_path, fake_redis, monkeypatch):
    h = Harness(tmp_path, intervals=200, fake_redis=fake_redis)
    for k in range(1, 201):
        confirmed_trade(h, k, win=k % 3 != 0)
    held = []
    add = Facts.add

    def counting_add(self, fact):
        held.append(len(self.by_key))
        return add(self, fact)

    monkeypatch.setattr(Facts, "add", counting_add)
    again = Harness(tmp_path, intervals=200, fake_redis=fake_redis)
    assert len(held) == 800 and max(held) <= 3  # never more than one interval's facts
    assert again.ledger.closed_through == 200 and again.ledger.totals == h.ledger.totals
    assert state_files(again.files()) == folded_at_once(h)
