# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kept-alive HTTP/1.1 connections: one per process, thread and endpoint, reopened when needed.

Private to the keywarden.iam collection: the interface may change without notice.

A batch runs many threads on one client, and an ``http.client`` connection carries one request
at a time, so each thread keeps its own. The key holds the process id too: a connection made
before a fork is never used by the child. The rules for when a kept connection may carry a
request are in ``_transport`` (``REUSABLE_METHODS``); this file only keeps the connections and
says whether one is still open.
"""

from __future__ import annotations

import http.client
import os
import select
import ssl
import threading
from typing import NamedTuple

from ansible_collections.keywarden.iam.plugins.module_utils._tls_context import shared_context


class Endpoint(NamedTuple):
    """Where a connection goes: ``scheme`` and ``netloc`` as the URL spells them."""

    scheme: str
    netloc: str


class KeptConnections:
    """The open connections of one transport, whose timeout and TLS settings are fixed.

    It holds nothing that refers back to the transport, so a finalizer can close what a
    transport nobody closed left open.
    """

    def __init__(self, *, timeout: float, validate_certs: bool, ca_path: str | None) -> None:
        self._timeout = timeout
        self._validate_certs = validate_certs
        self._ca_path = ca_path
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self._open: dict = {}

    def tls_context(self) -> ssl.SSLContext:
        """The process's shared context for these settings (see _tls_context), looked up once."""
        context = self._context
        if context is None:
            context = self._context = shared_context(validate_certs=self._validate_certs, ca_path=self._ca_path)
        return context

    def connection(self, endpoint: Endpoint, *, fresh: bool) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection to ``endpoint`` and whether it is a reused one.

        The connection is open either way: a new one is connected here (so connection errors
        come from here, before a byte of the request is written). ``fresh`` asks for a new
        connection even where an open one is kept; a kept one that the server has closed, or
        that holds bytes nobody asked for, is replaced too.
        """
        key = (os.getpid(), threading.get_ident(), endpoint)
        with self._lock:
            connection = self._open.get(key)
        if connection is not None and connection.sock is not None:
            if not fresh and not _closed_or_unexpected(connection.sock):
                return connection, True
            connection.close()
        if connection is None:
            connection = self._new(endpoint)
            with self._lock:
                self._open[key] = connection
        try:
            connection.connect()
        except BaseException:
            connection.close()
            raise
        return connection, False

    def _new(self, endpoint: Endpoint) -> http.client.HTTPConnection:
        # The netloc is passed whole, as urllib passes it: http.client parses the port and an
        # IPv6 literal the same way, and the TLS server name is the same host.
        if endpoint.scheme == "https":
            return http.client.HTTPSConnection(endpoint.netloc, timeout=self._timeout, context=self.tls_context())
        return http.client.HTTPConnection(endpoint.netloc, timeout=self._timeout)

    def close(self) -> None:
        """Close every connection, of every thread. A later request opens a new one.

        The connections stay registered (closed), so one reopened later is closed by the
        next close() too: nothing this object opened is ever out of its reach.
        """
        with self._lock:
            connections = list(self._open.values())
        for connection in connections:
            connection.close()

    def count_open(self) -> int:
        with self._lock:
            return sum(1 for connection in self._open.values() if connection.sock is not None)


def _closed_or_unexpected(sock) -> bool:
    """Whether an idle connection can be read from: the server closed it or sent unasked bytes.

    An idle HTTP/1.1 connection has nothing to read until a request goes out. Readable means
    end of file (the server closed it while idle: the common case of a keep-alive timeout) or
    data no request asked for (such as a 408 before closing); either way it cannot carry a
    request.
    """
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        poller = select.poll()
    except AttributeError:  # no poll(): select() takes descriptors below FD_SETSIZE only
        try:
            readable, _writable, _errors = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)
    poller.register(sock, select.POLLIN | select.POLLPRI)
    try:
        return bool(poller.poll(0))
    except OSError:
        return True
