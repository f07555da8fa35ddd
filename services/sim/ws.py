"""The Binance WebSocket server (``websockets`` asyncio server in its own thread).

Pings go out every 20 s (as Binance does) and incoming pings are answered by the
library. In ``max`` mode a connection wakes when the clock is advanced, and the advance
returns only once every connection has sent what is due at the new time and the client
has answered a ping sent after it (bounded by ``FLUSH_WAIT_S``): live, the pushes are
never more than a moment old when a window opens, so the lockstep clock's next tick
must not overtake them either.  Without the wait the tick overtook them on about a
quarter of the ticks (the feed then fell back to REST depth and CoinGecko); waiting for
the sends only left 3 % of the ticks on which the feed had handled the last minute's
closing push but not the new minute's first one, so btc_price differed between two
replays of the same data.  A client answers a ping in the thread that reads its
messages, after the ones before it.
While the clock stands still in ``max`` mode (a run over, the stack left up), the open
candle and the depth are pushed again every ``IDLE_REPEAT_S`` of wall time, as Binance
keeps pushing them: the feed reconnects a socket silent for 30 s.
At speed X a connection polls every 50 ms of wall time. A ``ws=drop`` fault aborts the
TCP connection with no close frame, the way a network drop looks to the client.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from services.sim.venue import Venue
from services.sim.ws_streams import StreamSession, control_reply, parse_stream_path

log = logging.getLogger("polybot.sim.ws")
PING_INTERVAL_S, PING_TIMEOUT_S = 20, 60
SPEED_POLL_S, MAX_MODE_POLL_S = 0.05, 0.5
FLUSH_WAIT_S = 0.25  # an advance waits at most this long for a connection's pushes
IDLE_REPEAT_S = 2.0  # max mode: push the present again after this long without a push


class BinanceWsServer:
    def __init__(self, venue: Venue, host: str, port: int):
        self._venue = venue
        self._host, self._requested_port = host, port
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-binance-ws", daemon=True)
        self._wakers: set[asyncio.Event] = set()
        self._connection_ids = itertools.count(1)
        self._error: BaseException | None = None
        self._sent_through: dict[int, int] = {}  # connection id -> feed time pushed through
        self._flushed = threading.Condition()

    def start(self) -> int:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None or self.port is None:
            raise RuntimeError(f"WebSocket server did not start: {self._error}")
        self._venue.clock.on_advance(self._on_clock_advance)
        return self.port

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._finish)
        self._thread.join(timeout=5)

    def _finish(self) -> None:
        if not self._stop.done():
            self._stop.set_result(None)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as failure:  # reported to start() by the ready event
            self._error = failure
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        async with serve(self._handle, self._host, self._requested_port,
                         ping_interval=PING_INTERVAL_S, ping_timeout=PING_TIMEOUT_S) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop

    def _on_clock_advance(self, now_ms: int) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._wake_all)
        if self._venue.clock.speed_label == "max":
            self._wait_until_sent(self._venue.feed_time())

    def _wait_until_sent(self, view_ms: int) -> None:
        """Block the advancing caller until every connection has pushed through ``view_ms``."""
        with self._flushed:
            self._flushed.wait_for(lambda: all(t >= view_ms for t in self._sent_through.values()),
                                   FLUSH_WAIT_S)

    def _mark_sent(self, connection_id: int, view_ms: int | None) -> None:
        with self._flushed:
            if view_ms is None:
                self._sent_through.pop(connection_id, None)
            else:
                self._sent_through[connection_id] = view_ms
            self._flushed.notify_all()

    def _wake_all(self) -> None:
        for event in self._wakers:
            event.set()

    async def _handle(self, connection: ServerConnection) -> None:
        connection_id = next(self._connection_ids)
        streams, combined = parse_stream_path(connection.request.path)
        session = StreamSession(self._venue.feed, streams, combined, self._venue.feed_time())
        wake = asyncio.Event()
        self._wakers.add(wake)
        reader = asyncio.create_task(self._read_controls(connection, session, wake))
        try:
            await self._push_loop(connection, session, connection_id, wake, reader)
        except ConnectionClosed:
            pass
        finally:
            reader.cancel()
            self._wakers.discard(wake)
            self._mark_sent(connection_id, None)  # an advance no longer waits for it

    async def _push_loop(self, connection: ServerConnection, session: StreamSession,
                         connection_id: int, wake: asyncio.Event, reader: asyncio.Task) -> None:
        sent = 0
        lockstep = self._venue.clock.speed_label == "max"
        poll_s = MAX_MODE_POLL_S if lockstep else SPEED_POLL_S
        loop = asyncio.get_running_loop()
        last_push = loop.time()
        while not reader.done():  # the reader ends when the connection closes
            wake.clear()  # before collecting, so an advance during the sends is not missed
            view_ms = self._venue.feed_time()
            messages = session.collect(view_ms)
            due = bool(messages)
            if not messages and lockstep and loop.time() - last_push >= IDLE_REPEAT_S:
                messages = session.collect_again(view_ms)  # the same data: no advance waits on it
            if messages:
                last_push = loop.time()
            for message in messages:
                await connection.send(message)
                sent += 1
                if self._venue.faults().ws_drop(connection_id, sent):
                    log.info("ws fault: dropping connection %d after %d messages",
                             connection_id, sent)
                    connection.transport.abort()
                    return
            if due and lockstep:
                await self._read_by_client(connection)
            self._mark_sent(connection_id, view_ms)
            try:
                await asyncio.wait_for(wake.wait(), poll_s)
            except asyncio.TimeoutError:
                pass

    @staticmethod
    async def _read_by_client(connection: ServerConnection) -> None:
        """Wait (at most ``FLUSH_WAIT_S``) for the pong to a ping sent after the pushes."""
        pong = await connection.ping()
        try:
            await asyncio.wait_for(pong, FLUSH_WAIT_S)
        except asyncio.TimeoutError:
            pass  # a stalled client: the advance goes on without it, as before

    async def _read_controls(self, connection: ServerConnection, session: StreamSession,
                             wake: asyncio.Event) -> None:
        try:
            async for text in connection:
                reply = control_reply(session, text if isinstance(text, str) else text.decode())
                if reply is not None:
                    await connection.send(reply)
                    wake.set()  # a new subscription gets its first push now
        except ConnectionClosed:
            pass
        finally:
            wake.set()  # let the push loop see that the connection is gone
