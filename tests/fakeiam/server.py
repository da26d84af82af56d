"""Start fakeiam: python tests/fakeiam/server.py --seed SEED.json [--port 0] [--tls] [--state-file F] [--tls-dir D]

Prints one JSON line, {"url": ..., "ca_file": ... or null, "pid": ...}, once it accepts
connections, then serves until SIGTERM or SIGINT. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

if not __package__:
    # Run by path: import this directory as the package "fakeiam" (so its relative imports
    # work), and drop the directory itself from sys.path so that its module names (api, auth,
    # errors, ...) can never shadow a library's.
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
    sys.path.insert(0, str(_HERE.parent))
    __package__ = _HERE.name
    importlib.import_module(__package__)

from . import tls
from .app import FakeIamApp
from .handler import FakeIamServer

LISTEN_ADDRESS = "127.0.0.1"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fakeiam", description="A strict local IAM-compatible server for tests.")
    parser.add_argument("--seed", type=Path, required=True, help="seed JSON (see README.md)")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a CA generated at start")
    parser.add_argument("--state-file", type=Path, help="persist the state here after every change; load it at start")
    parser.add_argument("--tls-dir", type=Path,
                        help="where to write ca.pem and the server key pair (default: a temp dir)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        app = FakeIamApp.from_files(args.seed, args.state_file)
    except (OSError, ValueError) as exc:  # unreadable file, bad JSON, invalid seed (SeedError)
        print(f"fakeiam: cannot load the seed or state file: {exc}", file=sys.stderr)
        return 2
    server = FakeIamServer((LISTEN_ADDRESS, args.port), app, "https" if args.tls else "http")
    temp_tls_dir: Path | None = None
    ca_file: str | None = None
    if args.tls:
        tls_dir = args.tls_dir or Path(tempfile.mkdtemp(prefix="fakeiam-tls-"))
        temp_tls_dir = None if args.tls_dir else tls_dir
        tls_dir.mkdir(parents=True, exist_ok=True)
        files = tls.generate(tls_dir)
        # Handshake lazily in the connection's own thread, so one slow client cannot stall accept().
        context = tls.server_context(files)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        ca_file = str(files.ca_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, name="fakeiam-serve", daemon=True).start()
    print(json.dumps({"url": server.base_url, "ca_file": ca_file, "pid": os.getpid()}), flush=True)
    try:
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        if temp_tls_dir is not None:
            shutil.rmtree(temp_tls_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
