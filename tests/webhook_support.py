"""A real webhook receiver for the events tests: an HTTP server on a free local port that
records every request, and can fail, refuse or hang on purpose.

Signatures are checked here independently of the package (MLflow's scheme: base64 HMAC-SHA256
of ``{delivery id}.{timestamp}.{body}``), so a wrong signing in the package fails the tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from waiting import wait_until


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes
    status: int
    at: float = field(default_factory=time.time)

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers.get("x-mlflow-delivery-id", "")


def signature_ok(secret: str, request: Request) -> bool:
    h = request.headers
    content = f"{h['x-mlflow-delivery-id']}.{h['x-mlflow-timestamp']}.".encode() + request.body
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    fresh = abs(time.time() - int(h["x-mlflow-timestamp"])) < 300
    return fresh and hmac.compare_digest(expected, h.get("x-mlflow-signature", ""))


class Receiver:
    """``fail_first``: answer 500 to that many requests; ``refuse``: answer 400 to all;
    ``hang``: hold every request until the receiver closes."""

    def __init__(
        self, *, fail_first: int = 0, refuse: bool = False, hang: bool = False, port: int = 0
    ) -> None:
        self.requests: list[Request] = []
        self.fail_first, self.refuse, self.hang = fail_first, refuse, hang
        self._closing = threading.Event()
        self._guard = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.hang:
                    receiver._closing.wait(60)
                    return
                with receiver._guard:
                    failed = sum(1 for r in receiver.requests if r.status >= 500)
                    status = (
                        400 if receiver.refuse else 500 if failed < receiver.fail_first else 200
                    )
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.requests.append(Request(headers, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def accepted(self) -> list[Request]:
        with self._guard:
            return [r for r in self.requests if r.status == 200]

    def wait_for(self, n: int, timeout: float = 60) -> list[Request]:
        return wait_until(
            lambda: len(self.accepted) >= n and self.accepted,
            timeout,
            interval=0.05,
            message=lambda: f"{self.url} got {len(self.accepted)} of {n} events",
        )

    def close(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()


def write_webhooks(root: Any, hooks: list[dict[str, Any]], **sections: Any) -> None:
    """mlops.yaml declaring ``hooks`` under events.webhooks (and other ``sections``)."""
    import yaml

    (root / "mlops.yaml").write_text(yaml.safe_dump({**sections, "events": {"webhooks": hooks}}))
