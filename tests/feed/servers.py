"""Local test servers on 127.0.0.1 (no test ever talks to a real host)."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class Reply:
    """One canned answer: status, JSON (or raw text) body, headers, optional delay."""

    def __init__(self, status: int = 200, body: Any = None, *, raw: str | None = None,
                 headers: dict[str, str] | None = None, delay_s: float = 0.0):
        self.status = status
        self.text = raw if raw is not None else json.dumps(body)
        self.headers = headers or {}
        self.delay_s = delay_s


Route = Reply | list[Reply] | Callable[[dict[str, list[str]]], Reply]


class HttpServer:
    """routes: path -> Reply | [Reply, ...] (served in turn, last repeats) | fn(query).
    A POST's JSON body reaches a route function as ``query["body"][0]``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.targets: list[str] = []  # request-targets as sent: a proxy gets absolute URLs
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET(body=json.loads(raw) if raw else None)

            def do_GET(self, body: Any = None) -> None:  # noqa: N802 - http.server naming
                server.targets.append(self.path)
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if body is not None:
                    query["body"] = [body]
                reply = server._reply(parts.path, query)
                if reply.delay_s:
                    threading.Event().wait(reply.delay_s)
                body = reply.text.encode()
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for p, _ in self.requests if p == path)

    def _reply(self, path: str, query: dict[str, list[str]]) -> Reply:
        with self._lock:
            self.requests.append((path, query))
            route = self.routes.get(path)
            if route is None:
                return Reply(404, {"error": "not found"})
            if isinstance(route, list):
                return route.pop(0) if len(route) > 1 else route[0]
        return route(query) if callable(route) else route

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class WsServer:
    """A ``websockets`` server in its own thread; ``handler(ws, path)`` is an async fn."""

    def __init__(self, handler: Callable) -> None:
        import websockets

        self.connections = 0
        self.paths: list[str] = []
        self._loop = asyncio.new_event_loop()
        started = threading.Event()

        async def serve(ws) -> None:
            self.connections += 1
            self.paths.append(ws.request.path)
            try:
                await handler(ws, self.connections)
            except websockets.ConnectionClosed:
                pass

        async def main() -> None:
            self._server = await websockets.serve(serve, "127.0.0.1", 0, close_timeout=0.5)
            self.port = self._server.sockets[0].getsockname()[1]
            started.set()
            await self._server.serve_forever()

        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(main(),),
                                        daemon=True)
        self._thread.start()
        started.wait(5)
        self.url = f"ws://127.0.0.1:{self.port}"

    def close(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            await self._server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    event = threading.Event()
    for _ in range(int(timeout_s / 0.02)):
        if predicate():
            return True
        event.wait(0.02)
    return predicate()
