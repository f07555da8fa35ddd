"""Injected time. Logic never calls ``time.time()``; it asks a Clock.

- ``LiveClock``: the system clock.
- ``SimClock``: the exchange simulator's clock (its ``/clock`` control endpoint), so a
  replay runs in the simulator's time at real speed, N times faster, or as fast as the
  pipeline goes, with identical results.
- ``ManualClock``: tests set the time by hand.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from shared.sim_time import ClockFileReader

if TYPE_CHECKING:
    import requests

WINDOW_SECONDS = 300
NS = 1_000_000_000


class Clock(Protocol):
    def now(self) -> float:
        """Unix time in seconds."""

    def now_ns(self) -> int:
        """Unix time in nanoseconds."""


class LiveClock:
    def now(self) -> float:
        return time.time()

    def now_ns(self) -> int:
        return time.time_ns()


class ManualClock:
    def __init__(self, start: float = 0.0):
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def now_ns(self) -> int:
        return int(round(self.t * NS))

    def set(self, t: float) -> None:
        self.t = float(t)

    def advance(self, seconds: float) -> None:
        self.t += seconds


class SimClock:
    """Reads (and, for the interval clock in ``max`` mode, advances) simulator time.

    Every service asks the simulator for the time many times per interval, so each
    thread keeps one HTTP/1.1 connection open and speaks the two requests over it
    directly (a ``requests`` call costs ~0.5 ms of CPU, this ~0.03 ms).  Failures raise
    the same ``requests`` exceptions as before; a connection the server closed is
    retried once.  An ``https`` control URL, or a ``session``, goes through requests.
    ``requests`` itself is imported only then, or to raise (6 MB and 40 ms of start-up
    in every service that has no other use for it).
    """

    def __init__(self, control_url: str, session: requests.Session | None = None, timeout: float = 5.0,
                 clock_file: str | None = None):
        self.url = control_url.rstrip("/") + "/clock"
        # Reads come from the simulator's shared clock file when there is one (no round
        # trip at all, see shared/sim_time.py); moves always go over HTTP.
        self._file = ClockFileReader(clock_file) if clock_file else None
        parts = urlsplit(self.url)
        if session is None and parts.scheme != "http":
            import requests

            session = requests.Session()
        self.session = session
        self.timeout = timeout
        self._address = (parts.hostname or "", parts.port or 80)
        host = parts.netloc.rsplit("@", 1)[-1]
        self._get = f"GET {parts.path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        self._post = f"POST {parts.path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n".encode()
        self._local = threading.local()

    def state(self) -> dict:
        if self.session is not None:
            response = self.session.get(self.url, timeout=self.timeout)
            response.raise_for_status()
            return response.json()
        status, body = self._exchange(self._get)
        if status >= 400:
            raise _requests().HTTPError(f"{status} error for url: {self.url}")
        return json.loads(body)

    def now_ms(self) -> int:
        if self._file is not None and (now := self._file.now_ms()) is not None:
            return now
        return int(self.state()["now_ms"])

    def now(self) -> float:
        return self.now_ms() / 1000

    def now_ns(self) -> int:
        return self.now_ms() * 1_000_000

    def advance_to(self, unix_ms: int) -> None:
        if self.session is not None:
            response = self.session.post(self.url, json={"now_ms": int(unix_ms)}, timeout=self.timeout)
            status = response.status_code
            if status != 409:  # 409: already past it (e.g. after a restart): fine
                response.raise_for_status()
            return
        body = json.dumps({"now_ms": int(unix_ms)}).encode()
        status, _ = self._exchange(self._post + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        if status >= 400 and status != 409:
            raise _requests().HTTPError(f"{status} error for url: {self.url}")

    # -- the wire --------------------------------------------------------------------
    def _exchange(self, request: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            reused = getattr(self._local, "sock", None) is not None
            try:
                return self._roundtrip(self._socket(), request)
            except socket.timeout as exc:
                self._drop()
                raise _requests().Timeout(f"{self.url}: {exc}") from None
            except (OSError, ValueError) as exc:
                self._drop()
                # a kept-alive connection the server has closed meanwhile: once more, fresh
                if attempt == 2 or not reused or not isinstance(exc, (ConnectionError, _Closed)):
                    raise _requests().ConnectionError(f"{self.url}: {exc!r}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _roundtrip(self, sock: socket.socket, request: bytes) -> tuple[int, bytes]:
        sock.sendall(request)
        data = b""
        while (end := data.find(b"\r\n\r\n")) < 0:
            data += _recv(sock)
        head, body = data[:end].split(b"\r\n"), data[end + 4:]
        status, length, close = int(head[0].split(None, 2)[1]), None, head[0].startswith(b"HTTP/1.0")
        for line in head[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                raise ValueError("chunked responses are not supported")
        if length is None:  # the body runs to the end of the connection
            close = True
            while chunk := sock.recv(65536):
                body += chunk
        while length is not None and len(body) < length:
            body += _recv(sock)
        if close:
            self._drop()
        return status, body if length is None else body[:length]

    def _socket(self) -> socket.socket:
        sock = getattr(self._local, "sock", None)
        if sock is None:
            sock = socket.create_connection(self._address, timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.sock = sock
        return sock

    def _drop(self) -> None:
        sock = getattr(self._local, "sock", None)
        self._local.sock = None
        if sock is not None:
            sock.close()


def _requests():
    import requests

    return requests


class _Closed(ConnectionError):
    """The server closed the connection before answering."""


def _recv(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise _Closed("connection closed by the simulator")
    return chunk


def window_start_of(unix_s: float) -> int:
    return int(unix_s // WINDOW_SECONDS) * WINDOW_SECONDS


def next_window_start(unix_s: float) -> int:
    """The next 5-minute boundary strictly after ``unix_s`` (a run starts there)."""
    return window_start_of(unix_s) + WINDOW_SECONDS


def slug_for(window_start: int) -> str:
    return f"btc-updown-5m-{window_start}"
