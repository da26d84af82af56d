"""A stand-in for a service on a fleet host: it uses its delivered credentials all the time.

    python -m tests.fleet.consumer --file H/app.env --endpoint URL --state H/consumer.json --pidfile H/consumer.pid
                                   [--no-reload]

Every ``--interval`` seconds it signs one request (list its own keys) with the vendor SDK
(huaweicloudsdkiam), with the key in its env file, as a real service would. On SIGHUP it reads
the file again (what a handler's reload does); with ``--no-reload`` it never does, like a
service someone forgot. It writes its pid and state (the key it uses, requests and failures per
key, the times it switched keys) to ``--state`` after every request, atomically, and stops on
SIGTERM. Test-only: the vendor SDK is a test dependency.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path

from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkiam.v3 import IamClient
from huaweicloudsdkiam.v3.model import ListPermanentAccessKeysRequest


def read_env(path: Path) -> dict:
    """The HUAWEICLOUD_SDK_* variables of an env file (the values the collection writes are bare)."""
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _separator, value = line.partition("=")
            values[name.strip()] = value.strip().strip('"')
    return values


class Consumer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.reload_wanted = threading.Event()
        self.stop = threading.Event()
        self.client = None
        self.access_key = None
        self.state = {"pid": os.getpid(), "access_key": None, "requests": {}, "failures": {}, "errors": [],
                      "switches": [], "started": time.time()}

    def load(self) -> None:
        env = read_env(Path(self.args.file))
        access_key = env["HUAWEICLOUD_SDK_AK"]
        credentials = GlobalCredentials(access_key, env["HUAWEICLOUD_SDK_SK"],
                                        env.get("HUAWEICLOUD_SDK_DOMAIN_ID")).with_iam_endpoint(self.args.endpoint)
        config = HttpConfig.get_default_config()
        config.timeout = (5, 10)
        self.client = (IamClient.new_builder().with_credentials(credentials).with_endpoints([self.args.endpoint])
                       .with_http_config(config).build())
        if access_key != self.access_key:
            self.state["switches"].append({"time": time.time(), "access_key": access_key})
        self.access_key = self.state["access_key"] = access_key

    def once(self) -> None:
        key = self.access_key
        self.state["requests"][key] = self.state["requests"].get(key, 0) + 1
        try:
            self.client.list_permanent_access_keys(ListPermanentAccessKeysRequest())
        except Exception as error:  # every failure counts; the test expects none
            self.state["failures"][key] = self.state["failures"].get(key, 0) + 1
            self.state["errors"].append({"time": time.time(), "access_key": key, "error": str(error)[:300]})

    def write_state(self) -> None:
        target = Path(self.args.state)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(json.dumps(self.state))
        os.replace(temporary, target)

    def run(self) -> None:
        self.load()
        while not self.stop.is_set():
            if self.reload_wanted.is_set():
                self.reload_wanted.clear()
                self.load()
            self.once()
            self.write_state()
            self.stop.wait(self.args.interval)
        self.write_state()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--pidfile", required=True)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--no-reload", action="store_true")
    consumer = Consumer(parser.parse_args())
    if not consumer.args.no_reload:
        signal.signal(signal.SIGHUP, lambda *_: consumer.reload_wanted.set())
    else:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: consumer.stop.set())
    Path(consumer.args.pidfile).write_text(f"{os.getpid()}\n")
    consumer.run()


if __name__ == "__main__":
    main()
