"""The HTTP transport: kept-alive connections, the stale-connection rule, TLS contexts, proxies.

A small HTTP/1.1 server in this file counts the connections it accepts and misbehaves on
demand (closes idle connections, closes a kept connection as a request arrives, answers late
or with a redirect), so the tests see every connection the client opens.
"""

from __future__ import annotations

import gc
import json
import select
import socket
import ssl
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils import _keepalive, _tls_context
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import settings_from_params
from ansible_collections.keywarden.iam.plugins.module_utils._retry import ThrottleGate
from ansible_collections.keywarden.iam.plugins.module_utils._transport import (
    REUSABLE_METHODS,
    ConnectionProblem,
    HttpTransport,
)

DOMAIN_ID = "c49760f83a274c19af982f4278e7576b"
USER_ID = "07609fb9358010e21f7bc003751c7c32"
CREATED = "2024-01-02T03:04:05.000000Z"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
                   "ALL_PROXY")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # an idle kept connection is closed after this long
        super().setup()
        self.number = self.server.accepted()
        self.served = 0

    def handle_one_request(self) -> None:
        if self.served:
            # Wait for the next request here, to decide what to do once it has arrived.
            if not (isinstance(self.connection, ssl.SSLSocket) and self.connection.pending()):
                readable, _writable, _errors = select.select([self.connection], [], [], self.timeout)
                if not readable:  # idle for idle_timeout: close, as a keep-alive timeout does
                    self.close_connection = True
                    return
            if self.server.close_kept_on_arrival:
                # A keep-alive timeout that strikes just as the next request arrives: the
                # client's liveness check saw an open connection, and the request finds it
                # closing, unread (the client sees a reset) or read (an end of stream).
                if self.server.close_kept_on_arrival == "after reading":
                    line = self.rfile.readline(65537)
                    if line:
                        self.server.dropped.append(line.split(b" ")[:2])
                self.close_connection = True
                return
        super().handle_one_request()

    def _answer(self) -> None:
        self.served += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.number, self.command, self.path, dict(self.headers.items()), body))
        status, headers, payload = self.server.answer(self)
        if self.server.delay:
            time.sleep(self.server.delay)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, *_: object) -> None:
        pass


def iam_answer(handler: Handler) -> tuple[int, dict, bytes]:
    """Just enough of the IAM API for the client: list, show, create, delete."""
    if handler.command == "POST":
        credential = {"access": "NEWKEY00000000000001", "secret": "s" * 40, "status": "active", "user_id": USER_ID,
                      "create_time": CREATED}
        return 201, {"Content-Type": "application/json"}, json.dumps({"credential": credential}).encode()
    if handler.command == "DELETE":
        return 204, {}, b""
    if handler.path.startswith("/v3.0/OS-CREDENTIAL/credentials/"):
        credential = {"access": handler.path.rsplit("/", 1)[1], "status": "active", "user_id": USER_ID,
                      "create_time": CREATED}
        return 200, {"Content-Type": "application/json"}, json.dumps({"credential": credential}).encode()
    return 200, {"Content-Type": "application/json"}, b'{"credentials": []}'


def drop(handler: Handler) -> tuple[int, dict, bytes]:
    """Read the request, then close the connection without an answer."""
    raise ConnectionAbortedError("dropped by the test server")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, idle_timeout: float | None = None, tls: ssl.SSLContext | None = None, answer=iam_answer):
        super().__init__(("127.0.0.1", 0), Handler)
        self.idle_timeout = idle_timeout
        self.tls = tls
        self.answer = answer
        self.close_kept_on_arrival: str | None = None
        self.delay = 0.0
        self.connections = 0
        self.seen: list = []
        self.dropped: list = []
        self._count_lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.server_address[1]}"

    def get_request(self):
        sock, address = super().get_request()
        if self.tls:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, address

    def handle_error(self, request, client_address) -> None:
        pass  # a dropped connection is the point of some tests, not news

    def accepted(self) -> int:
        with self._count_lock:
            self.connections += 1
            return self.connections

    def requests(self, method: str | None = None) -> list:
        return [entry for entry in self.seen if method is None or entry[1] == method]

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()
        self.server_close()


