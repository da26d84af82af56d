"""The http.server glue: read a request, hand it to the control API or the IAM API, write the answer."""

from __future__ import annotations

import json
import socket
import sys
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import api, control, errors
from .app import FakeIamApp
from .messages import DROP, Request, Response

CONTROL_PREFIX = "/_control/"
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"


class FakeIamServer(ThreadingHTTPServer):
    # Worker threads must not keep the process alive after SIGTERM (a "delay" fault may be sleeping).
    daemon_threads = True
    # The listen backlog. socketserver's default of 5 overflows as soon as a benchmark opens more
    # connections at once than the accept loop drains (64-128 clients): the kernel drops the SYNs
    # and clients stall for a second or more retrying, which the benchmark then measures. The
    # kernel caps it at net.core.somaxconn (4096 on current Linux).
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], app: FakeIamApp, scheme: str):
        super().__init__(address, FakeIamHandler)
        self.app = app
        self.base_url = f"{scheme}://{address[0]}:{self.server_address[1]}"

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, client_address = super().get_request()
        # Counted here, in the accept loop, so that a client's connection reuse can be checked.
        self.app.counters.connection_accepted()
        return connection, client_address


class FakeIamHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive, as the real endpoint and every SDK connection pool use.
    protocol_version = "HTTP/1.1"
    server_version = "fakeiam"
    # An idle keep-alive connection is closed after this long, freeing its thread.
    timeout = 60
    # Headers and body go out as separate writes; with Nagle's algorithm on, each keep-alive
    # answer would wait ~40 ms for the client's delayed ACK, which would dominate benchmarks.
    disable_nagle_algorithm = True
    # http.server's own refusals (bad request line, unsupported method) in the Keystone shape.
    error_content_type = JSON_CONTENT_TYPE
    error_message_format = (
        '{"error": {"message": "%(message)s: %(explain)s", "code": %(code)d, "title": "%(message)s"}}'
    )
    server: FakeIamServer
    # Whether this connection has carried an API request yet (one handler serves one connection).
    _carried_api = False

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - overrides the base signature
        # Quiet by default: tests and benchmarks send thousands of requests.
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header of every answer (send_response writes it) comes from the data clock,
        # so a client that measures key ages against the server's Date sees them aged too.
        if timestamp is None:
            timestamp = self.server.app.clock.now().timestamp()
        return super().date_time_string(timestamp)

    def _read_request(self) -> Request:
        path, _question_mark, query = self.path.partition("?")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            raise errors.bad_request("Content-Length is not a number.") from exc
        body = self.rfile.read(length) if length > 0 else b""
        # http.server decodes header bytes as ISO-8859-1; undo that to get what the client signed.
        headers = {name: value.encode("latin-1").decode("utf-8", "surrogateescape")
                   for name, value in self.headers.items()}
        return Request(self.command, path, query, headers, body, self.server.base_url)

    def _serve(self) -> None:
        if not self._carried_api and not self.path.startswith(CONTROL_PREFIX):
            self._carried_api = True
            self.server.app.counters.api_connection()
        if self.headers.get("Transfer-Encoding"):
            # The SDK always sends Content-Length; chunked bodies are not something IAM clients do.
            self._write(Response.from_error(errors.bad_request("Send the body with Content-Length.")))
            self.close_connection = True
            return
        try:
            request = self._read_request()
            if request.path.startswith(CONTROL_PREFIX):
                response = control.handle(self.server.app, request)
            else:
                response = api.serve(self.server.app, request)
        except errors.ApiError as error:  # the request itself was unreadable
            response = Response.from_error(error)
            self.close_connection = True
        except Exception:  # noqa: BLE001 - any bug answers 500 like the cloud would, and is shown on stderr
            traceback.print_exc(file=sys.stderr)
            response = Response.from_error(errors.internal_error())
        if response is DROP:
            # Close without a byte of answer: the client sees the connection end mid-request.
            self.close_connection = True
            return
        try:
            self._write(response)
        except (BrokenPipeError, ConnectionResetError):
            # The client stopped waiting (its timeout, or a "delay" fault outlasting it): nothing to tell it.
            self.close_connection = True

    def _write(self, response: Response) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode("utf-8")
        request_id = response.body.get("request_id") if isinstance(response.body, dict) else None
        self.send_response(response.status)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("X-Request-Id", request_id or uuid.uuid4().hex)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if response.status != 204:
            self.wfile.write(payload)
