# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One HTTP exchange on a kept-alive connection, with failures sorted by what they mean.

Private to the keywarden.iam collection. Nothing beyond ansible-core is needed on the managed
node, so this uses the standard library's ``http.client`` (and, behind a proxy, ansible's own
``Request``) rather than requests or the vendor SDK.
"""

from __future__ import annotations

import errno
import functools
import http.client
import socket
import ssl
import threading
import urllib.request
import weakref
from dataclasses import dataclass
from urllib.error import HTTPError, URLError

from ansible.module_utils.urls import Request

from ansible_collections.keywarden.iam.plugins.module_utils._keepalive import Endpoint, KeptConnections

USER_AGENT = "keywarden.iam"

# The methods whose repetition is harmless (RFC 9110, 9.2.2): only these ride on a kept
# connection. See HttpTransport for why every other request gets a connection of its own.
REUSABLE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})


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

    ``stale`` says the request went out on a reused keep-alive connection that failed before
    a single byte of an answer came back, the way a connection the server closed while idle
    fails. Only a request of a method in REUSABLE_METHODS is ever sent on a reused connection,
    so only such a request can be stale: the caller may send it once more, at once (the
    transport opens a new connection for it).
    """

    def __init__(self, kind: str, reason: str, *, may_have_arrived: bool, stale: bool = False) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.may_have_arrived = may_have_arrived
        self.stale = stale


class HttpTransport:
    """Sends the requests of one run: one kept-alive HTTP/1.1 connection per thread and endpoint.

    A new connection per request costs several times the client CPU of a kept one (and a
    TLS handshake each time on https). Each thread keeps its own connection (a batch shares one
    client between threads; see _keepalive), and the TLS context is the process's one for
    these settings (see _tls_context), built only when an https:// connection is opened.

    Why a reused connection never makes a create ambiguous. A server may close a kept
    connection while it is idle; the next request on it then fails, and the client cannot tell
    that failure from a server that read the request, acted on it and dropped the connection
    before answering. So:

    1. A request whose method is not in REUSABLE_METHODS (POST: a create) always goes out on
       a connection opened for it, never on a kept one. Its failures mean exactly what they
       meant when every request had its own connection: refused, DNS or TLS handshake errors
       come from ``connect`` before a byte of it is written (may_have_arrived false), and
       anything later may have reached the server, as before. The caller's RETRY_UNSENT rule
       therefore sees the same failures as before, and a stale connection never produces an
       "answer lost" for a create.
    2. A kept connection is checked before it carries a request: if it can be read from (the
       server closed it, or sent bytes nobody asked for), it is closed and a new one opened.
       This catches a keep-alive timeout that struck while the connection was idle.
    3. What the check cannot catch is a close that races the request. A request of a
       REUSABLE_METHODS method that fails on a reused connection before any byte of an answer
       (the write fails, or the connection ends or is reset where the status line should be)
       raises ConnectionProblem with ``stale`` set; the client sends it once more at once, and
       that resend goes out on a new connection. Repeating such a request is harmless by
       definition, so it does not matter whether the server had read it.
    Any failure closes the connection, so the next request of the thread opens a new one.

    Everything else is as it was with ``Request().open()``: redirects are not followed (a
    redirect status comes back as a response: a redirect would change the path that was
    signed), no .netrc (it could add credentials we did not choose), User-Agent keywarden.iam,
    the timeout applies to the connect and to each read or write, and a proxy from the
    environment (http_proxy, https_proxy, no_proxy, as urllib reads them) is honoured: a
    request that a proxy applies to goes through ``Request().open()`` itself, as before,
    without a kept connection.

    Call ``close()`` (or use the transport as a context manager) when the run ends; what is
    still open when the transport is garbage-collected, or at interpreter exit, is closed then.
    """

    def __init__(self, *, timeout: float, validate_certs: bool, ca_path: str | None) -> None:
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self._lock = threading.Lock()
        self._proxied: dict = {}
        self._connections = KeptConnections(timeout=timeout, validate_certs=validate_certs, ca_path=ca_path)
        # The finalizer holds the connections, never the transport, or it would keep it alive.
        self._finalizer = weakref.finalize(self, self._connections.close)

    def close(self) -> None:
        """Close every kept connection (of every thread): call it once the run's threads are done."""
        self._connections.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def send(self, method: str, url: str, headers: dict, body: bytes) -> HttpResponse:
        """Send one request; any HTTP status is a response, only a missing answer raises."""
        method = method.upper()
        target = _split(url)
        if target is None or self._proxy_applies(target[0]):
            return self._send_with_urllib(method, url, headers, body, https=url.lower().startswith("https:"))
        endpoint, path = target
        return self._send_kept(endpoint, method, path, headers, body)

    def _send_kept(self, endpoint: Endpoint, method: str, path: str, headers: dict, body: bytes) -> HttpResponse:
        reused = False
        sending = False  # true once the connection is up and the request may start to leave
        answering = False  # true once the status line came back
        try:
            # Connected (and hands shaken) here, apart from sending: a failure so far, whatever its kind
            # (a connect timeout, a CA file that cannot be read), is known to have sent nothing.
            connection, reused = self._connections.connection(endpoint, fresh=method not in REUSABLE_METHODS)
            sending = True
            try:
                connection.request(method, path, body=body or None, headers=_request_headers(endpoint, headers))
                response = connection.getresponse()
                answering = True
                with response:
                    return HttpResponse(response.status, dict(response.headers.items()), response.read())
            except BaseException:
                connection.close()  # whatever it holds now, the next request must not read it
                raise
        except (OSError, http.client.HTTPException) as error:
            problem = _classify(error)
            if not sending:
                problem.may_have_arrived = False
            problem.stale = reused and not answering and isinstance(error, _CLOSED_UNDER_US)
            raise problem from None
        except ValueError:
            raise _unsendable_header() from None

    def _proxy_applies(self, endpoint: Endpoint) -> bool:
        """Whether urllib would send a request to ``endpoint`` through a proxy (decided once)."""
        with self._lock:
            known = self._proxied.get(endpoint)
        if known is None:
            proxy = urllib.request.getproxies().get(endpoint.scheme)
            known = bool(proxy) and not urllib.request.proxy_bypass(endpoint.netloc)
            with self._lock:
                self._proxied[endpoint] = known
        return known

    def _send_with_urllib(self, method: str, url: str, headers: dict, body: bytes, *, https: bool) -> HttpResponse:
        """The request through ``Request().open()``, as every request went before: for proxies."""
        try:
            response = Request().open(
                method,
                url,
                data=body or None,
                headers=headers,
                timeout=self.timeout,
                validate_certs=self.validate_certs,
                ca_path=self.ca_path,
                # Request would build a context (loading the CA store) even for http://.
                context=self._connections.tls_context() if https else _unused_context(),
                follow_redirects="none",
                use_netrc=False,
                http_agent=USER_AGENT,
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
        except ValueError:
            raise _unsendable_header() from None


# http.client refuses a header value with a line break, quoting the value, which may be a secret
# (a security token): this says what is wrong without it. Nothing was sent.
def _unsendable_header() -> ConnectionProblem:
    return ConnectionProblem("failed", "a request header holds a line break or another character HTTP cannot carry",
                             may_have_arrived=False)


# How a kept connection that the server closed fails when a request is written to it or its
# answer awaited: the end of the stream (RemoteDisconnected is a ConnectionResetError), a reset,
# a broken pipe, or TLS's unexpected end of file.
_CLOSED_UNDER_US = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, ssl.SSLEOFError,
                    ssl.SSLZeroReturnError)


