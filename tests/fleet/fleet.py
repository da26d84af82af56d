"""A fleet of hosts for the zero-downtime tests: directories on this machine, each with a service.

Each host is an inventory entry with a local connection and a directory of its own, holding the
env file its service reads and the service itself (tests/fleet/consumer.py), which signs a
request every 100 ms with that file's key and reloads on SIGHUP. The fleet starts, watches and
stops the services; everything runs on 127.0.0.1 and in the test's own directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials, render

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Host:
    name: str
    directory: Path
    process: subprocess.Popen | None = None
    reloads: bool = True

    @property
    def env_file(self) -> Path:
        return self.directory / "app.env"

    @property
    def state_file(self) -> Path:
        return self.directory / "consumer.json"

    def state(self) -> dict:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}


@dataclass
class Fleet:
    root: Path
    endpoint: str
    hosts: list = field(default_factory=list)

    @classmethod
    def of(cls, root: Path, endpoint: str, count: int, *, never_reloading: tuple = ()) -> Fleet:
        fleet = cls(root, endpoint)
        for number in range(1, count + 1):
            name = f"host{number}"
            directory = root / name
            directory.mkdir(parents=True, mode=0o700)
            fleet.hosts.append(Host(name, directory, reloads=name not in never_reloading))
        return fleet

    def deliver_by_hand(self, creds: Credentials) -> None:
        """What an earlier delivery left: each host's env file holds ``creds``."""
        for host in self.hosts:
            host.env_file.write_text(render("env", creds))
            host.env_file.chmod(0o600)

    def inventory(self, path: Path, *, group_vars: dict | None = None, **host_vars) -> Path:
        """An inventory of the fleet (local connections); ``host_vars``: {host name: {var: value}}."""
        hosts = {host.name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                             "host_dir": str(host.directory), **host_vars.get(host.name, {})}
                 for host in self.hosts}
        fleet = {"hosts": hosts, "vars": group_vars or {}}
        path.write_text(yaml.safe_dump({"all": {"children": {"fleet": fleet}}}))
        return path

    def start(self) -> None:
        for host in self.hosts:
            command = [sys.executable, "-m", "tests.fleet.consumer", "--file", str(host.env_file),
                       "--endpoint", self.endpoint, "--state", str(host.state_file),
                       "--pidfile", str(host.directory / "consumer.pid")]
            if not host.reloads:
                command.append("--no-reload")
            host.process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=(host.directory / "consumer.err").open("w"))
        deadline = time.monotonic() + 60
        while not all(sum(host.state().get("requests", {}).values()) >= 3 for host in self.hosts):
            dead = [host.name for host in self.hosts if host.process.poll() is not None]
            if dead or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the services did not start: {dead or 'too slow'}: "
                                   + "; ".join((host.directory / "consumer.err").read_text() for host in self.hosts))
            time.sleep(0.1)

    def stop(self) -> dict:
        """Stop every service (SIGTERM, by pid) and return each host's final state."""
        for host in self.hosts:
            if host.process is not None and host.process.poll() is None:
                os.kill(host.process.pid, signal.SIGTERM)
        for host in self.hosts:
            if host.process is not None:
                try:
                    host.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    host.process.kill()
                    host.process.wait()
        return {host.name: host.state() for host in self.hosts}
