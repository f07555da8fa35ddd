"""``SimServer``: the HTTP server (stdlib, threads) plus the Binance WebSocket server.

    server = SimServer(SimConfig(speed=None, seed=7))
    urls = server.start()   # {"clob": "http://127.0.0.1:P/clob", ...}
    ...
    server.stop()

Responses are written in one ``write`` with Nagle disabled: a header/body split would
hit delayed-ACK stalls (~40 ms) and wreck the bot's tick-to-order latency budget.
"""

from __future__ import annotations

import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from services.sim.app import SimApp
from services.sim.config import SimConfig
from services.sim.http_types import Request, Response
from services.sim.venue import Venue
from services.sim.ws import BinanceWsServer

log = logging.getLogger("polybot.sim.http")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: "_HttpServer"

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_DELETE = do_PUT = do_GET

    def _serve(self) -> None:
        split = urlsplit(self.path)
        _, service, rest = (split.path.split("/", 2) + ["", ""])[:3]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(self.command, service, "/" + rest,
                          parse_qs(split.query, keep_blank_values=True),
                          {name.lower(): value for name, value in self.headers.items()}, body)
        response = self.server.app.handle(request)
        if response.hold_s > 0:
            self.server.stopping.wait(response.hold_s)
        self._write(response)

    def _write(self, response: Response) -> None:
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {response.status} {reason}",
                 f"Content-Type: {response.content_type}",
                 f"Content-Length: {len(response.body)}"]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body)

    def log_message(self, format: str, *args) -> None:  # stdout stays clean: stderr logging
        log.debug("%s - %s", self.address_string(), format % args)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app: SimApp):
        super().__init__(address, _Handler)
        self.app = app
        self.stopping = threading.Event()


class SimServer:
    def __init__(self, config: SimConfig):
        self.config = config
        self.venue = Venue(config)
        self._http: _HttpServer | None = None
        self._ws: BinanceWsServer | None = None
        self._thread: threading.Thread | None = None
        self.urls: dict[str, str] = {}

    def start(self) -> dict[str, str]:
        self._http = _HttpServer((self.config.host, self.config.port), SimApp(self.venue))
        self._thread = threading.Thread(target=self._http.serve_forever,
                                        kwargs={"poll_interval": 0.05}, name="sim-http",
                                        daemon=True)
        self._thread.start()
        self._ws = BinanceWsServer(self.venue, self.config.host, self.config.ws_port)
        ws_port = self._ws.start()
        host, port = self.config.host, self._http.server_address[1]
        base = f"http://{host}:{port}"
        self.urls = {"clob": f"{base}/clob", "gamma": f"{base}/gamma",
                     "binance_rest": f"{base}/binance", "binance_ws": f"ws://{host}:{ws_port}/ws",
                     "coingecko": f"{base}/coingecko", "control": f"{base}/sim"}
        log.info("simulator serving %s", self.urls)
        return dict(self.urls)

    def stop(self) -> None:
        if self._http is not None:
            self._http.stopping.set()
            self._http.shutdown()
            self._http.server_close()
        if self._ws is not None:
            self._ws.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.venue.clock_file is not None:  # readers fall back to HTTP, which then fails
            self.venue.clock_file.close()
            self.venue.clock_file = None

    def __enter__(self) -> "SimServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
