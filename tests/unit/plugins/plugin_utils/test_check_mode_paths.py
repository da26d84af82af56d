"""Check mode writes nothing, and so needs nothing made: a credentials file in a directory not made yet."""

from __future__ import annotations

import pytest


def test_check_mode_counts_a_file_in_a_directory_not_made_yet_as_absent(run, tmp_path):
    path = tmp_path / "not-yet" / "bob" / "bob.yml"
    result = run("bob", path, check_mode=True, rotate="never")
    assert result["changed"] is True and result["credentials_file_changed"] is True
    assert not (tmp_path / "not-yet").exists()
    with pytest.raises(AssertionError, match="does not exist"):
        run("bob", path, rotate="never")
