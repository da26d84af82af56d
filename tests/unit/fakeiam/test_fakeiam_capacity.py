"""What benchmarks need from the server: a listen backlog that many clients cannot overflow, and
its own CPU time and connection counts (GET /_control/stats), to tell server from client."""

from __future__ import annotations

import http.client
import json
import os
import resource
import select
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fakeiam.app import FakeIamApp
from tests.fakeiam.handler import FakeIamServer
from tests.fakeiam.harness import SEEDS, FakeIam

CREDENTIALS = "/v3.0/OS-CREDENTIAL/credentials"
CLIENTS = 600
SOMAXCONN = Path("/proc/sys/net/core/somaxconn")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's TCP_INFO and /proc")


def listen_queue(listener: socket.socket) -> tuple[int, int]:
    """(connections waiting for accept(), the backlog) of a listening socket. For a listener,
    Linux's TCP_INFO reports them in tcpi_unacked and tcpi_sacked (after 8 one-byte fields and
    the u32s rto, ato, snd_mss, rcv_mss)."""
    info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return struct.unpack_from("=II", info, 24)


@pytest.fixture
def idle_server() -> Iterator[FakeIamServer]:
    """A server that listens but does not accept yet: every thread of it busy, as far as a new
    connection can tell."""
    server = FakeIamServer(("127.0.0.1", 0), FakeIamApp(json.loads((SEEDS / "minimal.json").read_text())), "http")
    try:
        yield server
    finally:
        server.server_close()


@pytest.fixture
def enough_descriptors() -> Iterator[None]:
    """Room for both ends of every client connection."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * CLIENTS + 200
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} file descriptors; the hard limit is {hard}")
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_listen_backlog_is_at_least_1024() -> None:
    assert FakeIamServer.request_queue_size >= 1024


@linux_only
def test_the_listening_socket_has_that_backlog(idle_server: FakeIamServer) -> None:
    # The kernel caps a backlog at net.core.somaxconn; 5, socketserver's default, is what this replaced.
    cap = int(SOMAXCONN.read_text()) if SOMAXCONN.exists() else 4096
    waiting, backlog = listen_queue(idle_server.socket)
    assert waiting == 0 and backlog == min(FakeIamServer.request_queue_size, cap) >= min(1024, cap)


@linux_only
@pytest.mark.usefixtures("enough_descriptors")
def test_600_simultaneous_connections_are_all_accepted(idle_server: FakeIamServer) -> None:
    # With a backlog of 5, Linux completes 6 handshakes and drops every other SYN while nobody
    # accepts: those clients stay unconnected, whatever the wait. With 1024, all 600 connect and
    # wait in the accept queue, then are each served once the server accepts.
    address = idle_server.server_address
    clients = []
    serving = threading.Thread(target=idle_server.serve_forever, daemon=True)
    try:
        for _client in range(CLIENTS):
            client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            clients.append(client)
            client.setblocking(False)
            client.connect_ex(address)
        pending = {client.fileno(): client for client in clients}
        poller = select.poll()
        for descriptor in pending:
            poller.register(descriptor, select.POLLOUT)
        deadline = time.monotonic() + 20  # only a failure waits this long: loopback connects at once
        while pending and time.monotonic() < deadline:
            for descriptor, _events in poller.poll(200):
                poller.unregister(descriptor)
                pending.pop(descriptor)
        assert len(pending) == 0, f"{len(pending)} of {CLIENTS} connections were not accepted by the kernel"
        assert all(client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for client in clients)
        assert listen_queue(idle_server.socket)[0] == CLIENTS

        serving.start()
        for client in clients:
            client.setblocking(True)
            client.settimeout(60)
            client.sendall(b"GET /_control/clock HTTP/1.1\r\nHost: fakeiam\r\nConnection: close\r\n\r\n")
        for client in clients:
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ")
        assert idle_server.app.counters.connections() == {"connections_accepted": CLIENTS, "api_connections": 0}
    finally:
        for client in clients:
            client.close()
        if serving.is_alive():
            idle_server.shutdown()


# ---- GET /_control/stats ---------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc (whole clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@linux_only
def test_stats_report_the_server_process_cpu(iam: FakeIam, client: Any) -> None:
    before_ticks = process_cpu_seconds(iam.pid)
    stats = iam.stats()
    after_ticks = process_cpu_seconds(iam.pid)
    tick = 1 / os.sysconf("SC_CLK_TCK")
    # /proc truncates user and system time to whole ticks each.
    assert before_ticks - 2 * tick <= stats["cpu_seconds"] <= after_ticks + 2 * tick
    assert stats["cpu_seconds"] == pytest.approx(stats["cpu_user_seconds"] + stats["cpu_system_seconds"])

    bob_key = iam.user("bob")["keys"][0]
    before = iam.server_cpu_seconds()
    for _request in range(20):
        assert client.call("GET", CREDENTIALS, key=bob_key).status == 200
    iam.reset_counters()  # the CPU seconds are the process's: no reset
    assert iam.server_cpu_seconds() > before


def test_stats_count_connections_and_those_that_carried_api_calls(iam: FakeIam, client: Any) -> None:
    bob_key = iam.user("bob")["keys"][0]
    reused = [client.prepare("GET", CREDENTIALS, key=bob_key) for _request in range(3)]
    separate = [client.prepare("GET", CREDENTIALS, key=bob_key) for _request in range(2)]
    iam.reset_counters()
    # Each control call opens a connection of its own (urllib closes it), counted as it is accepted.
    assert iam.stats()["connections_accepted"] == 1
    assert iam.api_connections() == 0

    split = urlsplit(iam.url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=10)
    try:
        for prepared in reused:
            connection.request(prepared.method, prepared.uri, body=prepared.payload or None,
                               headers=prepared.headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200 and not response.will_close
    finally:
        connection.close()
    assert iam.api_connections() == 1
    for prepared in separate:
        assert client.send(prepared).status == 200
    assert iam.api_connections() == 3
    # Since the counter reset: 5 control calls (the 5th is this one) and 3 API connections.
    assert iam.connections_accepted() == 5 + 3
    assert iam.counters()["total"] == 5

    iam.reset()
    assert iam.stats()["connections_accepted"] == 1 and iam.api_connections() == 0
