"""The IAM API: routes, and serving one request with the armed faults and latency applied."""

from __future__ import annotations

import inspect
import math
import os
import re
import select
import socket
import socketserver
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from . import credentials, directory, errors, faults, operations, sessions
from .app import FakeIamApp
from .auth import authenticate
from .messages import DROP, Request, Response
from .model import format_time
from .requestlog import signer_of

Handler = Callable[[FakeIamApp, Request, dict[str, str]], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    handler: Handler


def _reply(result: tuple[int, object]) -> Response:
    status, body = result
    return Response(status, body)


def _create_credential(app: FakeIamApp, request: Request, _params: dict[str, str]) -> Response:
    caller = authenticate(app, request)
    status, body = credentials.create(app.store, caller, request.json())
    # From now on the gateway counts the key's propagation delay.
    app.gateway.key_created(body["credential"]["access"])
    return Response(status, body)


def _list_credentials(app: FakeIamApp, request: Request, _params: dict[str, str]) -> Response:
    caller = authenticate(app, request)
    return _reply(credentials.list_keys(app.store, caller, request.query_params()))


def _show_credential(app: FakeIamApp, request: Request, params: dict[str, str]) -> Response:
    caller = authenticate(app, request)
    return _reply(credentials.show(app.store, caller, params["access"]))


def _update_credential(app: FakeIamApp, request: Request, params: dict[str, str]) -> Response:
    caller = authenticate(app, request)
    return _reply(credentials.update(app.store, caller, params["access"], request.json()))


def _delete_credential(app: FakeIamApp, request: Request, params: dict[str, str]) -> Response:
    caller = authenticate(app, request)
    return _reply(credentials.delete(app.store, caller, params["access"]))


def _list_users(app: FakeIamApp, request: Request, _params: dict[str, str]) -> Response:
    caller = authenticate(app, request)
    return _reply(directory.list_users(app.store, caller, request.query_params(), request.base_url))


def _show_user(app: FakeIamApp, request: Request, params: dict[str, str]) -> Response:
    caller = authenticate(app, request)
    return _reply(directory.show_user(app.store, caller, params["user_id"], request.base_url))


def _list_domains(app: FakeIamApp, request: Request, _params: dict[str, str]) -> Response:
    # One of the two calls a client makes to learn its account id, so it cannot need X-Domain-Id.
    caller = authenticate(app, request, needs_domain_id=False)
    return _reply(directory.list_domains(app.store, caller, request.base_url))


def _caller_identity(app: FakeIamApp, request: Request, _params: dict[str, str]) -> Response:
    caller = authenticate(app, request, needs_domain_id=False)
    return _reply(directory.caller_identity(app.store, caller))


def _create_token(app: FakeIamApp, request: Request, _params: dict[str, str]) -> Response:
    # Logging in needs no credentials; any Authorization or X-Auth-Token header is ignored.
    value, body = sessions.create_token(app.store, request.json())
    return Response(201, body, {"X-Subject-Token": value})


def _create_security_token(app: FakeIamApp, request: Request, _params: dict[str, str]) -> Response:
    parsed = sessions.parse_security_token_request(request.json())
    if parsed.method == "assume_role":
        caller = authenticate(app, request)
    elif request.header("Authorization"):
        raise errors.forbidden(
            "the token method derives a temporary key from a token: authenticate with X-Auth-Token, not AK/SK"
        )
    elif request.header("X-Auth-Token"):  # the header wins over a token in the body
        caller = authenticate(app, request)
    elif parsed.body_token:
        caller = sessions.resolve_token(app.store, parsed.body_token)
    else:
        raise errors.not_authenticated("The token method needs X-Auth-Token (or auth.identity.token.id).")
    return _reply(sessions.create_security_token(app.store, caller, parsed))


_CREDENTIALS = "/v3\\.0/OS-CREDENTIAL/credentials"
_ONE_CREDENTIAL = f"{_CREDENTIALS}/(?P<access>[^/]+)"
ROUTES = [
    Route("POST", re.compile(_CREDENTIALS), operations.CREATE_CREDENTIAL, _create_credential),
    Route("GET", re.compile(_CREDENTIALS), operations.LIST_CREDENTIALS, _list_credentials),
    Route("GET", re.compile(_ONE_CREDENTIAL), operations.SHOW_CREDENTIAL, _show_credential),
    Route("PUT", re.compile(_ONE_CREDENTIAL), operations.UPDATE_CREDENTIAL, _update_credential),
    Route("DELETE", re.compile(_ONE_CREDENTIAL), operations.DELETE_CREDENTIAL, _delete_credential),
    Route("GET", re.compile("/v3/users"), operations.LIST_USERS, _list_users),
    Route("GET", re.compile("/v3/users/(?P<user_id>[^/]+)"), operations.SHOW_USER, _show_user),
    Route("GET", re.compile("/v3/auth/domains"), operations.LIST_DOMAINS, _list_domains),
    Route("POST", re.compile("/v3/auth/tokens"), operations.CREATE_TOKEN, _create_token),
    Route("POST", re.compile("/v3\\.0/OS-CREDENTIAL/securitytokens"), operations.CREATE_SECURITY_TOKEN,
          _create_security_token),
    Route("GET", re.compile("/v5/caller-identity"), operations.CALLER_IDENTITY, _caller_identity),
]


def resolve(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    # Exact paths only: a trailing slash or a different method is a different, unpublished API.
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match and route.method == method:
            return route, {name: unquote(value) for name, value in match.groupdict().items()}
    return None


def serve(app: FakeIamApp, request: Request, connection: socket.socket | None = None) -> Response:
    """Answer one API request and log it (see requestlog.py); DROP means close without an answer."""
    resolved = resolve(request.method, request.path)
    response = _answer(app, request, resolved, connection)
    if resolved is not None:
        route, params = resolved
        app.requests.record(operation=route.operation, signer=signer_of(request.header("Authorization")),
                            target=params.get("access"), status=0 if response is DROP else response.status,
                            data_time=format_time(app.store.now()))
    return response


def _answer(app: FakeIamApp, request: Request, resolved, connection: socket.socket | None) -> Response:
    """``connection`` is the request's socket, which a "hold" fault watches; when it is not given,
    the socket of the http.server handler serving this request (found on the call stack) is used.
    """
    if resolved is None:
        return Response.from_error(errors.no_such_api(request.method, request.path))
    route, params = resolved
    app.counters.record(route.operation)
    fault = app.faults.take(route.operation)
    if app.latency_ms:
        time.sleep(app.latency_ms / 1000)
    if fault is not None and fault.kind == faults.DROP:
        return DROP
    if (fault is not None and fault.kind == faults.HOLD
            and not client_stays(connection or _handler_connection(), fault.seconds or 0)):
        return DROP  # the client hung up before the operation: abandon it, undone
    if fault is not None and fault.kind in faults.ANSWERS_INSTEAD:
        return Response.from_error(fault.error())
    try:
        response = route.handler(app, request, params)
    except errors.ApiError as error:
        response = Response.from_error(error)
    if fault is not None and fault.kind == faults.DROP_AFTER_COMMIT:
        return DROP
    if fault is not None and fault.kind == faults.DELAY:
        time.sleep(fault.seconds or 0)
    return response


# ---- the "hold" fault: wait before acting, unless the client hangs up ---------------------------

_HANG_UP = select.POLLHUP | select.POLLERR | select.POLLNVAL | getattr(select, "POLLRDHUP", 0)


def client_stays(connection: socket.socket | None, seconds: float) -> bool:
    """Wait ``seconds``; False as soon as the client closes ``connection`` (then nothing may be done).

    A closed connection shows as readable with nothing to read: poll the socket, and when it is
    readable, peek (MSG_PEEK, so nothing is consumed) at a duplicate of its descriptor; b"" is the
    client's end of the stream. Linux also reports the peer's hang-up as POLLRDHUP. Bytes that are
    waiting (a pipelined request, a TLS alert) are no hang-up: from then on only hang-ups are
    watched. Without a socket (serve called directly), this just waits.
    """
    deadline = time.monotonic() + seconds
    if connection is None:
        time.sleep(seconds)
        return True
    try:
        descriptor = connection.fileno()
    except OSError:
        return False
    if descriptor < 0:
        return False
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | _HANG_UP)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True
        for _descriptor, events in poller.poll(math.ceil(remaining * 1000)):
            if events & _HANG_UP:
                return False
            if events & select.POLLIN:
                if _at_end_of_stream(descriptor):
                    return False
                poller.modify(descriptor, _HANG_UP)


def _at_end_of_stream(descriptor: int) -> bool:
    """Whether the peer closed its side: a non-consuming peek at the raw socket returns b""."""
    # A duplicate descriptor: the peek works the same for a TLS socket, whose object refuses flags,
    # and closing the duplicate leaves the handler's socket open.
    with socket.socket(fileno=os.dup(descriptor)) as raw:
        try:
            return raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, InterruptedError):
            return False  # nothing to read after all
        except OSError:
            return True  # reset by the peer: gone as well


def _handler_connection() -> socket.socket | None:
    """The socket of the http.server handler serving this request, from the call stack (handler.py
    hands serve only the parsed request)."""
    frame = inspect.currentframe()
    try:
        while frame is not None:
            candidate = frame.f_locals.get("self")
            if isinstance(candidate, socketserver.StreamRequestHandler):
                return candidate.connection
            frame = frame.f_back
        return None
    finally:
        del frame
