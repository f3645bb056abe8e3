"""A tiny scriptable HTTP server on 127.0.0.1 for tests and benchmarks (no third-party code).

    def handler(req: Request) -> Response: ...
    with LocalServer(handler) as srv:
        srv.url          # "http://127.0.0.1:PORT"
        srv.requests     # every Request received, in order

The handler runs in the server's thread pool (one thread per connection), may sleep to simulate latency,
and may return ``Response(drop=True)`` to close the connection without answering.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the socket without a response
    trickle: float = 0.0  # > 0: send the body one byte at a time, this many seconds apart (a stalling server)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            return self.body, headers
        if isinstance(self.body, str):
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return self.body.encode("utf-8"), headers
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8"), headers


Handler = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: with 7+ clients connecting at once the kernel drops a
    # SYN and that client waits 1 s to retransmit it — a stall no real server would cause.
    request_queue_size = 128


class LocalServer:
    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()  # set on exit: trickling handlers stop
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
                with outer._lock:
                    outer.requests.append(req)
                resp = outer.handler(req)
                if resp.drop:
                    self.close_connection = True
                    return
                payload, headers = resp.encoded()
                self.send_response(resp.status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if resp.trickle <= 0:
                    self.wfile.write(payload)
                    return
                self.wfile.flush()
                for i in range(len(payload)):
                    if outer._closing.wait(resp.trickle):
                        break
                    try:
                        self.wfile.write(payload[i : i + 1])
                        self.wfile.flush()
                    except OSError:  # the client gave up: what a deadline is for
                        break
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._httpd = _Server((host, port), _H)
        self._httpd.daemon_threads = True
        # A short poll interval: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=lambda: self._httpd.serve_forever(poll_interval=0.05), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        assert isinstance(host, str)
        return f"http://{host}:{port}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
