"""The resolution poll job against a local Gamma (tests/feed/servers.py) and fakeredis."""

from __future__ import annotations

import json

import fakeredis
import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

from services.resolver import jobs
from shared import messages as m, streams
from shared.bus import Bus
from shared.clock import ManualClock
from shared.http import HttpClient
from shared.jobs import resolution_job_id
from tests.feed.servers import HttpServer, Reply

SLUG = "btc-updown-5m-1700000100"


@pytest.fixture
def gamma():
    server = HttpServer()
    yield server
    server.close()


@pytest.fixture
def context(gamma, monkeypatch):
    client = fakeredis.FakeRedis()
    clock = ManualClock(1_700_000_500)
    http = HttpClient(gamma.url, name="gamma", now=clock.now, max_attempts=1)
    context = jobs.Context(bus=Bus(client), gamma=http, clock=clock)
    monkeypatch.setattr(jobs, "CONTEXT", context)
    return context


def market(closed: bool, prices: list[str]) -> dict:
    return {"slug": SLUG, "conditionId": "0xc0", "closed": closed, "outcomes": json.dumps(["Up", "Down"]),
            "outcomePrices": json.dumps(prices)}


def resolutions(context) -> list[m.MarketResolved]:
    return [m.decode(streams.RESOLUTIONS, fields[b"data"])
            for _, fields in context.bus.redis.xrange(streams.RESOLUTIONS)]


def next_poll_scheduled(context, attempt: int) -> bool:
    queue = Queue(streams.RESOLUTION_QUEUE, connection=context.bus.redis)
    return resolution_job_id("run", 3, attempt) in ScheduledJobRegistry(queue=queue).get_job_ids()


def test_a_resolved_market_is_published_once_with_its_winner(gamma, context):
    gamma.routes[f"/markets/slug/{SLUG}"] = Reply(200, market(True, ["0", "1"]))
    assert jobs.poll_resolution("run", 3, SLUG) == "Down"
    [resolved] = resolutions(context)
    assert (resolved.winning_outcome, resolved.condition_id, resolved.interval) == ("Down", "0xc0", 3)
    assert jobs.poll_resolution("run", 3, SLUG) == "Down"  # a re-run publishes the same id
    assert len(resolutions(context)) == 1 and not next_poll_scheduled(context, 2)


@pytest.mark.parametrize("reply", [
    Reply(404, {"error": "not found"}),             # not listed yet
    Reply(200, market(False, ["0.5", "0.5"])),      # open
    Reply(503, {"error": "maintenance"}),           # the venue is down
    Reply(200, raw="<html>gateway</html>"),         # not JSON
    Reply(200, [1, 2]),                             # not a market
])
def test_an_unresolved_or_unreadable_answer_schedules_the_next_poll(gamma, context, reply):
    gamma.routes[f"/markets/slug/{SLUG}"] = reply
    assert jobs.poll_resolution("run", 3, SLUG) == "pending"
    assert gamma.count(f"/markets/slug/{SLUG}") == 1  # one try: the next poll is the retry
    assert resolutions(context) == [] and next_poll_scheduled(context, 2)


def test_the_last_poll_gives_up_and_publishes_nothing(gamma, context):
    gamma.routes[f"/markets/slug/{SLUG}"] = Reply(404, {})
    assert jobs.poll_resolution("run", 3, SLUG, attempt=40, max_polls=40) == "gave up"
    assert resolutions(context) == [] and not next_poll_scheduled(context, 41)
