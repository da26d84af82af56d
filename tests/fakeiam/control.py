"""The control API under /_control/: unsigned JSON endpoints that tests use to set up and inspect.

Never part of IAM: the API routes know nothing of it and it bypasses faults, latency and counters.
"""

from __future__ import annotations

import json
import resource
from collections.abc import Callable
from typing import Any

from . import faults
from .app import FakeIamApp
from .messages import Request, Response
from .model import Account, User, World, format_time
from .seed import SeedError, add_key, add_user, dump_key, dump_user


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _read_body(request: Request) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError(400, f"the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def _account(world: World, ref: Any) -> Account:
    """An account by id or name; may be left out when there is only one."""
    if ref is None:
        if len(world.accounts) != 1:
            raise ControlError(400, "there are several accounts: say which with 'domain' (id or name)")
        return next(iter(world.accounts.values()))
    found = [a for a in world.accounts.values() if ref in (a.domain_id, a.domain_name)]
    if not found:
        raise ControlError(404, f"no account {ref!r}")
    return found[0]


def _user(world: World, ref: Any, domain_ref: Any) -> User:
    if ref in world.users:
        return world.users[ref]
    domain_ids = [_account(world, domain_ref).domain_id] if domain_ref is not None else list(world.accounts)
    found = [user for domain_id in domain_ids for user in world.users_named(domain_id, ref)]
    if len(found) != 1:
        message = f"user {ref!r} matches {len(found)} users; give an id or 'domain'"
        raise ControlError(404 if not found else 400, message)
    return found[0]


def _clock(app: FakeIamApp) -> dict[str, Any]:
    return {"now": format_time(app.clock.now()), "offset_seconds": app.clock.offset_seconds}


def _seconds(body: dict[str, Any], *, non_negative: bool) -> float:
    """The body's "seconds", the only field of the skew and propagation knobs."""
    seconds = body.get("seconds")
    valid = not isinstance(seconds, bool) and isinstance(seconds, (int, float)) and set(body) == {"seconds"}
    if not valid or (non_negative and seconds < 0):
        kind = "a non-negative number" if non_negative else "a number"
        raise ControlError(400, f'give {{"seconds": N}} with N {kind}')
    return seconds


def _state(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    return Response(200, app.store.dump())


def _reset(app: FakeIamApp, body: dict[str, Any]) -> Response:
    app.reset(body.get("seed"))
    return Response(200, app.store.dump())


def _get_clock(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    return Response(200, _clock(app))


def _set_clock(app: FakeIamApp, body: dict[str, Any]) -> Response:
    given = {name: body[name] for name in ("advance_seconds", "advance_days", "offset_seconds") if name in body}
    if len(given) != 1 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in given.values()):
        raise ControlError(400, "give exactly one number: advance_seconds, advance_days or offset_seconds")
    (name, value), = given.items()
    if name == "offset_seconds":
        app.clock.set_offset(value)
    else:
        app.clock.advance(value * 86400 if name == "advance_days" else value)
    app.store.changed()  # the offset is part of the persisted state
    return Response(200, _clock(app))


def _get_skew(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    return Response(200, {"seconds": app.gateway.skew_seconds})


def _set_skew(app: FakeIamApp, body: dict[str, Any]) -> Response:
    app.gateway.set_skew(_seconds(body, non_negative=False))
    return Response(200, {"seconds": app.gateway.skew_seconds})


def _get_propagation(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    return Response(200, {"seconds": app.gateway.propagation_seconds})


def _set_propagation(app: FakeIamApp, body: dict[str, Any]) -> Response:
    app.gateway.set_propagation(_seconds(body, non_negative=True))
    return Response(200, {"seconds": app.gateway.propagation_seconds})


def _get_latency(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    return Response(200, {"ms": app.latency_ms})


def _set_latency(app: FakeIamApp, body: dict[str, Any]) -> Response:
    ms = body.get("ms")
    if isinstance(ms, bool) or not isinstance(ms, (int, float)) or ms < 0:
        raise ControlError(400, "give 'ms' as a non-negative number")
    app.set_latency(ms)
    return Response(200, {"ms": ms})


def _get_faults(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    return Response(200, {"armed": app.faults.snapshot()})


def _arm_fault(app: FakeIamApp, body: dict[str, Any]) -> Response:
    try:
        app.faults.arm(faults.parse(body))
    except faults.FaultError as exc:
        raise ControlError(400, str(exc)) from exc
    return Response(201, {"armed": app.faults.snapshot()})


def _clear_faults(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    app.faults.clear()
    return Response(200, {"armed": []})


def _counters(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    return Response(200, app.counters.snapshot())


def _reset_counters(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    app.counters.reset()
    return Response(200, app.counters.snapshot())


def _stats(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    # The whole server process's CPU (every thread), so a benchmark can tell it from the client's.
    # It only grows: read it before and after a run. The connection counts reset with the counters.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return Response(200, {
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "cpu_user_seconds": usage.ru_utime,
        "cpu_system_seconds": usage.ru_stime,
        **app.counters.connections(),
    })


def _requests(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    return Response(200, {"requests": app.requests.snapshot()})


def _clear_requests(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    app.requests.clear()
    return Response(200, {"requests": []})


def _issued_secrets(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    return Response(200, {"secrets": app.store.issued.snapshot()})


def _clear_issued_secrets(app: FakeIamApp, _body: dict[str, Any]) -> Response:
    app.store.issued.clear()
    return Response(200, {"secrets": []})


def _add_user(app: FakeIamApp, body: dict[str, Any]) -> Response:
    spec = {name: value for name, value in body.items() if name != "domain"}
    with app.store.transaction() as world:
        account = _account(world, body.get("domain"))
        user = add_user(world, account.domain_id, spec, app.store.now())
        app.store.issued.record(user.password, *(key.secret for key in world.keys_of(user.id)))
        app.store.changed()
        return Response(201, dump_user(world, user))


def _add_key(app: FakeIamApp, body: dict[str, Any]) -> Response:
    spec = {name: value for name, value in body.items() if name not in ("user", "domain")}
    if "user" not in body:
        raise ControlError(400, "give 'user' (id or name)")
    with app.store.transaction() as world:
        user = _user(world, body["user"], body.get("domain"))
        key = add_key(world, user.id, spec, app.store.now())
        app.store.issued.record(key.secret)
        app.store.changed()
        return Response(201, {"user_id": user.id, **dump_key(key)})


def _set_account(app: FakeIamApp, body: dict[str, Any]) -> Response:
    if not isinstance(body.get("access_key_management"), bool) or set(body) - {"domain", "access_key_management"}:
        raise ControlError(400, "give 'access_key_management' (true or false) and optionally 'domain'")
    with app.store.transaction() as world:
        account = _account(world, body.get("domain"))
        account.access_key_management = body["access_key_management"]
        app.store.changed()
        return Response(200, {"domain_id": account.domain_id, "domain_name": account.domain_name,
                              "access_key_management": account.access_key_management})


_ROUTES: dict[tuple[str, str], Callable[[FakeIamApp, dict[str, Any]], Response]] = {
    ("GET", "/_control/state"): _state,
    ("POST", "/_control/reset"): _reset,
    ("GET", "/_control/clock"): _get_clock,
    ("POST", "/_control/clock"): _set_clock,
    ("GET", "/_control/skew"): _get_skew,
    ("POST", "/_control/skew"): _set_skew,
    ("GET", "/_control/propagation"): _get_propagation,
    ("POST", "/_control/propagation"): _set_propagation,
    ("GET", "/_control/latency"): _get_latency,
    ("POST", "/_control/latency"): _set_latency,
    ("GET", "/_control/faults"): _get_faults,
    ("POST", "/_control/faults"): _arm_fault,
    ("DELETE", "/_control/faults"): _clear_faults,
    ("GET", "/_control/counters"): _counters,
    ("POST", "/_control/counters/reset"): _reset_counters,
    ("GET", "/_control/stats"): _stats,
    ("GET", "/_control/requests"): _requests,
    ("POST", "/_control/requests/clear"): _clear_requests,
    ("GET", "/_control/issued_secrets"): _issued_secrets,
    ("POST", "/_control/issued_secrets/clear"): _clear_issued_secrets,
    ("POST", "/_control/users"): _add_user,
    ("POST", "/_control/keys"): _add_key,
    ("PUT", "/_control/account"): _set_account,
}


def handle(app: FakeIamApp, request: Request) -> Response:
    route = _ROUTES.get((request.method, request.path))
    if route is None:
        return Response(404, {"error": f"no control endpoint {request.method} {request.path}"})
    try:
        return route(app, _read_body(request))
    except ControlError as exc:
        return Response(exc.status, {"error": str(exc)})
    except SeedError as exc:
        return Response(400, {"error": str(exc)})
