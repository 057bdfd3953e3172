"""The sandbox's HTTP side: Moodle's REST (and, when present, SOAP) endpoint plus JSON test controls.

A ``ThreadingHTTPServer`` speaking HTTP/1.1 with Content-Length, so clients keep their pooled
connections; bound to loopback only. Routes:

- ``/webservice/rest/server.php`` (GET query and POST form body, PHP-style, ``max_input_vars`` applied);
- ``/webservice/soap/server.php`` through :mod:`moodle_sync.sandbox.soap_endpoint` when that module exists
  (else 403, as Moodle answers with the SOAP protocol disabled);
- ``/`` and ``/login/index.php``: a small front page (what ``doctor`` probes);
- ``/_sandbox/<action>``: JSON POST (or GET, without arguments) to the
  :class:`~moodle_sync.sandbox.control.SandboxControl` actions (``GET /_sandbox/mails`` lists the mails sent).
"""

from __future__ import annotations

import importlib
import inspect
import ipaddress
import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from .calls import DEFAULT_TIMEZONE
from .control import ControlError, Fault, FaultBook, SandboxControl
from .errors import SandboxMoodleError
from .moodle import SandboxMoodle
from .params import parse_php_form
from .state import State, write_state_file

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger("moodle_sync.sandbox")

REST_PATH = "/webservice/rest/server.php"
SOAP_PATH = "/webservice/soap/server.php"
CONTROL_PREFIX = "/_sandbox/"
FRONT_PAGE = (b"<!DOCTYPE html><html lang=\"en\"><head><title>BGTK Test Moodle: Log in to the site</title></head>"
              b"<body><h1>BGTK Test Moodle</h1><p>moodle_sync sandbox (a fake Moodle 4.5 for tests)</p></body></html>")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class FaultSignal(BaseException):
    """Raised through the call path when an injected transport fault must end the request.

    A ``BaseException`` so that endpoint code catching ``Exception`` cannot swallow it.
    """

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.kind)
        self.fault = fault


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    sandbox: SandboxServer


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class SandboxServer:
    """A running fake Moodle 4.5 site on loopback. Use as a context manager or ``start()``/``stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, latency_ms: float = 0, max_input_vars: int = 5000,
                 debug: bool = False, state_file: str | Path | None = None,
                 timezone: str = DEFAULT_TIMEZONE) -> None:
        """Raises ``ValueError`` for a host that is not loopback, a bad state file or an unknown ``timezone``."""
        if not is_loopback(host):
            raise ValueError(f"the sandbox only listens on loopback, not on {host!r}")
        self.host, self.port = host, port
        self.max_input_vars = max_input_vars
        self.state_file = Path(state_file) if state_file else None
        state = State.load(self.state_file) if self.state_file and self.state_file.exists() else None
        self.moodle = SandboxMoodle(state=state, debug=debug, latency_ms=float(latency_ms), timezone=timezone)
        self.faults = FaultBook()
        self.control = SandboxControl(self.moodle, self.faults)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self.connections_opened = 0  # TCP connections accepted so far (keep-alive makes this small)
        self._conn_lock = threading.Lock()
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._saver: threading.Thread | None = None
        if self.state_file:
            self.moodle.on_write = self._dirty.set

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns ``self``."""
        if self._httpd is not None:
            return self
        cls = _HTTPServer6 if ":" in self.host else _HTTPServer
        self._httpd = cls((self.host.strip("[]"), self.port), _Handler)
        self._httpd.sandbox = self
        self.port = self._httpd.server_address[1]
        self.moodle.base_url = self.url
        self.faults.released.clear()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="moodle-sandbox", daemon=True)
        self._thread.start()
        if self.state_file:
            self._save()
            self._saver = threading.Thread(target=self._save_loop, name="moodle-sandbox-saver", daemon=True)
            self._saver.start()
        return self

    def stop(self) -> None:
        """Stop serving, end held and idle connections, and save the state (with ``state_file``)."""
        if self._httpd is None:
            return
        self.faults.released.set()
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._conn_lock:
            for conn in list(self._connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        if self._saver is not None:
            self._dirty.set()
            self._saver.join(timeout=10)
            self._saver = None
        if self.state_file:
            self._save()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # persistence -------------------------------------------------------------------------------
    def _save(self) -> None:
        assert self.state_file is not None
        with self.moodle.lock:  # snapshot under the lock, write outside it
            state = self.moodle.state
            assert state is not None
            snapshot = state.to_dict()
        write_state_file(snapshot, self.state_file)

    def _save_loop(self) -> None:
        while not self._stopping.is_set():
            self._dirty.wait()
            if self._stopping.is_set():
                return
            self._stopping.wait(1.0)  # gather a burst of writes into one save
            self._dirty.clear()
            try:
                self._save()
            except OSError as exc:
                log.error("cannot save the sandbox state to %s: %s", self.state_file, exc)

    # public view -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def token(self) -> str:
        return self.moodle.token

    @property
    def limited_token(self) -> str:
        return self.moodle.limited_token

    @property
    def state(self) -> State:
        assert self.moodle.state is not None
        return self.moodle.state

    def make_token(self, functions: list[str], lacking: list[str] | None = None) -> str:
        """A new token whose service holds exactly ``functions`` (with ``lacking``: for a user lacking those
        capabilities, see :meth:`SandboxControl.make_token`)."""
        return self.moodle.make_token(functions, lacking=lacking)

    def ws_call(self, token: str | None, function: str | None, params: Mapping[str, Any]) -> Any:
        """A web-service call with the injected transport faults applied (what the endpoints use).

        Raises :class:`SandboxMoodleError` like :meth:`SandboxMoodle.dispatch`, or :class:`FaultSignal`.
        """
        fault = self.faults.take(function) if function else None
        if fault is None:
            return self.moodle.dispatch(token, function, params)
        if fault.kind not in ("apply_then_drop", "apply_then_timeout"):
            with self.moodle.lock:
                self.moodle.counts[str(function)] += 1
            raise FaultSignal(fault)
        try:
            self.moodle.dispatch(token, function, params)
        except SandboxMoodleError:
            pass
        raise FaultSignal(fault)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._connections.add(conn)
                self.connections_opened += 1
            else:
                self._connections.discard(conn)


# ------------------------------------------------------------------------------------------- handler
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""
    wbufsize = 1 << 16  # headers and body leave in one write (no Nagle/delayed-ACK stalls)
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.sandbox._track(self.connection, True)

    def finish(self) -> None:
        self.server.sandbox._track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    # routing -----------------------------------------------------------------------------------
    def _route(self) -> None:
        if not is_loopback(self.client_address[0]):
            self._send(403, b"Forbidden", "text/plain")
            self.close_connection = True
            return
        body = self._read_body()
        path, _, query = self.path.partition("?")
        try:
            if path == REST_PATH:
                self._rest(query, body)
            elif path.startswith(CONTROL_PREFIX):
                self._control(path[len(CONTROL_PREFIX):], body)
            elif path == SOAP_PATH:
                self._soap(query, body)
            elif path in ("/", "/index.php", "/login/index.php"):
                self._send(200, FRONT_PAGE, "text/html; charset=utf-8")
            else:
                self._send(404, b"Not found", "text/plain")
        except FaultSignal as signal:
            self._fault(signal.fault)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            if name.lower() not in ("content-length", "content-type"):
                self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _fault(self, fault: Fault) -> None:
        sandbox = self.server.sandbox
        if fault.kind == "http500":
            self._send(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html")
        elif fault.kind == "http429":
            self._send(429, b"<html><body><h1>429 Too Many Requests</h1></body></html>", "text/html",
                       {"Retry-After": "1"})
        else:
            if fault.kind in ("timeout", "apply_then_timeout"):
                sandbox.faults.released.wait(fault.seconds)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # REST --------------------------------------------------------------------------------------
    def _rest(self, query: str, body: bytes) -> None:
        sandbox = self.server.sandbox
        limit = sandbox.max_input_vars
        fields = parse_php_form(query, limit)
        if self.command == "POST" and self._is_form():
            post = parse_php_form(body.decode("utf-8", "replace"), limit)
            fields.update(post)
        fmt = fields.pop("moodlewsrestformat", "xml")
        fmt = fmt if fmt in ("json", "xml") else "xml"
        token = fields.pop("wstoken", None)
        function = fields.pop("wsfunction", None)
        for key in [k for k in fields if str(k).startswith("moodlewssetting")]:
            del fields[key]
        token = token if isinstance(token, str) else None
        function = function if isinstance(function, str) else None
        try:
            result: Any = sandbox.ws_call(token, function, fields)
            error: SandboxMoodleError | None = None
        except SandboxMoodleError as exc:
            result, error = None, exc
        debug = sandbox.moodle.debug
        if fmt == "json":
            doc = error.body(debug=debug) if error else result
            self._send(200, json.dumps(doc, ensure_ascii=True).encode(), "application/json")
        else:
            text = _xml_error(error, debug) if error else _xml_response(result)
            self._send(200, text.encode("utf-8"), "application/xml; charset=utf-8")

    def _is_form(self) -> bool:
        ctype = self.headers.get("Content-Type", "application/x-www-form-urlencoded")
        return ctype.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"

    # SOAP --------------------------------------------------------------------------------------
    def _soap(self, query: str, body: bytes) -> None:
        try:
            module = importlib.import_module("moodle_sync.sandbox.soap_endpoint")
        except ModuleNotFoundError as exc:
            if exc.name != "moodle_sync.sandbox.soap_endpoint":
                raise
            self._send(403, b"", "text/plain")  # what Moodle answers when the SOAP protocol is off
            return
        sandbox = self.server.sandbox
        handle: Callable[..., tuple[int, dict[str, str], bytes]] = module.handle_soap
        path_query = SOAP_PATH + ("?" + query if query else "")
        accepted = inspect.signature(handle).parameters
        extra = {k: v for k, v in (("debug", sandbox.moodle.debug),
                                   ("token_functions", sandbox.moodle.token_functions)) if k in accepted}
        status, headers, payload = handle(sandbox.ws_call, self.command, path_query, body, sandbox.url, **extra)
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "text/xml; charset=utf-8")
        self._send(status, payload, ctype, headers)

    # controls ----------------------------------------------------------------------------------
    def _control(self, action: str, body: bytes) -> None:
        sandbox = self.server.sandbox
        try:
            arguments = json.loads(body.decode("utf-8")) if body.strip() else {}
            if not isinstance(arguments, dict):
                raise ControlError("the body must be a JSON object of arguments")
            result = sandbox.control.perform(action.strip("/"), arguments)
        except (ControlError, ValueError) as exc:
            status = 404 if str(exc).startswith("unknown sandbox action") else 400
            self._send(status, json.dumps({"error": str(exc)}).encode(), "application/json")
            return
        self._send(200, json.dumps({"result": result}).encode(), "application/json")


# ------------------------------------------------------------------------------------------- XML
def _xml_value(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("<SINGLE>\n")
        for key, sub in value.items():
            out.append(f'<KEY name="{escape(str(key))}">')
            _xml_value(sub, out)
            out.append("</KEY>\n")
        out.append("</SINGLE>\n")
    elif isinstance(value, list):
        out.append("<MULTIPLE>\n")
        for sub in value:
            _xml_value(sub, out)
        out.append("</MULTIPLE>\n")
    elif value is None:
        out.append('<VALUE null="null"/>')
    else:
        text = ("1" if value else "0") if isinstance(value, bool) else str(value)
        out.append(f"<VALUE>{escape(text)}</VALUE>\n")


def _xml_response(result: Any) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n']
    if result is not None:
        _xml_value(result, out)
    out.append("</RESPONSE>\n")
    return "".join(out)


def _xml_error(error: SandboxMoodleError, debug: bool) -> str:
    cls = error.exception.rsplit("\\", 1)[-1]
    text = (f'<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="{escape(cls)}">\n'
            f"<ERRORCODE>{escape(error.errorcode)}</ERRORCODE>\n<MESSAGE>{escape(error.message)}</MESSAGE>\n")
    if debug and error.debuginfo is not None:
        text += f"<DEBUGINFO>{escape(error.debuginfo)}</DEBUGINFO>\n"
    return text + "</EXCEPTION>\n"
