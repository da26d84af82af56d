"""pytest bootstrap shared by every test under tests/.

Collection code imports itself as ``ansible_collections.keywarden.iam...``, so Python must find
this checkout under ``<dir>/ansible_collections/keywarden/iam``. Rather than asking anyone to
move the repository, make a throw-away directory holding that path as a symlink to the checkout
and put it first on ``sys.path``; the repository root itself goes on the path too, so tests can
import ``tests.fakeiam``.
"""
from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent


def _link_collection_tree() -> Path:
    tree = Path(tempfile.mkdtemp(prefix="keywarden-collections-"))
    namespace_dir = tree / "ansible_collections" / "keywarden"
    namespace_dir.mkdir(parents=True)
    (namespace_dir / "iam").symlink_to(REPO_ROOT, target_is_directory=True)
    atexit.register(shutil.rmtree, tree, ignore_errors=True)
    return tree


sys.path.insert(0, str(_link_collection_tree()))
sys.path.insert(1, str(REPO_ROOT))
