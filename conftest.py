"""pytest bootstrap shared by every test under tests/.

Collection code imports itself as ``ansible_collections.keywarden.iam...``, so Python must find
this checkout under ``<dir>/ansible_collections/keywarden/iam``. Rather than asking anyone to
move the repository, make a throw-away directory holding that path as a symlink to the checkout
and put it first on ``sys.path``. (pytest already puts this directory, the repository root, on
``sys.path``, which is what lets tests import ``tests.fakeiam``.)

Also the local IAM-compatible server, for any test that needs the cloud: one per session (or
xdist worker), back to its seed with faults cleared before each test that asks for ``iam``.
"""
from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tests.fakeiam.harness import SEEDS, FakeIam

REPO_ROOT = Path(__file__).resolve().parent


def _link_collection_tree() -> Path:
    tree = Path(tempfile.mkdtemp(prefix="keywarden-collections-"))
    namespace_dir = tree / "ansible_collections" / "keywarden"
    namespace_dir.mkdir(parents=True)
    (namespace_dir / "iam").symlink_to(REPO_ROOT, target_is_directory=True)
    atexit.register(shutil.rmtree, tree, ignore_errors=True)
    return tree


sys.path.insert(0, str(_link_collection_tree()))


@pytest.fixture(scope="session")
def iam_server():
    with FakeIam(SEEDS / "demo.json") as server:
        yield server


@pytest.fixture
def iam(iam_server):
    iam_server.reset()
    iam_server.clear_faults()
    return iam_server