class NoSleep:
    def __init__(self):
        self.waits: list = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)

    def clock(self) -> float:
        return 0.0


def client_for(url: str, *, retries: int = 0, sleeps: NoSleep | None = None, **options) -> IamClient:
    params = {"iam_endpoint": url, "access_key": "HPUAEXAMPLEAK0000001",
              "secret_key": "exampleSecretKey0000000000000000000000000", "domain_id": DOMAIN_ID,
              "timeout": 5, "retries": retries, **options}
    sleeps = sleeps or NoSleep()
    return IamClient(settings_from_params(params), gate=ThrottleGate(clock=sleeps.clock, sleep=sleeps), sleep=sleeps)


def transport(**options) -> HttpTransport:
    return HttpTransport(**{"timeout": 5, "validate_certs": True, "ca_path": None, **options})


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# ---- one connection per thread ----------------------------------------------------------------


def test_sequential_requests_share_one_connection():
    with Server() as server, transport() as sender:
        for _attempt in range(20):
            assert sender.send("GET", server.url + "/v3.0/OS-CREDENTIAL/credentials", {}, b"").status == 200
    assert (server.connections, len(server.seen)) == (1, 20)


def test_a_client_makes_its_calls_on_one_connection():
    with Server() as server, client_for(server.url) as client:
        for _attempt in range(10):
            assert client.list_keys(USER_ID) == []
        client.show_key("AKEY0000000000000001")
        client.update_key("AKEY0000000000000001", status="inactive")
        client.delete_key("AKEY0000000000000001")
    assert (server.connections, len(server.seen)) == (1, 13)


def test_each_thread_of_a_batch_keeps_its_own_connection():
    threads = set()

    def call(_index):
        threads.add(threading.get_ident())
        return client.list_keys(USER_ID)

    with Server() as server, client_for(server.url) as client, ThreadPoolExecutor(max_workers=4) as pool:
        assert all(keys == [] for keys in pool.map(call, range(80)))
    assert len(server.seen) == 80
    assert server.connections == len(threads) <= 4


def test_another_endpoint_gets_another_connection():
    with Server() as first, Server() as second, transport() as sender:
        for _attempt in range(3):
            sender.send("GET", first.url + "/a", {}, b"")
            sender.send("GET", second.url + "/b", {}, b"")
    assert (first.connections, second.connections) == (1, 1)


def test_a_server_that_says_close_gets_a_new_connection_next_time():
    with Server(answer=lambda handler: (200, {"Connection": "close"}, b"{}")) as server, transport() as sender:
        for _attempt in range(3):
            assert sender.send("GET", server.url + "/", {}, b"").status == 200
    assert server.connections == 3


# ---- the stale-connection rule ------------------------------------------------------------------


def test_only_methods_that_may_repeat_are_reused():
    assert {"POST", "PATCH"}.isdisjoint(REUSABLE_METHODS)
    assert {"GET", "PUT", "DELETE"} <= REUSABLE_METHODS


def test_a_create_gets_a_connection_of_its_own():
    with Server() as server, client_for(server.url) as client:
        client.list_keys(USER_ID)
        client.create_key(USER_ID)
        client.list_keys(USER_ID)
        client.list_keys(USER_ID)
    numbers = [number for number, *_rest in server.seen]
    assert numbers == [1, 2, 2, 2]  # the POST opened connection 2; the GETs after it reuse it


def test_an_idle_close_is_seen_before_sending(monkeypatch):
    """The server closes a kept connection after 0.2 s idle: the next request opens a new one.

    It is never written to the closed one first (a GET that met a closed connection would be
    resent, and succeed all the same: what shows the check is that no closed one is handed out).
    """
    handed_out = []  # whether each connection handed out for a request was a kept one
    real_connection = _keepalive.KeptConnections.connection

    def connection(self, endpoint, *, fresh):
        kept, reused = real_connection(self, endpoint, fresh=fresh)
        handed_out.append(reused)
        return kept, reused

    monkeypatch.setattr(_keepalive.KeptConnections, "connection", connection)
    sleeps = NoSleep()
    with Server(idle_timeout=0.2) as server, client_for(server.url, sleeps=sleeps) as client:
        client.list_keys(USER_ID)
        time.sleep(0.6)
        client.list_keys(USER_ID)
        time.sleep(0.6)
        client.create_key(USER_ID)
    assert [tuple(entry[:2]) for entry in server.seen] == [(1, "GET"), (2, "GET"), (3, "POST")]
    assert handed_out == [False, False, False]
    assert sleeps.waits == []