def _split(url: str) -> tuple[Endpoint, str] | None:
    """The endpoint and request target of ``url``, as urllib splits them; None if urllib must.

    None for anything but plain http(s) URLs without user information, which Request handles.
    """
    scheme, separator, rest = url.partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in ("http", "https"):
        return None
    rest = rest.split("#", 1)[0]  # urllib sends no fragment
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    netloc, path = rest[:end], rest[end:]
    if not netloc or "@" in netloc:
        return None
    if not path.startswith("/"):
        path = "/" + path
    return Endpoint(scheme, netloc), path


def _request_headers(endpoint: Endpoint, headers: dict) -> dict:
    """The headers urllib would send (but Connection: close): User-Agent, and Host as it writes it."""
    sent = {"User-Agent": USER_AGENT, **headers}
    if not any(name.lower() == "host" for name in sent):
        # urllib writes the host as the URL does (an explicit default port included);
        # http.client on its own would drop a default port.
        sent["Host"] = endpoint.netloc
    return sent


@functools.lru_cache(maxsize=None)
def _unused_context() -> ssl.SSLContext:
    """A context that loads no certificates, for Request's https handler on an http:// request."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


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
    if isinstance(reason, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        # The server closed the TLS connection: after the request left, it may have acted on it
        # (a failure before that is marked by the caller, which knows when sending began).
        return ConnectionProblem("dropped", text, may_have_arrived=True)
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
