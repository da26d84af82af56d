"""Client CPU per request: a new connection per request (as before) against a kept-alive one.

A measurement, not a test: nothing here asserts a time. Run from the repository root with the
project's virtual environment:

    .venv/bin/python tools/bench_transport.py [--requests 2000] [--tls-requests 300] [--tasks 40]

The server runs in a child process, so the CPU measured (time.process_time of this process) is
the client's alone. "before" is the previous transport, reproduced here: ansible's
``Request().open()`` per request, one TLS context per transport. "after" is HttpTransport.
Scenarios: bare requests over http and https; an IamClient call (signing included); and a loop
of tasks, each with a client of its own making a few calls (loop mode), over http and https.
Figures are printed as CPU per request or per task, and the ratio before/after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# Collection code imports itself as ansible_collections.keywarden.iam: a throw-away tree holding
# the checkout under that name, as the tests' conftest.py makes.
_TREE = Path(tempfile.mkdtemp(prefix="keywarden-bench-transport-"))
(_TREE / "ansible_collections" / "keywarden").mkdir(parents=True)
(_TREE / "ansible_collections" / "keywarden" / "iam").symlink_to(REPO, target_is_directory=True)
sys.path.insert(0, str(_TREE))

from ansible.module_utils.urls import Request, make_context  # noqa: E402

from ansible_collections.keywarden.iam.plugins.module_utils import _tls_context  # noqa: E402
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient  # noqa: E402
from ansible_collections.keywarden.iam.plugins.module_utils._connection import settings_from_params  # noqa: E402
from ansible_collections.keywarden.iam.plugins.module_utils._transport import HttpResponse, HttpTransport  # noqa: E402

SERVER = r"""
import json, ssl, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
BODY = json.dumps({"credentials": [], "domains": [{"id": "c49760f83a274c19af982f4278e7576b"}]}).encode()
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)
    def log_message(self, *args):
        pass
class Server(ThreadingHTTPServer):
    daemon_threads = True
server = Server(("127.0.0.1", 0), Handler)
if len(sys.argv) > 1:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


class Before(HttpTransport):
    """The transport as it was: Request().open() per request, one TLS context per transport."""

    def __init__(self, *, timeout: float, validate_certs: bool, ca_path: str | None) -> None:
        super().__init__(timeout=timeout, validate_certs=validate_certs, ca_path=ca_path)
        self._context = None

    def send(self, method: str, url: str, headers: dict, body: bytes) -> HttpResponse:
        if self._context is None:
            self._context = make_context(cafile=self.ca_path, validate_certs=self.validate_certs)
        response = Request().open(method, url, data=body or None, headers=headers, timeout=self.timeout,
                                  validate_certs=self.validate_certs, ca_path=self.ca_path, context=self._context,
                                  follow_redirects="none", use_netrc=False, http_agent="keywarden.iam")
        with response:
            return HttpResponse(response.status, dict(response.headers.items()), response.read())


def start_server(tls_dir: Path | None) -> tuple[subprocess.Popen, str]:
    arguments = [sys.executable, "-c", SERVER]
    if tls_dir is not None:
        arguments += [str(tls_dir / "server.pem"), str(tls_dir / "server-key.pem")]
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, text=True)
    port = int(process.stdout.readline())
    return process, f"{'https' if tls_dir else 'http'}://127.0.0.1:{port}"


def cpu(action, count: int) -> float:
    """CPU seconds of this process per call of ``action``, after a few warm-up calls."""
    for _attempt in range(min(20, count)):
        action()
    start = time.process_time()
    for _attempt in range(count):
        action()
    return (time.process_time() - start) / count


def bare(cls, url: str, ca_path: str | None, count: int) -> float:
    transport = cls(timeout=10, validate_certs=True, ca_path=ca_path)
    try:
        return cpu(lambda: transport.send("GET", url + "/v3/auth/domains", {}, b""), count)
    finally:
        transport.close()