@pytest.mark.parametrize("how", ["unread", "after reading"])
def test_a_close_racing_a_get_is_resent_once_on_a_new_connection(how):
    """The close comes as the request arrives (no liveness check can see it): one resend, not a retry."""
    sleeps = NoSleep()
    with Server() as server, client_for(server.url, retries=0, sleeps=sleeps) as client:
        client.list_keys(USER_ID)
        server.close_kept_on_arrival = how
        client.list_keys(USER_ID)  # retries=0, yet it succeeds: the resend is not a retry
    assert [tuple(entry[:2]) for entry in server.seen] == [(1, "GET"), (2, "GET")]
    assert sleeps.waits == []
    if how == "after reading":
        assert server.dropped == [[b"GET", f"/v3.0/OS-CREDENTIAL/credentials?user_id={USER_ID}".encode()]]


def test_a_stale_failure_is_marked_stale_and_the_next_request_gets_a_new_connection(monkeypatch):
    monkeypatch.setattr(_keepalive, "_closed_or_unexpected", lambda sock: False)
    with Server(idle_timeout=0.2) as server, transport() as sender:
        sender.send("GET", server.url + "/", {}, b"")
        time.sleep(0.6)
        with pytest.raises(ConnectionProblem) as caught:
            sender.send("GET", server.url + "/", {}, b"")
        assert (caught.value.kind, caught.value.stale) == ("dropped", True)
        assert sender.send("GET", server.url + "/", {}, b"").status == 200
    assert (server.connections, len(server.seen)) == (2, 2)


def test_a_stale_connection_unnoticed_by_the_check_is_healed_by_the_resend(monkeypatch):
    """Without the liveness check, an idle-closed connection fails on the write or the read."""
    monkeypatch.setattr(_keepalive, "_closed_or_unexpected", lambda sock: False)
    with Server(idle_timeout=0.2) as server, client_for(server.url, retries=0) as client:
        for _attempt in range(3):
            client.list_keys(USER_ID)
            time.sleep(0.6)
    assert [tuple(entry[:2]) for entry in server.seen] == [(1, "GET"), (2, "GET"), (3, "GET")]


@pytest.mark.parametrize("how", ["unread", "after reading"])
def test_a_create_never_meets_a_stale_connection(monkeypatch, how):
    """A kept connection closing as the next request arrives: the create is not on it, so it succeeds."""
    monkeypatch.setattr(_keepalive, "_closed_or_unexpected", lambda sock: False)
    with Server() as server, client_for(server.url, retries=0) as client:
        client.list_keys(USER_ID)
        server.close_kept_on_arrival = how
        created = client.create_key(USER_ID)
    assert created.key.access_key_id == "NEWKEY00000000000001"
    assert len(server.requests("POST")) == 1 and server.dropped == []


def test_a_create_whose_own_connection_drops_is_an_unknown_outcome():
    """On its own connection a create's lost answer means what it always meant, and is not resent."""
    with Server() as server, client_for(server.url, retries=3) as client:
        client.list_keys(USER_ID)
        server.answer = drop
        with pytest.raises(errors.CreateOutcomeUnknown):
            client.create_key(USER_ID)
    assert len(server.requests("POST")) == 1


def test_a_failure_on_a_new_connection_is_never_stale():
    with Server() as server, transport() as sender:
        server.answer = drop
        with pytest.raises(ConnectionProblem) as caught:
            sender.send("GET", server.url + "/", {}, b"")
    assert (caught.value.kind, caught.value.may_have_arrived, caught.value.stale) == ("dropped", True, False)


