"""The ``run`` fixture: access_key run in-process (the function its action plugin calls) against the local server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.campaign import VAULT, idle_seed, params_for


@pytest.fixture
def run(iam, tmp_path):
    from ansible_collections.keywarden.iam.plugins.plugin_utils._access_key_run import run_access_key
    from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext

    iam.reset(idle_seed())

    def run_task(user: str, path: Path, *, check_mode: bool = False, may_fail: bool = False, **options) -> dict:
        context = RunContext(vault_secrets=VAULT, default_encrypt_identity=None, check_mode=check_mode, diff=True,
                             warn=lambda message: None, state_dir=str(tmp_path / "state"))
        result = run_access_key({**params_for(iam, user, path), **options}, context)
        assert may_fail or not result.get("failed"), result.get("msg")
        return result

    return run_task
