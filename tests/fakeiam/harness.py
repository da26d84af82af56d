"""Test-side helper: run fakeiam in a subprocess and drive its control API (stdlib only).

    with FakeIam("tests/fakeiam/seeds/demo.json") as iam:
        iam.url, iam.ca_file             # endpoint for the client under test
        iam.advance_clock(days=100)       # age every key (signed calls keep working)
        iam.keys_of("alice")              # what the server holds, secrets included
"""

from __future__ import annotations

import json
import os
import queue
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

SERVER = Path(__file__).resolve().parent / "server.py"
# The example seeds: FakeIam(SEEDS / "demo.json").
SEEDS = SERVER.parent / "seeds"


class FakeIamError(RuntimeError):
    """The server did not start, or a control call failed."""


class FakeIam:
    def __init__(self, seed_path: str | os.PathLike[str], *, tls: bool = False,
                 state_file: str | os.PathLike[str] | None = None, startup_timeout: float = 20.0):
        self.seed_path = Path(seed_path)
        self.tls = tls
        self.state_file = Path(state_file) if state_file is not None else None
        self.startup_timeout = startup_timeout
        self.url = ""
        self.ca_file: str | None = None
        self.pid: int | None = None
        self._process: subprocess.Popen[str] | None = None
        self._stderr: Any = None
        self._ssl: ssl.SSLContext | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> FakeIam:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        command = [sys.executable, str(SERVER), "--seed", str(self.seed_path), "--port", "0"]
        if self.tls:
            command.append("--tls")
        if self.state_file is not None:
            command += ["--state-file", str(self.state_file)]
        # stderr goes to a file, not a pipe: nobody reads it while the server runs, and a full
        # pipe would block the server. It is shown when start-up fails.
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr,
                                         stdin=subprocess.DEVNULL, text=True)
        try:
            announcement = json.loads(self._first_line())
        except BaseException:
            self.stop()
            raise
        self.url, self.ca_file, self.pid = announcement["url"], announcement["ca_file"], announcement["pid"]
        self._ssl = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None

    def _first_line(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        stdout = self._process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            line = ""
        if not line.strip():
            raise FakeIamError(f"fakeiam did not start within {self.startup_timeout}s: {self.stderr_text()}")
        return line

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    # -- control API -----------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(f"{self.url}/_control/{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30, context=self._ssl) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise FakeIamError(f"{method} /_control/{path} -> {exc.code}: {exc.read().decode()}") from exc

    def state(self) -> dict[str, Any]:
        return self.control("GET", "state")

    def reset(self, seed: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.control("POST", "reset", {} if seed is None else {"seed": seed})

    def clock(self) -> dict[str, Any]:
        return self.control("GET", "clock")

    def advance_clock(self, days: float = 0, seconds: float = 0) -> dict[str, Any]:
        return self.control("POST", "clock", {"advance_seconds": days * 86400 + seconds})

    def set_clock_offset(self, seconds: float) -> dict[str, Any]:
        return self.control("POST", "clock", {"offset_seconds": seconds})

    def set_skew(self, seconds: float) -> dict[str, Any]:
        """Move the gateway's signature-window clock off real time (the data clock stays)."""
        return self.control("POST", "skew", {"seconds": seconds})

    def set_propagation_delay(self, seconds: float) -> dict[str, Any]:
        """A key created through the API is unknown for its first `seconds` of real time."""
        return self.control("POST", "propagation", {"seconds": seconds})

    def issued_secrets(self) -> list[str]:
        """Every secret the server issued or was seeded with since start (or the last clear)."""
        return self.control("GET", "issued_secrets")["secrets"]

    def clear_issued_secrets(self) -> None:
        self.control("POST", "issued_secrets/clear")

    def set_latency(self, ms: float) -> dict[str, Any]:
        return self.control("POST", "latency", {"ms": ms})

    def inject_fault(self, operation: str, kind: str, count: int = 1, **extra: Any) -> dict[str, Any]:
        return self.control("POST", "faults", {"operation": operation, "kind": kind, "count": count, **extra})

    def clear_faults(self) -> dict[str, Any]:
        return self.control("DELETE", "faults")

    def requests(self) -> list[dict[str, Any]]:
        """Every API request served since start (or reset), oldest first: time, data_time, operation,
        signer (access key id), target (key acted on), status (0: dropped)."""
        return self.control("GET", "requests")["requests"]

    def counters(self) -> dict[str, Any]:
        return self.control("GET", "counters")

    def reset_counters(self) -> dict[str, Any]:
        """Zero the request counters and the connection counts (not the CPU seconds)."""
        return self.control("POST", "counters/reset")

    def stats(self) -> dict[str, Any]:
        """cpu_seconds (user + system; cpu_user_seconds, cpu_system_seconds) of the server process since
        it started, and connections_accepted, api_connections since start or the last counter reset."""
        return self.control("GET", "stats")

    def server_cpu_seconds(self) -> float:
        """CPU (user + system) the server process has used since it started: read it before and after a run."""
        return self.stats()["cpu_seconds"]

    def connections_accepted(self) -> int:
        """TCP connections accepted since start or the last counter reset. Every control call opens one
        (urllib closes it after each call), this one included; api_connections() leaves those out."""
        return self.stats()["connections_accepted"]

    def api_connections(self) -> int:
        """Connections, since start or the last counter reset, that carried at least one API request
        (anything outside /_control/): what a test of a client's connection reuse counts."""
        return self.stats()["api_connections"]

    def add_user(self, name: str, *, domain: str | None = None, **fields: Any) -> dict[str, Any]:
        """fields: id, password, admin, root, enabled, description, keys (seed format)."""
        body = {"name": name, **fields}
        if domain is not None:
            body["domain"] = domain
        return self.control("POST", "users", body)

    def add_key(self, user: str, *, domain: str | None = None, **fields: Any) -> dict[str, Any]:
        """user: id or name. fields: access, secret, status, create_time or age_days,
        last_use_time or last_use_age_days, description."""
        body = {"user": user, **fields}
        if domain is not None:
            body["domain"] = domain
        return self.control("POST", "keys", body)

    def set_access_key_management(self, domain: str | None, enabled: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"access_key_management": enabled}
        if domain is not None:
            body["domain"] = domain
        return self.control("PUT", "account", body)

    # -- reading the state -----------------------------------------------------------------

    def user(self, name: str, *, domain: str | None = None) -> dict[str, Any]:
        """One user as the server holds it (with keys and secrets), found by name."""
        found = [
            {**user, "domain_id": account["domain_id"], "domain_name": account["domain_name"]}
            for account in self.state()["accounts"]
            if domain in (None, account["domain_id"], account["domain_name"])
            for user in account["users"]
            if user["name"] == name
        ]
        if len(found) != 1:
            raise FakeIamError(f"user {name!r} matches {len(found)} users; pass domain=")
        return found[0]

    def keys_of(self, user_name: str, *, domain: str | None = None) -> list[dict[str, Any]]:
        """The user's permanent keys, oldest first, secrets included."""
        return self.user(user_name, domain=domain)["keys"]