def test_a_timeout_on_a_kept_connection_is_a_timeout_and_the_connection_is_replaced():
    with Server() as server, transport(timeout=0.3) as sender:
        sender.send("GET", server.url + "/", {}, b"")
        server.delay = 1.0
        with pytest.raises(ConnectionProblem) as caught:
            sender.send("GET", server.url + "/", {}, b"")
        assert (caught.value.kind, caught.value.may_have_arrived, caught.value.stale) == ("timeout", True, False)
        server.delay = 0.0
        assert sender.send("GET", server.url + "/", {}, b"").status == 200
    assert server.connections == 2


def test_a_timed_out_get_is_retried_as_before_not_resent():
    sleeps = NoSleep()
    with Server() as server, client_for(server.url, retries=1, sleeps=sleeps, timeout=1) as client:
        client.list_keys(USER_ID)
        server.delay = 1.5
        with pytest.raises(errors.RequestTimeout):
            client.list_keys(USER_ID)
    assert len(server.requests("GET")) == 3 and len(sleeps.waits) == 1  # 1 + one retry, after a back-off


# ---- what Request().open() gave ------------------------------------------------------------------


def test_a_redirect_is_an_answer_not_followed():
    def redirect(handler):
        return 302, {"Location": "/elsewhere"}, b"moved"

    with Server(answer=redirect) as server, transport() as sender:
        response = sender.send("GET", server.url + "/here", {}, b"")
    assert (response.status, response.headers["Location"], response.body) == (302, "/elsewhere", b"moved")
    assert [path for _number, _method, path, *_rest in server.seen] == ["/here"]


def test_headers_user_agent_host_and_no_netrc(tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-ours\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with Server() as server, transport() as sender:
        sender.send("PUT", server.url + "/p?q=1", {"Content-Type": "application/json"}, b"{}")
        explicit = sender.send("GET", server.url + "/p", {"Host": "signed.example"}, b"")
    assert explicit.status == 200
    (_number, method, path, headers, body), (*_head, explicit_headers, _body) = server.seen
    assert (method, path, body) == ("PUT", "/p?q=1", b"{}")
    assert headers["User-Agent"] == "keywarden.iam"
    assert headers["Host"] == server.url.split("://")[1]
    assert "Authorization" not in headers and "Authorization" not in explicit_headers
    assert explicit_headers["Host"] == "signed.example"  # the signed Host header goes out as signed


def test_an_endpoint_that_refuses_is_unreachable_not_sent():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with transport() as sender, pytest.raises(ConnectionProblem) as caught:
        sender.send("POST", f"http://127.0.0.1:{port}/", {}, b"{}")
    assert (caught.value.kind, caught.value.may_have_arrived, caught.value.stale) == ("refused", False, False)


# ---- TLS contexts ----------------------------------------------------------------------------------


@pytest.fixture
def context_builds(monkeypatch):
    """Every context _tls_context builds, with the process cache emptied for the test."""
    built = []
    real = _tls_context.make_context

    def spy(**options):
        built.append(options)
        return real(**options)

    monkeypatch.setattr(_tls_context, "_contexts", {})
    monkeypatch.setattr(_tls_context, "make_context", spy)
    return built


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    from tests.fakeiam.tls import generate
    return generate(tmp_path_factory.mktemp("tls"))


def tls_server(files) -> Server:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(files.cert_file), str(files.key_file))
    return Server(tls=context)


def test_no_tls_context_for_http(context_builds):
    with Server() as server, client_for(server.url) as client:
        client.list_keys(USER_ID)
        client.create_key(USER_ID)
    assert context_builds == []


def test_one_tls_context_per_process_and_setting(context_builds, tls_files):
    ca_path = str(tls_files.ca_file)
    with tls_server(tls_files) as server:
        for _attempt in range(3):  # a loop: a client per task, as loop mode makes them
            with client_for(server.url, ca_path=ca_path) as client:
                client.list_keys(USER_ID)
                client.create_key(USER_ID)
        with client_for(server.url, ca_path=ca_path, validate_certs=False) as client:
            client.list_keys(USER_ID)
    assert context_builds == [{"cafile": ca_path, "validate_certs": True},
                              {"cafile": ca_path, "validate_certs": False}]
    # 3 clients x (kept GET connection + the create's own), and one for the last client
    assert server.connections == 7 and len(server.seen) == 7


