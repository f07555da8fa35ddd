"""The Binance WebSocket server (``websockets`` asyncio server in its own thread).

Pings go out every 20 s (as Binance does) and incoming pings are answered by the
library. In ``max`` mode a connection wakes when the clock is advanced; at speed X it
polls every 50 ms of wall time. A ``ws=drop`` fault aborts the TCP connection with no
close frame, the way a network drop looks to the client.
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
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake_all)

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

    async def _push_loop(self, connection: ServerConnection, session: StreamSession,
                         connection_id: int, wake: asyncio.Event, reader: asyncio.Task) -> None:
        sent = 0
        poll_s = MAX_MODE_POLL_S if self._venue.clock.speed_label == "max" else SPEED_POLL_S
        while not reader.done():  # the reader ends when the connection closes
            wake.clear()  # before collecting, so an advance during the sends is not missed
            for message in session.collect(self._venue.feed_time()):
                await connection.send(message)
                sent += 1
                if self._venue.faults().ws_drop(connection_id, sent):
                    log.info("ws fault: dropping connection %d after %d messages",
                             connection_id, sent)
                    connection.transport.abort()
                    return
            try:
                await asyncio.wait_for(wake.wait(), poll_s)
            except asyncio.TimeoutError:
                pass

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
