# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One HTTP exchange over ansible.module_utils.urls, with failures sorted by what they mean.

Private to the keywarden.iam collection. Nothing beyond ansible-core is needed on the managed
node, so this uses ansible's own ``open_url`` rather than requests or the vendor SDK.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.error import HTTPError, URLError

from ansible.module_utils.urls import Request, make_context


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict
    body: bytes


class ConnectionProblem(Exception):
    """No HTTP answer came back.

    ``may_have_arrived`` tells a caller whether the server could have acted on the request:
    false only when the connection was never made (refused, DNS, TLS handshake), since a
    timeout or a dropped connection can come after the server committed the change.
    """

    def __init__(self, kind: str, reason: str, *, may_have_arrived: bool) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.may_have_arrived = may_have_arrived


class HttpTransport:
    """Sends requests for one client: the same TLS settings, and one TLS context for all of them.

    ``open_url`` would build a new SSL context for every request, loading the system's CA store
    each time (tens of milliseconds, holding the GIL): a batch of threads would queue behind it.
    The context is built once, on first use, and shared; SSL contexts are safe to share.
    """

    def __init__(self, *, timeout: float, validate_certs: bool, ca_path: str | None) -> None:
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def _ssl_context(self) -> ssl.SSLContext:
        with self._lock:
            if self._context is None:
                self._context = make_context(cafile=self.ca_path, validate_certs=self.validate_certs)
            return self._context

    def send(self, method: str, url: str, headers: dict, body: bytes) -> HttpResponse:
        """Send one request; any HTTP status is a response, only a missing answer raises."""
        try:
            response = Request().open(
                method,
                url,
                data=body or None,
                headers=headers,
                timeout=self.timeout,
                validate_certs=self.validate_certs,
                ca_path=self.ca_path,
                context=self._ssl_context(),
                # A redirect would change the path that was signed, and .netrc could add
                # credentials we did not choose: neither belongs in a signed API call.
                follow_redirects="none",
                use_netrc=False,
                http_agent="keywarden.iam",
            )
            with response:
                return HttpResponse(response.status, dict(response.headers.items()), response.read())
        except HTTPError as error:
            with error:
                return HttpResponse(error.code, dict(error.headers.items()) if error.headers else {},
                                    error.read() or b"")
        except URLError as error:
            raise _classify(error.reason) from None
        except (OSError, http.client.HTTPException) as error:
            raise _classify(error) from None


# OpenSSL's reasons when the far end answers the TLS handshake with something that is not TLS,
# such as a plain-HTTP server's "HTTP/1.0 400 Bad Request" (the wording depends on the version).
_NOT_TLS_REASONS = {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "UNKNOWN_PROTOCOL"}
# The connection was never made: no route to the endpoint.
_UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH}
# The connection was made, the request may have been read, and the connection closed unanswered.
_DROPPED = (http.client.RemoteDisconnected, http.client.IncompleteRead, ConnectionResetError,
            ConnectionAbortedError, BrokenPipeError)


def _classify(reason: object) -> ConnectionProblem:
    """What kind of problem ``reason`` is, and whether the server may have acted on the request.

    The kind chooses the message: "could not reach" only where no connection was made.
    """
    text = str(reason) or type(reason).__name__
    if isinstance(reason, ssl.SSLError) and (getattr(reason, "reason", None) in _NOT_TLS_REASONS
                                             or "wrong version number" in text):
        return ConnectionProblem("not_tls", text, may_have_arrived=False)
    if isinstance(reason, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in text:
        return ConnectionProblem("tls", text, may_have_arrived=False)
    if isinstance(reason, ConnectionRefusedError):
        return ConnectionProblem("refused", text, may_have_arrived=False)
    if isinstance(reason, socket.gaierror):
        return ConnectionProblem("dns", text, may_have_arrived=False)
    if isinstance(reason, OSError) and reason.errno in _UNREACHABLE_ERRNOS:
        return ConnectionProblem("unreachable", text, may_have_arrived=False)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return ConnectionProblem("timeout", text or "timed out", may_have_arrived=True)
    if isinstance(reason, _DROPPED):
        return ConnectionProblem("dropped", text, may_have_arrived=True)
    return ConnectionProblem("failed", text, may_have_arrived=True)
