"""A fakeiam server for the collection's own unit tests: one per session (or xdist worker),
back to its seed before each test."""

from __future__ import annotations

import pytest

from tests.fakeiam.harness import SEEDS, FakeIam


@pytest.fixture(scope="session")
def iam_server():
    with FakeIam(SEEDS / "demo.json") as server:
        yield server


@pytest.fixture
def iam(iam_server):
    iam_server.reset()
    iam_server.clear_faults()
    return iam_server