def test_https_requests_share_one_connection_and_one_handshake(tls_files):
    with tls_server(tls_files) as server, transport(ca_path=str(tls_files.ca_file)) as sender:
        for _attempt in range(10):
            assert sender.send("GET", server.url + "/", {}, b"").status == 200
    assert (server.connections, len(server.seen)) == (1, 10)


def test_an_untrusted_certificate_is_a_tls_error_before_sending(tls_files):
    with tls_server(tls_files) as server, transport() as sender, pytest.raises(ConnectionProblem) as caught:
        sender.send("POST", server.url + "/", {}, b"{}")
    assert (caught.value.kind, caught.value.may_have_arrived) == ("tls", False)
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.reason and server.seen == []


def test_a_ca_bundle_replaced_at_the_same_path_gets_a_new_context(context_builds, tls_files, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(tls_files.ca_file.read_bytes())
    first = _tls_context.shared_context(validate_certs=True, ca_path=str(bundle))
    assert _tls_context.shared_context(validate_certs=True, ca_path=str(bundle)) is first
    bundle.write_bytes(tls_files.ca_file.read_bytes() + b"\n")
    assert _tls_context.shared_context(validate_certs=True, ca_path=str(bundle)) is not first
    assert len(context_builds) == 2


# ---- proxies from the environment ----------------------------------------------------------------


def test_http_proxy_from_the_environment_is_used(monkeypatch):
    with Server() as target, Server() as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        with transport() as sender:
            assert sender.send("GET", target.url + "/v3/auth/domains", {}, b"").status == 200
    assert target.seen == []
    assert [path for _number, _method, path, *_rest in proxy.seen] == [target.url + "/v3/auth/domains"]  # absolute form


def test_no_proxy_sends_directly_on_a_kept_connection(monkeypatch):
    with Server() as target, Server() as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.setenv("no_proxy", "127.0.0.1")
        with transport() as sender:
            for _attempt in range(3):
                sender.send("GET", target.url + "/", {}, b"")
    assert proxy.seen == [] and (target.connections, len(target.seen)) == (1, 3)


def test_https_proxy_from_the_environment_is_tunnelled(monkeypatch, tls_files):
    def refuse(handler):
        return 403, {}, b""

    with tls_server(tls_files) as target, Server() as proxy:
        proxy.RequestHandlerClass = type("ConnectHandler", (Handler,), {"do_CONNECT": Handler._answer})
        proxy.answer = refuse
        monkeypatch.setenv("https_proxy", proxy.url)
        with transport(ca_path=str(tls_files.ca_file)) as sender, pytest.raises(ConnectionProblem) as caught:
            sender.send("GET", target.url + "/", {}, b"")
    assert "403" in caught.value.reason and target.seen == []
    assert [(method, path) for _number, method, path, *_rest in proxy.seen] == [("CONNECT", target.url.split("://")[1])]


# ---- closing -------------------------------------------------------------------------------------


def test_close_closes_every_threads_connection():
    with Server() as server:
        client = client_for(server.url)
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(lambda _: client.list_keys(USER_ID), range(30)))
        kept = client._transport._connections
        assert kept.count_open() == server.connections >= 1
        client.close()
        assert kept.count_open() == 0
        client.list_keys(USER_ID)  # usable again: a new connection
        assert kept.count_open() == 1
        client.close()


def test_no_socket_is_left_for_the_garbage_collector():
    with Server() as server:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            with client_for(server.url) as client:
                client.list_keys(USER_ID)
                client.create_key(USER_ID)
            forgotten = client_for(server.url)  # never closed: its finalizer closes its connections
            _list_from_threads(forgotten)
            del client, forgotten
            gc.collect()
        assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def _list_from_threads(client: IamClient) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: client.list_keys(USER_ID), range(10)))


def test_the_resource_warning_check_would_see_a_leak():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        leaked = socket.socket()
        del leaked
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) for w in caught)
