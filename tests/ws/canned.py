"""A tiny HTTP server on loopback that answers from a queue of canned responses (for transport tests)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class CannedServer:
    def __init__(self) -> None:
        self.responses: list[tuple[int, str, dict[str, str], float]] = []
        self.requests: list[dict] = []
        self.connections: set[int] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, body_in: bytes) -> None:
                outer.connections.add(self.client_address[1])
                outer.requests.append({"path": self.path, "method": self.command,
                                       "fields": parse_qsl(body_in.decode(), keep_blank_values=True),
                                       "body": body_in})
                status, text, headers, delay = (outer.responses.pop(0) if outer.responses
                                                else (200, "null", {}, 0.0))
                if delay:
                    time.sleep(delay)
                data = text.encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(length))

            def do_GET(self) -> None:
                self._answer(b"")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, body: str, status: int = 200, headers: dict[str, str] | None = None,
            delay: float = 0.0) -> None:
        self.responses.append((status, body, headers or {}, delay))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
