"""A fault-injecting HTTP proxy (a thread on 127.0.0.1) to put in front of a real MLflow server.

For each request it draws one of: pass it on; fail it before the server sees it (a 503, or the
connection closed at once); or pass it on and then lose the answer (the server did the work, the
client sees its connection closed). The draws come from a seeded generator, so a failure repeats.

``lose_every_write=N`` replaces the draws with a rule: the answer of every Nth write (a request
that changes something: not a GET, not a search) is lost, everything else passes.
"""

from __future__ import annotations

import http.client
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class FaultProxy:
    def __init__(
        self,
        upstream_port: int,
        *,
        seed: int = 0,
        before: float = 0.15,
        after: float = 0.2,
        lose_every_write: int | None = None,
    ) -> None:
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.before, self.after = before, after
        self.lose_every_write = lose_every_write
        self.writes = 0
        self.enabled = True
        self.counts = {"passed": 0, "failed_before": 0, "lost_after": 0}
        self.written: list[str] = []  # "METHOD path" of every write that reached the server
        self._guard = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FaultProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _draw(self, method: str, path: str) -> str:
        with self._guard:
            if not self.enabled or path.startswith("/health"):
                return "pass"
            if self.lose_every_write is not None:
                if method == "GET" or path.split("?")[0].endswith("/search"):
                    return "pass"
                self.writes += 1
                self.written.append(f"{method} {path.split('?')[0]}")
                return "after" if self.writes % self.lose_every_write == 0 else "pass"
            x = self.rng.random()
            if x < self.before:
                return "before"
            if x < self.before + self.after:
                return "after"
            return "pass"

    def _count(self, key: str) -> None:
        with self._guard:
            self.counts[key] += 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    parts = []
                    while True:
                        size = int(self.rfile.readline().strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(parts)
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _relay(self) -> None:
                body = self._body()
                fate = proxy._draw(self.command, self.path)
                if fate == "before":
                    proxy._count("failed_before")
                    if proxy.rng.random() < 0.5:
                        self.send_response(503)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    self.close_connection = True
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Content-Length"] = str(len(body))
                upstream.request(self.command, self.path, body=body, headers=headers)
                reply = upstream.getresponse()
                data = reply.read()
                upstream.close()
                if fate == "after":  # the server did the work; the answer never arrives
                    proxy._count("lost_after")
                    self.close_connection = True
                    return
                proxy._count("passed")
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

        return Handler