def settings(url: str, ca_path: str | None):
    return settings_from_params({"iam_endpoint": url, "access_key": "HPUAEXAMPLEAK0000001",
                                 "secret_key": "exampleSecretKey0000000000000000000000000",
                                 "domain_id": "c49760f83a274c19af982f4278e7576b", "ca_path": ca_path})


def client_call(cls, url: str, ca_path: str | None, count: int) -> float:
    options = settings(url, ca_path)
    transport = cls(timeout=10, validate_certs=True, ca_path=ca_path)
    client = IamClient(options, transport=transport)
    try:
        return cpu(lambda: client.list_keys("07609fb9358010e21f7bc003751c7c32"), count)
    finally:
        transport.close()


def loop_task(cls, url: str, ca_path: str | None, count: int, calls: int = 5) -> float:
    """One task of a loop: a client of its own making ``calls`` calls (CPU per task)."""
    options = settings(url, ca_path)

    def task() -> None:
        with IamClient(options, transport=cls(timeout=10, validate_certs=True, ca_path=ca_path)) as client:
            for _attempt in range(calls):
                client.list_keys("07609fb9358010e21f7bc003751c7c32")

    _tls_context._contexts.clear()  # the first task of a worker process pays for the context
    return cpu(task, count)


def trust_in_system_store(ca_file: Path, capath: Path) -> bool:
    """Make OpenSSL trust the test CA besides the system's (SSL_CERT_DIR, a hashed link); needs openssl."""
    try:
        subject_hash = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(ca_file)], check=True,
                                      capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return False
    capath.mkdir()
    (capath / f"{subject_hash}.0").write_bytes(ca_file.read_bytes())
    os.environ["SSL_CERT_DIR"] = str(capath)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per http scenario")
    parser.add_argument("--tls-requests", type=int, default=300, help="requests per https scenario")
    parser.add_argument("--tasks", type=int, default=40, help="tasks per loop scenario")
    arguments = parser.parse_args()
    from tests.fakeiam.tls import generate

    rows = []
    with tempfile.TemporaryDirectory() as directory:
        tls = generate(Path(directory))
        http_server, http_url = start_server(None)
        https_server, https_url = start_server(Path(directory))
        ca = str(tls.ca_file)
        try:
            scenarios = [
                ("request, http (ms/request)", lambda cls: bare(cls, http_url, None, arguments.requests)),
                ("request, https (ms/request)", lambda cls: bare(cls, https_url, ca, arguments.tls_requests)),
                ("IamClient.list_keys, http (ms/call)",
                 lambda cls: client_call(cls, http_url, None, arguments.requests)),
                ("IamClient.list_keys, https (ms/call)",
                 lambda cls: client_call(cls, https_url, ca, arguments.tls_requests)),
                ("loop task: new client + 5 calls, http (ms/task)",
                 lambda cls: loop_task(cls, http_url, None, arguments.tasks)),
                ("loop task: new client + 5 calls, https, ca_path (ms/task)",
                 lambda cls: loop_task(cls, https_url, ca, arguments.tasks)),
            ]
            if trust_in_system_store(tls.ca_file, Path(directory) / "capath"):
                # No ca_path: the context loads the system's CA store, as against the real cloud.
                scenarios.append(("loop task: new client + 5 calls, https, system CAs (ms/task)",
                                  lambda cls: loop_task(cls, https_url, None, arguments.tasks)))
            for name, run in scenarios:
                before, after = run(Before), run(HttpTransport)
                rows.append({"scenario": name, "before_ms": round(before * 1000, 3), "after_ms": round(after * 1000, 3),
                             "ratio": round(before / after, 1)})
        finally:
            for process in (http_server, https_server):
                process.terminate()
                process.wait()
            shutil.rmtree(_TREE, ignore_errors=True)
    width = max(len(row["scenario"]) for row in rows)
    print(f"{'client CPU':<{width}}  {'before':>9}  {'after':>9}  {'before/after':>12}")
    for row in rows:
        print(f"{row['scenario']:<{width}}  {row['before_ms']:>9.3f}  {row['after_ms']:>9.3f}  {row['ratio']:>11.1f}x")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
